import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/TestClock"
import * as FloraEmulator from "../../src/testing/FloraEmulator.js"
import { send, startDemoRun } from "../support/emulatorHttp.js"

const readRun = (runId: string) => Effect.map(send("GET", `/runs/${runId}`), (reply) => reply.json)

describe("FloraEmulator run lifecycle", () => {
  it.effect("moves a run from pending to running with rising progress to completed with an image", () =>
    Effect.gen(function*() {
      yield* TestClock.adjust("1 second")
      const { json: started } = yield* startDemoRun("tech_demo")
      const pollUrl = `${FloraEmulator.inProcessBaseUrl}/runs/${started.run_id}`

      expect(yield* readRun(started.run_id)).toEqual({
        run_id: started.run_id,
        status: "pending",
        progress: 0,
        created_at: 1000,
        charged_cost: 0.25,
        poll_url: pollUrl
      })

      yield* TestClock.adjust("500 millis")
      expect(yield* readRun(started.run_id)).toMatchObject({ status: "running", progress: 0, started_at: 1500 })

      yield* TestClock.adjust("1250 millis")
      expect(yield* readRun(started.run_id)).toMatchObject({ status: "running", progress: 50 })

      yield* TestClock.adjust("1250 millis")
      expect(yield* readRun(started.run_id)).toEqual({
        run_id: started.run_id,
        status: "completed",
        progress: 100,
        created_at: 1000,
        started_at: 1500,
        completed_at: 4000,
        charged_cost: 0.25,
        outputs: [{
          output_id: "output_1",
          type: "imageUrl",
          url: `https://media.flora.emulator.local/${started.run_id}/output_1.png`
        }],
        poll_url: pollUrl
      })
    }).pipe(Effect.provide(FloraEmulator.layer())))

  it.effect("carries the text itself in url for a text output", () =>
    Effect.gen(function*() {
      const { json: started } = yield* startDemoRun("tech_demo_text")
      expect(started.estimated_seconds).toBe(1)
      yield* TestClock.adjust("1 second")
      const run = yield* readRun(started.run_id)
      expect(run.status).toBe("completed")
      expect(run.outputs).toEqual([
        { output_id: "output_1", type: "text", url: "A short caption produced by the FLORA emulator." }
      ])
    }).pipe(Effect.provide(FloraEmulator.layer())))

  it.effect("ends a run of tech_demo_fails failed with provider_error, still answering 200", () =>
    Effect.gen(function*() {
      const { json: started } = yield* startDemoRun("tech_demo_fails")
      yield* TestClock.adjust("2 seconds")
      const reply = yield* send("GET", `/runs/${started.run_id}`)
      expect(reply.status).toBe(200)
      expect(reply.json).toMatchObject({
        status: "failed",
        progress: 100,
        error_code: "provider_error",
        error_message: "The provider failed to complete the generation."
      })
      expect(reply.json.outputs).toBeUndefined()
    }).pipe(Effect.provide(FloraEmulator.layer())))

  it.effect("completes tech_demo_instant the moment it is created", () =>
    Effect.gen(function*() {
      const { json: started } = yield* startDemoRun("tech_demo_instant")
      expect(started).toMatchObject({ estimated_seconds: 0, charged_cost: 0 })
      expect((yield* readRun(started.run_id)).status).toBe("completed")
    }).pipe(Effect.provide(FloraEmulator.layer())))

  it.effect("completes every run at once with the instant option", () =>
    Effect.gen(function*() {
      const { json: started } = yield* startDemoRun("tech_demo")
      expect(started.estimated_seconds).toBe(0)
      expect((yield* readRun(started.run_id)).status).toBe("completed")
    }).pipe(Effect.provide(FloraEmulator.layer({ instant: true }))))

  it.effect("serves techniques given as options, with their timing and outcome", () =>
    Effect.gen(function*() {
      const { json: started } = yield* send("POST", "/runs/technique", {
        json: { technique_id: "tech_upscale", workspace_id: "ws_demo", inputs: { image: "https://example.com/a.png" } }
      })
      expect(started).toMatchObject({ estimated_seconds: 10, charged_cost: 1.5 })
      yield* TestClock.adjust("9 seconds")
      expect(yield* readRun(started.run_id)).toMatchObject({ status: "running", progress: 80 })
      yield* TestClock.adjust("1 second")
      expect(yield* readRun(started.run_id)).toMatchObject({
        status: "completed",
        outputs: [
          { output_id: "output_1", type: "imageUrl", url: "https://example.com/big.png" },
          { output_id: "output_2", type: "text", url: expect.stringContaining(started.run_id) }
        ]
      })
    }).pipe(Effect.provide(FloraEmulator.layer({
      techniques: [{
        id: "tech_upscale",
        name: "Upscale",
        runCost: 1.5,
        inputs: [{ id: "image", name: "Image", type: "imageUrl" }],
        queue: "5 seconds",
        duration: "5 seconds",
        outcome: {
          status: "completed",
          outputs: [{ type: "imageUrl", value: "https://example.com/big.png" }, { type: "text" }]
        }
      }]
    }))))
})
