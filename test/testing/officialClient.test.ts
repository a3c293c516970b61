import { describe, expect, it } from "@effect/vitest"
import Flora from "@flora-ai/flora"
import * as Effect from "effect/Effect"
import * as FloraEmulator from "../../src/testing/FloraEmulator.js"
import * as FloraEmulatorNode from "../../src/testing/node.js"
import { assertConforms } from "../support/openapi.js"

// Real sockets and the official client's own timers, so real time: the run takes 100 ms.
const quick: FloraEmulator.Technique = {
  id: "tech_quick",
  name: "Quick technique",
  runCost: 0.05,
  inputs: [{ id: "prompt", name: "Prompt", type: "text" }],
  queue: "20 millis",
  duration: "80 millis",
  outcome: { status: "completed", outputs: [{ type: "imageUrl" }] }
}

const pollUntilDone = async (client: Flora, runId: string) => {
  for (let poll = 0; poll < 100; poll++) {
    const run = await client.generations.retrieve(runId)
    assertConforms("GET", "/runs/{runId}", 200, run)
    if (run.status === "completed" || run.status === "failed") return run
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  throw new Error(`Run ${runId} did not finish within 100 polls`)
}

describe("the official @flora-ai/flora client against the emulator", () => {
  it.scopedLive("starts a technique run and reads it back to completed", () =>
    Effect.gen(function*() {
      const { baseUrl } = yield* FloraEmulatorNode.FloraEmulatorServer
      const emulator = yield* FloraEmulator.FloraEmulator
      const client = new Flora({ apiKey: FloraEmulator.defaultApiKey, baseURL: baseUrl, maxRetries: 0, timeout: 5_000 })

      const started = yield* Effect.promise(() =>
        client.runs.startTechnique({ technique_id: "tech_quick", workspace_id: "ws_demo", inputs: { prompt: "a fox" } })
      )
      assertConforms("POST", "/runs/technique", 201, started)
      expect(started).toMatchObject({ type: "technique", charged_cost: 0.05, estimated_seconds: 1 })
      expect(started.poll_url).toBe(`${baseUrl}/runs/${started.run_id}`)

      const run = yield* Effect.promise(() => pollUntilDone(client, started.run_id))
      expect(run.status).toBe("completed")
      expect(run.outputs).toEqual([expect.objectContaining({ output_id: "output_1", type: "imageUrl" })])

      const [sent] = yield* emulator.requests
      expect(sent?.headers["user-agent"]).toMatch(/^FLORA\/JS/)
      expect(sent?.headers["authorization"]).toBe("Bearer <redacted>")
    }).pipe(Effect.provide(FloraEmulatorNode.layer({ techniques: [...FloraEmulator.defaultTechniques, quick] }))))

  it.scopedLive("surfaces the emulator's error envelope through the official client's error classes", () =>
    Effect.gen(function*() {
      const { baseUrl } = yield* FloraEmulatorNode.FloraEmulatorServer
      const client = new Flora({ apiKey: "sk_test_unknown", baseURL: baseUrl, maxRetries: 0, timeout: 5_000 })
      const error: any = yield* Effect.flip(Effect.tryPromise(() => client.techniques.retrieve("tech_demo")))
      expect(error.error).toBeInstanceOf(Flora.AuthenticationError)
      expect(error.error.status).toBe(401)
      expect(error.error.error).toEqual({ error: { code: "invalid_api_key", message: "Invalid API key." } })
      expect(error.error.headers.get("request-id")).toMatch(/^req_/)
    }).pipe(Effect.provide(FloraEmulatorNode.layer())))
})
