import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as FloraClient from "../src/FloraClient.js"
import { baseUrl, clientLayer, envelope, json, makeScript, runSnapshot, type Script } from "./support/scripted.js"

const withScript = (script: Script) => Effect.provide(clientLayer(script))

describe("getRun", () => {
  it.effect("reads a run without an idempotency key, decoding text outputs and missing optional fields", () =>
    Effect.gen(function*() {
      const script = makeScript(runSnapshot("completed", 100, {
        outputs: [{ output_id: "output_1", type: "text", url: "A caption, not a URL." }],
        error_code: null,
        some_future_field: { nested: true }
      }))
      const run = yield* FloraClient.getRun("run_1").pipe(withScript(script))
      expect(run.outputs).toEqual([{ output_id: "output_1", type: "text", url: "A caption, not a URL." }])
      expect(run.error_code).toBeUndefined()
      expect(run.started_at).toBeUndefined()
      expect(script.sent[0].url).toBe(`${baseUrl}/runs/run_1`)
      expect(script.sent[0].method).toBe("GET")
      expect(script.sent[0].headers["idempotency-key"]).toBeUndefined()
    }))

  it.effect("retries a 503 like any request", () =>
    Effect.gen(function*() {
      const script = makeScript(envelope(503, "service_unavailable"), runSnapshot("running", 10))
      const fiber = yield* Effect.fork(FloraClient.getRun("run_1").pipe(withScript(script)))
      yield* TestClock.adjust("1 second")
      const run = yield* Fiber.join(fiber)
      expect(run.progress).toBe(10)
      expect(script.sent).toHaveLength(2)
    }))

  it.effect("reports a 404 as ApiError NotFound, and a 409 on a read never as IdempotencyDuplicate", () =>
    Effect.gen(function*() {
      const notFound = yield* Effect.flip(
        FloraClient.getRun("run_gone").pipe(withScript(makeScript(
          envelope(404, "not_found")
        )))
      )
      expect(notFound._tag === "ApiError" && notFound.kind).toBe("NotFound")
      expect(notFound.mayHaveCreatedRun).toBe(false)
      const conflict = yield* Effect.flip(
        FloraClient.getRun("run_1").pipe(withScript(makeScript(
          envelope(409, "idempotency_duplicate")
        )))
      )
      expect(conflict._tag === "ApiError" && conflict.kind).toBe("OtherStatus")
    }))

  it.effect("escapes the run id in the path", () =>
    Effect.gen(function*() {
      const script = makeScript(runSnapshot("running", 1))
      yield* FloraClient.getRun("run_a/b?c").pipe(withScript(script))
      expect(script.sent[0].url).toBe(`${baseUrl}/runs/run_a%2Fb%3Fc`)
    }))

  it.effect("turns a snapshot of the wrong shape into UnexpectedResponse", () =>
    Effect.gen(function*() {
      const script = makeScript(json(200, { run_id: "run_1", status: "running" }))
      const error = yield* Effect.flip(FloraClient.getRun("run_1").pipe(withScript(script)))
      expect(error._tag).toBe("UnexpectedResponse")
      expect(error.message).toContain("progress")
    }))
})

describe("pollRun with statuses this version does not know", () => {
  it.effect("keeps polling at the normal interval, emitting the unknown status, until the deadline", () =>
    Effect.gen(function*() {
      const script = makeScript(...Array.from({ length: 100 }, () => runSnapshot("queued_for_gpu", 0)))
      const seen: Array<string> = []
      const fiber = yield* FloraClient.pollRun("run_1", {
        initialDelay: "1 second",
        schedule: Schedule.spaced("3 seconds"),
        deadline: "30 seconds"
      }).pipe(
        Stream.runForEach((run) => Effect.sync(() => seen.push(run.status))),
        withScript(script),
        Effect.fork
      )
      yield* TestClock.adjust("31 seconds")
      const exit = yield* Fiber.await(fiber)
      const error = Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : undefined
      expect(error?._tag).toBe("PollTimeout")
      expect(error?._tag === "PollTimeout" && error.lastStatus).toBe("queued_for_gpu")
      expect(seen).toEqual(["queued_for_gpu"])
      // Polls at 1 s, 4 s, 7 s, ... 28 s: ten in all, never a busy loop.
      expect(script.sent).toHaveLength(10)
    }))

  it.effect("ends when the unknown status gives way to a terminal one", () =>
    Effect.gen(function*() {
      const script = makeScript(runSnapshot("warming_up", 0), runSnapshot("completed", 100))
      const fiber = yield* FloraClient.waitForRun("run_1", { initialDelay: 0, schedule: Schedule.spaced("2 seconds") })
        .pipe(withScript(script), Effect.fork)
      yield* TestClock.adjust("2 seconds")
      const run = yield* Fiber.join(fiber)
      expect(run.status).toBe("completed")
      expect(script.sent).toHaveLength(2)
    }))

  it.effect("stops polling when a custom schedule ends, with PollTimeout", () =>
    Effect.gen(function*() {
      const script = makeScript(...Array.from({ length: 10 }, () => runSnapshot("running", 5)))
      const fiber = yield* FloraClient.waitForRun("run_1", {
        initialDelay: 0,
        schedule: Schedule.intersect(Schedule.spaced("1 second"), Schedule.recurs(2))
      }).pipe(withScript(script), Effect.fork)
      yield* TestClock.adjust("10 seconds")
      const error = yield* Effect.flip(Fiber.join(fiber))
      expect(error._tag).toBe("PollTimeout")
      expect(script.sent).toHaveLength(3)
    }))
})
