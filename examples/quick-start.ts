/**
 * Quick start: run a technique to completion and print what it made.
 *
 * This runs against the FLORA emulator, in-process, so it needs no account. To talk to FLORA instead, provide
 * `FloraClient.layerConfig()` (it reads `FLORA_API_KEY`) with `FetchHttpClient.layer`, as the comment below shows.
 *
 *   npx tsx examples/quick-start.ts
 */
import { Console, Effect, Layer, Redacted } from "effect"
import { FloraClient } from "effect-flora"
import { FloraEmulator } from "effect-flora/testing"

const program = Effect.gen(function*() {
  const { run, started } = yield* FloraClient.runTechnique({
    technique_id: "tech_demo_text",
    workspace_id: "ws_demo",
    inputs: { prompt: "a lighthouse at dusk" }
  })

  yield* Console.log(`Run ${run.run_id} ${run.status}, charged $${started.charged_cost}`)
  for (const output of run.outputs ?? []) {
    yield* Console.log(`${output.output_id} (${output.type}): ${output.url}`)
  }
})

// Against FLORA: FloraClient.layerConfig().pipe(Layer.provide(FetchHttpClient.layer))
const FloraLive = FloraClient.layer({
  apiKey: Redacted.make(FloraEmulator.defaultApiKey),
  baseUrl: FloraEmulator.inProcessBaseUrl
}).pipe(Layer.provide(FloraEmulator.layer()))

program.pipe(Effect.provide(FloraLive), Effect.runPromise)
