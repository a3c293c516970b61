/**
 * Handling each typed error with `Effect.catchTags`.
 *
 * Every failure of a `FloraClient` method is a tagged class from `FloraError`. Each scenario below provokes one
 * of them against its own emulator, then `describe` handles all seven; after it the error channel is `never`.
 *
 *   npx tsx examples/error-handling.ts
 */
import { Console, Effect, Layer, Redacted, Schedule } from "effect"
import { FloraClient, type FloraError } from "effect-flora"
import { FloraEmulator } from "effect-flora/testing"

const describe = <R>(attempt: Effect.Effect<unknown, FloraError.FloraError, R>): Effect.Effect<string, never, R> =>
  attempt.pipe(
    Effect.as("succeeded"),
    Effect.catchTags({
      ValidationError: (error) =>
        Effect.succeed(
          `ValidationError from the ${error.origin}: ${error.issues.map((i) => `${i.path} ${i.message}`).join("; ")}`
        ),
      ApiError: (error) => {
        switch (error.kind) {
          case "InsufficientCredits":
            return Effect.succeed(`ApiError InsufficientCredits: top up the workspace (${error.detail})`)
          case "NotFound":
            return Effect.succeed(`ApiError NotFound: ${error.detail}`)
          default:
            return Effect.succeed(`ApiError ${error.kind} (status ${error.status}, code ${error.code})`)
        }
      },
      IdempotencyDuplicate: (error) =>
        Effect.succeed(`IdempotencyDuplicate: key ${error.idempotencyKey} was already used`),
      TransportError: (error) =>
        Effect.succeed(
          `TransportError ${error.reason} after ${error.attempts} attempt(s), ` +
            `mayHaveCreatedRun ${error.mayHaveCreatedRun}`
        ),
      UnexpectedResponse: (error) => Effect.succeed(`UnexpectedResponse (status ${error.status}): ${error.detail}`),
      RunFailed: (error) => Effect.succeed(`RunFailed: run ${error.runId} ended with ${error.errorCode}`),
      PollTimeout: (error) =>
        Effect.succeed(`PollTimeout: run ${error.runId} was still ${error.lastStatus} after ${error.polls} poll(s)`)
    })
  )

const params = (technique_id: string) => ({ technique_id, workspace_id: "ws_demo", inputs: { prompt: "a fox" } })

/** Polls fast: the emulator's runs take a second or two. */
const fastPolls = { initialDelay: "100 millis", schedule: Schedule.spaced("100 millis") } as const

/** No retries, so an injected fault is the call's final answer. */
const noRetry = { retry: Schedule.stop }

const emulator = FloraEmulator.FloraEmulator

const scenarios = {
  "technique id without tech_": FloraClient.startTechnique(params("demo")),
  "unknown technique": FloraClient.startTechnique(params("tech_missing")),
  "empty workspace": Effect.gen(function*() {
    yield* (yield* emulator).setCredits("ws_demo", 0)
    return yield* FloraClient.startTechnique(params("tech_demo_text"))
  }),
  "same idempotency key twice": Effect.gen(function*() {
    yield* FloraClient.startTechnique(params("tech_demo_instant"), { idempotencyKey: "order-1234" })
    return yield* FloraClient.startTechnique(params("tech_demo_instant"), { idempotencyKey: "order-1234" })
  }),
  "connection reset": Effect.gen(function*() {
    yield* (yield* emulator).inject({ route: "POST /runs/technique", fault: FloraEmulator.Fault.reset })
    return yield* FloraClient.startTechnique(params("tech_demo_instant"), noRetry)
  }),
  "proxy error page": Effect.gen(function*() {
    yield* (yield* emulator).inject({ route: "POST /runs/technique", fault: FloraEmulator.Fault.html(502) })
    return yield* FloraClient.startTechnique(params("tech_demo_instant"), noRetry)
  }),
  "run ends failed": FloraClient.runTechnique(params("tech_demo_fails"), { poll: fastPolls }),
  "run outlasts the deadline": FloraClient.runTechnique(params("tech_demo"), {
    poll: { ...fastPolls, deadline: "300 millis" }
  })
}

const FloraLive = FloraClient.layer({
  apiKey: Redacted.make(FloraEmulator.defaultApiKey),
  baseUrl: FloraEmulator.inProcessBaseUrl
})

const program = Effect.gen(function*() {
  // Each scenario gets a fresh emulator, so they can run side by side without seeing each other's state.
  const lines = yield* Effect.forEach(
    Object.entries(scenarios),
    ([name, scenario]) =>
      describe(scenario).pipe(
        Effect.map((outcome) => `${name.padEnd(27)} -> ${outcome}`),
        Effect.provide(FloraLive.pipe(Layer.provideMerge(FloraEmulator.layer())))
      ),
    { concurrency: "unbounded" }
  )
  yield* Console.log(lines.join("\n"))
})

program.pipe(Effect.runPromise)
