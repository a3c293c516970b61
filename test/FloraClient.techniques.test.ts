import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as FloraClient from "../src/FloraClient.js"
import * as FloraEmulator from "../src/testing/FloraEmulator.js"

const many: ReadonlyArray<FloraEmulator.Technique> = Array.from({ length: 7 }, (_, i) => ({
  id: `tech_n${i}`,
  name: `Technique ${i}`,
  runCost: i,
  inputs: [{ id: "prompt", name: "Prompt", type: "text" }],
  outcome: { status: "completed", outputs: [{ type: "imageUrl" }] }
}))

describe("the technique catalog", () => {
  it.effect("getTechnique returns a technique's inputs, outputs and run cost", () =>
    Effect.gen(function*() {
      const technique = yield* FloraClient.getTechnique("tech_demo")
      expect(technique.technique_id).toBe("tech_demo")
      expect(technique.run_cost).toBe(0.25)
      expect(technique.inputs.map((input) => [input.id, input.type, input.optional ?? false])).toEqual([
        ["prompt", "text", false],
        ["input_image", "imageUrl", true]
      ])
      expect(technique.outputs.map((output) => output.type)).toEqual(["imageUrl"])
    }).pipe(Effect.provide(FloraEmulator.layerFloraClient())))

  it.effect("getTechnique fails with NotFound for an unknown technique", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(FloraClient.getTechnique("tech_nope"))
      expect(error._tag === "ApiError" && error.kind).toBe("NotFound")
    }).pipe(Effect.provide(FloraEmulator.layerFloraClient())))

  it.effect("getTechnique refuses an id without tech_ before sending anything", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(FloraClient.getTechnique("cctv-cam"))
      expect(error._tag === "ValidationError" && error.origin).toBe("client")
      const emulator = yield* FloraEmulator.FloraEmulator
      expect(yield* emulator.requests).toHaveLength(0)
    }).pipe(Effect.provide(FloraEmulator.layerFloraClient())))

  it.effect("listTechniques reads one page and passes the query", () =>
    Effect.gen(function*() {
      const page = yield* FloraClient.listTechniques({ limit: 3, query: "technique" })
      expect(page.techniques.map((t) => t.technique_id)).toEqual(["tech_n0", "tech_n1", "tech_n2"])
      expect(page.meta.next_cursor).toEqual(expect.any(String))
      const emulator = yield* FloraEmulator.FloraEmulator
      const [request] = yield* emulator.requests
      expect(request.path).toBe("/api/v1/techniques?query=technique&limit=3")
    }).pipe(Effect.provide(FloraEmulator.layerFloraClient({ techniques: many }))))

  it.effect("techniques walks every page once, stopping at the last", () =>
    Effect.gen(function*() {
      const all = yield* Stream.runCollect(FloraClient.techniques({ limit: 3 }))
      expect(Chunk.toReadonlyArray(all).map((t) => t.technique_id)).toEqual(many.map((t) => t.id))
      const emulator = yield* FloraEmulator.FloraEmulator
      expect(yield* emulator.requests).toHaveLength(3)
    }).pipe(Effect.provide(FloraEmulator.layerFloraClient({ techniques: many }))))
})
