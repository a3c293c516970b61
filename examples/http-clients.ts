/**
 * Choosing the HTTP client: `FloraClient` needs an `HttpClient` from `@effect/platform`, and any will do.
 *
 * - `FetchHttpClient.layer` uses the runtime's `fetch`: Node 20+, Bun, Deno, browsers and edge runtimes.
 * - `NodeHttpClient.layerUndici` (from `@effect/platform-node`) uses undici directly: Node only, with its
 *   connection pool.
 *
 * Both run the same program here against the emulator served on a loopback port.
 *
 *   npx tsx examples/http-clients.ts
 */
import { FetchHttpClient, type HttpClient } from "@effect/platform"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Console, Effect, Layer, Redacted } from "effect"
import { FloraClient } from "effect-flora"
import { FloraEmulator } from "effect-flora/testing"
import { FloraEmulatorServer, layer as serveEmulator } from "effect-flora/testing/node"

const program = (name: string) =>
  Effect.gen(function*() {
    const { run } = yield* FloraClient.runTechnique({
      technique_id: "tech_demo_instant",
      workspace_id: "ws_demo",
      inputs: {}
    })
    yield* Console.log(`${name}: run ${run.run_id} ${run.status}`)
  })

/** A client for the emulator's loopback URL, over the given `HttpClient`. */
const floraOver = (httpClient: Layer.Layer<HttpClient.HttpClient>) =>
  Layer.unwrapEffect(
    Effect.map(FloraEmulatorServer, ({ baseUrl }) =>
      FloraClient.layer({ apiKey: Redacted.make(FloraEmulator.defaultApiKey), baseUrl }))
  ).pipe(Layer.provide(httpClient))

const main = Effect.gen(function*() {
  yield* program("fetch").pipe(Effect.provide(floraOver(FetchHttpClient.layer)))
  yield* program("undici").pipe(Effect.provide(floraOver(NodeHttpClient.layerUndici)))
})

main.pipe(Effect.provide(serveEmulator()), Effect.runPromise)
