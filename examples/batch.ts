/**
 * A batch of 50 runs, at most 8 in flight at once, then a summary.
 *
 * `Effect.partition` runs every item and keeps the failures apart from the successes, so one failed run does
 * not stop the others. Each run gets its own idempotency key, so a retried request never starts a run twice.
 *
 *   npx tsx examples/batch.ts
 */
import { Console, Effect, Layer, Redacted } from "effect"
import { FloraClient } from "effect-flora"
import { FloraEmulator } from "effect-flora/testing"

const prompts = Array.from({ length: 50 }, (_, i) => `variation ${i + 1} of a lighthouse at dusk`)

const program = Effect.gen(function*() {
  const startedAt = Date.now()

  // Every tenth prompt goes to a technique that always fails, to show failures in the summary.
  const [failures, results] = yield* Effect.partition(
    prompts,
    (prompt, i) =>
      FloraClient.runTechnique({
        technique_id: i % 10 === 9 ? "tech_demo_fails" : "tech_demo_text",
        workspace_id: "ws_demo",
        inputs: { prompt }
      }),
    { concurrency: 8 }
  )

  const cost = results.reduce((sum, { started }) => sum + started.charged_cost, 0)
  const byTag = new Map<string, number>()
  for (const failure of failures) byTag.set(failure._tag, (byTag.get(failure._tag) ?? 0) + 1)

  yield* Console.log(`${prompts.length} runs in ${Date.now() - startedAt} ms`)
  yield* Console.log(`completed: ${results.length}, charged $${cost.toFixed(2)}`)
  yield* Console.log(`failed: ${failures.length} (${[...byTag].map(([tag, n]) => `${tag} ${n}`).join(", ")})`)
})

// `instant: true` makes every emulated run end as soon as it starts, so the batch takes a moment.
const FloraLive = FloraClient.layer({
  apiKey: Redacted.make(FloraEmulator.defaultApiKey),
  baseUrl: FloraEmulator.inProcessBaseUrl
}).pipe(Layer.provide(FloraEmulator.layer({ instant: true })))

program.pipe(Effect.provide(FloraLive), Effect.runPromise)
