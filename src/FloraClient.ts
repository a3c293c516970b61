/**
 * The FLORA API client as an Effect service.
 *
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Effect, Layer } from "effect"
 * import { FloraClient } from "effect-flora"
 *
 * const program = Effect.gen(function*() {
 *   const { run, started } = yield* FloraClient.runTechnique({
 *     technique_id: "tech_demo",
 *     workspace_id: "ws_demo",
 *     inputs: { prompt: "a lighthouse at dusk" }
 *   })
 *   yield* Effect.log(`run ${run.run_id} completed, cost $${started.charged_cost}`)
 * })
 *
 * program.pipe(
 *   Effect.provide(FloraClient.layerConfig().pipe(Layer.provide(FetchHttpClient.layer))),
 *   Effect.runPromise
 * )
 * ```
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as Chunk from "effect/Chunk"
import type * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as FloraConfig from "./FloraConfig.js"
import {
  ApiError,
  FieldIssue,
  PollTimeout,
  type RequestError,
  RunFailed,
  type StartError,
  TransportError,
  UnexpectedResponse,
  ValidationError
} from "./FloraError.js"
import * as Http from "./internal/http.js"
import * as Retry from "./Retry.js"
import * as RunSchema from "./Run.js"
import * as Technique from "./Technique.js"

/**
 * Options of one request, overriding the client's for this call only.
 *
 * @since 0.1.0
 * @category models
 */
export interface RequestOptions {
  /** When to retry; only retryable errors are retried whatever the schedule. */
  readonly retry?: Schedule.Schedule<unknown, RequestError> | undefined
  /** The timeout of each attempt, body read included. */
  readonly timeout?: Duration.DurationInput | undefined
  /** The overall deadline of the call, retries and waits included. */
  readonly deadline?: Duration.DurationInput | undefined
}

/**
 * Options of `startTechnique`.
 *
 * @since 0.1.0
 * @category models
 */
export interface StartOptions extends RequestOptions {
  /**
   * The `Idempotency-Key` to send: printable ASCII, at most 255 characters. Default: a fresh UUID v4 per
   * call. Pass your own to make a call safe to repeat across process restarts.
   */
  readonly idempotencyKey?: string | undefined
}

/**
 * Options of `waitForRun` and `runTechnique`.
 *
 * @since 0.1.0
 * @category models
 */
export interface WaitOptions extends FloraConfig.PollOptions {
  /** Called with each snapshot whose status or progress changed, the last one included. */
  readonly onProgress?: ((run: RunSchema.Run) => Effect.Effect<void>) | undefined
}

/**
 * Options of `runTechnique`, grouped by the step they govern, so that a deadline or a schedule is never
 * ambiguous.
 *
 * @since 0.1.0
 * @category models
 */
export interface RunTechniqueOptions {
  /** The `Idempotency-Key` of the start; see `StartOptions.idempotencyKey`. */
  readonly idempotencyKey?: string | undefined
  /** Retries, attempt timeout and deadline of the start request. */
  readonly start?: RequestOptions | undefined
  /** First delay, schedule and deadline of the polling that follows. */
  readonly poll?: FloraConfig.PollOptions | undefined
  /** Called with each snapshot whose status or progress changed, the last one included. */
  readonly onProgress?: ((run: RunSchema.Run) => Effect.Effect<void>) | undefined
}

/**
 * What `pollRun` and `waitForRun` accept: a run id, or a started run (from `startTechnique`), whose
 * `poll_url`, `estimated_seconds` and `idempotencyKey` are then used.
 *
 * @since 0.1.0
 * @category models
 */
export type RunRef = string | {
  readonly run_id: string
  readonly poll_url?: string | undefined
  readonly estimated_seconds?: number | undefined
  readonly idempotencyKey?: string | undefined
}

/**
 * The result of `runTechnique`: the run as it started and as it completed.
 *
 * @since 0.1.0
 * @category models
 */
export interface TechniqueResult {
  readonly started: RunSchema.StartedRun
  readonly run: RunSchema.Run
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /**
   * Starts a technique run (`POST /runs/technique`). One `Idempotency-Key` is minted before the first
   * attempt (or taken from `options.idempotencyKey`) and sent unchanged on every retry, so retries never
   * start a second run. The key is on the result and on every error.
   */
  readonly startTechnique: (
    params: RunSchema.StartTechniqueInput,
    options?: StartOptions
  ) => Effect.Effect<RunSchema.StartedRun, StartError>

  /** Reads a run's current state (`GET /runs/{runId}`), retrying like any request. */
  readonly getRun: (runId: string, options?: RequestOptions) => Effect.Effect<RunSchema.Run, RequestError>

  /**
   * Polls a run until it ends: emits each snapshot whose status or progress changed, and ends after the
   * `completed` or `failed` one. Transient failures (transport errors, 429, 5xx) do not end the stream:
   * polling goes on at the next interval, or after the server's `Retry-After`. A status this version does
   * not know counts as not finished, so polling goes on at the normal interval until the deadline, when
   * the stream fails with `PollTimeout`. Interrupting the stream stops polling at once.
   */
  readonly pollRun: (
    run: RunRef,
    options?: FloraConfig.PollOptions
  ) => Stream.Stream<RunSchema.Run, RequestError | PollTimeout>

  /** Polls a run until it ends: succeeds with the `completed` run, or fails with `RunFailed`. */
  readonly waitForRun: (
    run: RunRef,
    options?: WaitOptions
  ) => Effect.Effect<RunSchema.Run, RequestError | PollTimeout | RunFailed>

  /**
   * Starts a technique run and waits for it to end, with the guarantees of `startTechnique`. Once the run
   * has started, a request error while polling (a 404, a 401, a malformed answer) carries
   * `mayHaveCreatedRun: true` and the call's `idempotencyKey`, since the run exists.
   */
  readonly runTechnique: (
    params: RunSchema.StartTechniqueInput,
    options?: RunTechniqueOptions
  ) => Effect.Effect<TechniqueResult, StartError | PollTimeout | RunFailed>

  /** Reads one technique (`GET /techniques/{techniqueId}`): its inputs, outputs and `run_cost`. */
  readonly getTechnique: (
    techniqueId: string,
    options?: RequestOptions
  ) => Effect.Effect<Technique.Technique, RequestError>

  /** Reads one page of the technique catalog (`GET /techniques`). */
  readonly listTechniques: (options?: ListTechniquesOptions) => Effect.Effect<Technique.TechniquePage, RequestError>

  /** Every technique of the catalog, reading page after page as the stream is pulled. */
  readonly techniques: (
    options?: Omit<ListTechniquesOptions, "cursor">
  ) => Stream.Stream<Technique.Technique, RequestError>
}

/**
 * Options of `listTechniques`.
 *
 * @since 0.1.0
 * @category models
 */
export interface ListTechniquesOptions extends RequestOptions {
  /** Only techniques whose name or description contains this text. */
  readonly query?: string | undefined
  /** Only techniques usable in this workspace. */
  readonly workspace_id?: string | undefined
  /** Page size. */
  readonly limit?: number | undefined
  /** The `next_cursor` of the previous page. */
  readonly cursor?: string | undefined
}

/**
 * The FLORA client service. Provide it with `layer`, `layerConfig` or the emulator's test layer.
 *
 * @since 0.1.0
 * @category tags
 */
export class FloraClient extends Context.Tag("effect-flora/FloraClient")<FloraClient, Service>() {}

// Unknown keys are refused, not dropped: FLORA rejects them too, and a dropped `callback_url` would be lost.
const decodeParams = Schema.decodeUnknownEither(RunSchema.StartTechniqueParams, {
  errors: "all",
  onExcessProperty: "error"
})
const decodeStartResponse = Schema.decodeUnknownEither(RunSchema.StartRunResponse)
const decodeRun = Schema.decodeUnknownEither(RunSchema.Run)
const decodeRunId = Schema.decodeUnknownEither(RunSchema.RunId)
const decodeTechniqueId = Schema.decodeUnknownEither(RunSchema.TechniqueId)
const decodeTechnique = Schema.decodeUnknownEither(Technique.Technique)
const decodeTechniquePage = Schema.decodeUnknownEither(Technique.TechniquePage)

// Printable ASCII, at most 255 characters, with no space at either end: HTTP trims header values, so a key
// with one would not arrive byte for byte.
const idempotencyKeyPattern = /^[\x21-\x7e](?:[\x20-\x7e]{0,253}[\x21-\x7e])?$/

/**
 * Builds a client from checked options. Requires an `HttpClient`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: FloraConfig.Options
): Effect.Effect<Service, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const config = yield* FloraConfig.resolve(options)
    const transport = Http.makeTransport(config, yield* HttpClient.HttpClient)

    const clientError = (operation: string, issues: ReadonlyArray<FieldIssue>, idempotencyKey?: string) =>
      new ValidationError({
        operation,
        origin: "client",
        issues,
        detail: "the request failed validation",
        attempts: 0,
        mayHaveCreatedRun: false,
        idempotencyKey
      })

    const startTechnique: Service["startTechnique"] = (params, options) =>
      Effect.gen(function*() {
        const operation = "POST /runs/technique"
        const checked = encodeParams(params)
        if (Either.isLeft(checked)) return yield* clientError(operation, checked.left)
        const body = checked.right
        // The key is minted once, outside the retried region, so every attempt carries the same one.
        const idempotencyKey = options?.idempotencyKey ?? crypto.randomUUID()
        if (!idempotencyKeyPattern.test(idempotencyKey)) {
          return yield* clientError(operation, [
            new FieldIssue({
              path: "idempotencyKey",
              message: "must be 1 to 255 printable ASCII characters, with no space at either end"
            })
          ])
        }
        yield* Effect.annotateCurrentSpan("flora.idempotency_key", idempotencyKey)
        const success = yield* transport.create({
          method: "POST",
          path: "/runs/technique",
          url: `${config.baseUrl}/runs/technique`,
          body,
          idempotencyKey,
          decode: decodeStartResponse
        }, options)
        yield* Effect.annotateCurrentSpan("flora.run_id", success.value.run_id)
        return {
          ...success.value,
          idempotencyKey,
          requestId: success.requestId,
          attempts: success.attempts,
          replayed: success.replayed
        } satisfies RunSchema.StartedRun
      }).pipe(
        Effect.withSpan("FloraClient.startTechnique", {
          attributes: { "flora.technique_id": params?.technique_id, "flora.workspace_id": params?.workspace_id }
        })
      )

    const runCall = (url: string) => ({
      method: "GET" as const,
      path: "/runs/{runId}",
      url,
      decode: decodeRun
    })

    /** Checks an id's prefix before anything is sent, as FLORA would on arrival. */
    const checkId = (
      decode: (u: unknown) => Either.Either<string, ParseResult.ParseError>,
      operation: string,
      path: string,
      prefix: string
    ) =>
    (id: string): Effect.Effect<string, ValidationError> =>
      Either.isRight(decode(id))
        ? Effect.succeed(id)
        : Effect.fail(clientError(operation, [
          new FieldIssue({ path, message: `must start with ${prefix} and contain no whitespace` })
        ]))

    const checkRunId = checkId(decodeRunId, "GET /runs/{runId}", "runId", "run_")
    const checkTechniqueId = checkId(decodeTechniqueId, "GET /techniques/{techniqueId}", "techniqueId", "tech_")

    const getRun: Service["getRun"] = (runId, options) =>
      checkRunId(runId).pipe(
        Effect.flatMap((id) => transport.read(runCall(`${config.baseUrl}/runs/${encodeURIComponent(id)}`), options)),
        Effect.map((success) => success.value),
        Effect.withSpan("FloraClient.getRun", { attributes: { "flora.run_id": runId } })
      )

    /** Follows `poll_url` only on the configured origin, so the key never goes to another host. */
    const pollUrlOf = (runId: string, pollUrl: string | undefined): string => {
      if (pollUrl !== undefined && URL.canParse(pollUrl) && new URL(pollUrl).origin === config.origin) {
        return pollUrl
      }
      return `${config.baseUrl}/runs/${encodeURIComponent(runId)}`
    }

    /**
     * Sets up the polling of one run, shared by `pollRun` (a stream) and `waitForRun` (a plain loop, which
     * costs less per run when thousands are awaited at once).
     */
    const startPolling = (
      ref: RunRef,
      options: FloraConfig.PollOptions | undefined
    ): Effect.Effect<Polling, ValidationError> =>
      Effect.gen(function*() {
        const target = typeof ref === "string" ? { run_id: ref } : ref
        const runId = yield* checkRunId(target.run_id)
        const poll = { ...config.poll, ...options }
        const deadline = Duration.decode(poll.deadline ?? "15 minutes")
        const interval = yield* Schedule.driver(poll.schedule ?? defaultPollSchedule)
        const call = runCall(pollUrlOf(runId, target.poll_url))
        // Each poll is one attempt: the poll loop itself is the retry, so failures do not multiply requests.
        const once = { retry: Schedule.stop, deadline }
        const seen = { polls: 0, last: undefined as RunSchema.Run | undefined }

        const timedOut = () =>
          new PollTimeout({
            runId,
            lastStatus: seen.last?.status,
            lastProgress: seen.last?.progress,
            polls: seen.polls,
            deadline,
            idempotencyKey: target.idempotencyKey
          })

        /** Waits for the next tick of the schedule; a schedule that ends stops polling. */
        const nextTick = (run: RunSchema.Run | undefined): Wait =>
          interval.next(run).pipe(Effect.asVoid, Effect.catchAll(() => Effect.fail(timedOut())))

        const step: Polling["step"] = (wait) =>
          Effect.gen(function*() {
            yield* wait
            seen.polls += 1
            const outcome = yield* Effect.either(transport.read(call, once))
            if (Either.isLeft(outcome)) {
              // Transient failures end no polling: poll again at the next tick, or when the server says.
              const error = outcome.left
              if (!Retry.shouldRetry(error, config.maxRetryAfter)) return yield* error
              const hint = Retry.retryAfterOf(error)
              // A hint lengthens the wait, never shortens it: a tiny `Retry-After` must not turn polling into a flood.
              const wait = Option.isSome(hint)
                ? Effect.asVoid(Effect.zip(Effect.sleep(hint.value), nextTick(seen.last), { concurrent: true }))
                : nextTick(seen.last)
              return [undefined, wait] as const
            }
            const run = outcome.right.value
            const changed = seen.last === undefined || seen.last.status !== run.status ||
              seen.last.progress !== run.progress
            seen.last = run
            return [changed ? run : undefined, RunSchema.isTerminal(run) ? undefined : nextTick(run)] as const
          })

        const estimate = target.estimated_seconds
        const initialDelay = poll.initialDelay ??
          (estimate === undefined ? Duration.seconds(2) : Duration.seconds(Math.min(Math.max(estimate, 0), 10)))

        return { first: Effect.sleep(initialDelay), step, deadline, timedOut }
      })

    const pollRun: Service["pollRun"] = (ref, options) =>
      Stream.unwrap(Effect.map(startPolling(ref, options), (polling) =>
        Stream.unfoldChunkEffect(
          polling.first as Wait | undefined,
          (wait) =>
            wait === undefined ?
              Effect.succeedNone :
              Effect.map(polling.step(wait), ([changed, next]) =>
                Option.some([changed === undefined ? Chunk.empty<RunSchema.Run>() : Chunk.of(changed), next] as const))
        ).pipe(
          Stream.interruptWhen(Effect.zipRight(
            Effect.sleep(polling.deadline),
            Effect.suspend(() =>
              Effect.fail(polling.timedOut())
            )
          ))
        ))).pipe(Stream.withSpan("FloraClient.pollRun"))

    const waitForRun: Service["waitForRun"] = (ref, options) =>
      Effect.flatMap(startPolling(ref, options), (polling) => {
        const onProgress = options?.onProgress
        // The last step of a run always reports a change: its status has just become terminal.
        const loop = (wait: Wait): Effect.Effect<RunSchema.Run | undefined, RequestError | PollTimeout> =>
          Effect.flatMap(polling.step(wait), ([changed, next]) => {
            const report = changed === undefined || onProgress === undefined ? Effect.void : onProgress(changed)
            return next === undefined ? Effect.as(report, changed) : Effect.zipRight(report, loop(next))
          })
        return Effect.timeoutFail(loop(polling.first), { duration: polling.deadline, onTimeout: polling.timedOut })
      }).pipe(
        Effect.flatMap((run) => {
          if (run === undefined) {
            return Effect.dieMessage("polling ended without a terminal snapshot")
          }
          if (run.status !== "failed") return Effect.succeed(run)
          return Effect.fail(
            new RunFailed({
              runId: run.run_id,
              errorCode: run.error_code,
              errorMessage: run.error_message === undefined ? undefined : transport.scrub(run.error_message),
              chargedCost: run.charged_cost,
              idempotencyKey: typeof ref === "string" ? undefined : ref.idempotencyKey
            })
          )
        }),
        Effect.withSpan("FloraClient.waitForRun")
      )

    const runTechnique: Service["runTechnique"] = (params, options) =>
      startTechnique(params, { ...options?.start, idempotencyKey: options?.idempotencyKey }).pipe(
        Effect.flatMap((started) =>
          waitForRun(started, { ...options?.poll, onProgress: options?.onProgress }).pipe(
            Effect.map((run): TechniqueResult => ({ started, run })),
            Effect.mapError(markStarted(started.idempotencyKey))
          )
        ),
        Effect.withSpan("FloraClient.runTechnique")
      )

    const getTechnique: Service["getTechnique"] = (techniqueId, options) =>
      checkTechniqueId(techniqueId).pipe(
        Effect.flatMap((id) =>
          transport.read({
            method: "GET",
            path: "/techniques/{techniqueId}",
            url: `${config.baseUrl}/techniques/${encodeURIComponent(id)}`,
            decode: decodeTechnique
          }, options)
        ),
        Effect.map((success) => success.value),
        Effect.withSpan("FloraClient.getTechnique", { attributes: { "flora.technique_id": techniqueId } })
      )

    const listTechniques: Service["listTechniques"] = (options) => {
      const url = new URL(`${config.baseUrl}/techniques`)
      for (const name of ["query", "workspace_id", "limit", "cursor"] as const) {
        const value = options?.[name]
        if (value !== undefined) url.searchParams.set(name, String(value))
      }
      return transport.read({
        method: "GET",
        path: "/techniques",
        url: url.href,
        decode: decodeTechniquePage
      }, options).pipe(
        Effect.map((success) => success.value),
        Effect.withSpan("FloraClient.listTechniques")
      )
    }

    const techniques: Service["techniques"] = (options) =>
      Stream.paginateChunkEffect(
        undefined as string | undefined,
        (cursor) =>
          Effect.map(listTechniques({ ...options, cursor }), (page) => {
            const next = page.meta.next_cursor
            // An empty page ends the walk even if the server sent a cursor, so a bad cursor cannot loop.
            const more = next !== undefined && next.length > 0 && page.techniques.length > 0
            return [Chunk.unsafeFromArray(page.techniques), more ? Option.some(next) : Option.none()] as const
          })
      )

    return FloraClient.of({
      startTechnique,
      getRun,
      pollRun,
      waitForRun,
      runTechnique,
      getTechnique,
      listTechniques,
      techniques
    })
  })

/** A wait before the next poll; it fails when polling must stop. */
type Wait = Effect.Effect<void, PollTimeout>

/** The polling of one run, one step at a time. */
interface Polling {
  /** The wait before the first poll. */
  readonly first: Wait
  /**
   * Waits, polls once, and answers with the snapshot if its status or progress changed, and the wait before
   * the next poll, or `undefined` once the run has ended.
   */
  readonly step: (
    wait: Wait
  ) => Effect.Effect<readonly [RunSchema.Run | undefined, Wait | undefined], RequestError | PollTimeout>
  readonly deadline: Duration.Duration
  readonly timedOut: () => PollTimeout
}

/**
 * A polling error of `runTechnique` comes from a `GET`, which knows nothing of the run it follows. The run
 * was created, so the error must say so and name the key, or the caller would take it for a call that
 * started nothing.
 */
const markStarted = (idempotencyKey: string) => <E extends RequestError | PollTimeout | RunFailed>(error: E) => {
  const fields = { mayHaveCreatedRun: true, idempotencyKey }
  switch (error._tag) {
    case "ValidationError":
      return new ValidationError({ ...error, ...fields })
    case "TransportError":
      return new TransportError({ ...error, ...fields })
    case "ApiError":
      return new ApiError({ ...error, ...fields })
    case "UnexpectedResponse":
      return new UnexpectedResponse({ ...error, ...fields })
    default:
      return error
  }
}

/**
 * The default wait between polls: from 2 s, growing by a quarter each time, capped at 5 s.
 *
 * @since 0.1.0
 * @category schedules
 */
export const defaultPollSchedule: Schedule.Schedule<unknown, unknown> = Schedule.exponential("2 seconds", 1.25).pipe(
  Schedule.union(Schedule.spaced("5 seconds"))
)

const issuesOf = (error: ParseResult.ParseError): ReadonlyArray<FieldIssue> =>
  ParseResult.ArrayFormatter.formatErrorSync(error).map((issue) =>
    new FieldIssue({ path: issue.path.length === 0 ? "(params)" : issue.path.join("."), message: issue.message })
  )

/** How deep inputs may nest. Deeper ones are refused before the recursive schema could overflow the stack. */
const maxInputDepth = 256

/**
 * Finds what the schema would accept but JSON could not carry as given: a cycle (which would overflow the
 * stack), an object that is not plain (a `Date`, `Map` or class instance, sent as `{}` or a string), an
 * own `__proto__` key (dropped on the way), and nesting deeper than `maxInputDepth`. Such inputs are refused
 * rather than sent altered, or crashing the call.
 */
const unfaithfulJson = (value: unknown, path: string, ancestors = new Set<object>()): ReadonlyArray<FieldIssue> => {
  if (typeof value !== "object" || value === null) return []
  if (ancestors.has(value)) return [new FieldIssue({ path, message: "refers to itself, which JSON cannot carry" })]
  if (ancestors.size >= maxInputDepth) {
    return [new FieldIssue({ path, message: `is nested more than ${maxInputDepth} levels deep` })]
  }
  const prototype = Object.getPrototypeOf(value)
  if (!Array.isArray(value) && prototype !== Object.prototype && prototype !== null) {
    return [new FieldIssue({ path, message: "must be a plain JSON object, not a Date, Map or class instance" })]
  }
  ancestors.add(value)
  const issues = Object.keys(value).flatMap((key) =>
    key === "__proto__"
      ? [new FieldIssue({ path: `${path}.${key}`, message: "is a key that would be dropped on the way" })]
      : unfaithfulJson((value as Record<string, unknown>)[key], `${path}.${key}`, ancestors)
  )
  ancestors.delete(value)
  return issues
}

/**
 * Checks the params and turns them into the request body, or lists what is wrong with them. Reading the
 * params runs the caller's code (a getter, a `toJSON`), so anything it throws is reported as a problem
 * with the params, never as a defect.
 */
const encodeParams = (params: unknown): Either.Either<string, ReadonlyArray<FieldIssue>> => {
  try {
    const unfaithful = unfaithfulJson((params as { readonly inputs?: unknown } | undefined)?.inputs, "inputs")
    if (unfaithful.length > 0) return Either.left(unfaithful)
    const decoded = decodeParams(params)
    if (Either.isLeft(decoded)) return Either.left(issuesOf(decoded.left))
    return Either.right(JSON.stringify(decoded.right))
  } catch (error) {
    return Either.left([new FieldIssue({ path: "(params)", message: `could not be read: ${String(error)}` })])
  }
}

/**
 * A layer of the client from explicit options. Requires an `HttpClient`, such as
 * `FetchHttpClient.layer` or the emulator's test layer. Fails with a `ConfigError` when the key or base
 * URL is missing or malformed; the error never contains the key.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: FloraConfig.Options
): Layer.Layer<FloraClient, ConfigError.ConfigError, HttpClient.HttpClient> => Layer.effect(FloraClient, make(options))

/**
 * A layer of the client from `Config`: `FLORA_API_KEY` (read as `Redacted`) and `FLORA_BASE_URL` (default
 * `https://app.flora.ai/api/v1`). `overrides` set the other options in code; `config` replaces where the
 * key and base URL come from.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  overrides?: Omit<FloraConfig.Options, "apiKey" | "baseUrl">,
  config: Config.Config<FloraConfig.Options> = FloraConfig.fromEnv
): Layer.Layer<FloraClient, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.effect(FloraClient, Effect.flatMap(config, (options) => make({ ...overrides, ...options })))

/**
 * Starts a technique run with the `FloraClient` in context. See `Service.startTechnique`.
 *
 * @since 0.1.0
 * @category accessors
 */
export const startTechnique = (
  params: RunSchema.StartTechniqueInput,
  options?: StartOptions
): Effect.Effect<RunSchema.StartedRun, StartError, FloraClient> =>
  Effect.flatMap(FloraClient, (client) => client.startTechnique(params, options))

/**
 * Reads a run with the `FloraClient` in context. See `Service.getRun`.
 *
 * @since 0.1.0
 * @category accessors
 */
export const getRun = (
  runId: string,
  options?: RequestOptions
): Effect.Effect<RunSchema.Run, RequestError, FloraClient> =>
  Effect.flatMap(FloraClient, (client) => client.getRun(runId, options))

/**
 * Polls a run with the `FloraClient` in context. See `Service.pollRun`.
 *
 * @since 0.1.0
 * @category accessors
 */
export const pollRun = (
  run: RunRef,
  options?: FloraConfig.PollOptions
): Stream.Stream<RunSchema.Run, RequestError | PollTimeout, FloraClient> =>
  Stream.unwrap(Effect.map(FloraClient, (client) => client.pollRun(run, options)))

/**
 * Waits for a run to end with the `FloraClient` in context. See `Service.waitForRun`.
 *
 * @since 0.1.0
 * @category accessors
 */
export const waitForRun = (
  run: RunRef,
  options?: WaitOptions
): Effect.Effect<RunSchema.Run, RequestError | PollTimeout | RunFailed, FloraClient> =>
  Effect.flatMap(FloraClient, (client) => client.waitForRun(run, options))

/**
 * Starts a technique run and waits for it, with the `FloraClient` in context. See
 * `Service.runTechnique`.
 *
 * @since 0.1.0
 * @category accessors
 */
export const runTechnique = (
  params: RunSchema.StartTechniqueInput,
  options?: RunTechniqueOptions
): Effect.Effect<TechniqueResult, StartError | PollTimeout | RunFailed, FloraClient> =>
  Effect.flatMap(FloraClient, (client) => client.runTechnique(params, options))

/**
 * Reads one technique with the `FloraClient` in context. See `Service.getTechnique`.
 *
 * @since 0.1.0
 * @category accessors
 */
export const getTechnique = (
  techniqueId: string,
  options?: RequestOptions
): Effect.Effect<Technique.Technique, RequestError, FloraClient> =>
  Effect.flatMap(FloraClient, (client) => client.getTechnique(techniqueId, options))

/**
 * Reads one page of the technique catalog with the `FloraClient` in context. See `Service.listTechniques`.
 *
 * @since 0.1.0
 * @category accessors
 */
export const listTechniques = (
  options?: ListTechniquesOptions
): Effect.Effect<Technique.TechniquePage, RequestError, FloraClient> =>
  Effect.flatMap(FloraClient, (client) => client.listTechniques(options))

/**
 * Every technique of the catalog, with the `FloraClient` in context. See `Service.techniques`.
 *
 * @since 0.1.0
 * @category accessors
 */
export const techniques = (
  options?: Omit<ListTechniquesOptions, "cursor">
): Stream.Stream<Technique.Technique, RequestError, FloraClient> =>
  Stream.unwrap(Effect.map(FloraClient, (client) => client.techniques(options)))
