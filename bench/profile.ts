/**
 * Profiles one client's start-technique calls against the fixed-response server:
 *
 *   node --import tsx bench/profile.ts <raw|official|platform|fetch|undici> [calls] [concurrency]
 *
 * `BENCH_PROFILE=0` measures without profiling.
 *   npx tsx bench/topSelf.ts bench/.scratch/prof/<client>.cpuprofile
 */
import * as Fs from "node:fs"
import { fileURLToPath } from "node:url"
import { forkHelper } from "./child.js"
import * as Clients from "./clients.js"
import { profiled } from "./profiler.js"
import { fixed, measure } from "./stats.js"

const [which = "fetch", callsArg = "20000", concurrencyArg = "64"] = process.argv.slice(2)
const makers = {
  raw: Clients.rawFetch,
  official: Clients.official,
  platform: Clients.effectPlatformFetch,
  fetch: Clients.effectFloraFetch,
  undici: Clients.effectFloraUndici
} as const
const make = makers[which as keyof typeof makers]
if (make === undefined) throw new Error(`unknown client ${which}; one of ${Object.keys(makers).join(", ")}`)

const server = await forkHelper("fixedServer.ts")
const client = await make(server.message.baseUrl)
await client.batch(3000, 16, [])
const dir = fileURLToPath(new URL(".scratch/prof/", import.meta.url))
Fs.mkdirSync(dir, { recursive: true })
const file = `${dir}${which}.cpuprofile`
const calls = Number(callsArg)
const { cost } = await measure(() =>
  profiled(process.env.BENCH_PROFILE === "0" ? undefined : file, () => client.batch(calls, Number(concurrencyArg), []))
)
console.log(
  `${client.name}: ${fixed(calls / (cost.wallMs / 1000), 0)} calls/s, ${
    fixed((cost.cpuMs * 1000) / calls, 0)
  } µs CPU ` +
    `and ${fixed(cost.allocatedBytes / 1024 / calls, 1)} KB per call (profiler on); profile in ${file}`
)
await client.close()
await server.stop()
