/**
 * Testing your own service with the emulator in `@effect/vitest`.
 *
 * `Captions` is an application service built on `FloraClient`. Its tests provide the real client, pointed at
 * the in-process emulator, and move `TestClock` to finish runs: no account, no network, no real waiting.
 *
 *   npx vitest run examples/testing-your-service.test.ts
 */
import { describe, expect, it } from "@effect/vitest"
import { Context, Data, Effect, Fiber, Layer, Redacted, TestClock } from "effect"
import { FloraClient } from "effect-flora"
import { FloraEmulator } from "effect-flora/testing"

// --- The application code under test ---

class CaptionError extends Data.TaggedError("CaptionError")<{ readonly reason: string }> {}

class Captions extends Context.Tag("app/Captions")<Captions, {
  readonly caption: (prompt: string) => Effect.Effect<string, CaptionError>
}>() {}

const CaptionsLive = Layer.effect(
  Captions,
  Effect.gen(function*() {
    const flora = yield* FloraClient.FloraClient
    return {
      caption: (prompt) =>
        flora.runTechnique({ technique_id: "tech_demo_text", workspace_id: "ws_demo", inputs: { prompt } }).pipe(
          Effect.mapError((error) =>
            new CaptionError({
              reason: error._tag === "ApiError" && error.kind === "InsufficientCredits" ? "out of credits" : error._tag
            })
          ),
          Effect.flatMap(({ run }) => {
            const text = run.outputs?.find((output) => output.type === "text")
            return text === undefined ? new CaptionError({ reason: "no caption" }) : Effect.succeed(text.url)
          })
        )
    }
  })
)

// --- The tests ---

const TestLayer = CaptionsLive.pipe(
  Layer.provide(FloraClient.layer({
    apiKey: Redacted.make(FloraEmulator.defaultApiKey),
    baseUrl: FloraEmulator.inProcessBaseUrl
  })),
  Layer.provideMerge(FloraEmulator.layer())
)

/** Runs `effect` in a fiber while moving the test clock a second at a time, until it ends. */
const settle = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(effect)
    while ((yield* Fiber.poll(fiber))._tag === "None") yield* TestClock.adjust("1 second")
    return yield* Fiber.join(fiber)
  })

describe("Captions", () => {
  it.effect("captions a prompt with one run of tech_demo_text", () =>
    Effect.gen(function*() {
      const captions = yield* Captions
      const caption = yield* settle(captions.caption("a red fox"))

      expect(caption).toBe("A short caption produced by the FLORA emulator.")
      const runs = yield* (yield* FloraEmulator.FloraEmulator).runs
      expect(runs.map((run) => [run.techniqueId, run.inputs])).toEqual([["tech_demo_text", { prompt: "a red fox" }]])
    }).pipe(Effect.provide(TestLayer)))

  it.effect("reports an empty workspace as out of credits", () =>
    Effect.gen(function*() {
      yield* (yield* FloraEmulator.FloraEmulator).setCredits("ws_demo", 0)

      const error = yield* Effect.flip((yield* Captions).caption("a red fox"))

      expect(error).toEqual(new CaptionError({ reason: "out of credits" }))
    }).pipe(Effect.provide(TestLayer)))

  it.effect("gets through a 503 by retrying with the same idempotency key", () =>
    Effect.gen(function*() {
      const emulator = yield* FloraEmulator.FloraEmulator
      yield* emulator.inject({
        route: "POST /runs/technique",
        fault: FloraEmulator.Fault.error({ status: 503, code: "unknown_error" })
      })

      yield* settle((yield* Captions).caption("a red fox"))

      const posts = (yield* emulator.requests).filter((request) => request.method === "POST")
      expect(posts).toHaveLength(2)
      expect(posts[0].headers["idempotency-key"]).toBe(posts[1].headers["idempotency-key"])
      expect(yield* emulator.runs).toHaveLength(1)
    }).pipe(Effect.provide(TestLayer)))
})
