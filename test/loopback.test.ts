/**
 * The client against the emulator on a real loopback socket, through both production transports: the
 * platform's `fetch` client and the undici client of `@effect/platform-node`. These tests run on real time
 * with short timeouts; the timing logic itself is tested with `TestClock` elsewhere.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import type * as HttpClient from "@effect/platform/HttpClient"
import { describe, expect, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Http from "node:http"
import * as Net from "node:net"
import * as FloraClient from "../src/FloraClient.js"
import type * as FloraConfig from "../src/FloraConfig.js"
import * as FloraEmulator from "../src/testing/FloraEmulator.js"
import * as EmulatorServer from "../src/testing/node.js"

const quickRetries: Partial<FloraConfig.Options> = {
  retry: Schedule.intersect(Schedule.spaced("10 millis"), Schedule.recurs(2)),
  timeout: "2 seconds"
}

const transports: ReadonlyArray<[string, Layer.Layer<HttpClient.HttpClient>]> = [
  ["fetch", FetchHttpClient.layer],
  ["undici", NodeHttpClient.layerUndici]
]

const onLoopback = (transport: Layer.Layer<HttpClient.HttpClient>, options?: FloraEmulator.Options) =>
  EmulatorServer.layerFloraClient({ ...options, client: quickRetries }).pipe(Layer.orDie, Layer.provide(transport))

const params = { technique_id: "tech_demo_instant", workspace_id: "ws_demo", inputs: {} }

const inject = (fault: FloraEmulator.Fault, times = 1) =>
  Effect.flatMap(
    FloraEmulator.FloraEmulator,
    (emulator) => emulator.inject({ route: "POST /runs/technique", fault, times })
  )

const recorded = Effect.flatMap(
  FloraEmulator.FloraEmulator,
  (emulator) => Effect.all({ requests: emulator.requests, runs: emulator.runs })
)

for (const [name, transport] of transports) {
  describe(`over loopback with the ${name} client`, () => {
    it.live("runs a technique to completion", () =>
      Effect.gen(function*() {
        const { run, started } = yield* FloraClient.runTechnique(params, { poll: { initialDelay: 0 } })
        expect(run.status).toBe("completed")
        expect(run.outputs?.[0].type).toBe("imageUrl")
        expect(started.requestId).toMatch(/^req_/)
      }).pipe(Effect.provide(onLoopback(transport))))

    it.live("sends the same idempotency key on every attempt, as the server records it", () =>
      Effect.gen(function*() {
        yield* inject(FloraEmulator.Fault.error({ status: 503, code: "service_unavailable" }), 2)
        const started = yield* FloraClient.startTechnique(params)
        const { requests, runs } = yield* recorded
        expect(requests.map((r) => r.headers["idempotency-key"])).toEqual(Array(3).fill(started.idempotencyKey))
        expect(runs).toHaveLength(1)
        expect(started.attempts).toBe(3)
      }).pipe(Effect.provide(onLoopback(transport))))

    it.live("a lost response followed by a retry yields IdempotencyDuplicate, and never a second run", () =>
      Effect.gen(function*() {
        yield* inject(FloraEmulator.Fault.dropAfterCreate)
        const error = yield* Effect.flip(FloraClient.startTechnique(params))
        expect(error._tag).toBe("IdempotencyDuplicate")
        expect(error.mayHaveCreatedRun).toBe(true)
        expect(error.attempts).toBe(2)
        const { runs } = yield* recorded
        expect(runs).toHaveLength(1)
        expect(runs[0].idempotencyKey).toBe(error.idempotencyKey)
      }).pipe(Effect.provide(onLoopback(transport))))

    it.live("with a server that replays, a lost response followed by a retry returns the one run", () =>
      Effect.gen(function*() {
        yield* inject(FloraEmulator.Fault.dropAfterCreate)
        const started = yield* FloraClient.startTechnique(params)
        const { runs } = yield* recorded
        expect(runs.map((run) => run.runId)).toEqual([started.run_id])
        expect(started.replayed).toBe(true)
      }).pipe(Effect.provide(onLoopback(transport, { idempotency: "replay" }))))

    it.live("retries a reset connection with the same key", () =>
      Effect.gen(function*() {
        yield* inject(FloraEmulator.Fault.reset)
        const started = yield* FloraClient.startTechnique(params)
        expect(started.attempts).toBe(2)
        const { runs } = yield* recorded
        expect(runs).toHaveLength(1)
      }).pipe(Effect.provide(onLoopback(transport))))

    it.live("times out a body that stalls after the headers, then retries", () =>
      Effect.gen(function*() {
        yield* inject(FloraEmulator.Fault.stallBody)
        const started = yield* FloraClient.startTechnique(params, { timeout: "300 millis" })
        expect(started.attempts).toBe(2)
        // The stalled attempt created the run; the retry got it back as a replay, and no second one exists.
        expect(started.replayed).toBe(true)
        const { runs } = yield* recorded
        expect(runs.map((run) => run.runId)).toEqual([started.run_id])
      }).pipe(
        Effect.provide(onLoopback(transport, { idempotency: "replay" }))
      ))

    it.live("reports a refused connection as ConnectionRefused, with nothing created", () =>
      Effect.gen(function*() {
        const port = yield* closedPort
        const layer = FloraClient.layer({
          apiKey: Redacted.make("sk_test_emulator"),
          baseUrl: `http://127.0.0.1:${port}/api/v1`,
          ...quickRetries
        }).pipe(Layer.orDie, Layer.provide(transport))
        const error = yield* Effect.flip(Effect.provide(FloraClient.startTechnique(params), layer))
        expect(error._tag === "TransportError" && error.reason).toBe("ConnectionRefused")
        expect(error.mayHaveCreatedRun).toBe(false)
        expect(error.attempts).toBe(3)
      }))
  })
}

/**
 * A loopback server that never answers, and reports when the client goes away: a `Deferred` completed
 * when the request arrives, and one completed when its connection closes.
 */
const silentServer = Effect.acquireRelease(
  Effect.gen(function*() {
    const arrived = yield* Deferred.make<void>()
    const closed = yield* Deferred.make<void>()
    const server = Http.createServer((request) => {
      Deferred.unsafeDone(arrived, Exit.void)
      request.socket.on("close", () => Deferred.unsafeDone(closed, Exit.void))
    })
    yield* Effect.async<void>((resume) => {
      server.listen(0, "127.0.0.1", () => resume(Effect.void))
    })
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    return { server, port, arrived, closed }
  }),
  ({ server }) =>
    Effect.sync(() => server.closeAllConnections()).pipe(Effect.andThen(Effect.sync(() => server.close())))
)

describe("interruption over loopback", () => {
  for (const [name, transport] of transports) {
    it.scopedLive(`with the ${name} client, interrupting the fiber aborts the request in flight`, () =>
      Effect.gen(function*() {
        const { arrived, closed, port } = yield* silentServer
        const layer = FloraClient.layer({
          apiKey: Redacted.make("sk_test_emulator"),
          baseUrl: `http://127.0.0.1:${port}/api/v1`
        }).pipe(Layer.orDie, Layer.provide(transport))
        const fiber = yield* Effect.fork(Effect.provide(FloraClient.startTechnique(params), layer))
        yield* Deferred.await(arrived)
        yield* Fiber.interrupt(fiber)
        const aborted = yield* Deferred.await(closed).pipe(Effect.timeout("5 seconds"), Effect.option)
        expect(aborted._tag).toBe("Some")
      }))
  }
})

/** A loopback port with nothing listening on it. */
const closedPort = Effect.async<number>((resume) => {
  const server = Net.createServer()
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})
