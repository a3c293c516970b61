/**
 * The randomized fault campaign: logical `startTechnique` and `runTechnique` calls against the emulator on
 * a real loopback socket, each facing a random sequence of faults, each checked against the emulator's own
 * records.
 *
 * Scenarios are drawn with `fast-check` from a seed, so a run is reproducible: the same seed gives the
 * same scenarios (timing on a real socket may still differ slightly). Every scenario gets its own emulator,
 * server, API key and HTTP transport (the platform's `fetch` client or undici), so no state leaks between
 * scenarios and scenarios can run concurrently.
 *
 * A refused connection cannot be produced by a server that is listening, so the scenario's transport is
 * wrapped: an attempt planned as `refused` is sent to a loopback port where nothing listens (port 1, checked
 * before the campaign starts), and the kernel refuses it. Every other fault is played by the emulator.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as fc from "fast-check"
import * as Net from "node:net"
import * as FloraClient from "../../src/FloraClient.js"
import { isFloraError, type StartError } from "../../src/FloraError.js"
import * as Retry from "../../src/Retry.js"
import * as FloraEmulator from "../../src/testing/FloraEmulator.js"
import * as EmulatorServer from "../../src/testing/node.js"
import { type Captured, makeCapture, renderings } from "../support/capture.js"

// ---------------------------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------------------------

/** How a retryable answer states its `Retry-After`. */
export type RetryAfterForm =
  | "none"
  | "seconds"
  | "secondsAboveCap"
  | "millis"
  | "date"
  | "pastDate"
  | "garbage"
  | "negative"
  | "huge"
  | "empty"

/** One fault met by one attempt. Plain data, so a failing scenario prints as JSON. */
export type FaultSpec =
  | { readonly kind: "refused" }
  | { readonly kind: "reset" }
  | { readonly kind: "dropBeforeCreate" }
  | { readonly kind: "lostResponse" }
  | { readonly kind: "retryableStatus"; readonly status: number; readonly retryAfter: RetryAfterForm; echo: boolean }
  | { readonly kind: "finalStatus"; readonly status: number; readonly echo: boolean }
  | { readonly kind: "html502"; readonly echo: boolean }
  | { readonly kind: "empty500" }
  | { readonly kind: "malformed2xx" }
  | { readonly kind: "stall" }
  | { readonly kind: "slow" }
  | { readonly kind: "latency" }

export interface Scenario {
  readonly operation: "startTechnique" | "runTechnique"
  readonly transport: "fetch" | "undici"
  readonly technique: "tech_instant" | "tech_quick" | "tech_fails" | "tech_never"
  readonly idempotency: FloraEmulator.IdempotencyMode
  /** The key as the caller configures it; a trailing newline must be ignored by the client. */
  readonly keySuffix: string
  readonly keyTrailingNewline: boolean
  readonly ownIdempotencyKey: boolean
  readonly retries: number
  readonly spacingMs: number
  readonly timeoutMs: number
  readonly deadlineMs: number
  readonly maxRetryAfterMs: number
  readonly pollSpacingMs: number
  /** Faults of the `POST /runs/technique` attempts, in order; later attempts are answered normally. */
  readonly startFaults: ReadonlyArray<FaultSpec>
  /** Faults of the `GET /runs/{runId}` polls, in order (only `runTechnique` polls). */
  readonly pollFaults: ReadonlyArray<FaultSpec>
  /** When set, the caller interrupts the call this many milliseconds after it starts. */
  readonly interruptAfterMs: number | undefined
}

const retryAfterForm = fc.constantFrom<RetryAfterForm>(
  "none",
  "seconds",
  "secondsAboveCap",
  "millis",
  "date",
  "pastDate",
  "garbage",
  "negative",
  "huge",
  "empty"
)

const simple = <K extends FaultSpec["kind"]>(kind: K) => fc.constant({ kind } as Extract<FaultSpec, { kind: K }>)

const retryableStatus = fc.record({
  kind: fc.constant("retryableStatus" as const),
  status: fc.constantFrom(408, 429, 500, 502, 503, 504),
  retryAfter: retryAfterForm,
  echo: fc.boolean()
})

const startFault: fc.Arbitrary<FaultSpec> = fc.oneof(
  { arbitrary: simple("refused"), weight: 2 },
  { arbitrary: simple("reset"), weight: 2 },
  { arbitrary: simple("dropBeforeCreate"), weight: 1 },
  { arbitrary: simple("lostResponse"), weight: 3 },
  { arbitrary: retryableStatus, weight: 6 },
  {
    arbitrary: fc.record({
      kind: fc.constant("finalStatus" as const),
      status: fc.constantFrom(400, 401, 402, 403, 404, 409),
      echo: fc.boolean()
    }),
    weight: 2
  },
  { arbitrary: fc.record({ kind: fc.constant("html502" as const), echo: fc.boolean() }), weight: 1 },
  { arbitrary: simple("empty500"), weight: 1 },
  { arbitrary: simple("malformed2xx"), weight: 1 },
  { arbitrary: simple("stall"), weight: 1 },
  { arbitrary: simple("slow"), weight: 1 },
  { arbitrary: simple("latency"), weight: 1 }
)

const pollFault: fc.Arbitrary<FaultSpec> = fc.oneof(
  { arbitrary: simple("refused"), weight: 1 },
  { arbitrary: simple("reset"), weight: 1 },
  {
    arbitrary: fc.record({
      kind: fc.constant("retryableStatus" as const),
      status: fc.constantFrom(429, 500, 503),
      retryAfter: retryAfterForm,
      echo: fc.boolean()
    }),
    weight: 4
  },
  {
    arbitrary: fc.record({ kind: fc.constant("finalStatus" as const), status: fc.constant(404), echo: fc.boolean() }),
    weight: 1
  },
  { arbitrary: fc.record({ kind: fc.constant("html502" as const), echo: fc.boolean() }), weight: 1 },
  { arbitrary: simple("malformed2xx"), weight: 1 },
  { arbitrary: simple("stall"), weight: 1 },
  { arbitrary: simple("slow"), weight: 1 }
)

/** Every scenario the campaign can draw. */
export const scenario: fc.Arbitrary<Scenario> = fc.record({
  operation: fc.constantFrom("startTechnique", "runTechnique"),
  transport: fc.constantFrom("fetch", "undici"),
  technique: fc.constantFrom("tech_instant", "tech_quick", "tech_fails", "tech_never"),
  idempotency: fc.constantFrom<FloraEmulator.IdempotencyMode>("reject", "replay"),
  keySuffix: fc.stringMatching(/^[A-Za-z0-9]{16,32}$/),
  keyTrailingNewline: fc.boolean(),
  ownIdempotencyKey: fc.boolean(),
  retries: fc.integer({ min: 0, max: 4 }),
  spacingMs: fc.integer({ min: 1, max: 30 }),
  timeoutMs: fc.integer({ min: 120, max: 250 }),
  deadlineMs: fc.integer({ min: 300, max: 1500 }),
  maxRetryAfterMs: fc.constantFrom(250, 1200),
  pollSpacingMs: fc.integer({ min: 10, max: 40 }),
  startFaults: fc.array(startFault, { maxLength: 6 }),
  pollFaults: fc.array(pollFault, { maxLength: 4 }),
  interruptAfterMs: fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 6 },
    { arbitrary: fc.integer({ min: 0, max: 400 }), weight: 1 }
  )
})

// ---------------------------------------------------------------------------------------------------------
// Playing a scenario
// ---------------------------------------------------------------------------------------------------------

const workspaceId = "ws_campaign"

const techniquesFor = (apiKey: string): ReadonlyArray<FloraEmulator.Technique> => {
  const prompt = [{ id: "prompt", name: "Prompt", type: "text" as const, optional: true }]
  const image = { status: "completed" as const, outputs: [{ type: "imageUrl" as const }] }
  return [
    { id: "tech_instant", name: "Instant", runCost: 0, inputs: prompt, queue: 0, duration: 0, outcome: image },
    { id: "tech_quick", name: "Quick", runCost: 0.01, inputs: prompt, queue: 20, duration: 60, outcome: image },
    {
      id: "tech_fails",
      name: "Fails",
      runCost: 0.01,
      inputs: prompt,
      queue: 10,
      duration: 30,
      // A run error that echoes the key: the client must scrub it from `RunFailed`.
      outcome: { status: "failed", errorCode: "provider_error", errorMessage: `provider refused key ${apiKey}` }
    },
    {
      id: "tech_never",
      name: "Never",
      runCost: 0.01,
      inputs: prompt,
      queue: "1 hour",
      duration: "1 hour",
      outcome: image
    }
  ]
}

const retryAfterHeaders = (form: RetryAfterForm): Record<string, string> => {
  switch (form) {
    case "none":
      return {}
    case "seconds":
      return { "retry-after": "0.1" }
    case "secondsAboveCap":
      return { "retry-after": "3" }
    case "millis":
      return { "retry-after-ms": "40" }
    case "date":
      return { "retry-after": new Date(Date.now() + 30_000).toUTCString() }
    case "pastDate":
      return { "retry-after": new Date(Date.now() - 60_000).toUTCString() }
    case "garbage":
      return { "retry-after": "soon, maybe" }
    case "negative":
      return { "retry-after": "-5" }
    case "huge":
      return { "retry-after": "99999999999" }
    case "empty":
      return { "retry-after": "" }
  }
}

/** The hint of a form, in milliseconds: `undefined` when the client must ignore it. */
const hintMillis = (form: RetryAfterForm): number | undefined => {
  switch (form) {
    case "seconds":
      return 100
    case "millis":
      return 40
    case "secondsAboveCap":
      return 3000
    case "date":
      return 30_000
    case "huge":
      return 99999999999_000
    default:
      return undefined
  }
}

const codeOf: Record<number, string> = {
  400: "input_validation_error",
  401: "invalid_api_key",
  402: "insufficient_credits",
  403: "forbidden",
  404: "not_found",
  408: "request_timeout",
  409: "idempotency_duplicate",
  429: "rate_limited",
  500: "unknown_error",
  502: "bad_gateway",
  503: "service_unavailable",
  504: "gateway_timeout"
}

/** The emulator fault playing `spec`; `undefined` for `refused`, which the transport plays. */
const toFault = (
  spec: FaultSpec,
  route: "POST /runs/technique" | "GET /runs/{runId}",
  scenario: Scenario,
  apiKey: string
): FloraEmulator.Fault | undefined => {
  const said = (echo: boolean, text: string) => echo ? `${text} (request authorized by ${apiKey})` : text
  switch (spec.kind) {
    case "refused":
      return undefined
    case "reset":
      return FloraEmulator.Fault.reset
    case "dropBeforeCreate":
      return FloraEmulator.Fault.dropBeforeCreate
    case "lostResponse":
      return FloraEmulator.Fault.dropAfterCreate
    case "retryableStatus":
      return FloraEmulator.Fault.error({
        status: spec.status,
        code: codeOf[spec.status]!,
        message: said(spec.echo, `status ${spec.status}`),
        headers: retryAfterHeaders(spec.retryAfter)
      })
    case "finalStatus":
      return FloraEmulator.Fault.error({
        status: spec.status,
        code: codeOf[spec.status]!,
        message: said(spec.echo, `status ${spec.status}`)
      })
    case "html502":
      return FloraEmulator.Fault.respond({
        status: 502,
        headers: { "content-type": "text/html" },
        body: `<html><body><h1>502 Bad Gateway</h1><p>${said(spec.echo, "upstream error")}</p></body></html>`
      })
    case "empty500":
      return FloraEmulator.Fault.respond({ status: 500 })
    case "malformed2xx":
      return FloraEmulator.Fault.respond({
        status: route === "POST /runs/technique" ? 201 : 200,
        headers: { "content-type": "application/json" },
        body: `{"run_id": "run_truncated", "type": `
      })
    case "stall":
      return FloraEmulator.Fault.stallBody
    case "slow":
      return FloraEmulator.Fault.delay(scenario.timeoutMs + slowBeyondTimeoutMs)
    case "latency":
      return FloraEmulator.Fault.delay(latencyMs)
  }
}

const slowBeyondTimeoutMs = 200
const latencyMs = 15

/**
 * Whether the client must retry after an attempt met `spec`: transport failures and timeouts, and the
 * statuses 408, 429, 500, 502, 503 and 504 unless their hint is above the cap. `undefined` (no fault: the
 * emulator answers normally, with a 201 or a duplicate) and `latency` are never retried.
 */
const mustAllowRetry = (spec: FaultSpec | undefined, maxRetryAfterMs: number): boolean => {
  if (spec === undefined) return false
  switch (spec.kind) {
    case "refused":
    case "reset":
    case "dropBeforeCreate":
    case "lostResponse":
    case "stall":
    case "slow":
    case "html502":
    case "empty500":
      return true
    case "retryableStatus": {
      const hint = hintMillis(spec.retryAfter)
      return hint === undefined || hint <= maxRetryAfterMs
    }
    case "finalStatus":
    case "malformed2xx":
    case "latency":
      return false
  }
}

/** What the scenario's transport saw the client send. */
interface Sent {
  readonly method: string
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
  /** Sent after the caller asked for the interrupt. */
  readonly afterInterrupt: boolean
}

/** A deliberate client bug, to show that the invariants catch it. Only the campaign's own test uses it. */
export type Sabotage = "none" | "freshKeyOnRetry" | "ignoreDeadline"

/** The outcome of one scenario, as the invariants judged it. */
export interface Verdict {
  readonly index: number
  readonly scenario: Scenario
  readonly outcome: "success" | "typed failure" | "interrupted" | "untyped failure"
  readonly failureTag: string | undefined
  readonly runsCreated: number
  readonly elapsedMs: number
  readonly boundMs: number
  readonly attempts: number
  /** Every invariant broken, in words; empty when the scenario passed. */
  readonly problems: ReadonlyArray<Problem>
}

export type Problem =
  | "duplicated"
  | "lost"
  | "phantom"
  | "untyped failure"
  | "deadline overrun"
  | "over-retried"
  | "gave up early"
  | "request after interrupt"
  | "attempts misreported"
  | "secret leaked"
  | "key sent elsewhere"

export interface Finding {
  readonly problem: Problem
  readonly detail: string
}

const startErrorTags = new Set([
  "ValidationError",
  "TransportError",
  "ApiError",
  "UnexpectedResponse",
  "IdempotencyDuplicate"
])
const runErrorTags = new Set([...startErrorTags, "PollTimeout", "RunFailed"])

/** Settings that apply to the whole campaign. */
export interface Settings {
  /** Extra real time a call may take beyond its deadline before it counts as an overrun. */
  readonly slackMs: number
  /** A loopback port where nothing listens. */
  readonly refusedPort: number
  readonly sabotage: Sabotage
}

/** Plays one scenario on a fresh emulator and loopback server, and judges it. */
export const play = (
  index: number,
  scenario: Scenario,
  settings: Settings
): Effect.Effect<Verdict & { readonly findings: ReadonlyArray<Finding> }> =>
  Effect.scoped(Effect.gen(function*() {
    const apiKey = `sk_test_campaign_${scenario.keySuffix}`
    const emulator = yield* FloraEmulator.make({
      accounts: [{ apiKey, workspaceId, credits: 1_000_000 }],
      techniques: techniquesFor(apiKey),
      idempotency: scenario.idempotency
    })
    const server = yield* Effect.orDie(EmulatorServer.serve(emulator))
    const origin = new URL(server.baseUrl).origin

    for (
      const [route, faults] of [
        ["POST /runs/technique", scenario.startFaults],
        ["GET /runs/{runId}", scenario.operation === "runTechnique" ? scenario.pollFaults : []]
      ] as const
    ) {
      for (const spec of faults) {
        const fault = toFault(spec, route, scenario, apiKey)
        if (fault !== undefined) yield* emulator.inject({ route, fault })
      }
    }

    const sent: Array<Sent> = []
    const flags = { interrupting: false }
    const plans: Record<string, ReadonlyArray<FaultSpec>> = { POST: scenario.startFaults, GET: scenario.pollFaults }
    const refusedOrigin = `http://127.0.0.1:${settings.refusedPort}`
    const base = scenario.transport === "fetch" ? FetchHttpClient.layer : NodeHttpClient.layerUndici
    const transport = Layer.effect(
      HttpClient.HttpClient,
      Effect.map(HttpClient.HttpClient, (client) =>
        HttpClient.mapRequest(client, (request) => {
          const body = request.body._tag === "Uint8Array" ? new TextDecoder().decode(request.body.body) : ""
          const nth = sent.filter((s) => s.method === request.method).length
          sent.push({
            method: request.method,
            url: request.url,
            headers: { ...request.headers },
            body,
            afterInterrupt: flags.interrupting
          })
          let out = request
          if (settings.sabotage === "freshKeyOnRetry" && nth > 0 && request.headers["idempotency-key"] !== undefined) {
            out = HttpClientRequest.setHeader(out, "idempotency-key", crypto.randomUUID())
          }
          if (plans[request.method]?.[nth]?.kind === "refused") {
            const url = new URL(request.url)
            out = HttpClientRequest.setUrl(out, `${refusedOrigin}${url.pathname}${url.search}`)
          }
          return out
        }))
    ).pipe(Layer.provide(base))

    const client = FloraClient.layer({
      apiKey: Redacted.make(scenario.keyTrailingNewline ? `${apiKey}\n` : apiKey),
      baseUrl: server.baseUrl,
      timeout: Duration.millis(scenario.timeoutMs),
      retry: Schedule.intersect(
        Schedule.spaced(Duration.millis(scenario.spacingMs)),
        Schedule.recurs(scenario.retries)
      ),
      maxRetryAfter: Duration.millis(scenario.maxRetryAfterMs)
    }).pipe(Layer.orDie, Layer.provide(transport))

    const { captured, layer: capture } = makeCapture()
    const ownKey = scenario.ownIdempotencyKey || scenario.interruptAfterMs !== undefined
      ? `campaign-${index}-${scenario.keySuffix.slice(0, 8)}`
      : undefined
    const params = { technique_id: scenario.technique, workspace_id: workspaceId, inputs: { prompt: "a kite" } }
    const deadline = Duration.millis(
      settings.sabotage === "ignoreDeadline" ? scenario.deadlineMs * 3 : scenario.deadlineMs
    )
    const call: Effect.Effect<unknown, unknown, FloraClient.FloraClient> = scenario.operation === "startTechnique"
      ? FloraClient.startTechnique(params, { deadline, idempotencyKey: ownKey })
      : FloraClient.runTechnique(params, {
        idempotencyKey: ownKey,
        start: { deadline },
        poll: { deadline, initialDelay: 0, schedule: Schedule.spaced(Duration.millis(scenario.pollSpacingMs)) }
      })

    // Built before the clock starts, so the time measured is the call's alone. (A whole `Runtime` would also
    // carry the uninterruptible flags of the layer's construction into the call.)
    const services = yield* Layer.build(client)
    // The call's own end: when it finished, or when its interruption completed (not when the caller woke up).
    const clock = { startedAt: performance.now(), endedAt: 0 }
    const fiber = yield* call.pipe(
      Effect.provide(services),
      Effect.provide(capture),
      Effect.ensuring(Effect.sync(() => {
        clock.endedAt = performance.now()
      })),
      Effect.fork
    )
    if (scenario.interruptAfterMs !== undefined) {
      yield* Effect.sleep(Duration.millis(scenario.interruptAfterMs))
      flags.interrupting = true
      yield* Fiber.interrupt(fiber)
    }
    const exit = yield* Fiber.await(fiber)
    const elapsedMs = clock.endedAt - clock.startedAt

    // Let any request the server is still holding (a slow answer) finish, so a late run is seen too.
    const slow = [...scenario.startFaults, ...scenario.pollFaults].some((spec) => spec.kind === "slow")
    yield* Effect.sleep(Duration.millis(slow ? slowBeyondTimeoutMs + 100 : 20))
    const runs = yield* emulator.runs
    const received = yield* emulator.requests

    return judge({ index, scenario, settings, apiKey, origin, ownKey, exit, elapsedMs, runs, received, sent, captured })
  }))

interface Evidence {
  readonly index: number
  readonly scenario: Scenario
  readonly settings: Settings
  readonly apiKey: string
  readonly origin: string
  readonly ownKey: string | undefined
  readonly exit: Exit.Exit<unknown, unknown>
  readonly elapsedMs: number
  readonly runs: ReadonlyArray<FloraEmulator.CreatedRun>
  readonly received: ReadonlyArray<FloraEmulator.RecordedRequest>
  readonly sent: ReadonlyArray<Sent>
  readonly captured: Captured
}

interface ErrorFields {
  readonly _tag: string
  readonly operation?: string
  readonly attempts?: number
  readonly mayHaveCreatedRun?: boolean
  readonly idempotencyKey?: string
  readonly runId?: string
}

/** Checks every invariant of one scenario against the emulator's records and what the transport saw. */
const judge = (evidence: Evidence): Verdict & { readonly findings: ReadonlyArray<Finding> } => {
  const { apiKey, exit, runs, scenario, sent } = evidence
  const findings: Array<Finding> = []
  const flag = (problem: Problem, detail: string) => findings.push({ problem, detail })
  const interrupted = scenario.interruptAfterMs !== undefined && Exit.isInterrupted(exit)
  const posts = sent.filter((s) => s.method === "POST")
  const allowed = scenario.operation === "startTechnique" ? startErrorTags : runErrorTags

  // Every call ends in success or one typed error from the documented union.
  let failure: ErrorFields | undefined
  let outcome: Verdict["outcome"] = "success"
  if (Exit.isFailure(exit)) {
    const failures = [...Cause.failures(exit.cause)]
    const typed = Cause.isFailType(exit.cause) && isFloraError(exit.cause.error) &&
      allowed.has((exit.cause.error as ErrorFields)._tag)
    if (interrupted && Cause.isInterruptedOnly(exit.cause)) outcome = "interrupted"
    else if (typed) {
      outcome = "typed failure"
      failure = failures[0] as ErrorFields
    } else {
      outcome = "untyped failure"
      flag("untyped failure", Cause.pretty(exit.cause).split("\n")[0] ?? "")
    }
  }

  // At most one run per logical call.
  if (runs.length > 1) flag("duplicated", `${runs.length} runs: ${runs.map((run) => run.idempotencyKey).join(", ")}`)

  // A created run is returned, or the error says it may exist and names the key to find it by.
  const run = runs[0]
  if (run !== undefined && outcome === "interrupted") {
    if (run.idempotencyKey !== evidence.ownKey) flag("lost", "an interrupted call's run lacks the caller's own key")
  } else if (run !== undefined && outcome === "success") {
    const value = Exit.isSuccess(exit) ? exit.value as { run_id?: string; started?: { run_id: string } } : {}
    const runId = value.started?.run_id ?? value.run_id
    if (runId !== run.runId) flag("lost", `returned ${runId}, the server created ${run.runId}`)
  } else if (run !== undefined && failure !== undefined) {
    const says = failure.mayHaveCreatedRun === true || failure.runId === run.runId
    if (!says || failure.idempotencyKey === undefined || failure.idempotencyKey !== run.idempotencyKey) {
      flag(
        "lost",
        `${failure._tag} from ${failure.operation ?? "polling"} (mayHaveCreatedRun ${failure.mayHaveCreatedRun}, ` +
          `key ${failure.idempotencyKey}) hides run ${run.runId} (key ${run.idempotencyKey})`
      )
    }
  } else if (run === undefined && outcome === "success") {
    flag("phantom", "the call succeeded but the server created no run")
  }

  // Every call ends within its deadline: the start's, plus the polling's for runTechnique.
  const deadlineMs = scenario.deadlineMs * (scenario.operation === "runTechnique" ? 2 : 1)
  const boundMs = Math.min(deadlineMs, scenario.interruptAfterMs ?? deadlineMs)
  if (evidence.elapsedMs > boundMs + evidence.settings.slackMs) {
    flag("deadline overrun", `${evidence.elapsedMs.toFixed(0)} ms against a bound of ${boundMs} ms`)
  }

  // Retries stay within the count, and happen only after a retryable answer.
  if (posts.length > scenario.retries + 1) flag("over-retried", `${posts.length} attempts, ${scenario.retries} retries`)
  // An attempt that got no answer in time (a slow machine can make even a quick answer late) may be retried
  // whatever its fault was: the client's per-attempt log line says whether a response came back.
  const unanswered = new Set(
    evidence.captured.logs
      .filter((log) => log.message === "FLORA request" && log.annotations["method"] === "POST")
      .filter((log) => log.annotations["status"] === "none")
      .map((log) => Number(log.annotations["attempt"]) - 1)
  )
  for (let i = 0; i + 1 < posts.length; i++) {
    if (!unanswered.has(i) && !mustAllowRetry(scenario.startFaults[i], scenario.maxRetryAfterMs)) {
      flag(
        "over-retried",
        `retried after attempt ${i + 1} met ${JSON.stringify(scenario.startFaults[i] ?? "no fault")}`
      )
      break
    }
  }
  const startFailure = failure !== undefined && failure.operation === "POST /runs/technique"
    ? failure as StartError
    : undefined
  if (
    startFailure !== undefined && posts.length < scenario.retries + 1 &&
    Retry.shouldRetry(startFailure, Duration.millis(scenario.maxRetryAfterMs))
  ) {
    flag("gave up early", `${startFailure._tag} is retryable, after ${posts.length} of ${scenario.retries + 1}`)
  }

  // The attempts the client reports are the attempts it made.
  const reported = startFailure?.attempts ??
    (Exit.isSuccess(exit)
      ? (exit.value as { attempts?: number; started?: { attempts: number } }).started?.attempts ??
        (exit.value as { attempts?: number }).attempts
      : undefined)
  if (reported !== undefined && reported !== posts.length) {
    flag("attempts misreported", `reported ${reported}, sent ${posts.length}`)
  }

  // Nothing is sent after the caller interrupts, and the server saw no more than was sent before.
  if (sent.some((s) => s.afterInterrupt)) flag("request after interrupt", "the transport was asked to send")
  if (evidence.received.length > sent.filter((s) => !s.afterInterrupt && !isRefused(s, scenario, sent)).length) {
    flag("request after interrupt", `the server received ${evidence.received.length} requests`)
  }

  // The key's text appears in no error, log line or span; it is sent only as the bearer, only to the origin.
  const texts = [evidence.captured.text()]
  if (Exit.isFailure(exit)) {
    texts.push(Cause.pretty(exit.cause))
    for (const error of Cause.failures(exit.cause)) texts.push(...renderings(error))
    for (const defect of Cause.defects(exit.cause)) texts.push(...renderings(defect))
  } else {
    texts.push(JSON.stringify(exit.value))
  }
  if (texts.some((text) => text.includes(apiKey))) flag("secret leaked", "the key is in an error, log or span")
  for (const s of sent) {
    const { authorization, ...others } = s.headers
    const elsewhere = new URL(s.url).origin !== evidence.origin || authorization !== `Bearer ${apiKey}` ||
      JSON.stringify(others).includes(apiKey) || s.url.includes(apiKey) || s.body.includes(apiKey)
    if (elsewhere) flag("key sent elsewhere", `${s.method} ${s.url}`)
  }

  return {
    index: evidence.index,
    scenario,
    outcome,
    failureTag: failure?._tag,
    runsCreated: runs.length,
    elapsedMs: evidence.elapsedMs,
    boundMs,
    attempts: posts.length,
    problems: [...new Set(findings.map((finding) => finding.problem))],
    findings
  }
}

/** Whether a sent request was one the transport redirected to the refusing port. */
const isRefused = (s: Sent, scenario: Scenario, sent: ReadonlyArray<Sent>): boolean => {
  const nth = sent.filter((other) => other.method === s.method).indexOf(s)
  const plan = s.method === "POST" ? scenario.startFaults : scenario.pollFaults
  return plan[nth]?.kind === "refused"
}

// ---------------------------------------------------------------------------------------------------------
// The campaign
// ---------------------------------------------------------------------------------------------------------

export interface CampaignOptions {
  readonly seed: number
  readonly scenarios: number
  readonly concurrency?: number | undefined
  readonly slackMs?: number | undefined
  readonly sabotage?: Sabotage | undefined
  /** Play only the scenario with this index (to replay one failure). */
  readonly only?: number | undefined
}

export interface Summary {
  readonly seed: number
  readonly scenarios: number
  readonly runsCreated: number
  readonly successes: number
  readonly typedFailures: number
  readonly interrupted: number
  readonly counts: Readonly<Record<Problem, number>>
  readonly maxOverrunMs: number
  readonly durationMs: number
  readonly failures: ReadonlyArray<Verdict & { readonly findings: ReadonlyArray<Finding> }>
}

const problems: ReadonlyArray<Problem> = [
  "duplicated",
  "lost",
  "phantom",
  "untyped failure",
  "deadline overrun",
  "over-retried",
  "gave up early",
  "request after interrupt",
  "attempts misreported",
  "secret leaked",
  "key sent elsewhere"
]

/** The seed from `FLORA_CAMPAIGN_SEED`, or a fresh one. */
export const seedFromEnv = (): number => {
  const text = process.env["FLORA_CAMPAIGN_SEED"]
  if (text !== undefined && text.trim() !== "") {
    const seed = Number(text)
    if (!Number.isSafeInteger(seed)) throw new Error(`FLORA_CAMPAIGN_SEED must be an integer, got ${text}`)
    return seed
  }
  return (Date.now() ^ (Math.random() * 0x7fffffff)) | 0
}

/** Finds a loopback port that refuses connections (nothing listens on port 1). */
export const refusingPort: Effect.Effect<number> = Effect.async<number>((resume) => {
  const socket = Net.connect({ host: "127.0.0.1", port: 1 })
  socket.once("connect", () => {
    socket.destroy()
    resume(Effect.dieMessage("something listens on 127.0.0.1:1; the campaign needs a refusing port"))
  })
  socket.once("error", (error: NodeJS.ErrnoException) =>
    resume(
      error.code === "ECONNREFUSED"
        ? Effect.succeed(1)
        : Effect.dieMessage(`127.0.0.1:1 failed with ${error.code} instead of refusing`)
    ))
})

/** Draws the scenarios of `seed` and plays them, `concurrency` at a time. */
export const runCampaign = (options: CampaignOptions): Effect.Effect<Summary> =>
  Effect.gen(function*() {
    const drawn = fc.sample(scenario, { seed: options.seed, numRuns: options.scenarios })
    const settings: Settings = {
      slackMs: options.slackMs ?? 500,
      refusedPort: yield* refusingPort,
      sabotage: options.sabotage ?? "none"
    }
    const indices = options.only === undefined ? drawn.map((_, index) => index) : [options.only]
    const startedAt = performance.now()
    const verdicts = yield* Effect.forEach(indices, (index) => play(index, drawn[index]!, settings), {
      concurrency: options.concurrency ?? 4
    })
    const counts = Object.fromEntries(problems.map((problem) => [problem, 0])) as Record<Problem, number>
    for (const verdict of verdicts) for (const problem of verdict.problems) counts[problem] += 1
    return {
      seed: options.seed,
      scenarios: verdicts.length,
      runsCreated: verdicts.reduce((sum, verdict) => sum + verdict.runsCreated, 0),
      successes: verdicts.filter((verdict) => verdict.outcome === "success").length,
      typedFailures: verdicts.filter((verdict) => verdict.outcome === "typed failure").length,
      interrupted: verdicts.filter((verdict) => verdict.outcome === "interrupted").length,
      counts,
      maxOverrunMs: Math.max(0, ...verdicts.map((verdict) => verdict.elapsedMs - verdict.boundMs)),
      durationMs: performance.now() - startedAt,
      failures: verdicts.filter((verdict) => verdict.problems.length > 0)
    }
  })

/** The number of scenarios that broke at least one invariant. */
export const badCount = (summary: Summary): number => summary.failures.length

/** The one summary line. */
export const summaryLine = (summary: Summary): string => {
  const c = summary.counts
  return [
    `campaign seed=${summary.seed}`,
    `scenarios=${summary.scenarios}`,
    `runs created=${summary.runsCreated}`,
    `duplicated=${c["duplicated"]}`,
    `lost=${c["lost"]}`,
    `untyped failures=${c["untyped failure"]}`,
    `deadline overruns=${c["deadline overrun"]}`,
    `over-retried=${c["over-retried"]}`,
    `gave up early=${c["gave up early"]}`,
    `requests after interrupt=${c["request after interrupt"]}`,
    `attempts misreported=${c["attempts misreported"]}`,
    `phantom runs=${c["phantom"]}`,
    `secret leaks=${c["secret leaked"]}`,
    `key sent elsewhere=${c["key sent elsewhere"]}`,
    `(successes=${summary.successes} typed failures=${summary.typedFailures} interrupted=${summary.interrupted}` +
    ` max overrun=${summary.maxOverrunMs.toFixed(0)}ms duration=${(summary.durationMs / 1000).toFixed(1)}s)`
  ].join(" ")
}

/** A failing scenario in full, with how to replay it. */
export const describeFailure = (summary: Summary, verdict: Summary["failures"][number]): string =>
  [
    `scenario ${verdict.index} (${verdict.outcome}${
      verdict.failureTag === undefined ? "" : ` ${verdict.failureTag}`
    }, ` +
    `${verdict.attempts} attempts, ${verdict.runsCreated} runs, ${verdict.elapsedMs.toFixed(0)} ms):`,
    ...verdict.findings.map((finding) => `  ${finding.problem}: ${finding.detail}`),
    `  ${JSON.stringify(verdict.scenario)}`,
    `  replay: FLORA_CAMPAIGN_SEED=${summary.seed} npm run campaign -- --scenarios ${summary.scenarios}` +
    ` --only ${verdict.index}`
  ].join("\n")
