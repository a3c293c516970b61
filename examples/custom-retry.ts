/**
 * A custom retry `Schedule`.
 *
 * The schedule decides how often and how long to wait; the client still retries only what may pass (transport
 * errors, 408, 429 and 5xx), sends the same `Idempotency-Key` on every attempt, and lets a server `Retry-After`
 * replace the schedule's wait. Here the emulator answers 503 three times before it accepts the run.
 *
 *   npx tsx examples/custom-retry.ts
 */
import { Console, Effect, Layer, Redacted, Schedule } from "effect"
import { FloraClient, type FloraError } from "effect-flora"
import { FloraEmulator } from "effect-flora/testing"

// Up to 5 retries, exponential from 50 ms with jitter, logging each failure that is about to be retried.
const retry = Schedule.exponential("50 millis").pipe(
  Schedule.jittered,
  Schedule.intersect(Schedule.recurs(5)),
  Schedule.tapInput((error: FloraError.RequestError) => Console.log(`attempt failed: ${error.message}`))
)

const program = Effect.gen(function*() {
  const emulator = yield* FloraEmulator.FloraEmulator
  yield* emulator.inject({
    route: "POST /runs/technique",
    times: 3,
    fault: FloraEmulator.Fault.error({ status: 503, code: "unknown_error", message: "Try again." })
  })

  // `retry` can also be set for every call, in `FloraClient.layer({ ..., retry })`.
  const started = yield* FloraClient.startTechnique({
    technique_id: "tech_demo_instant",
    workspace_id: "ws_demo",
    inputs: {}
  }, { retry })

  const keys = new Set((yield* emulator.requests).map((request) => request.headers["idempotency-key"]))
  yield* Console.log(`Started ${started.run_id} after ${started.attempts} attempts`)
  yield* Console.log(`Idempotency keys sent: ${[...keys].join(", ")}`)
  yield* Console.log(`Runs created: ${(yield* emulator.runs).length}`)
})

const FloraTest = FloraClient.layer({
  apiKey: Redacted.make(FloraEmulator.defaultApiKey),
  baseUrl: FloraEmulator.inProcessBaseUrl
}).pipe(Layer.provideMerge(FloraEmulator.layer()))

program.pipe(Effect.provide(FloraTest), Effect.runPromise)
