/**
 * Behaviours found wanting by review, each pinned by the test that first showed it.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import * as TestClock from "effect/TestClock"
import * as FloraClient from "../src/FloraClient.js"
import type * as FloraConfig from "../src/FloraConfig.js"
import { apiKey, clientLayer, envelope, makeScript, runSnapshot, started } from "./support/scripted.js"

const params = { technique_id: "tech_demo", workspace_id: "ws_demo", inputs: { prompt: "hi" } }

describe("deadlines", () => {
  it.effect("a deadline that cuts off an attempt in flight says the run may exist", () =>
    Effect.gen(function*() {
      const script = makeScript(envelope(429, "rate_limited", "slow", { "retry-after": "1" }), { hang: true })
      const fiber = yield* FloraClient.startTechnique(params, { timeout: "10 seconds", deadline: "8 seconds" }).pipe(
        Effect.provide(clientLayer(script)),
        Effect.fork
      )
      yield* TestClock.adjust("8 seconds")
      const error = yield* Effect.flip(Fiber.join(fiber))
      expect(error._tag === "TransportError" && error.reason).toBe("DeadlineExceeded")
      expect(error.mayHaveCreatedRun).toBe(true)
      expect(script.sent).toHaveLength(2)
    }))

  for (const [name, options] of [["zero timeout", { timeout: 0 }], ["negative deadline", { deadline: -5 }]] as const) {
    it.effect(`refuses a ${name} on a call before sending anything`, () =>
      Effect.gen(function*() {
        const script = makeScript(started())
        const error = yield* Effect.flip(
          FloraClient.startTechnique(params, options).pipe(
            Effect.provide(clientLayer(script))
          )
        )
        expect(error._tag === "ValidationError" && error.origin).toBe("client")
        expect(script.sent).toHaveLength(0)
      }))
  }

  const invalid: ReadonlyArray<[string, Partial<FloraConfig.Options>]> = [
    ["timeout", { timeout: Number.NaN }],
    ["maxResponseBytes", { maxResponseBytes: 0 }]
  ]
  for (const [name, options] of invalid) {
    it.effect(`refuses a client whose ${name} is not positive`, () =>
      Effect.gen(function*() {
        const error = yield* Layer.build(clientLayer(makeScript(), options)).pipe(
          Effect.scoped,
          Effect.flip,
          Effect.sandbox,
          Effect.flip
        )
        expect(String(error)).toContain(`The ${name} must be a positive`)
      }))
  }
})

describe("polling with a server hint", () => {
  it.effect("a tiny Retry-After lengthens no wait below the poll interval", () =>
    Effect.gen(function*() {
      const busy = envelope(503, "service_unavailable", "busy", { "retry-after-ms": "1" })
      const script = makeScript(...Array.from({ length: 50 }, () => busy), runSnapshot("completed", 100))
      const fiber = yield* FloraClient.waitForRun("run_1", {
        initialDelay: 0,
        schedule: Schedule.spaced("2 seconds"),
        deadline: "9 seconds"
      }).pipe(Effect.provide(clientLayer(script)), Effect.fork)
      yield* TestClock.adjust("9 seconds")
      yield* Effect.flip(Fiber.join(fiber))
      // Polls at 0, 2, 4, 6 and 8 s: the hint of 1 ms shortened none of the waits.
      expect(script.sent).toHaveLength(5)
    }))
})

describe("what the client refuses or scrubs", () => {
  it.effect("scrubs a key that straddles the cut of the body snippet", () =>
    Effect.gen(function*() {
      const body = `${"x".repeat(280)} Authorization: Bearer ${apiKey}`
      const error = yield* Effect.flip(
        FloraClient.startTechnique(params).pipe(
          Effect.provide(clientLayer(makeScript({ status: 400, body })))
        )
      )
      expect(error._tag).toBe("UnexpectedResponse")
      expect(JSON.stringify(error)).not.toContain(apiKey.slice(0, 10))
    }))

  it.effect("refuses inputs nested too deep with a ValidationError, not a stack overflow", () =>
    Effect.gen(function*() {
      let deep: unknown = 1
      for (let i = 0; i < 5000; i++) deep = [deep]
      const script = makeScript(started())
      const error = yield* Effect.flip(
        FloraClient.startTechnique({ ...params, inputs: { deep } }).pipe(
          Effect.provide(clientLayer(script))
        )
      )
      expect(error._tag === "ValidationError" && error.issues[0].message).toContain("nested more than 256 levels")
      expect(script.sent).toHaveLength(0)
    }))

  it.effect("refuses params whose getter throws with a ValidationError, not a defect", () =>
    Effect.gen(function*() {
      const inputs = {
        get prompt(): string {
          throw new Error("getter failed")
        }
      }
      const script = makeScript(started())
      const error = yield* Effect.flip(
        FloraClient.startTechnique({ ...params, inputs }).pipe(
          Effect.provide(clientLayer(script))
        )
      )
      expect(error._tag === "ValidationError" && error.issues[0].message).toContain("getter failed")
      expect(script.sent).toHaveLength(0)
    }))

  it.effect("refuses a body key FLORA does not know, instead of dropping it", () =>
    Effect.gen(function*() {
      const script = makeScript(started())
      const error = yield* Effect.flip(
        FloraClient.startTechnique({ ...params, callback_url: "https://example.com/hook" } as typeof params).pipe(
          Effect.provide(clientLayer(script))
        )
      )
      expect(error._tag === "ValidationError" && error.issues.map((issue) => issue.path)).toEqual(["callback_url"])
      expect(script.sent).toHaveLength(0)
    }))

  for (const key of [" padded", "padded ", "  "]) {
    it.effect(`refuses the idempotency key ${JSON.stringify(key)}, which HTTP would trim`, () =>
      Effect.gen(function*() {
        const script = makeScript(started())
        const error = yield* Effect.flip(
          FloraClient.startTechnique(params, { idempotencyKey: key }).pipe(
            Effect.provide(clientLayer(script))
          )
        )
        expect(error._tag === "ValidationError" && error.issues[0].path).toBe("idempotencyKey")
        expect(script.sent).toHaveLength(0)
      }))
  }

  it.effect("counts the attempts of each run of a reused effect on its own", () =>
    Effect.gen(function*() {
      const script = makeScript(runSnapshot("running", 1), runSnapshot("running", 2), envelope(404, "not_found"))
      const layer = clientLayer(script)
      const client = yield* Effect.provide(FloraClient.FloraClient, layer)
      const read = client.listTechniques()
      yield* Effect.either(read)
      yield* Effect.either(read)
      const error = yield* Effect.flip(read)
      expect(error.attempts).toBe(1)
    }))
})
