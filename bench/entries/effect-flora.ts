/** An app that starts one technique run with effect-flora over `fetch`: the bundle-size benchmark's entry. */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { FloraClient } from "../../src/index.js"

const layer = FloraClient.layer({ apiKey: Redacted.make(process.env.FLORA_API_KEY ?? "") }).pipe(
  Layer.provide(FetchHttpClient.layer)
)

FloraClient.startTechnique({ technique_id: "tech_demo", workspace_id: "ws_demo", inputs: { prompt: "x" } }).pipe(
  Effect.provide(layer),
  Effect.runPromise
).then((run) => console.log(run.run_id))
