/**
 * Runs every example program and `npm start`'s script as a user would, in a child process with tsx, and checks
 * what they print and how they exit. The examples talk to the emulator, so none needs an account.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { execFile } from "node:child_process"
import { readdirSync } from "node:fs"
import * as FloraEmulator from "../src/testing/FloraEmulator.js"
import * as EmulatorServer from "../src/testing/node.js"

interface Outcome {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

const root = new URL("..", import.meta.url).pathname

/** Runs a TypeScript file with tsx; resolves with its exit code and output whatever the code. */
const runTs = (file: string, options: { args?: ReadonlyArray<string>; env?: Record<string, string> } = {}) =>
  new Promise<Outcome>((resolve) => {
    const env: Record<string, string | undefined> = { ...process.env, FLORA_API_KEY: "", ...options.env }
    if (options.env?.FLORA_BASE_URL === undefined) delete env.FLORA_BASE_URL
    execFile(
      process.execPath,
      ["--import", "tsx", file, ...(options.args ?? [])],
      { cwd: root, env, timeout: 50_000 },
      (error, stdout, stderr) => resolve({ code: error === null ? 0 : Number(error.code ?? 1), stdout, stderr })
    )
  })

const expectSuccess = (outcome: Outcome) => {
  expect(outcome.stderr).toBe("")
  expect(outcome.code).toBe(0)
  return outcome.stdout
}

const uuid = /[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}/

const caption = "A short caption produced by the FLORA emulator."

/** What each example must print; every program in examples/ needs an entry. */
const examples: Record<string, (stdout: string) => void> = {
  "quick-start.ts": (stdout) => {
    expect(stdout).toMatch(/^Run run_\S+ completed, charged \$0\.01$/m)
    expect(stdout).toContain(`output_1 (text): ${caption}`)
  },
  "progress-stream.ts": (stdout) => {
    const lines = stdout.trim().split("\n")
    expect(lines[0]).toMatch(/^Started run_\S+; FLORA estimates 1 s$/)
    const snapshots = lines.slice(1, -1).map((line) => line.split(/\s+/))
    expect(snapshots.length).toBeGreaterThanOrEqual(3)
    expect(snapshots.at(-1)).toEqual(["completed", "100%"])
    const progress = snapshots.map(([, percent]) => Number.parseInt(percent))
    expect(progress).toEqual([...progress].sort((a, b) => a - b))
    expect(lines.at(-1)).toBe(`Ended completed: ${caption}`)
  },
  "batch.ts": (stdout) => {
    expect(stdout).toMatch(/^50 runs in \d+ ms$/m)
    expect(stdout).toContain("completed: 45, charged $0.45")
    expect(stdout).toContain("failed: 5 (RunFailed 5)")
  },
  "error-handling.ts": (stdout) => {
    const outcomes = stdout.trim().split("\n").map((line) => line.split(" -> ")[1].split(/[ :]/)[0])
    expect(outcomes).toEqual([
      "ValidationError",
      "ApiError",
      "ApiError",
      "IdempotencyDuplicate",
      "TransportError",
      "UnexpectedResponse",
      "RunFailed",
      "PollTimeout"
    ])
    expect(stdout).toContain("ApiError NotFound")
    expect(stdout).toContain("ApiError InsufficientCredits")
    expect(stdout).toContain("RunFailed: run")
  },
  "custom-retry.ts": (stdout) => {
    expect(stdout.match(/^attempt failed: ServerError/gm)).toHaveLength(3)
    expect(stdout).toMatch(/^Started run_\S+ after 4 attempts$/m)
    expect(stdout).toMatch(new RegExp(`^Idempotency keys sent: ${uuid.source}$`, "m"))
    expect(stdout).toContain("Runs created: 1")
  },
  "http-clients.ts": (stdout) => {
    expect(stdout).toMatch(/^fetch: run run_\S+ completed\nundici: run run_\S+ completed\n$/)
  }
}

describe.concurrent("examples", () => {
  it("lists an expectation for every example program", () => {
    const programs = readdirSync(new URL("../examples", import.meta.url))
      .filter((file) => file.endsWith(".ts") && !file.endsWith(".test.ts"))
    expect(programs.sort()).toEqual(Object.keys(examples).sort())
  })

  for (const [file, check] of Object.entries(examples)) {
    it(`${file} runs against the emulator and exits 0`, async () => {
      check(expectSuccess(await runTs(`examples/${file}`)))
    }, 60_000)
  }
})

describe.concurrent("npm start", () => {
  it(
    "without FLORA_API_KEY runs tech_demo on the emulator, then catches a failed run as RunFailed",
    async () => {
      const stdout = expectSuccess(await runTs("scripts/start.ts"))

      // Not a terminal here, so progress comes as plain lines instead of a bar.
      expect(stdout).toMatch(/^No FLORA_API_KEY set: using the FLORA emulator at http:\/\/127\.0\.0\.1:\d+\/api\/v1/)
      expect(stdout).toContain("tech_demo: running")
      expect(stdout).toContain("tech_demo: completed 100%")
      expect(stdout).toMatch(/^Run run_\S+ completed\.$/m)
      expect(stdout).toMatch(/^ {2}output output_1 \(imageUrl\): https:\/\/\S+$/m)
      expect(stdout).toContain("  charged cost:    $0.25")
      expect(stdout).toMatch(new RegExp(`^  idempotency key: ${uuid.source}$`, "m"))
      expect(stdout).toContain("tech_demo_fails: failed")
      expect(stdout).toMatch(/^Caught RunFailed: run run_\S+ ended failed\.$/m)
      expect(stdout).toContain("  error code:      provider_error")
      expect(stdout).not.toContain(FloraEmulator.defaultApiKey)
    },
    60_000
  )

  const onLoopback = Layer.orDie(EmulatorServer.layer())

  it.live("with FLORA_API_KEY runs the technique, workspace and inputs it is given", () =>
    Effect.gen(function*() {
      const { baseUrl } = yield* EmulatorServer.FloraEmulatorServer
      const emulator = yield* FloraEmulator.FloraEmulator
      const outcome = yield* Effect.promise(() =>
        runTs("scripts/start.ts", {
          args: ["--technique", "tech_demo_instant", "--input", "prompt=a red fox", "--input", "seed=7"],
          env: {
            FLORA_API_KEY: FloraEmulator.defaultApiKey,
            FLORA_BASE_URL: baseUrl,
            FLORA_WORKSPACE_ID: "ws_demo",
            FLORA_INPUTS: `{"prompt":"replaced","style":"ink"}`
          }
        })
      )

      const stdout = expectSuccess(outcome)
      expect(stdout).toContain(`Running tech_demo_instant in ws_demo on ${baseUrl}`)
      expect(stdout).toMatch(/^Run run_\S+ completed\.$/m)
      expect(stdout).not.toContain("RunFailed")
      expect(stdout).not.toContain(FloraEmulator.defaultApiKey)
      const runs = yield* emulator.runs
      expect(runs.map((run) => [run.techniqueId, run.inputs])).toEqual([
        ["tech_demo_instant", { prompt: "a red fox", seed: "7", style: "ink" }]
      ])
    }).pipe(Effect.provide(onLoopback)), 60_000)

  it.live("with FLORA_API_KEY reports an API error and exits 1", () =>
    Effect.gen(function*() {
      const { baseUrl } = yield* EmulatorServer.FloraEmulatorServer
      const outcome = yield* Effect.promise(() =>
        runTs("scripts/start.ts", {
          args: ["--technique", "tech_missing", "--workspace", "ws_demo"],
          env: { FLORA_API_KEY: FloraEmulator.defaultApiKey, FLORA_BASE_URL: baseUrl }
        })
      )

      expect(outcome.code).toBe(1)
      expect(outcome.stderr).toMatch(/^ApiError: NotFound: Technique tech_missing not found\./)
      expect(outcome.stderr + outcome.stdout).not.toContain(FloraEmulator.defaultApiKey)
    }).pipe(Effect.provide(onLoopback)), 60_000)

  it("with FLORA_API_KEY but no technique prints its usage and exits 2", async () => {
    const outcome = await runTs("scripts/start.ts", { env: { FLORA_API_KEY: "sk_test_unused" } })

    expect(outcome.code).toBe(2)
    expect(outcome.stderr).toContain("With FLORA_API_KEY set, give a technique and a workspace.")
    expect(outcome.stderr).toContain("Usage: npm start")
  }, 60_000)
})
