import * as HttpClient from "@effect/platform/HttpClient"
import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"
import * as FloraEmulator from "../../src/testing/FloraEmulator.js"
import { request, send, startDemoRun } from "../support/emulatorHttp.js"

const { Fault } = FloraEmulator

const demoBody = { technique_id: "tech_demo", workspace_id: "ws_demo", inputs: { prompt: "a fox" } }

/** Lets forked fibers run until one of them sleeps on the TestClock. */
const untilSomeoneSleeps = Effect.gen(function*() {
  for (let turn = 0; turn < 10_000; turn++) {
    if (Chunk.isNonEmpty(yield* TestClock.sleeps())) return
    yield* Effect.yieldNow()
  }
  throw new Error("Nothing went to sleep on the TestClock")
})

const executeStart = (headers: Record<string, string> = {}) =>
  Effect.flatMap(
    HttpClient.HttpClient,
    (client) => client.execute(request("POST", "/runs/technique", { json: demoBody, headers }))
  )

describe("FloraEmulator faults, in process", () => {
  it.effect("answers scripted responses in the order they were injected, then behaves normally", () =>
    Effect.gen(function*() {
      const emulator = yield* FloraEmulator.FloraEmulator
      const route = "POST /runs/technique"
      yield* emulator.inject({ route, fault: Fault.html(502) })
      yield* emulator.inject({ route, fault: Fault.respond({ status: 503 }) })
      yield* emulator.inject({ route, fault: Fault.respond({ status: 200, body: "{\"run_id\": ", headers: json }) })
      yield* emulator.inject({
        route,
        fault: Fault.error({ status: 429, code: "rate_limited", headers: { "retry-after": "30" } })
      })

      const html = yield* startDemoRun("tech_demo", { conform: false })
      expect(html.status).toBe(502)
      expect(html.headers["content-type"]).toBe("text/html")
      expect(html.text).toContain("<html>")
      const empty = yield* startDemoRun("tech_demo", { conform: false })
      expect(empty).toMatchObject({ status: 503, text: "" })
      const malformed = yield* startDemoRun("tech_demo", { conform: false })
      expect(malformed).toMatchObject({ status: 200, text: "{\"run_id\": ", json: undefined })
      const limited = yield* startDemoRun("tech_demo")
      expect(limited.status).toBe(429)
      expect(limited.headers["retry-after"]).toBe("30")
      expect(limited.json.error.code).toBe("rate_limited")
      expect((yield* startDemoRun("tech_demo")).status).toBe(201)

      expect(yield* emulator.pendingFaults).toBe(0)
      expect((yield* emulator.runs).length).toBe(1)
      expect((yield* emulator.requests).map((recorded) => recorded.fault)).toEqual([
        "Respond",
        "Respond",
        "Respond",
        "Respond",
        undefined
      ])
    }).pipe(Effect.provide(FloraEmulator.layer())))

  it.effect("applies a fault `times` times and only to its route", () =>
    Effect.gen(function*() {
      const emulator = yield* FloraEmulator.FloraEmulator
      yield* emulator.inject({ route: "GET /runs/{runId}", times: 2, fault: Fault.respond({ status: 500 }) })
      const started = yield* startDemoRun()
      expect(started.status).toBe(201)
      const path = `/runs/${started.json.run_id}`
      expect((yield* send("GET", path, { conform: false })).status).toBe(500)
      expect((yield* send("GET", "/techniques")).status).toBe(200)
      expect((yield* send("GET", path, { conform: false })).status).toBe(500)
      expect((yield* send("GET", path)).status).toBe(200)
    }).pipe(Effect.provide(FloraEmulator.layer())))

  it.effect("delays an answer on the Clock, so TestClock decides when it arrives", () =>
    Effect.gen(function*() {
      const emulator = yield* FloraEmulator.FloraEmulator
      yield* emulator.inject({ route: "*", fault: Fault.delay("30 seconds") })
      const fiber = yield* Effect.fork(send("GET", "/techniques"))
      yield* untilSomeoneSleeps
      yield* TestClock.adjust("29 seconds")
      expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
      yield* TestClock.adjust("1 second")
      expect((yield* Fiber.join(fiber)).status).toBe(200)
    }).pipe(Effect.provide(FloraEmulator.layer())))

  it.effect("drops the connection before creating anything: a Transport RequestError like Node's", () =>
    Effect.gen(function*() {
      const emulator = yield* FloraEmulator.FloraEmulator
      yield* emulator.inject({ route: "POST /runs/technique", fault: Fault.dropBeforeCreate })
      const error = yield* Effect.flip(executeStart())
      expect(error._tag).toBe("RequestError")
      if (error._tag !== "RequestError") return
      expect(error.reason).toBe("Transport")
      expect(error.cause).toMatchObject({ code: "ECONNRESET", message: "socket hang up" })
      expect(yield* emulator.runs).toEqual([])
      expect(yield* emulator.credits("ws_demo")).toBe(1000)
      expect((yield* emulator.requests).map((recorded) => recorded.fault)).toEqual(["DropBeforeCreate"])
    }).pipe(Effect.provide(FloraEmulator.layer())))

  it.effect("drops the connection after creating and charging the run: the lost response", () =>
    Effect.gen(function*() {
      const emulator = yield* FloraEmulator.FloraEmulator
      yield* emulator.inject({ route: "POST /runs/technique", fault: Fault.dropAfterCreate })
      const lost = yield* Effect.either(executeStart({ "idempotency-key": "key-1" }))
      expect(Either.isLeft(lost) && lost.left._tag === "RequestError" && lost.left.reason).toBe("Transport")
      expect((yield* emulator.runs).map((run) => run.idempotencyKey)).toEqual(["key-1"])
      expect(yield* emulator.credits("ws_demo")).toBe(999.75)

      const retried = yield* startDemoRun("tech_demo", { headers: { "idempotency-key": "key-1" } })
      expect(retried.status).toBe(409)
      expect(retried.json.error.code).toBe("idempotency_duplicate")
    }).pipe(Effect.provide(FloraEmulator.layer())))

  it.effect("resets the connection: a Transport RequestError with a read ECONNRESET cause", () =>
    Effect.gen(function*() {
      const emulator = yield* FloraEmulator.FloraEmulator
      yield* emulator.inject({ route: "*", fault: Fault.reset })
      const error = yield* Effect.flip(executeStart())
      expect(error).toMatchObject({ _tag: "RequestError", reason: "Transport", cause: { code: "ECONNRESET" } })
      expect(error.cause).toMatchObject({ syscall: "read" })
      expect(yield* emulator.runs).toEqual([])
    }).pipe(Effect.provide(FloraEmulator.layer())))

  it.effect("stalls the body after the status and headers, so only a client timeout ends the wait", () =>
    Effect.gen(function*() {
      const emulator = yield* FloraEmulator.FloraEmulator
      yield* emulator.inject({ route: "POST /runs/technique", fault: Fault.stallBody })
      const response = yield* executeStart()
      expect(response.status).toBe(201)
      expect(response.headers["request-id"]).toMatch(/^req_/)
      expect(yield* emulator.runs).toHaveLength(1)

      const reading = yield* Effect.fork(Effect.timeout(response.text, "10 seconds"))
      yield* untilSomeoneSleeps
      yield* TestClock.adjust("10 seconds")
      const outcome = yield* Effect.flip(Fiber.join(reading))
      expect(outcome).toMatchObject({ _tag: "TimeoutException" })
    }).pipe(Effect.provide(FloraEmulator.layer())))
})

const json = { "content-type": "application/json" }
