import { describe, expect, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import { dirname, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import * as Testing from "../../src/testing/index.js"

const sourceOf = (relative: string): string => resolve(dirname(fileURLToPath(import.meta.url)), "../../src", relative)

/** Every module reachable through relative imports from `entry`, with the bare specifiers each one imports. */
const importGraph = (entry: string): Map<string, ReadonlyArray<string>> => {
  const graph = new Map<string, ReadonlyArray<string>>()
  const visit = (file: string) => {
    if (graph.has(file)) return
    const specifiers = Array.from(readFileSync(file, "utf8").matchAll(/from\s+"([^"]+)"/g), (match) => match[1]!)
    graph.set(file, specifiers)
    for (const specifier of specifiers) {
      if (specifier.startsWith(".")) visit(resolve(dirname(file), specifier.replace(/\.js$/, ".ts")))
    }
  }
  visit(entry)
  return graph
}

describe("effect-flora/testing", () => {
  it("imports nothing Node-specific, so the in-process emulator runs wherever fetch runs", () => {
    const graph = importGraph(sourceOf("testing/index.ts"))
    expect(graph.size).toBeGreaterThan(1)
    for (const [file, specifiers] of graph) {
      const nodeOnly = specifiers.filter((specifier) =>
        specifier.startsWith("node:") || specifier.includes("platform-node")
      )
      expect({ file, nodeOnly }).toEqual({ file, nodeOnly: [] })
    }
  })

  it("exports the emulator and its in-process layer", () => {
    expect(Testing.FloraEmulator.inProcessBaseUrl).toBe("http://flora.emulator.local/api/v1")
    expect(Testing.FloraEmulator.defaultApiKey).toBe("sk_test_emulator")
    expect(typeof Testing.FloraEmulator.layer).toBe("function")
  })
})
