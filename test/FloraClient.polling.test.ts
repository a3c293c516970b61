import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as FloraClient from "../src/FloraClient.js"
import type * as Run from "../src/Run.js"
import * as FloraEmulator from "../src/testing/FloraEmulator.js"

/** A technique that is pending for 1 s, then running for 4 s: it ends 5 s after it starts. */
const fiveSeconds: FloraEmulator.Technique = {
  id: "tech_five",
  name: "Five seconds",
  runCost: 0.5,
  inputs: [],
  queue: "1 second",
  duration: "4 seconds",
  outcome: { status: "completed", outputs: [{ type: "imageUrl" }] }
}

const stuck: FloraEmulator.Technique = { ...fiveSeconds, id: "tech_stuck", duration: "1000 days" }

const failing: FloraEmulator.Technique = {
  ...fiveSeconds,
  id: "tech_failing",
  outcome: { status: "failed", errorCode: "safety_blocked", errorMessage: "The prompt was blocked." }
}

const emulated = (options?: FloraEmulator.Options) =>
  FloraEmulator.layerFloraClient({ techniques: [fiveSeconds, stuck, failing], ...options })

const params = (technique_id: string) => ({ technique_id, workspace_id: "ws_demo", inputs: {} })

/** Polls at 2 s, 4 s, 6 s, ... after the start. */
const everyTwoSeconds = { initialDelay: "2 seconds", schedule: Schedule.spaced("2 seconds") } as const

const pollGets = Effect.map(
  FloraEmulator.FloraEmulator,
  (emulator) => Effect.map(emulator.requests, (requests) => requests.filter((r) => r.method === "GET").length)
).pipe(Effect.flatten)

/** Forks `effect`, then moves the clock by `step` until it ends (at most `steps` times). */
const drive = <A, E, R>(effect: Effect.Effect<A, E, R>, step: Duration.DurationInput = "1 second", steps = 2000) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(effect)
    for (let i = 0; i < steps && (yield* Fiber.poll(fiber))._tag === "None"; i++) yield* TestClock.adjust(step)
    return yield* Fiber.await(fiber)
  })

describe("pollRun", () => {
  it.effect("emits each changed snapshot and ends after the terminal one, with one GET per poll", () =>
    Effect.gen(function*() {
      const started = yield* FloraClient.startTechnique(params("tech_five"))
      const exit = yield* drive(Stream.runCollect(FloraClient.pollRun(started, everyTwoSeconds)))
      const snapshots = Chunk.toReadonlyArray(Exit.getOrElse(exit, () => Chunk.empty<Run.Run>()))
      expect(snapshots.map((run) => [run.status, run.progress])).toEqual([
        ["running", 25],
        ["running", 75],
        ["completed", 100]
      ])
      expect(yield* pollGets).toBe(3)
      expect(snapshots[2].outputs).toHaveLength(1)
    }).pipe(Effect.provide(emulated())))

  it.effect("sends no request before the first poll's delay", () =>
    Effect.gen(function*() {
      const started = yield* FloraClient.startTechnique(params("tech_five"))
      const fiber = yield* Effect.fork(Stream.runDrain(FloraClient.pollRun(started, everyTwoSeconds)))
      yield* TestClock.adjust("1999 millis")
      expect(yield* pollGets).toBe(0)
      yield* TestClock.adjust("1 millis")
      expect(yield* pollGets).toBe(1)
      yield* Fiber.interrupt(fiber)
    }).pipe(Effect.provide(emulated())))

  it.effect("takes a run id as well as a started run", () =>
    Effect.gen(function*() {
      const started = yield* FloraClient.startTechnique(params("tech_five"))
      const exit = yield* drive(FloraClient.waitForRun(started.run_id, everyTwoSeconds))
      expect(Exit.map(exit, (run) => run.status)).toEqual(Exit.succeed("completed"))
    }).pipe(Effect.provide(emulated())))

  it.effect("polls first after the run's estimate, then every 2 to 5 seconds by default", () =>
    Effect.gen(function*() {
      const started = yield* FloraClient.startTechnique(params("tech_stuck"))
      const fiber = yield* Effect.fork(Stream.runDrain(FloraClient.pollRun({ ...started, estimated_seconds: 3 })))
      const times: Array<number> = []
      let seen = 0
      for (let t = 0; t <= 40_000; t += 100) {
        const gets = yield* pollGets
        if (gets > seen) {
          times.push(t)
          seen = gets
        }
        yield* TestClock.adjust("100 millis")
      }
      yield* Fiber.interrupt(fiber)
      expect(times[0]).toBe(3000)
      const gaps = times.slice(1).map((t, i) => t - times[i])
      expect(gaps.every((gap) => gap >= 2000 && gap <= 5000)).toBe(true)
      expect(gaps.at(-1)).toBe(5000)
    }).pipe(Effect.provide(emulated())))

  it.effect("ends stuck runs with PollTimeout at the deadline, with a bounded request count", () =>
    Effect.gen(function*() {
      const started = yield* FloraClient.startTechnique(params("tech_stuck"))
      const exit = yield* drive(FloraClient.waitForRun(started, { ...everyTwoSeconds, deadline: "1 minute" }))
      const error = Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : undefined
      expect(error?._tag).toBe("PollTimeout")
      if (error?._tag !== "PollTimeout") return
      expect(error.runId).toBe(started.run_id)
      expect(error.lastStatus).toBe("running")
      expect(error.idempotencyKey).toBe(started.idempotencyKey)
      expect(error.polls).toBe(30)
      expect(yield* pollGets).toBe(30)
    }).pipe(Effect.provide(emulated())))

  it.effect("honours a Retry-After on 429 mid-poll without ending the stream", () =>
    Effect.gen(function*() {
      const emulator = yield* FloraEmulator.FloraEmulator
      const started = yield* FloraClient.startTechnique(params("tech_five"))
      yield* emulator.inject({
        route: "GET /runs/{runId}",
        fault: FloraEmulator.Fault.error({ status: 429, code: "rate_limited", headers: { "retry-after": "9" } })
      })
      const fiber = yield* Effect.fork(FloraClient.waitForRun(started, everyTwoSeconds))
      yield* TestClock.adjust("2 seconds")
      expect(yield* pollGets).toBe(1)
      yield* TestClock.adjust("8999 millis")
      expect(yield* pollGets).toBe(1)
      yield* TestClock.adjust("1 millis")
      expect(yield* pollGets).toBe(2)
      const run = yield* Fiber.join(fiber)
      expect(run.status).toBe("completed")
    }).pipe(Effect.provide(emulated())))

  it.effect("keeps polling through transient failures", () =>
    Effect.gen(function*() {
      const emulator = yield* FloraEmulator.FloraEmulator
      const started = yield* FloraClient.startTechnique(params("tech_five"))
      yield* emulator.inject({ route: "GET /runs/{runId}", fault: FloraEmulator.Fault.html(502) })
      yield* emulator.inject({ route: "GET /runs/{runId}", fault: FloraEmulator.Fault.reset })
      const exit = yield* drive(FloraClient.waitForRun(started, everyTwoSeconds))
      expect(Exit.map(exit, (run) => run.status)).toEqual(Exit.succeed("completed"))
      expect(yield* pollGets).toBe(3)
    }).pipe(Effect.provide(emulated())))

  it.effect("fails with a typed NotFound on a 404 mid-poll", () =>
    Effect.gen(function*() {
      const emulator = yield* FloraEmulator.FloraEmulator
      const started = yield* FloraClient.startTechnique(params("tech_five"))
      yield* emulator.inject({
        route: "GET /runs/{runId}",
        fault: FloraEmulator.Fault.error({ status: 404, code: "not_found" })
      })
      const exit = yield* drive(FloraClient.waitForRun(started, everyTwoSeconds))
      const error = Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : undefined
      expect(error?._tag === "ApiError" && error.kind).toBe("NotFound")
      expect(yield* pollGets).toBe(1)
    }).pipe(Effect.provide(emulated())))

  it.effect("never requests a poll_url on another origin, and polls the base URL instead", () =>
    Effect.gen(function*() {
      const started = yield* FloraClient.startTechnique(params("tech_five"))
      const foreign = { ...started, poll_url: `https://evil.example/api/v1/runs/${started.run_id}` }
      const exit = yield* drive(FloraClient.waitForRun(foreign, everyTwoSeconds))
      expect(Exit.isSuccess(exit)).toBe(true)
      const emulator = yield* FloraEmulator.FloraEmulator
      const gets = (yield* emulator.requests).filter((r) => r.method === "GET")
      expect(gets.map((r) => r.path)).toEqual(Array(3).fill(`/api/v1/runs/${started.run_id}`))
    }).pipe(Effect.provide(emulated())))

  it.effect("an interrupted poll sends no further request", () =>
    Effect.gen(function*() {
      const started = yield* FloraClient.startTechnique(params("tech_stuck"))
      const fiber = yield* Effect.fork(Stream.runDrain(FloraClient.pollRun(started, everyTwoSeconds)))
      yield* TestClock.adjust("4 seconds")
      expect(yield* pollGets).toBe(2)
      yield* Fiber.interrupt(fiber)
      yield* TestClock.adjust("1 hour")
      expect(yield* pollGets).toBe(2)
    }).pipe(Effect.provide(emulated())))

  it.effect("refuses a malformed run id before sending anything", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(FloraClient.getRun("abc"))
      expect(error._tag === "ValidationError" && error.origin).toBe("client")
      expect(yield* pollGets).toBe(0)
    }).pipe(Effect.provide(emulated())))
})

describe("waitForRun and runTechnique", () => {
  it.effect("waitForRun fails with RunFailed carrying the run's error code and message", () =>
    Effect.gen(function*() {
      const started = yield* FloraClient.startTechnique(params("tech_failing"))
      const exit = yield* drive(FloraClient.waitForRun(started, everyTwoSeconds))
      const error = Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : undefined
      expect(error?._tag).toBe("RunFailed")
      if (error?._tag !== "RunFailed") return
      expect(error.runId).toBe(started.run_id)
      expect(error.errorCode).toBe("safety_blocked")
      expect(error.errorMessage).toBe("The prompt was blocked.")
      expect(error.chargedCost).toBe(0.5)
      expect(error.idempotencyKey).toBe(started.idempotencyKey)
    }).pipe(Effect.provide(emulated())))

  it.effect("runTechnique starts and waits in one call, reporting progress", () =>
    Effect.gen(function*() {
      const seen: Array<string> = []
      const exit = yield* drive(FloraClient.runTechnique(params("tech_five"), {
        poll: everyTwoSeconds,
        onProgress: (run) => Effect.sync(() => seen.push(`${run.status}:${run.progress}`))
      }))
      expect(Exit.isSuccess(exit)).toBe(true)
      if (Exit.isFailure(exit)) return
      const { run, started } = exit.value
      expect(run.run_id).toBe(started.run_id)
      expect(run.status).toBe("completed")
      expect(seen).toEqual(["running:25", "running:75", "completed:100"])
      const emulator = yield* FloraEmulator.FloraEmulator
      expect(yield* emulator.runs).toHaveLength(1)
    }).pipe(Effect.provide(emulated())))

  it.effect("with an instant emulator and no first delay, runTechnique ends without moving the clock", () =>
    Effect.gen(function*() {
      const { run } = yield* FloraClient.runTechnique(params("tech_five"), { poll: { initialDelay: 0 } })
      expect(run.status).toBe("completed")
    }).pipe(Effect.provide(emulated({ instant: true }))))

  it.effect(
    "500 runs started and awaited with bounded concurrency all complete, with linear request counts",
    () =>
      Effect.gen(function*() {
        const exit = yield* drive(
          Effect.forEach(
            Array.from({ length: 500 }, (_, i) => i),
            () => FloraClient.runTechnique(params("tech_five"), { poll: everyTwoSeconds }),
            { concurrency: 50 }
          ),
          "1 second",
          500
        )
        expect(Exit.isSuccess(exit)).toBe(true)
        const emulator = yield* FloraEmulator.FloraEmulator
        const requests = yield* emulator.requests
        expect((yield* emulator.runs).length).toBe(500)
        expect(requests.filter((r) => r.method === "POST")).toHaveLength(500)
        expect(requests.filter((r) => r.method === "GET")).toHaveLength(1500)
      }).pipe(Effect.provide(emulated())),
    60_000
  )
})
