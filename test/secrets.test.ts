import { describe, expect, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as TestClock from "effect/TestClock"
import * as FloraClient from "../src/FloraClient.js"
import { makeCapture, renderings } from "./support/capture.js"
import { apiKey, clientLayer, envelope, json, makeScript, type Reply, started } from "./support/scripted.js"

const params = { technique_id: "tech_demo", workspace_id: "ws_demo", inputs: { prompt: "hi" } }

/** Replies that each put the key somewhere a careless client would repeat it. */
const echoes: ReadonlyArray<[string, Reply]> = [
  ["an error message", envelope(401, "invalid_api_key", `Invalid API key ${apiKey}`)],
  [
    "a validation field",
    json(400, {
      error: { code: "input_validation_error", message: "bad", fields: [{ field: "x", message: `saw ${apiKey}` }] }
    })
  ],
  ["an HTML page", { status: 502, body: `<html>proxy saw Authorization: Bearer ${apiKey}</html>` }],
  ["a malformed 201", { status: 201, body: `{"run_id": "${apiKey}"` }],
  ["a 201 of the wrong shape", { status: 201, body: { run_id: 1, echo: apiKey } }],
  ["a transport error", { network: "ECONNRESET" }]
]

describe("the API key", () => {
  for (const [where, reply] of echoes) {
    it.effect(`never appears in errors, logs or spans when the server echoes it in ${where}`, () =>
      Effect.gen(function*() {
        const { captured, layer } = makeCapture()
        const script = makeScript(reply, reply, reply)
        const fiber = yield* FloraClient.startTechnique(params).pipe(
          Effect.provide(Layer.merge(clientLayer(script), layer)),
          Effect.fork
        )
        yield* TestClock.adjust("1 minute")
        const exit = yield* Fiber.await(fiber)
        expect(Exit.isFailure(exit)).toBe(true)
        if (Exit.isSuccess(exit)) return
        const texts = [Cause.pretty(exit.cause), ...Cause.failures(exit.cause).pipe((c) => [...c].flatMap(renderings))]
        for (const text of [...texts, captured.text()]) expect(text).not.toContain(apiKey)
        expect(captured.logs.length).toBeGreaterThan(0)
        expect(captured.spans.length).toBeGreaterThan(0)
        for (const sent of script.sent) expect(sent.headers["authorization"]).toBe(`Bearer ${apiKey}`)
      }))
  }

  it.effect("is sent only in the Authorization header", () =>
    Effect.gen(function*() {
      const script = makeScript(started())
      yield* FloraClient.startTechnique(params).pipe(Effect.provide(clientLayer(script)))
      const { authorization, ...others } = script.sent[0].headers
      expect(authorization).toBe(`Bearer ${apiKey}`)
      expect(JSON.stringify(others)).not.toContain(apiKey)
      expect(script.sent[0].url).not.toContain(apiKey)
      expect(script.sent[0].body).not.toContain(apiKey)
    }))
})

describe("observability", () => {
  it.effect("logs one debug line per attempt with method, path, status, attempt, request-id and duration", () =>
    Effect.gen(function*() {
      const { captured, layer } = makeCapture()
      const script = makeScript(envelope(503, "busy"), started())
      const fiber = yield* FloraClient.startTechnique(params).pipe(
        Effect.provide(Layer.merge(clientLayer(script), layer)),
        Effect.fork
      )
      yield* TestClock.adjust("10 seconds")
      yield* Fiber.join(fiber)
      const lines = captured.logs.filter((log) => log.message === "FLORA request")
      expect(lines.map((line) => line.level)).toEqual(["DEBUG", "DEBUG"])
      expect(lines.map((line) => line.annotations)).toEqual([
        expect.objectContaining({
          method: "POST",
          path: "/runs/technique",
          status: 503,
          attempt: 1,
          requestId: "req_503",
          durationMs: expect.any(Number)
        }),
        expect.objectContaining({ status: 201, attempt: 2, requestId: "req_201" })
      ])
    }))

  it.effect("opens a span per call and per attempt", () =>
    Effect.gen(function*() {
      const { captured, layer } = makeCapture()
      const script = makeScript(envelope(500, "x"), started())
      const fiber = yield* FloraClient.startTechnique(params).pipe(
        Effect.provide(Layer.merge(clientLayer(script), layer)),
        Effect.fork
      )
      yield* TestClock.adjust("10 seconds")
      const run = yield* Fiber.join(fiber)
      const names = captured.spans.map((span) => span.name)
      expect(names.filter((name) => name === "FloraClient.startTechnique")).toHaveLength(1)
      expect(names.filter((name) => name === "FloraClient.attempt")).toHaveLength(2)
      const call = captured.spans.find((span) => span.name === "FloraClient.startTechnique")!
      expect(call.attributes.get("flora.idempotency_key")).toBe(run.idempotencyKey)
      expect(call.attributes.get("flora.run_id")).toBe(run.run_id)
    }))
})
