/**
 * Bad input in both directions: params the client must refuse before sending a byte, large inputs it must
 * send faithfully, and response bodies it must survive. Property-based tests print their seed; replay one
 * with `FLORA_CAMPAIGN_SEED`.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as fc from "fast-check"
import * as Http from "node:http"
import * as FloraClient from "../../src/FloraClient.js"
import type * as Run from "../../src/Run.js"
import * as FloraEmulator from "../../src/testing/FloraEmulator.js"
import * as EmulatorServer from "../../src/testing/node.js"
import { seedFromEnv } from "./campaign.js"

const valid = { technique_id: "tech_demo", workspace_id: "ws_demo", inputs: { prompt: "a kite" } }

const start = (params: unknown, options?: FloraClient.StartOptions) =>
  FloraClient.startTechnique(params as Run.StartTechniqueParams, options)

/** Runs a fast-check property whose body is an Effect, with a printed seed. */
const property = <A>(
  name: string,
  arbitrary: fc.Arbitrary<A>,
  body: (a: A) => Effect.Effect<void, unknown>,
  numRuns = 200
) =>
  Effect.promise(() => {
    const seed = seedFromEnv()
    console.log(`${name}: seed=${seed}`)
    return fc.assert(fc.asyncProperty(arbitrary, (a) => Effect.runPromise(body(a))), { seed, numRuns })
  })

const isValidId = (prefix: string) => (u: unknown) =>
  typeof u === "string" && u.startsWith(prefix) && u.length > prefix.length && !/\s/.test(u)

const notAnId = (prefix: string) =>
  fc.oneof(fc.string(), fc.constant(prefix), fc.constant(`${prefix}a b`), fc.integer(), fc.constant(null)).filter(
    (u) => !isValidId(prefix)(u)
  )

const notInputs = fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.array(fc.jsonValue()), fc.boolean())

/** Params with at least one field that fails the schema. */
const invalidParams = fc.record({
  technique_id: fc.oneof(fc.constant("tech_demo"), notAnId("tech_")),
  workspace_id: fc.oneof(fc.constant("ws_demo"), notAnId("ws_")),
  inputs: fc.oneof(fc.constant({}), notInputs)
}).filter((p) => !isValidId("tech_")(p.technique_id) || !isValidId("ws_")(p.workspace_id) || !("length" in {}))
  .filter((p) =>
    !isValidId("tech_")(p.technique_id) || !isValidId("ws_")(p.workspace_id) ||
    typeof p.inputs !== "object" || p.inputs === null || Array.isArray(p.inputs)
  )

/** Caller idempotency keys that are not 1 to 255 printable ASCII characters. */
const invalidKey = fc.oneof(
  fc.constant(""),
  fc.string({ minLength: 256, maxLength: 400 }),
  fc.string({ minLength: 1, maxLength: 20 }).map((s) => `${s}\u00e9`),
  fc.string({ minLength: 0, maxLength: 20 }).map((s) => `${s}\n`)
)

const refusedBeforeSending = (params: unknown, options?: FloraClient.StartOptions) =>
  Effect.gen(function*() {
    const emulator = yield* FloraEmulator.FloraEmulator
    const error = yield* Effect.flip(start(params, options))
    expect(error._tag).toBe("ValidationError")
    expect(error._tag === "ValidationError" && error.origin).toBe("client")
    expect(error.attempts).toBe(0)
    expect(error.mayHaveCreatedRun).toBe(false)
    expect(yield* emulator.requests).toHaveLength(0)
    return error
  }).pipe(Effect.provide(FloraEmulator.layerFloraClient()))

describe("params that fail the schema", () => {
  it.effect("never reach the server, whatever they are", () =>
    property("invalid params", invalidParams, (params) => Effect.asVoid(refusedBeforeSending(params))))

  it.effect("an invalid caller idempotency key never reaches the server", () =>
    property("invalid keys", invalidKey, (key) => Effect.asVoid(refusedBeforeSending(valid, { idempotencyKey: key }))))

  const altered: ReadonlyArray<[string, unknown, string]> = [
    ["a Date, which JSON would send as a string", new Date(0), "inputs"],
    ["a nested Date, which JSON would send as a string", { when: new Date(0) }, "inputs.when"],
    ["a Map, which JSON would send as {}", { tags: new Map([["a", 1]]) }, "inputs.tags"],
    ["a class instance", {
      point: new (class Point {
        x = 1
      })()
    }, "inputs.point"],
    ["an own __proto__ key, which would be dropped", JSON.parse("{\"__proto__\": {\"x\": 1}}"), "inputs.__proto__"]
  ]
  for (const [name, inputs, path] of altered) {
    it.effect(`refuses inputs with ${name}, instead of sending them altered`, () =>
      Effect.gen(function*() {
        const error = yield* refusedBeforeSending({ ...valid, inputs })
        expect(error._tag === "ValidationError" && error.issues.map((issue) => issue.path)).toContain(path)
      }))
  }

  it.effect("refuses inputs that refer to themselves with a ValidationError, not a stack overflow", () =>
    Effect.gen(function*() {
      const inputs: Record<string, unknown> = { prompt: "loop" }
      inputs["self"] = { again: inputs }
      const error = yield* refusedBeforeSending({ ...valid, inputs })
      expect(error._tag === "ValidationError" && error.issues.map((issue) => issue.path)).toEqual(["inputs.self.again"])
    }))
})

const withoutProtoKey = (value: unknown): boolean => !JSON.stringify(value).includes("\"__proto__\"")

describe("inputs that pass the schema", () => {
  it.effect("arrive at the server exactly as given, for any JSON inputs", () =>
    // An own `__proto__` key is refused by design (see above), so it is left out of "inputs that pass".
    property("faithful inputs", fc.dictionary(fc.string(), fc.jsonValue()).filter(withoutProtoKey), (extra) =>
      Effect.gen(function*() {
        const emulator = yield* FloraEmulator.FloraEmulator
        const inputs = { ...extra, prompt: "a kite" }
        yield* Effect.either(start({ ...valid, inputs }))
        const [received] = yield* emulator.requests
        expect(received.body).toBe(JSON.stringify({ ...valid, inputs }))
      }).pipe(Effect.provide(FloraEmulator.layerFloraClient())), 100))

  it.live("5 MB of inputs are sent byte for byte over a real socket", () =>
    Effect.gen(function*() {
      const emulator = yield* FloraEmulator.FloraEmulator
      const server = yield* EmulatorServer.FloraEmulatorServer
      const big = "é🙂x".repeat(800_000)
      const inputs = { prompt: big, list: Array.from({ length: 1000 }, (_, i) => `item ${i}`) }
      const client = FloraClient.layer({
        apiKey: Redacted.make(FloraEmulator.defaultApiKey),
        baseUrl: server.baseUrl,
        timeout: "20 seconds"
      }).pipe(Layer.orDie, Layer.provide(FetchHttpClient.layer))
      const started = yield* Effect.provide(start({ ...valid, inputs }), client)
      const [received] = yield* emulator.requests
      const sent = JSON.stringify({ ...valid, inputs })
      expect(Buffer.byteLength(sent)).toBeGreaterThan(5_000_000)
      expect(received.body).toBe(sent)
      const [run] = yield* emulator.runs
      expect(run.runId).toBe(started.run_id)
      expect(run.inputs).toEqual(inputs)
    }).pipe(Effect.provide(Layer.orDie(EmulatorServer.layer()))), 30_000)
})

/** `startTechnique` answered by one scripted response. */
const answeredStart = (fault: FloraEmulator.Fault) =>
  Effect.gen(function*() {
    const emulator = yield* FloraEmulator.FloraEmulator
    yield* emulator.inject({ route: "POST /runs/technique", fault })
    return yield* Effect.exit(start(valid, { retry: Schedule.stop }))
  }).pipe(Effect.provide(FloraEmulator.layerFloraClient()))

/** `getRun` answered by one scripted response. */
const answeredRun = (fault: FloraEmulator.Fault) =>
  Effect.gen(function*() {
    const emulator = yield* FloraEmulator.FloraEmulator
    yield* emulator.inject({ route: "GET /runs/{runId}", fault })
    return yield* Effect.exit(FloraClient.getRun("run_abc", { retry: Schedule.stop }))
  }).pipe(Effect.provide(FloraEmulator.layerFloraClient()))

const json = (status: number, body: unknown) => FloraEmulator.Fault.respond({ status, json: body })

const startBody = { run_id: "run_abc", type: "technique", estimated_seconds: 3, charged_cost: 0.25 }
const runBody = { run_id: "run_abc", status: "running", progress: 40, created_at: 1 }

describe("response bodies", () => {
  it.effect("extra fields are ignored", () =>
    Effect.gen(function*() {
      const exit = yield* answeredStart(json(201, { ...startBody, brand_new: { a: 1 } }))
      expect(Exit.isSuccess(exit) && exit.value.run_id).toBe("run_abc")
      const run = yield* answeredRun(json(200, { ...runBody, queue_position: 3 }))
      expect(Exit.isSuccess(run) && "queue_position" in run.value).toBe(false)
    }))

  it.effect("null on every optional field reads as absent", () =>
    Effect.gen(function*() {
      const nulls = { poll_url: null, project_id: null, model: null, technique: null, action: null }
      const exit = yield* answeredStart(json(201, { ...startBody, estimated_seconds: null, ...nulls }))
      expect(Exit.isSuccess(exit) && [exit.value.estimated_seconds, exit.value.poll_url]).toEqual([
        undefined,
        undefined
      ])
      const optional = ["started_at", "completed_at", "charged_cost", "error_code", "error_message", "outputs"]
      const run = yield* answeredRun(
        json(200, { ...runBody, ...Object.fromEntries(optional.map((key) => [key, null])) })
      )
      expect(Exit.isSuccess(run) && optional.filter((key) => key in run.value)).toEqual([])
    }))

  it.effect("unknown enum values decode as plain strings", () =>
    Effect.gen(function*() {
      const exit = yield* answeredStart(json(201, { ...startBody, type: "workflow" }))
      expect(Exit.isSuccess(exit) && exit.value.type).toBe("workflow")
      const outputs = [{ output_id: "output_1", type: "hologramUrl", url: "https://x" }]
      const run = yield* answeredRun(json(200, { ...runBody, status: "archived", outputs }))
      expect(Exit.isSuccess(run) && [run.value.status, run.value.outputs?.[0].type]).toEqual([
        "archived",
        "hologramUrl"
      ])
    }))

  const wrong: ReadonlyArray<[string, FloraEmulator.Fault]> = [
    ["a top-level array", json(201, [startBody])],
    ["a run id of the wrong type", json(201, { ...startBody, run_id: 12345 })],
    ["a cost of the wrong type", json(201, { ...startBody, charged_cost: "0.25" })],
    ["JSON null", FloraEmulator.Fault.respond({ status: 201, body: "null" })],
    ["an empty body", FloraEmulator.Fault.respond({ status: 201 })],
    ["malformed JSON", FloraEmulator.Fault.respond({ status: 201, body: "{\"run_id\": " })]
  ]
  for (const [name, fault] of wrong) {
    it.effect(`a 201 with ${name} fails with UnexpectedResponse saying the run may exist`, () =>
      Effect.gen(function*() {
        const exit = yield* answeredStart(fault)
        const error = Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : undefined
        expect(error?._tag).toBe("UnexpectedResponse")
        expect(error?.mayHaveCreatedRun).toBe(true)
        expect(error?.status).toBe(201)
      }))
  }

  it.effect("a run snapshot that is a top-level array fails with UnexpectedResponse", () =>
    Effect.gen(function*() {
      const exit = yield* answeredRun(json(200, [runBody]))
      expect(Exit.isFailure(exit) && exit.cause._tag === "Fail" && exit.cause.error._tag).toBe("UnexpectedResponse")
    }))
})

/** A loopback server that answers every request with `status` and a 50 MB body, declared or chunked. */
const hugeBodyServer = (status: number, declared: boolean) =>
  Effect.acquireRelease(
    Effect.async<{ readonly server: Http.Server; readonly baseUrl: string; readonly written: () => number }>(
      (resume) => {
        let written = 0
        const chunk = Buffer.alloc(1024 * 1024, "a")
        const server = Http.createServer((_request, response) => {
          response.writeHead(status, {
            "content-type": "application/json",
            ...(declared ? { "content-length": String(50 * chunk.length) } : {})
          })
          const pump = () => {
            while (written < 50 * chunk.length) {
              written += chunk.length
              if (!response.write(chunk)) return response.once("drain", pump)
            }
            response.end()
          }
          response.on("error", () => {})
          pump()
        })
        server.listen(0, "127.0.0.1", () => {
          const address = server.address()
          const port = typeof address === "object" && address !== null ? address.port : 0
          resume(Effect.succeed({ server, baseUrl: `http://127.0.0.1:${port}/api/v1`, written: () => written }))
        })
      }
    ),
    ({ server }) =>
      Effect.sync(() => server.closeAllConnections()).pipe(Effect.andThen(Effect.sync(() => server.close())))
  )

describe("a 50 MB response body", () => {
  for (const declared of [true, false]) {
    it.live(
      `fails with UnexpectedResponse at the 8 MiB limit (${declared ? "declared" : "chunked"})`,
      () =>
        Effect.gen(function*() {
          const { baseUrl, written } = yield* hugeBodyServer(201, declared)
          const client = FloraClient.layer({
            apiKey: Redacted.make("sk_test_huge"),
            baseUrl,
            timeout: "20 seconds",
            retry: Schedule.stop
          }).pipe(Layer.orDie, Layer.provide(FetchHttpClient.layer))
          const error = yield* Effect.flip(Effect.provide(start(valid), client))
          expect(error._tag).toBe("UnexpectedResponse")
          expect(error.message).toContain("larger than the limit of 8388608")
          expect(error.mayHaveCreatedRun).toBe(true)
          // The client stopped reading long before the end of the body.
          expect(written()).toBeLessThan(50 * 1024 * 1024)
        }).pipe(Effect.scoped),
      30_000
    )
  }
})

describe("an empty 2xx over a real socket", () => {
  it.live("a 204 answer to a start fails once with UnexpectedResponse, not as a broken connection", () =>
    Effect.gen(function*() {
      const emulator = yield* FloraEmulator.FloraEmulator
      const server = yield* EmulatorServer.FloraEmulatorServer
      yield* emulator.inject({ route: "POST /runs/technique", fault: FloraEmulator.Fault.respond({ status: 204 }) })
      const client = FloraClient.layer({
        apiKey: Redacted.make(FloraEmulator.defaultApiKey),
        baseUrl: server.baseUrl,
        retry: Schedule.spaced("10 millis")
      }).pipe(Layer.orDie, Layer.provide(FetchHttpClient.layer))
      const error = yield* Effect.flip(Effect.provide(start(valid), client))
      expect(error._tag).toBe("UnexpectedResponse")
      expect(error.status).toBe(204)
      expect(error.mayHaveCreatedRun).toBe(true)
      expect(yield* emulator.requests).toHaveLength(1)
    }).pipe(Effect.provide(Layer.orDie(EmulatorServer.layer()))))
})
