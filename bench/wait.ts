/**
 * One `waitForRun` measurement, in a process of its own so that its peak memory is its own: starts `--runs`
 * runs on the emulator at `--base-url`, then waits for all of them at once and reports the requests sent,
 * the CPU time and the peak memory of the waiting alone. Sends the result to the parent over IPC.
 *
 * The runs are started with plain `fetch` and each client's read path is warmed up first. Clients: `effect-flora` (fixed poll interval), `effect-flora-default` (its default poll schedule) and
 * `official` (a hand-written loop over `@flora-ai/flora` at the same fixed interval).
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import Flora from "@flora-ai/flora"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import { setTimeout as sleep } from "node:timers/promises"
import { parseArgs } from "node:util"
import * as FloraClient from "../src/FloraClient.js"
import { apiKey } from "./clients.js"
import { profiled } from "./profiler.js"

const { values } = parseArgs({
  options: {
    client: { type: "string" },
    "base-url": { type: "string" },
    runs: { type: "string", default: "1000" },
    interval: { type: "string", default: "1000" }
  }
})

const client = values.client!
const baseUrl = values["base-url"]!
const runs = Number(values.runs)
const interval = Number(values.interval)
const params = { technique_id: "tech_bench", workspace_id: "ws_demo", inputs: { prompt: "a lighthouse" } }

/** `fetch`, counting the polls (GET requests) it sends. */
let polls = 0
const countingFetch: typeof fetch = (input, init) => {
  if ((init?.method ?? "GET") === "GET") polls += 1
  return fetch(input, init)
}

/** Runs `f` over `items`, `concurrency` at a time. */
const mapPool = async <A, B>(items: ReadonlyArray<A>, concurrency: number, f: (a: A) => Promise<B>) => {
  const results: Array<B> = []
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const index = next++
      results[index] = await f(items[index]!)
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return results
}

interface Started {
  readonly run_id: string
  readonly poll_url?: string | undefined
  readonly estimated_seconds?: number | undefined
}

/**
 * Starts the runs with plain `fetch`, the same way whichever client then waits, so the runs are equally old
 * when the waiting starts.
 */
const startRuns = (count: number) =>
  mapPool(Array.from({ length: count }), 64, async (): Promise<Started> => {
    const response = await fetch(`${baseUrl}/runs/technique`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify(params)
    })
    const body = await response.json() as { run_id: string; poll_url: string | null; estimated_seconds: number | null }
    if (response.status !== 201) throw new Error(`status ${response.status}: ${JSON.stringify(body)}`)
    return {
      run_id: body.run_id,
      poll_url: body.poll_url ?? undefined,
      estimated_seconds: body.estimated_seconds ?? undefined
    }
  })

const warmupReads = 100

/** Builds the waiting client, warms up its read path on a run of its own, then starts the runs. */
const prepare = async (): Promise<{ wait: () => Promise<number> }> => {
  if (client === "official") {
    const flora = new Flora({ apiKey, baseURL: baseUrl, fetch: countingFetch })
    const [warmup] = await startRuns(1)
    for (let i = 0; i < warmupReads; i++) await flora.generations.retrieve(warmup!.run_id)
    const started = await startRuns(runs)
    const waitOne = async (runId: string) => {
      await sleep(interval)
      for (;;) {
        const run = await flora.generations.retrieve(runId)
        if (run.status === "completed" || run.status === "failed") return run
        await sleep(interval)
      }
    }
    return {
      wait: async () => (await Promise.all(started.map((run) => waitOne(run.run_id)))).length
    }
  }
  const runtime = ManagedRuntime.make(
    FloraClient.layer({ apiKey: Redacted.make(apiKey), baseUrl }).pipe(
      Layer.provide(FetchHttpClient.layer),
      Layer.provide(Layer.succeed(FetchHttpClient.Fetch, countingFetch))
    )
  )
  const flora = await runtime.runPromise(FloraClient.FloraClient)
  const [warmup] = await startRuns(1)
  await runtime.runPromise(Effect.repeatN(flora.getRun(warmup!.run_id), warmupReads - 1))
  const started = await startRuns(runs)
  const options = client === "effect-flora-default"
    ? {}
    : { initialDelay: interval, schedule: Schedule.spaced(interval) }
  return {
    wait: async () =>
      (await runtime.runPromise(
        Effect.forEach(started, (run) => flora.waitForRun(run, options), { concurrency: "unbounded" })
      )).length
  }
}

const { wait } = await prepare()
const before = process.memoryUsage()
let peakRss = before.rss
let peakHeap = before.heapUsed
const sampler = setInterval(() => {
  const now = process.memoryUsage()
  peakRss = Math.max(peakRss, now.rss)
  peakHeap = Math.max(peakHeap, now.heapUsed)
}, 10)
polls = 0
const cpuBefore = process.cpuUsage()
const wallBefore = performance.now()
// `BENCH_PROFILE=<file>` records a CPU profile of the waiting alone.
const completed = await profiled(process.env.BENCH_PROFILE, wait)
const wallMs = performance.now() - wallBefore
const cpu = process.cpuUsage(cpuBefore)
clearInterval(sampler)

const result = {
  client,
  runs,
  completed,
  polls,
  wallMs,
  cpuMs: (cpu.user + cpu.system) / 1000,
  baseRss: before.rss,
  baseHeap: before.heapUsed,
  peakRss,
  peakHeap
}
if (process.send === undefined) console.log(result)
else process.send(result, () => process.exit(0))
