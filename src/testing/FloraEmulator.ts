/**
 * A stateful, local emulator of the FLORA API for tests, examples and benchmarks.
 *
 * It serves `POST /runs/technique`, `GET /runs/{runId}`, `GET /techniques` and `GET /techniques/{techniqueId}`
 * under `/api/v1`, with bearer auth, validation, per-workspace credits, idempotency keys, an optional rate limit
 * and a run lifecycle driven by Effect's `Clock`, so `TestClock` moves runs from `pending` to `completed`.
 * Faults (error responses, latency, dropped or reset connections, stalled bodies) can be scripted per route.
 *
 * Started with no options it accepts the API key `sk_test_emulator`, which owns workspace `ws_demo` with $1000
 * of credits, and seeds `tech_demo`, `tech_demo_text`, `tech_demo_fails` and `tech_demo_instant`.
 *
 * This module imports nothing Node-specific: `layer` answers requests in-process, in the caller's fiber.
 * The loopback socket server lives in `effect-flora/testing/node`.
 *
 * @since 0.1.0
 */
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpClient from "@effect/platform/HttpClient"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as FloraClient from "../FloraClient.js"
import type * as FloraConfig from "../FloraConfig.js"
import { makeApp } from "../internal/emulator/app.js"
import * as internalConnection from "../internal/emulator/connection.js"
import { makeInProcessClient } from "../internal/emulator/inProcess.js"
import { EmulatorState } from "../internal/emulator/state.js"

/**
 * The API key the emulator accepts when no `accounts` are given.
 *
 * @since 0.1.0
 * @category defaults
 */
export const defaultApiKey = "sk_test_emulator"

/**
 * The workspace owned by {@link defaultApiKey}.
 *
 * @since 0.1.0
 * @category defaults
 */
export const defaultWorkspaceId = "ws_demo"

/**
 * Credits, in USD, of {@link defaultWorkspaceId}.
 *
 * @since 0.1.0
 * @category defaults
 */
export const defaultCredits = 1000

/**
 * The path every route is served under, mirroring `https://app.flora.ai/api/v1`.
 *
 * @since 0.1.0
 * @category constants
 */
export const basePath: "/api/v1" = internalConnection.basePath

/**
 * The base URL the in-process client of {@link layer} answers to. Nothing is ever sent on a network for it.
 *
 * @since 0.1.0
 * @category constants
 */
export const inProcessBaseUrl = "http://flora.emulator.local/api/v1"

/**
 * How the emulator answers an `Idempotency-Key` seen again within its window: `"reject"` answers
 * 409 `idempotency_duplicate` (the API reference); `"replay"` answers the original 201 again with the header
 * `idempotent-replayed: true`, or 422 `idempotency_conflict` when the body differs (FLORA's idempotency guide).
 *
 * @since 0.1.0
 * @category models
 */
export type IdempotencyMode = "reject" | "replay"

/**
 * The media types of technique inputs and run outputs.
 *
 * @since 0.1.0
 * @category models
 */
export type MediaType = "imageUrl" | "videoUrl" | "audioUrl" | "text" | "documentUrl"

/**
 * One input of a technique, as listed by `GET /techniques/{techniqueId}`.
 *
 * @since 0.1.0
 * @category models
 */
export interface TechniqueInput {
  readonly id: string
  readonly name: string
  readonly type: MediaType
  readonly optional?: boolean | undefined
  readonly description?: string | undefined
}

/**
 * One output a completed run carries. `value` is the URL, or the text itself for `text` outputs; when omitted
 * the emulator makes one up from the run id (URLs under `https://media.flora.emulator.local`, never fetched).
 *
 * @since 0.1.0
 * @category models
 */
export interface TechniqueOutput {
  readonly type: MediaType
  readonly name?: string | undefined
  readonly value?: string | undefined
}

/**
 * How runs of a technique end.
 *
 * @since 0.1.0
 * @category models
 */
export type RunOutcome =
  | { readonly status: "completed"; readonly outputs: ReadonlyArray<TechniqueOutput> }
  | { readonly status: "failed"; readonly errorCode: string; readonly errorMessage?: string | undefined }

/**
 * A technique the emulator serves. A run is `pending` for `queue`, then `running` for `duration` with
 * `progress` rising from 0 to 100, then ends as `outcome` says.
 *
 * @since 0.1.0
 * @category models
 */
export interface Technique {
  readonly id: string
  readonly name: string
  readonly description?: string | undefined
  /** Cost per run in USD, charged to the workspace when the run is created. */
  readonly runCost: number
  readonly inputs: ReadonlyArray<TechniqueInput>
  /** Time spent `pending`; 500 milliseconds when omitted. */
  readonly queue?: Duration.DurationInput | undefined
  /** Time spent `running`; 3 seconds when omitted. */
  readonly duration?: Duration.DurationInput | undefined
  readonly outcome: RunOutcome
}

/**
 * An API key and the one workspace it owns, with that workspace's credits in USD.
 *
 * @since 0.1.0
 * @category models
 */
export interface Account {
  readonly apiKey: string
  readonly workspaceId: string
  readonly credits: number
}

/**
 * A fixed-window rate limit applied per workspace to every authenticated request.
 *
 * @since 0.1.0
 * @category models
 */
export interface RateLimit {
  readonly requests: number
  readonly window: Duration.DurationInput
}

/**
 * Options of {@link make} and {@link layer}. Every field is optional.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Replaces the default account (`sk_test_emulator` owning `ws_demo` with $1000). */
  readonly accounts?: ReadonlyArray<Account> | undefined
  /** Replaces the default techniques ({@link defaultTechniques}). */
  readonly techniques?: ReadonlyArray<Technique> | undefined
  /** `"reject"` when omitted. */
  readonly idempotency?: IdempotencyMode | undefined
  /** How long an `Idempotency-Key` is remembered per API key; two hours when omitted. */
  readonly idempotencyWindow?: Duration.DurationInput | undefined
  /** No rate limit when omitted. */
  readonly rateLimit?: RateLimit | undefined
  /** Every run completes (or fails) the moment it is created, whatever its technique says. For benchmarks. */
  readonly instant?: boolean | undefined
}

/**
 * The techniques seeded when no `techniques` option is given:
 *
 * - `tech_demo`: one image output after about 3 seconds, $0.25 a run, needs the text input `prompt`;
 * - `tech_demo_text`: one text output (its `url` carries the text) after about 1 second, $0.01;
 * - `tech_demo_fails`: ends `failed` with `provider_error` after about 2 seconds, $0.10;
 * - `tech_demo_instant`: completes with an image output as soon as it is created, free.
 *
 * @since 0.1.0
 * @category defaults
 */
export const defaultTechniques: ReadonlyArray<Technique> = [
  {
    id: "tech_demo",
    name: "Demo image technique",
    description: "Turns a prompt, and optionally a reference image, into one image.",
    runCost: 0.25,
    inputs: [
      { id: "prompt", name: "Prompt", type: "text" },
      { id: "input_image", name: "Reference image", type: "imageUrl", optional: true }
    ],
    queue: "500 millis",
    duration: "2500 millis",
    outcome: { status: "completed", outputs: [{ type: "imageUrl", name: "Image" }] }
  },
  {
    id: "tech_demo_text",
    name: "Demo caption technique",
    description: "Writes a short caption for a prompt.",
    runCost: 0.01,
    inputs: [{ id: "prompt", name: "Prompt", type: "text" }],
    queue: "250 millis",
    duration: "750 millis",
    outcome: {
      status: "completed",
      outputs: [{ type: "text", name: "Caption", value: "A short caption produced by the FLORA emulator." }]
    }
  },
  {
    id: "tech_demo_fails",
    name: "Demo failing technique",
    description: "Always ends failed with provider_error.",
    runCost: 0.1,
    inputs: [{ id: "prompt", name: "Prompt", type: "text" }],
    queue: "500 millis",
    duration: "1500 millis",
    outcome: {
      status: "failed",
      errorCode: "provider_error",
      errorMessage: "The provider failed to complete the generation."
    }
  },
  {
    id: "tech_demo_instant",
    name: "Demo instant technique",
    description: "Completes with an image as soon as it is created.",
    runCost: 0,
    inputs: [{ id: "prompt", name: "Prompt", type: "text", optional: true }],
    queue: 0,
    duration: 0,
    outcome: { status: "completed", outputs: [{ type: "imageUrl", name: "Image" }] }
  }
]

/**
 * The routes of the emulator, as `"<METHOD> <path template>"`.
 *
 * @since 0.1.0
 * @category models
 */
export type Route =
  | "POST /runs/technique"
  | "GET /runs/{runId}"
  | "GET /techniques"
  | "GET /techniques/{techniqueId}"

/**
 * A scripted misbehaviour for one request. Build one with {@link Fault}.
 *
 * @since 0.1.0
 * @category faults
 */
export type Fault = Data.TaggedEnum<{
  /** Answer with exactly this status, headers and body; nothing else happens. */
  Respond: { readonly status: number; readonly headers: Readonly<Record<string, string>>; readonly body: string }
  /** Wait (on Effect's `Clock`), then answer normally. */
  Delay: { readonly duration: Duration.Duration }
  /** Close the connection before anything is handled: no run is created. */
  DropBeforeCreate: {}
  /** Handle the request normally (a POST creates and charges the run), then close the connection unanswered. */
  DropAfterCreate: {}
  /** Handle the request normally, send the status, headers and half the body, then never finish the body. */
  StallBody: {}
  /** Reset the connection (TCP RST) before anything is handled. */
  Reset: {}
}>

const FaultCase = Data.taggedEnum<Fault>()

/**
 * Constructors of {@link Fault}s.
 *
 * @example
 * ```ts
 * yield* emulator.inject({ route: "POST /runs/technique", fault: Fault.dropAfterCreate })
 * yield* emulator.inject({ route: "GET /runs/{runId}", times: 2, fault: Fault.respond({ status: 503 }) })
 * ```
 *
 * @since 0.1.0
 * @category faults
 */
export const Fault = {
  /**
   * Answer with `status`, `headers` and a raw `body` (default empty), or a `json` value serialised with
   * `content-type: application/json`.
   */
  respond: (options: {
    readonly status: number
    readonly headers?: Readonly<Record<string, string>> | undefined
    readonly body?: string | undefined
    readonly json?: unknown
  }): Fault => {
    const json = options.json !== undefined
    return FaultCase.Respond({
      status: options.status,
      headers: json ? { "content-type": "application/json", ...options.headers } : { ...options.headers },
      body: json ? JSON.stringify(options.json) : options.body ?? ""
    })
  },
  /** A gateway's HTML error page, e.g. `Fault.html(502)`. */
  html: (status: number): Fault =>
    FaultCase.Respond({
      status,
      headers: { "content-type": "text/html" },
      body: `<html><head><title>${status}</title></head><body><h1>${status}</h1><p>upstream error</p></body></html>`
    }),
  /** A FLORA error envelope with `code` and `message`, plus any headers (e.g. `retry-after`). */
  error: (options: {
    readonly status: number
    readonly code: string
    readonly message?: string | undefined
    readonly headers?: Readonly<Record<string, string>> | undefined
  }): Fault =>
    FaultCase.Respond({
      status: options.status,
      headers: { "content-type": "application/json", ...options.headers },
      body: JSON.stringify({ error: { code: options.code, message: options.message ?? options.code } })
    }),
  /** Wait `duration` on Effect's `Clock` (so `TestClock` controls it), then answer normally. */
  delay: (duration: Duration.DurationInput): Fault => FaultCase.Delay({ duration: Duration.decode(duration) }),
  /** Close the connection unanswered before anything is handled: no run is created. */
  dropBeforeCreate: FaultCase.DropBeforeCreate() as Fault,
  /** Handle the request (a POST creates and charges the run), then close the connection unanswered. */
  dropAfterCreate: FaultCase.DropAfterCreate() as Fault,
  /** Handle the request, send its status, headers and half its body, then never finish the body. */
  stallBody: FaultCase.StallBody() as Fault,
  /** Reset the connection before anything is handled. */
  reset: FaultCase.Reset() as Fault
} as const

/**
 * A fault queued for the next `times` requests (default 1) matching `route` (`"*"` matches every route).
 * Injections are consumed in the order they were queued.
 *
 * @since 0.1.0
 * @category faults
 */
export interface Injection {
  readonly route: Route | "*"
  readonly fault: Fault
  readonly times?: number | undefined
}

/**
 * How the emulator app tells its transport to break the connection instead of answering.
 * The in-process client turns it into an `HttpClientError.RequestError`; the socket server destroys the socket.
 *
 * @since 0.1.0
 * @category errors
 */
export const ConnectionFault: typeof internalConnection.ConnectionFault = internalConnection.ConnectionFault

/**
 * @since 0.1.0
 * @category errors
 */
export type ConnectionFault = internalConnection.ConnectionFault

/**
 * A request the emulator received, faulted or not. The bearer token in `authorization` is redacted.
 *
 * @since 0.1.0
 * @category models
 */
export interface RecordedRequest {
  readonly requestId: string
  readonly method: string
  /** The path with its query string, e.g. `/api/v1/runs/run_abc`. */
  readonly path: string
  /** The route that matched, or `undefined` for an unknown path. */
  readonly route: Route | undefined
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
  /** The body parsed as JSON, or `undefined` when it is empty or not JSON. */
  readonly json: unknown
  /** The injected fault this request consumed. */
  readonly fault: Fault["_tag"] | undefined
  /** Unix milliseconds, from Effect's `Clock`. */
  readonly receivedAt: number
}

/**
 * A run the emulator created.
 *
 * @since 0.1.0
 * @category models
 */
export interface CreatedRun {
  readonly runId: string
  readonly techniqueId: string
  readonly workspaceId: string
  readonly inputs: Readonly<Record<string, unknown>>
  /** USD. */
  readonly chargedCost: number
  readonly idempotencyKey: string | undefined
  readonly requestId: string
  /** Unix milliseconds, from Effect's `Clock`. */
  readonly createdAt: number
}

/**
 * The emulator: its HTTP app plus the handles tests use to script and inspect it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /**
   * The HTTP app serving every route under {@link basePath}. It fails with {@link ConnectionFault} when a fault
   * asks for the connection to be dropped or reset.
   */
  readonly app: HttpApp.Default<ConnectionFault>
  /** Queue a fault; see {@link Injection}. */
  readonly inject: (injection: Injection) => Effect.Effect<void>
  /** The number of injected faults not consumed yet. */
  readonly pendingFaults: Effect.Effect<number>
  /** Every request received so far, oldest first. */
  readonly requests: Effect.Effect<ReadonlyArray<RecordedRequest>>
  /** Every run created so far, oldest first. */
  readonly runs: Effect.Effect<ReadonlyArray<CreatedRun>>
  /** The credits left in a workspace, in USD; dies for an unknown workspace. */
  readonly credits: (workspaceId: string) => Effect.Effect<number>
  /** Sets the credits of a workspace, in USD; dies for an unknown workspace. */
  readonly setCredits: (workspaceId: string, credits: number) => Effect.Effect<void>
  /** Forgets requests, runs, idempotency keys, rate-limit windows and faults, and restores the initial credits. */
  readonly reset: Effect.Effect<void>
}

/**
 * The emulator service.
 *
 * @since 0.1.0
 * @category tags
 */
export class FloraEmulator extends Context.Tag("effect-flora/testing/FloraEmulator")<FloraEmulator, Service>() {}

/**
 * Creates an emulator. Its app answers in whatever fiber runs it, reading time from that fiber's `Clock`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<Service> =>
  Effect.sync(() => {
    const state = new EmulatorState({
      accounts: options.accounts ?? [
        { apiKey: defaultApiKey, workspaceId: defaultWorkspaceId, credits: defaultCredits }
      ],
      techniques: options.techniques ?? defaultTechniques,
      idempotency: options.idempotency ?? "reject",
      idempotencyWindowMs: Duration.toMillis(options.idempotencyWindow ?? "2 hours"),
      rateLimit: options.rateLimit === undefined ? undefined : {
        requests: options.rateLimit.requests,
        windowMs: Duration.toMillis(options.rateLimit.window)
      },
      instant: options.instant ?? false
    })
    return {
      app: makeApp(state),
      inject: (injection) => Effect.sync(() => state.inject(injection)),
      pendingFaults: Effect.sync(() => state.pendingFaults()),
      requests: Effect.sync(() => state.recordedRequests()),
      runs: Effect.sync(() => state.createdRuns()),
      credits: (workspaceId) => Effect.sync(() => state.credits(workspaceId)),
      setCredits: (workspaceId, credits) => Effect.sync(() => state.setCredits(workspaceId, credits)),
      reset: Effect.sync(() => state.reset())
    }
  })

/**
 * An `HttpClient` that hands every request straight to the emulator's app, in the calling fiber: no socket, and
 * the emulator sees the caller's `Clock`, so `TestClock` drives runs, delays and client timeouts together.
 * Dropped and reset connections fail with `RequestError` (reason `"Transport"`, a cause with code `ECONNRESET`);
 * a stalled body is a response whose body stream never ends.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeClient = (emulator: Service): HttpClient.HttpClient => makeInProcessClient(emulator.app)

/**
 * Provides a {@link FloraEmulator} only, e.g. to serve it on a socket with `effect-flora/testing/node`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerEmulator = (options?: Options): Layer.Layer<FloraEmulator> =>
  Layer.effect(FloraEmulator, make(options))

/**
 * Provides an in-process `HttpClient` for the {@link FloraEmulator} in context. Point the SDK at
 * {@link inProcessBaseUrl}.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerClient: Layer.Layer<HttpClient.HttpClient, never, FloraEmulator> = Layer.effect(
  HttpClient.HttpClient,
  Effect.map(FloraEmulator, makeClient)
)

/**
 * Provides a fresh {@link FloraEmulator} and an in-process `HttpClient` talking to it, the usual test setup.
 * Point the SDK at {@link inProcessBaseUrl} with the API key {@link defaultApiKey}.
 *
 * @example
 * ```ts
 * it.effect("reads a run back to completed", () =>
 *   Effect.gen(function*() {
 *     const emulator = yield* FloraEmulator.FloraEmulator
 *     // ... start a run with the HttpClient, then:
 *     yield* TestClock.adjust("3 seconds")
 *   }).pipe(Effect.provide(FloraEmulator.layer())))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<FloraEmulator | HttpClient.HttpClient> =>
  Layer.provideMerge(layerClient, layerEmulator(options))

/**
 * Provides a `FloraClient` wired to a fresh in-process emulator, and the emulator itself: the one layer a
 * test of an application's own service needs. Runs advance with the test's `Clock`, so under `TestClock`
 * move time forward with `TestClock.adjust`.
 *
 * ```ts
 * it.effect("my service finishes a run", () =>
 *   Effect.gen(function*() {
 *     const fiber = yield* Effect.fork(FloraClient.runTechnique({
 *       technique_id: "tech_demo", workspace_id: "ws_demo", inputs: { prompt: "a cat" }
 *     }))
 *     yield* TestClock.adjust("10 seconds")
 *     const { run } = yield* Fiber.join(fiber)
 *     expect(run.status).toBe("completed")
 *   }).pipe(Effect.provide(FloraEmulator.layerFloraClient())))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFloraClient = (
  options?: Options & { readonly client?: Omit<FloraConfig.Options, "apiKey" | "baseUrl"> | undefined }
): Layer.Layer<FloraClient.FloraClient | FloraEmulator> =>
  FloraClient.layer({
    ...options?.client,
    apiKey: Redacted.make(options?.accounts?.[0]?.apiKey ?? defaultApiKey),
    baseUrl: inProcessBaseUrl
  }).pipe(
    // The key and base URL above are always valid, so the client's configuration cannot fail.
    Layer.orDie,
    Layer.provideMerge(layer(options))
  )
