import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as TestClock from "effect/TestClock"
import * as FloraEmulator from "../../src/testing/FloraEmulator.js"
import * as FloraEmulatorNode from "../../src/testing/node.js"
import { request, send, type SendOptions } from "../support/emulatorHttp.js"

const { Fault } = FloraEmulator

const socket = Layer.merge(FloraEmulatorNode.layer(), FetchHttpClient.layer)

const overSocket = (method: "GET" | "POST", path: string, options: SendOptions = {}) =>
  Effect.flatMap(FloraEmulatorNode.FloraEmulatorServer, ({ baseUrl }) => send(method, path, { ...options, baseUrl }))

const demoBody = { technique_id: "tech_demo", workspace_id: "ws_demo", inputs: { prompt: "a fox" } }

const executeStart = Effect.gen(function*() {
  const { baseUrl } = yield* FloraEmulatorNode.FloraEmulatorServer
  const client = yield* HttpClient.HttpClient
  return yield* client.execute(request("POST", "/runs/technique", { json: demoBody, baseUrl }))
})

const untilSomeoneSleeps = Effect.gen(function*() {
  for (let turn = 0; turn < 10_000; turn++) {
    if (Chunk.isNonEmpty(yield* TestClock.sleeps())) return
    yield* Effect.yieldNow()
  }
  throw new Error("Nothing went to sleep on the TestClock")
})

describe("FloraEmulator on a loopback socket", () => {
  it.scoped("listens on 127.0.0.1 at a random port and answers with poll_urls on itself", () =>
    Effect.gen(function*() {
      const { baseUrl, port } = yield* FloraEmulatorNode.FloraEmulatorServer
      expect(baseUrl).toBe(`http://127.0.0.1:${port}/api/v1`)
      expect(port).toBeGreaterThan(0)
      const started = yield* overSocket("POST", "/runs/technique", { json: demoBody })
      expect(started.status).toBe(201)
      expect(started.json.poll_url).toBe(`${baseUrl}/runs/${started.json.run_id}`)
      expect((yield* overSocket("GET", "/techniques", { apiKey: null })).status).toBe(401)
    }).pipe(Effect.provide(socket)))

  it.scoped("drives runs with the clock of the scope that serves it", () =>
    Effect.gen(function*() {
      const started = yield* overSocket("POST", "/runs/technique", { json: demoBody })
      const path = `/runs/${started.json.run_id}`
      expect((yield* overSocket("GET", path)).json.status).toBe("pending")
      yield* TestClock.adjust("3 seconds")
      expect((yield* overSocket("GET", path)).json.status).toBe("completed")
    }).pipe(Effect.provide(socket)))

  it.scoped("destroys the socket before creating anything for dropBeforeCreate", () =>
    Effect.gen(function*() {
      const emulator = yield* FloraEmulator.FloraEmulator
      yield* emulator.inject({ route: "POST /runs/technique", fault: Fault.dropBeforeCreate })
      const error = yield* Effect.flip(executeStart)
      expect(error).toMatchObject({ _tag: "RequestError", reason: "Transport" })
      expect(yield* emulator.runs).toEqual([])
    }).pipe(Effect.provide(socket)))

  it.scoped("creates and charges the run, then destroys the socket, for dropAfterCreate", () =>
    Effect.gen(function*() {
      const emulator = yield* FloraEmulator.FloraEmulator
      yield* emulator.inject({ route: "POST /runs/technique", fault: Fault.dropAfterCreate })
      const error = yield* Effect.flip(executeStart)
      expect(error).toMatchObject({ _tag: "RequestError", reason: "Transport" })
      expect(yield* emulator.runs).toHaveLength(1)
      expect(yield* emulator.credits("ws_demo")).toBe(999.75)
    }).pipe(Effect.provide(socket)))

  it.scoped("resets the connection with a TCP RST", () =>
    Effect.gen(function*() {
      const emulator = yield* FloraEmulator.FloraEmulator
      yield* emulator.inject({ route: "*", fault: Fault.reset })
      const error = yield* Effect.flip(executeStart)
      expect(error).toMatchObject({ _tag: "RequestError", reason: "Transport" })
      expect(JSON.stringify(error.cause, Object.getOwnPropertyNames(error.cause))).toContain("ECONNRESET")
    }).pipe(Effect.provide(socket)))

  it.scoped("sends the status and headers of a stalled answer, then half a body that never ends", () =>
    Effect.gen(function*() {
      const emulator = yield* FloraEmulator.FloraEmulator
      yield* emulator.inject({ route: "POST /runs/technique", fault: Fault.stallBody })
      const response = yield* executeStart
      expect(response.status).toBe(201)
      expect(response.headers["request-id"]).toMatch(/^req_/)
      const reading = yield* Effect.fork(Effect.timeout(response.text, "10 seconds"))
      yield* untilSomeoneSleeps
      yield* TestClock.adjust("10 seconds")
      expect(yield* Effect.flip(reading.await.pipe(Effect.flatten))).toMatchObject({ _tag: "TimeoutException" })
    }).pipe(Effect.provide(socket)))

  it.scoped("answers injected responses over the wire", () =>
    Effect.gen(function*() {
      const emulator = yield* FloraEmulator.FloraEmulator
      yield* emulator.inject({ route: "GET /techniques", fault: Fault.html(502) })
      const reply = yield* overSocket("GET", "/techniques", { conform: false })
      expect(reply.status).toBe(502)
      expect(reply.text).toContain("<h1>502</h1>")
      expect((yield* emulator.requests)[0]).toMatchObject({ route: "GET /techniques", fault: "Respond" })
    }).pipe(Effect.provide(socket)))
})
