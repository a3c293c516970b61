/**
 * Starts the FLORA emulator on loopback and keeps it running until Ctrl-C.
 *
 *   npm run emulator -- --port 4010 [--instant] [--idempotency replay]
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { parseArgs } from "node:util"
import * as FloraEmulator from "../src/testing/FloraEmulator.js"
import * as FloraEmulatorNode from "../src/testing/node.js"

const usage = `Usage: npm run emulator -- [--port 4010] [--instant] [--idempotency reject|replay]

  --port         port to listen on at 127.0.0.1 (default 4010; 0 picks a free one)
  --instant      runs complete as soon as they are created
  --idempotency  answer a reused Idempotency-Key with 409 (reject, default) or the original 201 (replay)`

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "4010" },
    instant: { type: "boolean", default: false },
    idempotency: { type: "string", default: "reject" },
    help: { type: "boolean", short: "h", default: false }
  }
})

const port = Number(values.port)
const idempotency = values.idempotency
if (values.help || !Number.isInteger(port) || port < 0 || port > 65535 || !isIdempotencyMode(idempotency)) {
  console.log(usage)
  process.exit(values.help ? 0 : 2)
}

function isIdempotencyMode(mode: string): mode is FloraEmulator.IdempotencyMode {
  return mode === "reject" || mode === "replay"
}

const program = Effect.gen(function*() {
  const emulator = yield* FloraEmulator.make({ instant: values.instant, idempotency })
  const { baseUrl } = yield* FloraEmulatorNode.serve(emulator, { port })
  const techniques = FloraEmulator.defaultTechniques.map((technique) => technique.id).join(", ")

  yield* Console.log(
    [
      `FLORA emulator listening on ${baseUrl}`,
      `  API key:    ${FloraEmulator.defaultApiKey}`,
      `  workspace:  ${FloraEmulator.defaultWorkspaceId} ($${FloraEmulator.defaultCredits} of credits)`,
      `  techniques: ${techniques}`,
      `  try: curl -H "Authorization: Bearer ${FloraEmulator.defaultApiKey}" ${baseUrl}/techniques`,
      "Press Ctrl-C to stop."
    ].join("\n")
  )
  return yield* Effect.never
})

NodeRuntime.runMain(Effect.scoped(program))
