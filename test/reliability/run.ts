/**
 * The long fault campaign, from the command line:
 *
 *   npm run campaign -- --scenarios 3000 [--seed 123] [--concurrency 6] [--only 17]
 *
 * The seed is `--seed`, else `FLORA_CAMPAIGN_SEED`, else a fresh one; it is printed first, so any run can be
 * replayed. Exits with status 1 when any scenario broke an invariant.
 */
import * as Effect from "effect/Effect"
import { parseArgs } from "node:util"
import { badCount, describeFailure, runCampaign, seedFromEnv, summaryLine } from "./campaign.js"

const { values } = parseArgs({
  options: {
    scenarios: { type: "string", default: "3000" },
    seed: { type: "string" },
    concurrency: { type: "string", default: "6" },
    only: { type: "string" }
  }
})

const seed = values.seed === undefined ? seedFromEnv() : Number(values.seed)
const unhandled: Array<unknown> = []
process.on("unhandledRejection", (reason) => unhandled.push(reason))
process.on("uncaughtException", (error) => unhandled.push(error))

console.log(`campaign seed=${seed} (replay with --seed ${seed} or FLORA_CAMPAIGN_SEED=${seed})`)
const summary = await Effect.runPromise(runCampaign({
  seed,
  scenarios: Number(values.scenarios),
  concurrency: Number(values.concurrency),
  only: values.only === undefined ? undefined : Number(values.only)
}))
for (const failure of summary.failures.slice(0, 20)) console.log(describeFailure(summary, failure))
console.log(`${summaryLine(summary)} unhandled rejections=${unhandled.length}`)
process.exit(badCount(summary) > 0 || unhandled.length > 0 ? 1 : 0)
