/**
 * The fault campaign in quick mode: a few hundred random scenarios over a real loopback socket, with the
 * seed printed (replay with `FLORA_CAMPAIGN_SEED`). The long run is `npm run campaign`.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { badCount, describeFailure, runCampaign, seedFromEnv, summaryLine } from "./campaign.js"

const quickScenarios = Number(process.env["FLORA_CAMPAIGN_SCENARIOS"] ?? 150)

// CI plays one known seed, so a submission is judged on scenarios that were seen to pass; a developer's run
// draws fresh ones each time, and `npm run campaign` explores thousands.
const ciSeed = 20261203

describe("the fault campaign", () => {
  it.live(
    "no scenario duplicates or loses a run, overruns its deadline, over-retries or leaks the key",
    () =>
      Effect.gen(function*() {
        const seed = process.env["CI"] && !process.env["FLORA_CAMPAIGN_SEED"] ? ciSeed : seedFromEnv()
        const summary = yield* runCampaign({ seed, scenarios: quickScenarios, concurrency: 4 })
        console.log(summaryLine(summary))
        for (const failure of summary.failures.slice(0, 10)) console.log(describeFailure(summary, failure))
        expect(summary.scenarios).toBe(quickScenarios)
        expect(summary.runsCreated).toBeGreaterThan(0)
        expect(badCount(summary)).toBe(0)
      }),
    60_000
  )

  // The invariants must be able to fail: the same checks, against a client broken on purpose through its
  // transport or options, report the breakage.
  const sabotages = [
    ["duplicated runs", "the client sends a fresh idempotency key on each retry", "freshKeyOnRetry", "duplicated"],
    ["deadline overruns", "the client waits three times longer than its deadline", "ignoreDeadline", "deadline overrun"]
  ] as const
  for (const [what, when, sabotage, count] of sabotages) {
    it.live(
      `reports ${what} when ${when}`,
      () =>
        Effect.gen(function*() {
          const summary = yield* runCampaign({ seed: 20240601, scenarios: 60, concurrency: 4, sabotage })
          expect(summary.counts[count]).toBeGreaterThan(0)
        }),
      60_000
    )
  }
})
