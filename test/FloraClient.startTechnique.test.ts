import { describe, expect, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as TestClock from "effect/TestClock"
import * as FloraClient from "../src/FloraClient.js"
import type { StartError } from "../src/FloraError.js"
import type * as Run from "../src/Run.js"
import {
  apiKey,
  clientLayer,
  envelope,
  json,
  makeScript,
  type Reply,
  type Script,
  started
} from "./support/scripted.js"

const params: Run.StartTechniqueParams = {
  technique_id: "tech_demo",
  workspace_id: "ws_demo",
  inputs: { prompt: "a lighthouse at dusk" }
}

const start = (script: Script, options?: FloraClient.StartOptions, p: unknown = params) =>
  FloraClient.startTechnique(p as Run.StartTechniqueParams, options).pipe(Effect.provide(clientLayer(script)))

/** Runs the call in a fiber, moving the test clock forward by `step` until it ends. */
const driveToEnd = <A, E>(effect: Effect.Effect<A, E>, step: Duration.DurationInput = "1 second", maxSteps = 600) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(effect)
    for (let i = 0; i < maxSteps; i++) {
      const done = yield* Fiber.poll(fiber)
      if (done._tag === "Some") break
      yield* TestClock.adjust(step)
    }
    return yield* Fiber.join(fiber).pipe(Effect.exit)
  })

const failureOf = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isSuccess(exit)) throw new Error("expected a failure, got a success")
  const failure = exit.cause._tag === "Fail" ? exit.cause.error : undefined
  if (failure === undefined) throw new Error(`expected a typed failure, got ${exit.cause._tag}`)
  return failure
}

describe("startTechnique", () => {
  it.effect("sends the params with the key, an idempotency key and JSON headers, and returns the run", () =>
    Effect.gen(function*() {
      const script = makeScript(started("run_abc"))
      const run = yield* start(script)
      expect(run.run_id).toBe("run_abc")
      expect(run.charged_cost).toBe(0.25)
      expect(run.requestId).toBe("req_201")
      expect(run.attempts).toBe(1)
      expect(run.project_id).toBeUndefined()
      expect(run.technique).toEqual({ technique_id: "tech_demo", name: "Demo" })
      expect(run.idempotencyKey).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
      const [sent] = script.sent
      expect(sent.method).toBe("POST")
      expect(sent.url).toBe("https://flora.test/api/v1/runs/technique")
      expect(sent.headers["authorization"]).toBe(`Bearer ${apiKey}`)
      expect(sent.headers["idempotency-key"]).toBe(run.idempotencyKey)
      expect(sent.headers["content-type"]).toBe("application/json")
      expect(JSON.parse(sent.body!)).toEqual(params)
    }))

  it.effect("mints a new idempotency key for each call", () =>
    Effect.gen(function*() {
      const script = makeScript(started(), started())
      const first = yield* start(script)
      const second = yield* start(script)
      expect(first.idempotencyKey).not.toBe(second.idempotencyKey)
    }))

  it.effect("sends the caller's own idempotency key", () =>
    Effect.gen(function*() {
      const script = makeScript(started())
      const run = yield* start(script, { idempotencyKey: "order-42/attempt" })
      expect(run.idempotencyKey).toBe("order-42/attempt")
      expect(script.sent[0].headers["idempotency-key"]).toBe("order-42/attempt")
    }))

  it.effect("decodes forward-compatibly: extra fields, missing nullable keys and unknown run types", () =>
    Effect.gen(function*() {
      const script = makeScript(
        json(201, { run_id: "run_x", type: "workflow", estimated_seconds: null, charged_cost: 1, brand_new: true })
      )
      const run = yield* start(script)
      expect(run.type).toBe("workflow")
      expect(run.estimated_seconds).toBeUndefined()
      expect(run.poll_url).toBeUndefined()
      expect("brand_new" in run).toBe(false)
    }))

  it.effect("a 2xx replay of the original response simply succeeds", () =>
    Effect.gen(function*() {
      const replay = started("run_orig") as { status: number; body: object; headers: Record<string, string> }
      const script = makeScript({ ...replay, headers: { ...replay.headers, "idempotent-replayed": "true" } })
      const run = yield* start(script)
      expect(run.run_id).toBe("run_orig")
      expect(run.replayed).toBe(true)
    }))
})

describe("startTechnique validation", () => {
  const invalid: ReadonlyArray<[string, unknown, string]> = [
    ["a technique id without tech_", { ...params, technique_id: "demo" }, "technique_id"],
    ["a workspace id without ws_", { ...params, workspace_id: "demo" }, "workspace_id"],
    ["inputs that are not an object", { ...params, inputs: "x" }, "inputs"],
    ["inputs with a non-finite number", { ...params, inputs: { n: Number.NaN } }, "inputs.n"],
    ["inputs with undefined, which JSON would drop", { ...params, inputs: { a: undefined } }, "inputs.a"]
  ]

  for (const [name, bad, path] of invalid) {
    it.effect(`refuses ${name} before sending anything`, () =>
      Effect.gen(function*() {
        const script = makeScript()
        const error = failureOf(yield* Effect.exit(start(script, undefined, bad)))
        expect(error._tag).toBe("ValidationError")
        if (error._tag !== "ValidationError") return
        expect(error.origin).toBe("client")
        expect(error.issues.map((issue) => issue.path)).toContain(path)
        expect(error.attempts).toBe(0)
        expect(script.sent).toHaveLength(0)
      }))
  }

  it.effect("lists every invalid field at once", () =>
    Effect.gen(function*() {
      const error = failureOf(
        yield* Effect.exit(start(makeScript(), undefined, { technique_id: "x", workspace_id: "y", inputs: [] }))
      )
      expect(error._tag === "ValidationError" && error.issues.map((issue) => issue.path)).toEqual([
        "technique_id",
        "workspace_id",
        "inputs"
      ])
    }))

  for (const [name, key] of [["non-ASCII", "clé-ü"], ["over-long", "k".repeat(256)], ["empty", ""]] as const) {
    it.effect(`refuses a ${name} caller idempotency key before sending anything`, () =>
      Effect.gen(function*() {
        const script = makeScript()
        const error = failureOf(yield* Effect.exit(start(script, { idempotencyKey: key })))
        expect(error._tag === "ValidationError" && error.issues[0].path).toBe("idempotencyKey")
        expect(script.sent).toHaveLength(0)
      }))
  }

  it.effect("maps a server 400 to a server-side ValidationError with the envelope's fields", () =>
    Effect.gen(function*() {
      const script = makeScript(json(400, {
        error: {
          code: "input_validation_error",
          message: "inputs.prompt: Required",
          fields: [{ field: "inputs.prompt", message: "Required" }]
        }
      }))
      const error = failureOf(yield* Effect.exit(start(script)))
      expect(error._tag).toBe("ValidationError")
      if (error._tag !== "ValidationError") return
      expect(error.origin).toBe("server")
      expect(error.code).toBe("input_validation_error")
      expect(error.status).toBe(400)
      expect(error.requestId).toBe("req_400")
      expect(error.issues).toEqual([expect.objectContaining({ path: "inputs.prompt", message: "Required" })])
      expect(script.sent).toHaveLength(1)
    }))
})

describe("startTechnique errors", () => {
  const nonRetryable: ReadonlyArray<[number, string, string]> = [
    [400, "invalid_json", "ValidationError"],
    [401, "invalid_api_key", "Unauthorized"],
    [402, "insufficient_credits", "InsufficientCredits"],
    [403, "forbidden", "Forbidden"],
    [404, "not_found", "NotFound"],
    [409, "idempotency_duplicate", "IdempotencyDuplicate"],
    [409, "conflict", "OtherStatus"],
    [422, "idempotency_conflict", "OtherStatus"],
    [501, "not_implemented", "ServerError"],
    [505, "http_version", "ServerError"]
  ]

  for (const [status, code, kind] of nonRetryable) {
    it.effect(`sends a call answered ${status} ${code} exactly once`, () =>
      Effect.gen(function*() {
        const script = makeScript(envelope(status, code), started())
        const error = failureOf(yield* driveToEnd(start(script)))
        expect(script.sent).toHaveLength(1)
        expect(error.status).toBe(status)
        expect(error.code).toBe(code)
        expect(error.requestId).toBe(`req_${status}`)
        expect(error.idempotencyKey).toBe(script.sent[0].headers["idempotency-key"])
        expect(error._tag === "ApiError" ? error.kind : error._tag).toBe(kind)
      }))
  }

  for (const status of [408, 429, 500, 502, 503, 504]) {
    it.effect(`retries a ${status} with the same idempotency key`, () =>
      Effect.gen(function*() {
        const script = makeScript(envelope(status, "busy"), envelope(status, "busy"), started())
        const exit = yield* driveToEnd(start(script), "100 millis")
        expect(Exit.isSuccess(exit)).toBe(true)
        expect(script.sent).toHaveLength(3)
        const keys = new Set(script.sent.map((sent) => sent.headers["idempotency-key"]))
        expect(keys.size).toBe(1)
        expect(script.sent.map((sent) => sent.body)).toEqual(Array(3).fill(script.sent[0].body))
      }))
  }

  it.effect("gives up after two retries with the last error, its attempts and its key", () =>
    Effect.gen(function*() {
      const script = makeScript(envelope(503, "a"), envelope(503, "b"), envelope(503, "c"), started())
      const error = failureOf(yield* driveToEnd(start(script), "100 millis"))
      expect(script.sent).toHaveLength(3)
      expect(error._tag === "ApiError" && error.kind).toBe("ServerError")
      expect(error.code).toBe("c")
      expect(error.attempts).toBe(3)
      expect(error.mayHaveCreatedRun).toBe(true)
      expect(error.message).toContain("A run may have been created")
    }))

  it.effect("waits between retries with exponential backoff from 500 ms, jittered", () =>
    Effect.gen(function*() {
      const script = makeScript(envelope(500, "x"), envelope(500, "x"), started())
      const fiber = yield* Effect.fork(start(script))
      const sentAt: Array<number> = []
      for (let now = 0; now <= 3000; now += 10) {
        while (sentAt.length < script.sent.length) sentAt.push(now)
        yield* TestClock.adjust("10 millis")
      }
      yield* Fiber.join(fiber)
      expect(sentAt).toHaveLength(3)
      const [first, second] = [sentAt[1] - sentAt[0], sentAt[2] - sentAt[1]]
      expect(first).toBeGreaterThanOrEqual(400)
      expect(first).toBeLessThanOrEqual(610)
      expect(second).toBeGreaterThanOrEqual(800)
      expect(second).toBeLessThanOrEqual(1210)
    }))

  it.effect("follows a custom retry schedule, but still never retries a 409", () =>
    Effect.gen(function*() {
      const five = Schedule.intersect(Schedule.spaced("1 second"), Schedule.recurs(5))
      const script = makeScript(...Array<Reply>(5).fill(envelope(502, "bad_gateway")), started())
      const run = yield* driveToEnd(start(script, { retry: five }))
      expect(Exit.isSuccess(run)).toBe(true)
      expect(script.sent).toHaveLength(6)

      const duplicate = makeScript(envelope(409, "idempotency_duplicate"), started())
      const error = failureOf(yield* driveToEnd(start(duplicate, { retry: five })))
      expect(error._tag).toBe("IdempotencyDuplicate")
      expect(duplicate.sent).toHaveLength(1)
    }))
})

describe("custom retry schedules", () => {
  it.effect("see only the failures that are retried, never a final one", () =>
    Effect.gen(function*() {
      const seen: Array<string> = []
      const retry = Schedule.recurs(5).pipe(
        Schedule.tapInput((error: StartError) => Effect.sync(() => seen.push(`${error._tag} ${error.status}`)))
      )
      const script = makeScript(envelope(503, "busy"), envelope(404, "not_found"))
      const error = failureOf(yield* driveToEnd(start(script, { retry }), "100 millis"))
      expect(error.status).toBe(404)
      expect(seen).toEqual(["ApiError 503"])
      expect(script.sent).toHaveLength(2)
    }))
})

describe("Retry-After", () => {
  const waitsFor = (headers: Record<string, string>, expectedMillis: number) =>
    Effect.gen(function*() {
      const script = makeScript(envelope(429, "rate_limited", "slow down", headers), started())
      const fiber = yield* Effect.fork(start(script))
      yield* TestClock.adjust(expectedMillis - 1)
      expect(script.sent).toHaveLength(1)
      yield* TestClock.adjust(1)
      expect(script.sent).toHaveLength(2)
      yield* Fiber.join(fiber)
    })

  it.effect("honours Retry-After in seconds", () => waitsFor({ "retry-after": "7" }, 7000))

  it.effect("honours fractional seconds", () => waitsFor({ "retry-after": "1.5" }, 1500))

  it.effect("honours retry-after-ms before Retry-After", () =>
    waitsFor({ "retry-after-ms": "2500", "retry-after": "30" }, 2500))

  it.effect("honours Retry-After as an HTTP date, read against the Clock", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.parse("2026-12-03T12:00:00Z"))
      yield* waitsFor({ "retry-after": "Thu, 03 Dec 2026 12:00:12 GMT" }, 12_000)
    }))

  for (const garbage of ["soon", "", "-5", "0", "NaN", "Wed, 01 Jan 2020 00:00:00 GMT", "1e400"]) {
    it.effect(`ignores an unusable Retry-After ${JSON.stringify(garbage)} and backs off normally`, () =>
      Effect.gen(function*() {
        yield* TestClock.setTime(Date.parse("2026-12-03T12:00:00Z"))
        const script = makeScript(envelope(429, "rate_limited", "x", { "retry-after": garbage }), started())
        const fiber = yield* Effect.fork(start(script))
        yield* TestClock.adjust("0 millis")
        expect(script.sent).toHaveLength(1)
        yield* TestClock.adjust("399 millis")
        expect(script.sent).toHaveLength(1)
        yield* TestClock.adjust("201 millis")
        expect(script.sent).toHaveLength(2)
        yield* Fiber.join(fiber)
      }))
  }

  it.effect("fails fast with the delay when a hint is above the 60 s cap, instead of sleeping", () =>
    Effect.gen(function*() {
      const script = makeScript(envelope(429, "rate_limited", "later", { "retry-after": "3600" }), started())
      const error = failureOf(yield* Effect.exit(start(script)))
      expect(script.sent).toHaveLength(1)
      expect(error._tag === "ApiError" && error.kind).toBe("RateLimited")
      expect(error._tag === "ApiError" && error.retryAfter).toEqual(Duration.hours(1))
      expect(error.message).toContain("Retry after 1h")
    }))

  it.effect("reads the hint of a 503 too", () =>
    Effect.gen(function*() {
      const script = makeScript(envelope(503, "service_unavailable", "x", { "retry-after": "4" }), started())
      const fiber = yield* Effect.fork(start(script))
      yield* TestClock.adjust("3999 millis")
      expect(script.sent).toHaveLength(1)
      yield* TestClock.adjust("1 millis")
      yield* Fiber.join(fiber)
      expect(script.sent).toHaveLength(2)
    }))
})

describe("unexpected responses", () => {
  const cases: ReadonlyArray<[string, Reply, boolean]> = [
    ["an HTML 502 from a proxy", { status: 502, body: "<html><body>Bad gateway</body></html>" }, true],
    ["an empty 500", { status: 500 }, true],
    ["malformed JSON on a 201", { status: 201, body: "{\"run_id\": " }, false],
    ["a 201 of the wrong shape", { status: 201, body: { id: 12 } }, false],
    ["a top-level array", { status: 201, body: "[1,2,3]" }, false],
    ["a run id of the wrong type", { status: 201, body: { run_id: 7, type: "technique", charged_cost: 0 } }, false],
    ["an error status without the envelope", { status: 403, body: { message: "nope" } }, false]
  ]

  for (const [name, reply, retried] of cases) {
    it.effect(`turns ${name} into UnexpectedResponse${retried ? ", retried" : ""}`, () =>
      Effect.gen(function*() {
        const script = makeScript(reply, reply, reply)
        const error = failureOf(yield* driveToEnd(start(script), "100 millis"))
        expect(error._tag).toBe("UnexpectedResponse")
        expect(error.status).toBe("status" in reply ? reply.status : undefined)
        expect(script.sent).toHaveLength(retried ? 3 : 1)
      }))
  }

  it.effect("says a malformed 201 probably created the run", () =>
    Effect.gen(function*() {
      const error = failureOf(yield* Effect.exit(start(makeScript({ status: 201, body: "oops" }))))
      expect(error.mayHaveCreatedRun).toBe(true)
    }))

  it.effect("refuses a body larger than maxResponseBytes", () =>
    Effect.gen(function*() {
      const script = makeScript({ status: 201, body: "x".repeat(2048) })
      const error = yield* FloraClient.startTechnique(params).pipe(
        Effect.provide(clientLayer(script, { maxResponseBytes: 1024 })),
        Effect.flip
      )
      expect(error._tag).toBe("UnexpectedResponse")
      expect(error.message).toContain("larger than the limit")
    }))
})

describe("transport failures", () => {
  it.effect("retries a reset connection and reports a refused one as ConnectionRefused", () =>
    Effect.gen(function*() {
      const script = makeScript({ network: "ECONNRESET" }, { network: "ECONNREFUSED" }, { network: "ECONNREFUSED" })
      const error = failureOf(yield* driveToEnd(start(script), "100 millis"))
      expect(script.sent).toHaveLength(3)
      expect(error._tag === "TransportError" && error.reason).toBe("ConnectionRefused")
      expect(error.mayHaveCreatedRun).toBe(true)
    }))

  it.effect("a lost response then a duplicate yields IdempotencyDuplicate marked as probably created", () =>
    Effect.gen(function*() {
      const script = makeScript({ network: "ECONNRESET" }, envelope(409, "idempotency_duplicate"))
      const error = failureOf(yield* driveToEnd(start(script), "100 millis"))
      expect(error._tag).toBe("IdempotencyDuplicate")
      expect(error.mayHaveCreatedRun).toBe(true)
      expect(error.attempts).toBe(2)
      expect(error.idempotencyKey).toBe(script.sent[1].headers["idempotency-key"])
      expect(error.message).toContain("probably started the run")
    }))

  it.effect("a duplicate on the first attempt is not blamed on this call", () =>
    Effect.gen(function*() {
      const error = failureOf(yield* Effect.exit(start(makeScript(envelope(409, "idempotency_duplicate")))))
      expect(error._tag === "IdempotencyDuplicate" && error.mayHaveCreatedRun).toBe(false)
    }))

  it.effect("times out an attempt whose body stalls after the headers", () =>
    Effect.gen(function*() {
      const script = makeScript({ stallBody: true, status: 201 }, { stallBody: true, status: 201 }, started())
      const fiber = yield* Effect.fork(start(script, { timeout: "5 seconds" }))
      yield* TestClock.adjust("4999 millis")
      expect(script.sent).toHaveLength(1)
      yield* TestClock.adjust("1 millis")
      yield* TestClock.adjust("700 millis")
      expect(script.sent).toHaveLength(2)
      for (let i = 0; i < 20 && script.sent.length < 3; i++) yield* TestClock.adjust("1 second")
      const run = yield* Fiber.join(fiber)
      expect(run.attempts).toBe(3)
    }))

  it.effect("ends a call whose only attempt hangs at its deadline, saying the run may exist", () =>
    Effect.gen(function*() {
      const script = makeScript({ hang: true })
      const error = failureOf(yield* driveToEnd(start(script, { deadline: "10 seconds", timeout: "1 minute" })))
      expect(error._tag === "TransportError" && error.reason).toBe("DeadlineExceeded")
      expect(error.message).toContain("deadline of 10s")
      expect(error.message).not.toContain("last error")
      expect(error.mayHaveCreatedRun).toBe(true)
      expect(script.sent).toHaveLength(1)
    }))

  it.effect("ends the call at its deadline during a retry wait, naming the error that caused the wait", () =>
    Effect.gen(function*() {
      const script = makeScript(envelope(503, "service_unavailable", "busy", { "retry-after": "50" }), started())
      const fiber = yield* Effect.fork(start(script, { deadline: "10 seconds" }))
      yield* TestClock.adjust("9999 millis")
      expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
      yield* TestClock.adjust("1 millis")
      const error = failureOf(yield* Fiber.await(fiber))
      expect(error._tag === "TransportError" && error.reason).toBe("DeadlineExceeded")
      expect(error.message).toContain("last error: ServerError")
      expect(error.attempts).toBe(1)
      expect(script.sent).toHaveLength(1)
    }))

  it.effect("interrupting during a backoff sends nothing more", () =>
    Effect.gen(function*() {
      const script = makeScript(envelope(503, "x", "x", { "retry-after": "10" }), started())
      const fiber = yield* Effect.fork(start(script))
      yield* TestClock.adjust("5 seconds")
      expect(script.sent).toHaveLength(1)
      yield* Fiber.interrupt(fiber)
      yield* TestClock.adjust("1 minute")
      expect(script.sent).toHaveLength(1)
    }))
})
