/**
 * The emulator's behaviours as a user of `FloraClient` meets them: each API error arrives as its typed error.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import * as FloraClient from "../../src/FloraClient.js"
import * as FloraEmulator from "../../src/testing/FloraEmulator.js"

const params = { technique_id: "tech_demo", workspace_id: "ws_demo", inputs: { prompt: "a lighthouse" } }

const withKey = (apiKey: string, options?: FloraEmulator.Options) =>
  FloraClient.layer({ apiKey: Redacted.make(apiKey), baseUrl: FloraEmulator.inProcessBaseUrl }).pipe(
    Layer.orDie,
    Layer.provideMerge(FloraEmulator.layer(options))
  )

describe("the emulator through FloraClient", () => {
  it.effect("an unknown key is ApiError Unauthorized with code invalid_api_key, sent once", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(FloraClient.startTechnique(params))
      expect(error._tag === "ApiError" && error.kind).toBe("Unauthorized")
      expect(error.code).toBe("invalid_api_key")
      expect(error.requestId).toMatch(/^req_/)
      const emulator = yield* FloraEmulator.FloraEmulator
      expect(yield* emulator.requests).toHaveLength(1)
    }).pipe(Effect.provide(withKey("sk_test_someone_else"))))

  it.effect("a workspace the key does not own is ApiError Forbidden", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(FloraClient.startTechnique({ ...params, workspace_id: "ws_other" }))
      expect(error._tag === "ApiError" && error.kind).toBe("Forbidden")
      expect(error.code).toBe("forbidden")
    }).pipe(Effect.provide(FloraEmulator.layerFloraClient())))

  it.effect("a missing technique input is a server-side ValidationError naming the field", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(FloraClient.startTechnique({ ...params, inputs: {} }))
      expect(error._tag === "ValidationError" && error.origin).toBe("server")
      expect(error._tag === "ValidationError" && error.issues.map((issue) => issue.path)).toEqual(["inputs.prompt"])
    }).pipe(Effect.provide(FloraEmulator.layerFloraClient())))

  it.effect("an empty workspace is ApiError InsufficientCredits, and nothing is charged", () =>
    Effect.gen(function*() {
      const emulator = yield* FloraEmulator.FloraEmulator
      yield* emulator.setCredits("ws_demo", 0.1)
      const error = yield* Effect.flip(FloraClient.startTechnique(params))
      expect(error._tag === "ApiError" && error.kind).toBe("InsufficientCredits")
      expect(error.code).toBe("insufficient_credits")
      expect(yield* emulator.credits("ws_demo")).toBe(0.1)
    }).pipe(Effect.provide(FloraEmulator.layerFloraClient())))

  it.effect("a run is charged its technique's cost, as charged_cost says", () =>
    Effect.gen(function*() {
      const emulator = yield* FloraEmulator.FloraEmulator
      const started = yield* FloraClient.startTechnique(params)
      expect(started.charged_cost).toBe(0.25)
      expect(yield* emulator.credits("ws_demo")).toBe(999.75)
    }).pipe(Effect.provide(FloraEmulator.layerFloraClient())))

  it.effect("reusing a caller key within two hours is IdempotencyDuplicate, not a second run", () =>
    Effect.gen(function*() {
      const emulator = yield* FloraEmulator.FloraEmulator
      yield* FloraClient.startTechnique(params, { idempotencyKey: "order-7" })
      const error = yield* Effect.flip(FloraClient.startTechnique(params, { idempotencyKey: "order-7" }))
      expect(error._tag).toBe("IdempotencyDuplicate")
      expect(error.mayHaveCreatedRun).toBe(false)
      expect(yield* emulator.runs).toHaveLength(1)
      yield* TestClock.adjust("2 hours")
      const again = yield* FloraClient.startTechnique(params, { idempotencyKey: "order-7" })
      expect(again.idempotencyKey).toBe("order-7")
      expect(yield* emulator.runs).toHaveLength(2)
    }).pipe(Effect.provide(FloraEmulator.layerFloraClient())))

  it.effect("a rate-limited call waits out Retry-After and then succeeds", () =>
    Effect.gen(function*() {
      const emulator = yield* FloraEmulator.FloraEmulator
      yield* FloraClient.startTechnique(params)
      yield* FloraClient.startTechnique(params)
      const fiber = yield* Effect.fork(FloraClient.startTechnique(params))
      yield* TestClock.adjust("9 seconds")
      expect(yield* emulator.runs).toHaveLength(2)
      yield* TestClock.adjust("1 second")
      const started = yield* Fiber.join(fiber)
      expect(started.attempts).toBe(2)
      expect(yield* emulator.runs).toHaveLength(3)
    }).pipe(Effect.provide(FloraEmulator.layerFloraClient({ rateLimit: { requests: 2, window: "10 seconds" } }))))
})
