/**
 * The benchmark runner: `npm run bench` (full, rewrites the generated part of docs/benchmarks.md) or
 * `npm run bench -- --quick` (a smaller run in under a minute; prints, and writes bench/.scratch/quick.md).
 * `--only throughput|wait|size` runs one part.
 */
import * as Fs from "node:fs"
import { createRequire } from "node:module"
import * as Os from "node:os"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { forkHelper } from "./child.js"
import * as Clients from "./clients.js"
import * as Size from "./size.js"
import { fixed, median } from "./stats.js"
import * as Throughput from "./throughput.js"

const { values } = parseArgs({
  options: { quick: { type: "boolean", default: false }, only: { type: "string" } }
})
const quick = values.quick
const parts = values.only === undefined ? ["throughput", "wait", "size"] : values.only.split(",")

const settings = quick
  ? {
    rounds: 2,
    calls: 1000,
    warmupCalls: 300,
    waitRuns: 300,
    waitRepeats: 1,
    runQueue: 250,
    runDuration: 2250,
    imports: 3
  }
  : {
    rounds: 5,
    calls: 5000,
    warmupCalls: 2000,
    waitRuns: 1000,
    waitRepeats: 5,
    runQueue: 500,
    runDuration: 4500,
    imports: 10
  }
const concurrencies = [1, 16, 64]
const pollInterval = 1000

const docPath = fileURLToPath(new URL("../docs/benchmarks.md", import.meta.url))
const scratch = fileURLToPath(new URL(".scratch/", import.meta.url))
const log = (line: string) => console.log(line)

// --- 1 and 2: startTechnique throughput, latency, CPU and heap per call ---------------------------------------

const throughput = async () => {
  const server = await forkHelper("fixedServer.ts")
  const clients = [
    Clients.rawFetch(server.message.baseUrl),
    Clients.official(server.message.baseUrl),
    await Clients.effectPlatformFetch(server.message.baseUrl),
    await Clients.effectFloraFetch(server.message.baseUrl),
    await Clients.effectFloraUndici(server.message.baseUrl)
  ]
  log(`startTechnique: ${settings.rounds} rounds × ${settings.calls} calls per client and concurrency`)
  const samples = await Throughput.run(clients, {
    ...settings,
    concurrencies,
    onSample: (s) =>
      log(
        `  round ${s.round + 1} c=${String(s.concurrency).padEnd(2)} ${s.client.padEnd(30)} ` +
          `${fixed(s.perSecond, 0).padStart(6)}/s  p50 ${fixed(s.p50Ms)} ms  p99 ${fixed(s.p99Ms)} ms  ` +
          `${fixed(s.cpuUsPerCall, 0)} µs CPU  ${fixed(s.allocatedKbPerCall, 1)} KB/call`
      )
  })
  for (const client of clients) await client.close()
  await server.stop()
  return Throughput.summarize(samples, clients[0]!.name)
}

const throughputTable = (summaries: ReadonlyArray<Throughput.Summary>) =>
  concurrencies.flatMap((concurrency) => [
    `**Concurrency ${concurrency}**`,
    "",
    "| client | calls/s | p50 ms | p99 ms | time × fetch | CPU µs/call | CPU × fetch | heap KB/call |",
    "|---|--:|--:|--:|--:|--:|--:|--:|",
    ...summaries.filter((s) => s.concurrency === concurrency).map((s) =>
      `| ${s.client} | ${fixed(s.perSecond, 0)} | ${fixed(s.p50Ms)} | ${fixed(s.p99Ms)} | ${fixed(s.timeRatio)} | ` +
      `${fixed(s.cpuUsPerCall, 0)} | ${fixed(s.cpuRatio)} | ${fixed(s.allocatedKbPerCall, 1)} |`
    ),
    ""
  ])

// --- 3: waitForRun on many concurrent runs --------------------------------------------------------------------

interface WaitResult {
  readonly client: string
  readonly runs: number
  readonly completed: number
  readonly polls: number
  readonly wallMs: number
  readonly cpuMs: number
  readonly baseRss: number
  readonly baseHeap: number
  readonly peakRss: number
  readonly peakHeap: number
}

const waitClients = ["effect-flora", "official", "effect-flora-default"] as const

const waitOnce = async (client: string): Promise<WaitResult> => {
  const emulator = await forkHelper("emulatorServer.ts", [
    "--queue",
    String(settings.runQueue),
    "--duration",
    String(settings.runDuration)
  ])
  try {
    const child = await forkHelper<WaitResult>("wait.ts", [
      "--client",
      client,
      "--base-url",
      emulator.message.baseUrl,
      "--runs",
      String(settings.waitRuns),
      "--interval",
      String(pollInterval)
    ])
    await child.stop()
    return child.message
  } finally {
    await emulator.stop()
  }
}

const waits = async () => {
  log(
    `waitForRun: ${settings.waitRuns} runs of ${settings.runQueue + settings.runDuration} ms, × ${settings.waitRepeats}`
  )
  const results: Array<WaitResult> = []
  for (let repeat = 0; repeat < settings.waitRepeats; repeat++) {
    for (const client of waitClients) {
      const result = await waitOnce(client)
      results.push(result)
      log(
        `  ${client.padEnd(22)} ${result.completed}/${result.runs} done in ${fixed(result.wallMs, 0)} ms, ` +
          `${fixed(result.polls / result.runs)} polls/run, ${fixed(result.cpuMs, 0)} ms CPU, ` +
          `peak heap ${mb(result.peakHeap)} MB, peak RSS ${mb(result.peakRss)} MB`
      )
    }
  }
  return waitClients.map((client) => {
    const mine = results.filter((r) => r.client === client)
    const m = (f: (r: WaitResult) => number) => median(mine.map(f))
    return {
      client,
      runs: settings.waitRuns,
      completed: Math.min(...mine.map((r) => r.completed)),
      pollsPerRun: m((r) => r.polls / r.runs),
      wallMs: m((r) => r.wallMs),
      cpuMs: m((r) => r.cpuMs),
      heapGrowth: m((r) => r.peakHeap - r.baseHeap),
      peakHeap: m((r) => r.peakHeap),
      peakRss: m((r) => r.peakRss)
    }
  })
}

const mb = (bytes: number) => fixed(bytes / 1024 / 1024, 1)

const waitLabels: Record<string, string> = {
  "effect-flora": `effect-flora \`waitForRun\`, polls every ${pollInterval} ms`,
  official: `@flora-ai/flora, hand-written loop every ${pollInterval} ms`,
  "effect-flora-default": "effect-flora `waitForRun`, default schedule"
}

const waitTable = (rows: Awaited<ReturnType<typeof waits>>) => [
  "| client | completed | polls per run | wall ms | CPU ms | CPU µs per poll | peak heap growth MB | peak heap MB | peak RSS MB |",
  "|---|--:|--:|--:|--:|--:|--:|--:|--:|",
  ...rows.map((r) =>
    `| ${waitLabels[r.client]} | ${r.completed}/${r.runs} | ${fixed(r.pollsPerRun)} | ${fixed(r.wallMs, 0)} | ` +
    `${fixed(r.cpuMs, 0)} | ${fixed((r.cpuMs * 1000) / (r.pollsPerRun * r.runs), 0)} | ${mb(r.heapGrowth)} | ` +
    `${mb(r.peakHeap)} | ${mb(r.peakRss)} |`
  ),
  ""
]

// --- 4: bundle size and import time ---------------------------------------------------------------------------

const sizes = async () => {
  log("bundle size and cold import time")
  const bundles = await Size.bundleSizes()
  Size.buildDist()
  const imports = Size.importTimes(settings.imports)
  return { bundles, imports }
}

const sizeTables = ({ bundles, imports }: Awaited<ReturnType<typeof sizes>>) => [
  "| app that starts one run | minified KB | gzipped KB |",
  "|---|--:|--:|",
  ...bundles.map((b) => `| ${b.name} | ${fixed(b.minifiedBytes / 1024, 1)} | ${fixed(b.gzippedBytes / 1024, 1)} |`),
  "",
  `| package | cold \`import()\` ms (median of ${settings.imports}, over an empty \`node -e\`) |`,
  "|---|--:|",
  ...imports.map((i) => `| ${i.name} | ${fixed(i.medianMs, 0)} |`),
  ""
]

// --- the report -----------------------------------------------------------------------------------------------

const require = createRequire(import.meta.url)
const versionOf = (name: string): string => {
  let dir = Fs.realpathSync(fileURLToPath(new URL("../node_modules/" + name, import.meta.url)))
  if (!Fs.existsSync(`${dir}/package.json`)) dir = require.resolve(name)
  return (JSON.parse(Fs.readFileSync(`${dir}/package.json`, "utf8")) as { version: string }).version
}

const machine = () => {
  const cpus = Os.cpus()
  return [
    `- Machine: ${cpus.length} × ${cpus[0]?.model ?? "unknown CPU"}, ${fixed(Os.totalmem() / 1024 ** 3, 0)} GB RAM, ` +
    `${Os.type()} ${Os.release()}`,
    `- Node ${process.version}; effect ${versionOf("effect")}, @effect/platform ${versionOf("@effect/platform")}, ` +
    `@effect/platform-node ${versionOf("@effect/platform-node")}, undici ${versionOf("undici")}, ` +
    `@flora-ai/flora ${versionOf("@flora-ai/flora")}`,
    `- Started ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC by \`npm run bench${
      quick ? " -- --quick" : ""
    }\``,
    ""
  ]
}

const main = async () => {
  const startedAt = performance.now()
  const sections: Array<string> = [...machine()]
  if (parts.includes("throughput")) {
    const summaries = await throughput()
    sections.push(
      "### startTechnique: throughput, latency, CPU and heap per call",
      "",
      `${settings.rounds} rounds × ${settings.calls} calls per client and concurrency, after ${settings.warmupCalls} ` +
        "warm-up calls each. Medians over rounds; a ratio is the median of the per-round ratios.",
      "",
      ...throughputTable(summaries)
    )
  }
  if (parts.includes("wait")) {
    const rows = await waits()
    sections.push(
      "### waitForRun: many runs polled at once",
      "",
      `${settings.waitRuns} runs started first, each \`pending\` ${settings.runQueue} ms then \`running\` ` +
        `${settings.runDuration} ms on the emulator, then all waited for at once. Medians of ${settings.waitRepeats}.`,
      "",
      ...waitTable(rows)
    )
  }
  if (parts.includes("size")) {
    sections.push("### Bundle size and cold import time", "", ...sizeTables(await sizes()))
  }
  const generated = sections.join("\n")
  console.log(`\n${generated}`)
  Fs.mkdirSync(scratch, { recursive: true })
  if (quick || values.only !== undefined) {
    Fs.writeFileSync(`${scratch}quick.md`, generated)
  } else {
    const doc = Fs.readFileSync(docPath, "utf8")
    const [head, rest] = doc.split(startMarker)
    const tail = rest?.split(endMarker)[1]
    if (head === undefined || tail === undefined) throw new Error(`${docPath} lacks the generated-section markers`)
    Fs.writeFileSync(docPath, `${head}${startMarker}\n${generated}\n${endMarker}${tail}`)
    log(`wrote ${docPath}`)
  }
  log(`done in ${fixed((performance.now() - startedAt) / 1000, 0)} s`)
}

const startMarker = "<!-- generated by npm run bench: start -->"
const endMarker = "<!-- generated by npm run bench: end -->"

await main()
