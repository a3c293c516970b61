/**
 * The package as a user gets it: packed from a copy of the sources (so it never races the repository's own
 * dist/), checked with publint and @arethetypeswrong/cli, installed into a fresh project with `effect` and
 * `@effect/platform`, and used there by the quick start, type-checked against the packed `.d.ts` files.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { execFile } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

const root = new URL("..", import.meta.url).pathname
const bin = (name: string) => Path.join(root, "node_modules", ".bin", name)

/** Runs a command; rejects with its output when it exits non-zero. */
const run = (command: string, args: ReadonlyArray<string>, cwd: string) =>
  new Promise<string>((resolve, reject) => {
    execFile(command, args, { cwd, timeout: 180_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error === null) resolve(stdout)
      else reject(new Error(`${command} ${args.join(" ")} failed (${error.code}):\n${stdout}\n${stderr}`))
    })
  })

const installedVersion = (name: string): string =>
  JSON.parse(Fs.readFileSync(Path.join(root, "node_modules", name, "package.json"), "utf8")).version

let work: string
let tarball: string
let app: string

beforeAll(async () => {
  work = Fs.mkdtempSync(Path.join(Os.tmpdir(), "effect-flora-package-"))

  const source = Path.join(work, "source")
  Fs.mkdirSync(source)
  for (const entry of ["package.json", "README.md", "tsconfig.json", "tsconfig.build.json", "src"]) {
    Fs.cpSync(Path.join(root, entry), Path.join(source, entry), { recursive: true })
  }
  Fs.symlinkSync(Path.join(root, "node_modules"), Path.join(source, "node_modules"), "dir")
  // `npm pack` runs the prepack script, which builds dist/ from the copied sources.
  const packed = JSON.parse(await run("npm", ["pack", "--json", "--pack-destination", work], source))
  tarball = Path.join(work, packed[0].filename)

  app = Path.join(work, "app")
  Fs.mkdirSync(app)
  Fs.writeFileSync(
    Path.join(app, "package.json"),
    JSON.stringify({ name: "app", private: true, type: "module" })
  )
  await run("npm", [
    "install",
    "--prefer-offline",
    "--no-audit",
    "--no-fund",
    tarball,
    `effect@${installedVersion("effect")}`,
    `@effect/platform@${installedVersion("@effect/platform")}`
  ], app)
}, 240_000)

afterAll(() => {
  if (work !== undefined) Fs.rmSync(work, { recursive: true, force: true })
})

describe("the packed package", () => {
  it("holds the built entry points with their types, and no tests", () => {
    const files: Array<string> = []
    const walk = (dir: string) => {
      for (const entry of Fs.readdirSync(dir, { withFileTypes: true })) {
        const path = Path.join(dir, entry.name)
        if (entry.isDirectory()) walk(path)
        else files.push(Path.relative(Path.join(app, "node_modules", "effect-flora"), path))
      }
    }
    walk(Path.join(app, "node_modules", "effect-flora"))

    for (const entry of ["index", "testing/index", "testing/node"]) {
      expect(files).toContain(`dist/${entry}.js`)
      expect(files).toContain(`dist/${entry}.d.ts`)
    }
    expect(files.filter((file) => /(^|\/)(test|examples|scripts|bench)\//.test(file) || file.includes(".test.")))
      .toEqual(
        []
      )
  })

  it("passes publint", async () => {
    expect(await run(bin("publint"), ["run", "--strict", tarball], work)).toContain("All good!")
  }, 60_000)

  it("passes @arethetypeswrong/cli for ESM consumers", async () => {
    await run(bin("attw"), [tarball, "--profile", "esm-only", "--format", "table-flipped"], work)
  }, 60_000)

  it("runs the quick start in a fresh project, type-checked against the packed types", async () => {
    const quickStart = Fs.readFileSync(Path.join(root, "examples", "quick-start.ts"), "utf8")
      .replace(`"../src/index.js"`, `"effect-flora"`)
      .replace(`"../src/testing/index.js"`, `"effect-flora/testing"`)
    expect(quickStart).toContain(`from "effect-flora/testing"`)
    Fs.writeFileSync(Path.join(app, "quick-start.ts"), quickStart)

    Fs.writeFileSync(
      Path.join(app, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          exactOptionalPropertyTypes: true,
          target: "es2022",
          module: "nodenext",
          lib: ["es2022", "dom"],
          // Our .d.ts files are checked too, not only the quick start's use of them.
          skipLibCheck: false
        },
        files: ["quick-start.ts"]
      })
    )
    await run(bin("tsc"), ["-p", "tsconfig.json"], app)
    const stdout = await run(process.execPath, ["quick-start.js"], app)

    expect(stdout).toMatch(/^Run run_\S+ completed, charged \$0\.01$/m)
    expect(stdout).toContain("output_1 (text): A short caption produced by the FLORA emulator.")
  }, 120_000)
})
