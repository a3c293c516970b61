/**
 * Bundle size and cold import time of effect-flora and `@flora-ai/flora`.
 */
import * as esbuild from "esbuild"
import { execFileSync, spawnSync } from "node:child_process"
import * as Fs from "node:fs"
import { fileURLToPath } from "node:url"
import * as Zlib from "node:zlib"
import { median } from "./stats.js"

const root = fileURLToPath(new URL("..", import.meta.url))
const scratch = fileURLToPath(new URL(".scratch/", import.meta.url))

export interface BundleSize {
  readonly name: string
  readonly minifiedBytes: number
  readonly gzippedBytes: number
}

/** Bundles an app that starts one run, with esbuild `--bundle --minify --format=esm --platform=node`. */
export const bundleSizes = async (): Promise<ReadonlyArray<BundleSize>> => {
  Fs.mkdirSync(scratch, { recursive: true })
  const entries = [["effect-flora", "effect-flora.ts"], ["@flora-ai/flora", "official.ts"]] as const
  const sizes: Array<BundleSize> = []
  for (const [name, file] of entries) {
    const outfile = `${scratch}bundle-${file.replace(".ts", ".js")}`
    await esbuild.build({
      entryPoints: [fileURLToPath(new URL(`entries/${file}`, import.meta.url))],
      bundle: true,
      minify: true,
      format: "esm",
      platform: "node",
      outfile,
      metafile: true,
      logLevel: "error"
    }).then((result) => Fs.writeFileSync(`${outfile}.meta.json`, JSON.stringify(result.metafile)))
    const code = Fs.readFileSync(outfile)
    sizes.push({ name, minifiedBytes: code.byteLength, gzippedBytes: Zlib.gzipSync(code, { level: 9 }).byteLength })
  }
  return sizes
}

export interface ImportTime {
  readonly name: string
  readonly specifier: string
  /** Median wall time of `node -e "await import(specifier)"`, minus that of an empty `node -e`. */
  readonly medianMs: number
}

/** Builds `dist/` with `npm run build`, so effect-flora is imported as a user would: compiled JavaScript. */
export const buildDist = () => {
  execFileSync("npm", ["run", "--silent", "build"], { cwd: root, stdio: "inherit" })
}

const spawnMs = (code: string): number => {
  const startedAt = process.hrtime.bigint()
  const result = spawnSync(process.execPath, ["--input-type=module", "-e", code], { cwd: root, stdio: "inherit" })
  if (result.status !== 0) throw new Error(`node -e ${code} failed`)
  return Number(process.hrtime.bigint() - startedAt) / 1e6
}

/**
 * Cold import time of each package, by its name (effect-flora through its own `exports`, so `dist/`), in
 * fresh `node` processes, interleaved `times` times.
 */
export const importTimes = (times: number): ReadonlyArray<ImportTime> => {
  const specifiers = [["effect-flora", "effect-flora"], ["@flora-ai/flora", "@flora-ai/flora"]] as const
  const empty: Array<number> = []
  const samples = specifiers.map(() => [] as Array<number>)
  spawnMs("") // the first spawn warms the file cache for all
  for (let i = 0; i < times; i++) {
    empty.push(spawnMs(""))
    specifiers.forEach(([, specifier], index) =>
      samples[index]!.push(spawnMs(`await import(${JSON.stringify(specifier)})`))
    )
  }
  const baseline = median(empty)
  return specifiers.map(([name, specifier], index) => ({
    name,
    specifier,
    medianMs: median(samples[index]!) - baseline
  }))
}
