import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"

const source = (path: string) => fileURLToPath(new URL(path, import.meta.url))

export default defineConfig({
  resolve: {
    // The examples import the package by name, as a user's code would; tests resolve it to the sources.
    alias: [
      { find: /^effect-flora\/testing\/node$/, replacement: source("./src/testing/node.ts") },
      { find: /^effect-flora\/testing$/, replacement: source("./src/testing/index.ts") },
      { find: /^effect-flora$/, replacement: source("./src/index.ts") }
    ]
  },
  test: {
    include: ["test/**/*.test.ts", "examples/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
})
