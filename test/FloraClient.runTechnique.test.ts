import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as TestClock from "effect/TestClock"
import * as FloraClient from "../src/FloraClient.js"
import * as FloraEmulator from "../src/testing/FloraEmulator.js"

const params = { technique_id: "tech_demo", workspace_id: "ws_demo", inputs: { prompt: "a kite" } }

/** Runs `runTechnique` with the given fault on its first poll, and returns its error and the created runs. */
const failOnFirstPoll = (fault: FloraEmulator.Fault) =>
  Effect.gen(function*() {
    const emulator = yield* FloraEmulator.FloraEmulator
    yield* emulator.inject({ route: "GET /runs/{runId}", fault })
    const fiber = yield* Effect.fork(
      Effect.flip(FloraClient.runTechnique(params, { poll: { initialDelay: "1 second" } }))
    )
    yield* TestClock.adjust("2 seconds")
    const error = yield* Fiber.join(fiber)
    return { error, runs: yield* emulator.runs }
  }).pipe(Effect.provide(FloraEmulator.layerFloraClient()))

describe("runTechnique", () => {
  const polls: ReadonlyArray<[string, FloraEmulator.Fault, string]> = [
    ["a 404", FloraEmulator.Fault.error({ status: 404, code: "not_found" }), "ApiError"],
    ["a 401", FloraEmulator.Fault.error({ status: 401, code: "invalid_api_key" }), "ApiError"],
    ["malformed JSON", FloraEmulator.Fault.respond({ status: 200, body: "{\"run_id\":" }), "UnexpectedResponse"]
  ]

  for (const [name, fault, tag] of polls) {
    it.effect(`a poll answered with ${name} fails saying the started run exists, with its idempotency key`, () =>
      Effect.gen(function*() {
        const { error, runs } = yield* failOnFirstPoll(fault)
        expect(runs).toHaveLength(1)
        expect(error._tag).toBe(tag)
        if (error._tag === "PollTimeout" || error._tag === "RunFailed") return
        expect(error.operation).toBe("GET /runs/{runId}")
        expect(error.mayHaveCreatedRun).toBe(true)
        expect(error.idempotencyKey).toBe(runs[0].idempotencyKey)
        expect(error.message).toContain("A run may have been created")
      }))
  }
})
