import { describe, expect, it } from "@effect/vitest"
import { existsSync, readFileSync } from "node:fs"
import { assertConforms, openApiFixturePath, sharedReferencePath, templateOf } from "../support/openapi.js"

describe("the reference check", () => {
  it("is a copy of the shared reference when shared/ sits beside the clone", () => {
    if (!existsSync(sharedReferencePath)) return
    expect(readFileSync(openApiFixturePath, "utf8")).toBe(readFileSync(sharedReferencePath, "utf8"))
  })

  it("rejects a body the reference does not allow", () => {
    expect(() => assertConforms("GET", "/runs/{runId}", 200, { run_id: "run_1", progress: 0 })).toThrow(/status/)
    expect(() => assertConforms("POST", "/runs/technique", 400, { error: { code: "nope", message: "x" } })).toThrow()
    expect(() => assertConforms("POST", "/runs/technique", 418, {})).toThrow(/declares no 418/)
    expect(() => assertConforms("GET", "/techniques/{techniqueId}", 200, { technique_id: "demo" })).toThrow()
  })

  it("accepts the reference's own examples", () => {
    assertConforms("GET", "/runs/{runId}", 200, {
      run_id: "run_abc123",
      status: "completed",
      progress: 100,
      created_at: 1750000000000,
      outputs: [{ output_id: "output_1", type: "text", url: "A caption." }]
    })
    assertConforms("POST", "/runs/technique", 409, {
      error: { code: "idempotency_duplicate", message: "Duplicate idempotency key." }
    })
  })

  it("maps concrete paths to their templates", () => {
    expect(templateOf("/runs/technique")).toBe("/runs/technique")
    expect(templateOf("/runs/run_1")).toBe("/runs/{runId}")
    expect(templateOf("/techniques?limit=2")).toBe("/techniques")
    expect(templateOf("/techniques/tech_demo")).toBe("/techniques/{techniqueId}")
    expect(templateOf("/generations/x/y")).toBeUndefined()
  })
})
