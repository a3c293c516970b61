import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/TestClock"
import * as FloraEmulator from "../../src/testing/FloraEmulator.js"
import { send, startDemoRun } from "../support/emulatorHttp.js"

const other = { apiKey: "sk_test_other", workspaceId: "ws_other", credits: 5 }
const twoAccounts = FloraEmulator.layer({
  accounts: [{ apiKey: FloraEmulator.defaultApiKey, workspaceId: "ws_demo", credits: 1000 }, other]
})

const startBody = (overrides: Record<string, unknown> = {}) => ({
  technique_id: "tech_demo",
  workspace_id: "ws_demo",
  inputs: { prompt: "a fox" },
  ...overrides
})

describe("FloraEmulator", () => {
  describe("authentication", () => {
    it.effect("answers 401 unauthorized without an Authorization header", () =>
      Effect.gen(function*() {
        const reply = yield* send("GET", "/techniques", { apiKey: null })
        expect(reply.status).toBe(401)
        expect(reply.json.error.code).toBe("unauthorized")
      }).pipe(Effect.provide(FloraEmulator.layer())))

    it.effect("answers 401 invalid_api_key for a key it does not know", () =>
      Effect.gen(function*() {
        const reply = yield* startDemoRun("tech_demo", { apiKey: "sk_test_unknown" })
        expect(reply.status).toBe(401)
        expect(reply.json.error.code).toBe("invalid_api_key")
        expect(yield* (yield* FloraEmulator.FloraEmulator).runs).toEqual([])
      }).pipe(Effect.provide(FloraEmulator.layer())))

    it.effect("answers 401 unauthorized for an Authorization header that is not a bearer token", () =>
      Effect.gen(function*() {
        const reply = yield* send("GET", "/techniques", { apiKey: null, headers: { authorization: "Basic abc" } })
        expect(reply.status).toBe(401)
        expect(reply.json.error.code).toBe("unauthorized")
      }).pipe(Effect.provide(FloraEmulator.layer())))

    it.effect("puts a fresh request-id on every response", () =>
      Effect.gen(function*() {
        const first = yield* send("GET", "/techniques")
        const second = yield* send("GET", "/techniques", { apiKey: null })
        expect(first.headers["request-id"]).toMatch(/^req_/)
        expect(second.headers["request-id"]).toMatch(/^req_/)
        expect(first.headers["request-id"]).not.toBe(second.headers["request-id"])
      }).pipe(Effect.provide(FloraEmulator.layer())))
  })

  describe("starting a technique run", () => {
    it.effect("answers 201 with the start-run shape and a poll_url on the emulator", () =>
      Effect.gen(function*() {
        const reply = yield* startDemoRun()
        expect(reply.status).toBe(201)
        expect(reply.json).toEqual({
          run_id: expect.stringMatching(/^run_/),
          type: "technique",
          estimated_seconds: 3,
          charged_cost: 0.25,
          poll_url: `${FloraEmulator.inProcessBaseUrl}/runs/${reply.json.run_id}`,
          project_id: null,
          model: null,
          technique: { technique_id: "tech_demo", name: "Demo image technique" },
          action: null
        })
      }).pipe(Effect.provide(FloraEmulator.layer())))

    it.effect("answers 400 invalid_json for a body that is not JSON", () =>
      Effect.gen(function*() {
        const reply = yield* send("POST", "/runs/technique", { body: "{\"technique_id\": " })
        expect(reply.status).toBe(400)
        expect(reply.json.error.code).toBe("invalid_json")
      }).pipe(Effect.provide(FloraEmulator.layer())))

    it.effect("rejects unknown body keys such as callback_url with input_validation_error fields", () =>
      Effect.gen(function*() {
        const reply = yield* send("POST", "/runs/technique", {
          json: startBody({ callback_url: "https://example.com/hook", idempotency_key: "k" })
        })
        expect(reply.status).toBe(400)
        expect(reply.json.error.code).toBe("input_validation_error")
        expect(reply.json.error.fields).toEqual([
          { field: "callback_url", message: "is not allowed" },
          { field: "idempotency_key", message: "is not allowed" }
        ])
      }).pipe(Effect.provide(FloraEmulator.layer())))

    it.effect("checks the tech_ and ws_ prefixes and the required fields", () =>
      Effect.gen(function*() {
        const prefixes = yield* send("POST", "/runs/technique", {
          json: { technique_id: "demo", workspace_id: "demo", inputs: {} }
        })
        expect(prefixes.status).toBe(400)
        expect(prefixes.json.error.fields).toEqual([
          { field: "technique_id", message: "must start with tech_" },
          { field: "workspace_id", message: "must start with ws_" }
        ])
        const missing = yield* send("POST", "/runs/technique", { json: { inputs: [] } })
        expect(missing.json.error.fields).toEqual([
          { field: "technique_id", message: "is required" },
          { field: "workspace_id", message: "is required" },
          { field: "inputs", message: "must be an object" }
        ])
      }).pipe(Effect.provide(FloraEmulator.layer())))

    it.effect("answers input_validation_error for a missing required technique input", () =>
      Effect.gen(function*() {
        const reply = yield* send("POST", "/runs/technique", { json: startBody({ inputs: { input_image: "x" } }) })
        expect(reply.status).toBe(400)
        expect(reply.json.error).toEqual({
          code: "input_validation_error",
          message: "inputs.prompt: is required",
          fields: [{ field: "inputs.prompt", message: "is required" }]
        })
      }).pipe(Effect.provide(FloraEmulator.layer())))

    it.effect("answers 404 not_found for an unknown technique", () =>
      Effect.gen(function*() {
        const reply = yield* send("POST", "/runs/technique", { json: startBody({ technique_id: "tech_nope" }) })
        expect(reply.status).toBe(404)
        expect(reply.json.error.code).toBe("not_found")
      }).pipe(Effect.provide(FloraEmulator.layer())))

    it.effect("answers 403 forbidden for a workspace the key does not own", () =>
      Effect.gen(function*() {
        const reply = yield* send("POST", "/runs/technique", { json: startBody({ workspace_id: "ws_other" }) })
        expect(reply.status).toBe(403)
        expect(reply.json.error.code).toBe("forbidden")
        expect(yield* (yield* FloraEmulator.FloraEmulator).credits("ws_other")).toBe(5)
      }).pipe(Effect.provide(twoAccounts)))
  })

  describe("credits", () => {
    it.effect("charges the workspace the technique's run_cost per run", () =>
      Effect.gen(function*() {
        const emulator = yield* FloraEmulator.FloraEmulator
        yield* startDemoRun("tech_demo")
        yield* startDemoRun("tech_demo_text")
        expect(yield* emulator.credits("ws_demo")).toBe(1000 - 0.25 - 0.01)
      }).pipe(Effect.provide(FloraEmulator.layer())))

    it.effect("answers 402 insufficient_credits once the workspace cannot pay, and charges nothing", () =>
      Effect.gen(function*() {
        const emulator = yield* FloraEmulator.FloraEmulator
        yield* emulator.setCredits("ws_demo", 0.3)
        expect((yield* startDemoRun()).status).toBe(201)
        const refused = yield* startDemoRun()
        expect(refused.status).toBe(402)
        expect(refused.json.error.code).toBe("insufficient_credits")
        expect(yield* emulator.credits("ws_demo")).toBeCloseTo(0.05, 10)
        expect(yield* emulator.runs).toHaveLength(1)
      }).pipe(Effect.provide(FloraEmulator.layer())))
  })

  describe("idempotency keys", () => {
    const withKey = (key: string, apiKey?: string) => ({
      headers: { "idempotency-key": key },
      ...(apiKey === undefined ? {} : { apiKey })
    })

    it.effect("answers 409 idempotency_duplicate for a key reused within two hours, without a second run", () =>
      Effect.gen(function*() {
        const emulator = yield* FloraEmulator.FloraEmulator
        const first = yield* startDemoRun("tech_demo", withKey("key-1"))
        yield* TestClock.adjust("119 minutes")
        const again = yield* startDemoRun("tech_demo", withKey("key-1"))
        expect(first.status).toBe(201)
        expect(again.status).toBe(409)
        expect(again.json.error.code).toBe("idempotency_duplicate")
        expect((yield* emulator.runs).map((run) => run.idempotencyKey)).toEqual(["key-1"])
        expect(yield* emulator.credits("ws_demo")).toBe(999.75)
      }).pipe(Effect.provide(FloraEmulator.layer())))

    it.effect("accepts the same key again after two hours", () =>
      Effect.gen(function*() {
        yield* startDemoRun("tech_demo", withKey("key-1"))
        yield* TestClock.adjust("2 hours")
        expect((yield* startDemoRun("tech_demo", withKey("key-1"))).status).toBe(201)
      }).pipe(Effect.provide(FloraEmulator.layer())))

    it.effect("scopes keys to the API key", () =>
      Effect.gen(function*() {
        yield* startDemoRun("tech_demo", withKey("shared"))
        const otherKey = yield* send("POST", "/runs/technique", {
          json: startBody({ workspace_id: "ws_other" }),
          ...withKey("shared", "sk_test_other")
        })
        expect(otherKey.status).toBe(201)
      }).pipe(Effect.provide(twoAccounts)))

    it.effect("replays the original 201 with idempotent-replayed: true in replay mode", () =>
      Effect.gen(function*() {
        const emulator = yield* FloraEmulator.FloraEmulator
        const first = yield* startDemoRun("tech_demo", withKey("key-1"))
        const replay = yield* startDemoRun("tech_demo", withKey("key-1"))
        expect(replay.status).toBe(201)
        expect(replay.json).toEqual(first.json)
        expect(replay.headers["idempotent-replayed"]).toBe("true")
        expect(first.headers["idempotent-replayed"]).toBeUndefined()
        expect(yield* emulator.runs).toHaveLength(1)
      }).pipe(Effect.provide(FloraEmulator.layer({ idempotency: "replay" }))))

    it.effect("answers 422 idempotency_conflict in replay mode when the body differs", () =>
      Effect.gen(function*() {
        yield* startDemoRun("tech_demo", withKey("key-1"))
        const conflict = yield* startDemoRun("tech_demo_text", { ...withKey("key-1"), conform: false })
        expect(conflict.status).toBe(422)
        expect(conflict.json.error.code).toBe("idempotency_conflict")
      }).pipe(Effect.provide(FloraEmulator.layer({ idempotency: "replay" }))))
  })

  describe("rate limit", () => {
    const limited = FloraEmulator.layer({ rateLimit: { requests: 2, window: "10 seconds" } })

    it.effect("answers 429 rate_limited with Retry-After once a workspace exceeds its window", () =>
      Effect.gen(function*() {
        expect((yield* send("GET", "/techniques")).status).toBe(200)
        yield* TestClock.adjust("4 seconds")
        expect((yield* startDemoRun()).status).toBe(201)
        const limitedReply = yield* send("GET", "/techniques")
        expect(limitedReply.status).toBe(429)
        expect(limitedReply.json.error.code).toBe("rate_limited")
        expect(limitedReply.headers["retry-after"]).toBe("6")
        yield* TestClock.adjust("6 seconds")
        expect((yield* send("GET", "/techniques")).status).toBe(200)
      }).pipe(Effect.provide(limited)))

    it.effect("is off by default", () =>
      Effect.gen(function*() {
        const statuses = yield* Effect.forEach(Array.from({ length: 50 }), () => send("GET", "/techniques"))
        expect(statuses.every((reply) => reply.status === 200)).toBe(true)
      }).pipe(Effect.provide(FloraEmulator.layer())))
  })

  describe("reading runs", () => {
    it.effect("answers 400 input_validation_error for a run id without run_", () =>
      Effect.gen(function*() {
        const reply = yield* send("GET", "/runs/abc")
        expect(reply.status).toBe(400)
        expect(reply.json.error.fields).toEqual([{ field: "runId", message: "must start with run_" }])
      }).pipe(Effect.provide(FloraEmulator.layer())))

    it.effect("answers 404 not_found for an unknown run and for another workspace's run", () =>
      Effect.gen(function*() {
        expect((yield* send("GET", "/runs/run_missing")).status).toBe(404)
        const mine = yield* startDemoRun()
        const theirs = yield* send("GET", `/runs/${mine.json.run_id}`, { apiKey: "sk_test_other" })
        expect(theirs.status).toBe(404)
        expect(theirs.json.error.code).toBe("not_found")
      }).pipe(Effect.provide(twoAccounts)))

    it.effect("answers 404 not_found on paths it does not serve", () =>
      Effect.gen(function*() {
        const reply = yield* send("GET", "/generations", { conform: false })
        expect(reply.status).toBe(404)
        expect(reply.json).toEqual({ error: { code: "not_found", message: "No route for GET /api/v1/generations." } })
        expect(reply.headers["request-id"]).toMatch(/^req_/)
      }).pipe(Effect.provide(FloraEmulator.layer())))
  })

  describe("technique catalog", () => {
    it.effect("lists the seeded techniques with their inputs, outputs and run_cost", () =>
      Effect.gen(function*() {
        const reply = yield* send("GET", "/techniques")
        expect(reply.json.techniques.map((technique: any) => technique.technique_id)).toEqual([
          "tech_demo",
          "tech_demo_text",
          "tech_demo_fails",
          "tech_demo_instant"
        ])
        expect(reply.json.meta).toEqual({ next_cursor: null })
        const demo = yield* send("GET", "/techniques/tech_demo")
        expect(demo.json).toEqual({
          technique_id: "tech_demo",
          name: "Demo image technique",
          description: "Turns a prompt, and optionally a reference image, into one image.",
          run_cost: 0.25,
          inputs: [
            { id: "prompt", name: "Prompt", type: "text" },
            { id: "input_image", name: "Reference image", type: "imageUrl", optional: true }
          ],
          outputs: [{ id: "output_1", name: "Image", type: "imageUrl" }]
        })
      }).pipe(Effect.provide(FloraEmulator.layer())))

    it.effect("pages with limit and an opaque cursor, and filters with query", () =>
      Effect.gen(function*() {
        const first = yield* send("GET", "/techniques?limit=3")
        expect(first.json.techniques).toHaveLength(3)
        const second = yield* send("GET", `/techniques?limit=3&cursor=${first.json.meta.next_cursor}`)
        expect(second.json.techniques.map((technique: any) => technique.technique_id)).toEqual(["tech_demo_instant"])
        expect(second.json.meta.next_cursor).toBeNull()
        const search = yield* send("GET", "/techniques?query=caption")
        expect(search.json.techniques.map((technique: any) => technique.technique_id)).toEqual(["tech_demo_text"])
        expect((yield* send("GET", "/techniques?cursor=garbage")).status).toBe(400)
      }).pipe(Effect.provide(FloraEmulator.layer())))

    it.effect("answers 404 not_found for an unknown technique", () =>
      Effect.gen(function*() {
        const reply = yield* send("GET", "/techniques/tech_missing")
        expect(reply.status).toBe(404)
      }).pipe(Effect.provide(FloraEmulator.layer())))
  })

  describe("inspection helpers", () => {
    it.effect("records every request with the bearer token redacted", () =>
      Effect.gen(function*() {
        const emulator = yield* FloraEmulator.FloraEmulator
        yield* startDemoRun("tech_demo", { headers: { "idempotency-key": "key-1" } })
        yield* send("GET", "/nowhere", { apiKey: null, conform: false })
        const [post, unknown] = yield* emulator.requests
        expect(post).toMatchObject({
          method: "POST",
          path: "/api/v1/runs/technique",
          route: "POST /runs/technique",
          json: startBody(),
          fault: undefined
        })
        expect(JSON.parse(post!.body)).toEqual(startBody())
        expect(post!.headers["authorization"]).toBe("Bearer <redacted>")
        expect(post!.headers["idempotency-key"]).toBe("key-1")
        expect(JSON.stringify(post)).not.toContain(FloraEmulator.defaultApiKey)
        expect(unknown).toMatchObject({ method: "GET", path: "/api/v1/nowhere", route: undefined, body: "" })
      }).pipe(Effect.provide(FloraEmulator.layer())))

    it.effect("lists created runs with the idempotency key used", () =>
      Effect.gen(function*() {
        const emulator = yield* FloraEmulator.FloraEmulator
        yield* TestClock.adjust("1 second")
        const started = yield* startDemoRun("tech_demo", { headers: { "idempotency-key": "key-1" } })
        yield* startDemoRun("tech_demo_text")
        expect(yield* emulator.runs).toEqual([
          {
            runId: started.json.run_id,
            techniqueId: "tech_demo",
            workspaceId: "ws_demo",
            inputs: { prompt: "a fox" },
            chargedCost: 0.25,
            idempotencyKey: "key-1",
            requestId: started.headers["request-id"],
            createdAt: 1000
          },
          expect.objectContaining({ techniqueId: "tech_demo_text", idempotencyKey: undefined })
        ])
      }).pipe(Effect.provide(FloraEmulator.layer())))

    it.effect("reset forgets requests, runs, keys and faults and restores the credits", () =>
      Effect.gen(function*() {
        const emulator = yield* FloraEmulator.FloraEmulator
        yield* startDemoRun("tech_demo", { headers: { "idempotency-key": "key-1" } })
        yield* emulator.inject({ route: "*", fault: FloraEmulator.Fault.reset })
        yield* emulator.reset
        expect(yield* emulator.requests).toEqual([])
        expect(yield* emulator.runs).toEqual([])
        expect(yield* emulator.pendingFaults).toBe(0)
        expect(yield* emulator.credits("ws_demo")).toBe(1000)
        expect((yield* startDemoRun("tech_demo", { headers: { "idempotency-key": "key-1" } })).status).toBe(201)
      }).pipe(Effect.provide(FloraEmulator.layer())))
  })
})
