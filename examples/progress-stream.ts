/**
 * Progress stream: start a run, then follow it with `pollRun`, a `Stream` of the run's snapshots that emits
 * each change of status or progress and ends after the `completed` or `failed` one.
 *
 *   npx tsx examples/progress-stream.ts
 */
import { Console, Effect, Layer, Option, Redacted, Schedule, Stream } from "effect"
import { FloraClient } from "effect-flora"
import { FloraEmulator } from "effect-flora/testing"

const program = Effect.gen(function*() {
  const started = yield* FloraClient.startTechnique({
    technique_id: "tech_demo_text",
    workspace_id: "ws_demo",
    inputs: { prompt: "a red fox in the snow" }
  })
  yield* Console.log(`Started ${started.run_id}; FLORA estimates ${started.estimated_seconds ?? "?"} s`)

  // Against FLORA keep the default interval (2 to 5 s); the emulator's runs are short, so poll faster here.
  const last = yield* FloraClient.pollRun(started, {
    initialDelay: "100 millis",
    schedule: Schedule.spaced("100 millis")
  }).pipe(
    Stream.tap((run) => Console.log(`${run.status.padEnd(9)} ${Math.round(run.progress)}%`)),
    Stream.runLast
  )

  // `pollRun` ends normally on `failed` too: check the status, or use `waitForRun`, which fails with `RunFailed`.
  const run = Option.getOrThrow(last)
  yield* Console.log(`Ended ${run.status}: ${run.outputs?.[0]?.url ?? run.error_message}`)
})

const FloraLive = FloraClient.layer({
  apiKey: Redacted.make(FloraEmulator.defaultApiKey),
  baseUrl: FloraEmulator.inProcessBaseUrl
}).pipe(Layer.provide(FloraEmulator.layer()))

program.pipe(Effect.provide(FloraLive), Effect.runPromise)
