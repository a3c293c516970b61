/**
 * `npm start`: runs a FLORA technique to completion with `FloraClient`, showing its progress.
 *
 * Without `FLORA_API_KEY`, it serves the FLORA emulator on a free loopback port, runs `tech_demo` there, then
 * a run of `tech_demo_fails` that ends `failed` and is handled through its typed `RunFailed` error. With
 * `FLORA_API_KEY`, it runs one technique on FLORA itself (or on `FLORA_BASE_URL`), taken from the arguments
 * or the environment:
 *
 *   FLORA_API_KEY=sk_live_... npm start -- --technique tech_... --workspace ws_... --input prompt="a red fox"
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import CliProgress from "cli-progress"
import * as Config from "effect/Config"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import { parseArgs } from "node:util"
import { FloraClient, FloraConfig, FloraError, type Run } from "../src/index.js"
import * as FloraEmulator from "../src/testing/FloraEmulator.js"
import * as FloraEmulatorNode from "../src/testing/node.js"

const usage = `Usage: npm start [-- --technique tech_... --workspace ws_... --input key=value ...]

Without FLORA_API_KEY, runs a demo against the FLORA emulator on a free loopback port.
With FLORA_API_KEY set, runs one technique on FLORA (FLORA_BASE_URL overrides the base URL):

  --technique    technique id (or FLORA_TECHNIQUE_ID)
  --workspace    workspace id (or FLORA_WORKSPACE_ID)
  --input        one input as key=value, repeatable; added to FLORA_INPUTS (a JSON object)`

const fail = (message: string): never => {
  console.error(`${message}\n\n${usage}`)
  process.exit(2)
}

const parsed = (() => {
  try {
    return parseArgs({
      options: {
        technique: { type: "string" },
        workspace: { type: "string" },
        input: { type: "string", multiple: true },
        help: { type: "boolean", short: "h", default: false }
      }
    }).values
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error))
  }
})()

if (parsed.help) {
  console.log(usage)
  process.exit(0)
}

/** Shows a run's progress: a live bar on a terminal, one plain line per change otherwise. */
interface ProgressDisplay {
  readonly update: (run: Run.Run) => Effect.Effect<void>
  readonly stop: Effect.Effect<void>
}

const barDisplay = (label: string): ProgressDisplay => {
  const bar = new CliProgress.SingleBar(
    { format: `${label} {bar} {percentage}% | {status}`, stream: process.stdout, hideCursor: true, barsize: 30 },
    CliProgress.Presets.shades_classic
  )
  bar.start(100, 0, { status: "starting" })
  return {
    update: (run) => Effect.sync(() => bar.update(Math.round(run.progress), { status: run.status })),
    stop: Effect.sync(() => bar.stop())
  }
}

const lineDisplay = (label: string): ProgressDisplay => ({
  update: (run) => Console.log(`${label}: ${run.status} ${Math.round(run.progress)}%`),
  stop: Effect.void
})

const progressDisplay = (label: string) =>
  Effect.acquireRelease(
    Effect.sync(() => process.stdout.isTTY ? barDisplay(label) : lineDisplay(label)),
    (display) => display.stop
  )

/** Runs a technique to its end while its progress is on screen; the bar is closed before anything else prints. */
const runWithProgress = (params: Run.StartTechniqueParams, poll?: FloraConfig.PollOptions) =>
  Effect.scoped(
    Effect.flatMap(
      progressDisplay(params.technique_id),
      (display) => FloraClient.runTechnique(params, { poll, onProgress: display.update })
    )
  )

const report = ({ run, started }: FloraClient.TechniqueResult) =>
  Console.log(
    [
      `Run ${run.run_id} completed.`,
      ...(run.outputs ?? []).map((output) => `  output ${output.output_id} (${output.type}): ${output.url}`),
      `  charged cost:    $${run.charged_cost ?? started.charged_cost}`,
      `  idempotency key: ${started.idempotencyKey}`
    ].join("\n")
  )

/** The emulator's runs last seconds, so the demo polls faster than FLORA's recommended 2 to 5 seconds. */
const demoPolling: FloraConfig.PollOptions = { initialDelay: "200 millis", schedule: Schedule.spaced("200 millis") }

const demo = Effect.gen(function*() {
  const emulator = yield* FloraEmulator.make()
  const server = yield* FloraEmulatorNode.serve(emulator)
  yield* Console.log(
    `No FLORA_API_KEY set: using the FLORA emulator at ${server.baseUrl} (workspace ${FloraEmulator.defaultWorkspaceId}).`
  )

  const workspace_id = FloraEmulator.defaultWorkspaceId
  const client = FloraClient.layer({ apiKey: Redacted.make(FloraEmulator.defaultApiKey), baseUrl: server.baseUrl })

  yield* Effect.gen(function*() {
    const result = yield* runWithProgress(
      { technique_id: "tech_demo", workspace_id, inputs: { prompt: "a lighthouse at dusk" } },
      demoPolling
    )
    yield* report(result)

    yield* Console.log("\nNow a run that ends failed, handled through its typed error:")
    yield* runWithProgress(
      { technique_id: "tech_demo_fails", workspace_id, inputs: { prompt: "anything" } },
      demoPolling
    )
      .pipe(
        Effect.flatMap((result) => Console.log(`Unexpected: run ${result.run.run_id} completed.`)),
        Effect.catchTag("RunFailed", (error) =>
          Console.log(
            [
              `Caught RunFailed: run ${error.runId} ended failed.`,
              `  error code:      ${error.errorCode ?? "(none)"}`,
              `  error message:   ${error.errorMessage ?? "(none)"}`,
              `  idempotency key: ${error.idempotencyKey ?? "(none)"}`
            ].join("\n")
          ))
      )
  }).pipe(Effect.provide(client.pipe(Layer.provide(FetchHttpClient.layer))))
})

const parseInputs = (): Record<string, Run.JsonValue> => {
  const inputs: Record<string, Run.JsonValue> = {}
  const json = process.env.FLORA_INPUTS
  if (json !== undefined && json.trim() !== "") {
    let value: Run.JsonValue
    try {
      value = JSON.parse(json)
    } catch {
      return fail("FLORA_INPUTS is not valid JSON.")
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      return fail("FLORA_INPUTS must be a JSON object of input id to value.")
    }
    Object.assign(inputs, value)
  }
  for (const pair of parsed.input ?? []) {
    const at = pair.indexOf("=")
    if (at <= 0) return fail(`--input ${pair}: expected key=value.`)
    inputs[pair.slice(0, at)] = pair.slice(at + 1)
  }
  return inputs
}

const live = Effect.gen(function*() {
  const technique_id = parsed.technique ?? process.env.FLORA_TECHNIQUE_ID
  const workspace_id = parsed.workspace ?? process.env.FLORA_WORKSPACE_ID
  if (technique_id === undefined || workspace_id === undefined) {
    return fail("With FLORA_API_KEY set, give a technique and a workspace.")
  }
  const inputs = parseInputs()
  const baseUrl = yield* Config.string("FLORA_BASE_URL").pipe(Config.withDefault(FloraConfig.defaultBaseUrl))
  yield* Console.log(`Running ${technique_id} in ${workspace_id} on ${baseUrl} (key from FLORA_API_KEY).`)

  yield* runWithProgress({ technique_id, workspace_id, inputs }).pipe(
    Effect.flatMap(report),
    Effect.catchIf(FloraError.isFloraError, (error) =>
      Effect.zipRight(
        Console.error(`${error._tag}: ${error.message}`),
        Effect.sync(() => {
          process.exitCode = 1
        })
      )),
    Effect.provide(FloraClient.layerConfig().pipe(Layer.provide(FetchHttpClient.layer)))
  )
})

const hasApiKey = (process.env.FLORA_API_KEY ?? "").trim() !== ""

NodeRuntime.runMain(hasApiKey ? live : Effect.scoped(demo))
