/**
 * The FLORA emulator on loopback, for the `waitForRun` benchmark: one technique, `tech_bench`, whose runs
 * are `pending` for `--queue` milliseconds and `running` for `--duration` milliseconds, and an account with
 * enough credits for any run count. Started with `fork`, it sends its base URL to the parent over IPC; run
 * directly (`--port` to pick one), it prints it.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Effect from "effect/Effect"
import { parseArgs } from "node:util"
import * as FloraEmulator from "../src/testing/FloraEmulator.js"
import * as FloraEmulatorNode from "../src/testing/node.js"

const { values } = parseArgs({
  options: {
    queue: { type: "string", default: "500" },
    duration: { type: "string", default: "2500" },
    port: { type: "string", default: "0" }
  }
})

const program = Effect.gen(function*() {
  const emulator = yield* FloraEmulator.make({
    accounts: [{ apiKey: FloraEmulator.defaultApiKey, workspaceId: FloraEmulator.defaultWorkspaceId, credits: 1e9 }],
    techniques: [{
      id: "tech_bench",
      name: "Benchmark technique",
      runCost: 0.01,
      inputs: [{ id: "prompt", name: "Prompt", type: "text" }],
      queue: Number(values.queue),
      duration: Number(values.duration),
      outcome: { status: "completed", outputs: [{ type: "imageUrl", name: "Image" }] }
    }]
  })
  const { baseUrl } = yield* FloraEmulatorNode.serve(emulator, { port: Number(values.port) })
  if (process.send === undefined) {
    console.log(baseUrl)
  } else {
    process.send({ baseUrl })
    process.on("disconnect", () => process.exit(0))
  }
  return yield* Effect.never
})

NodeRuntime.runMain(Effect.scoped(program))
