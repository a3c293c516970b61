import type * as Headers from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import type * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as FiberRef from "effect/FiberRef"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import type * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as FloraConfig from "../FloraConfig.js"
import {
  ApiError,
  FieldIssue,
  IdempotencyDuplicate,
  type RequestError,
  type StartError,
  TransportError,
  type TransportReason,
  UnexpectedResponse,
  ValidationError
} from "../FloraError.js"
import * as Retry from "../Retry.js"

/** @internal */
export interface Call<A> {
  readonly method: "GET" | "POST"
  /** The path template for logs and errors, e.g. `/runs/technique`. */
  readonly path: string
  readonly url: string
  readonly body?: string | undefined
  readonly idempotencyKey?: string | undefined
  readonly decode: (u: unknown) => Either.Either<A, ParseResult.ParseError>
}

/** @internal */
export interface CallOptions {
  readonly retry?: Schedule.Schedule<unknown, RequestError> | undefined
  readonly timeout?: Duration.DurationInput | undefined
  readonly deadline?: Duration.DurationInput | undefined
}

/** @internal */
export interface Success<A> {
  readonly value: A
  readonly requestId: string | undefined
  readonly attempts: number
  readonly replayed: boolean
}

/** What one call has learned so far, across its attempts. */
interface Progress {
  attempts: number
  mayHaveCreatedRun: boolean
  /** An attempt is on the wire: cut off by the deadline, it may still have reached the server. */
  inFlight: boolean
  last: StartError | undefined
}

const ErrorEnvelope = Schema.Struct({
  error: Schema.Struct({
    code: Schema.String,
    message: Schema.String,
    fields: Schema.optional(Schema.Array(Schema.Struct({ field: Schema.String, message: Schema.String })))
  })
})

const decodeEnvelope = Schema.decodeUnknownEither(ErrorEnvelope)

const snippetLength = 300

/** @internal */
export const makeTransport = (config: FloraConfig.Resolved, client: HttpClient.HttpClient) => {
  const key = Redacted.value(config.apiKey)
  const authorization = `Bearer ${key}`

  /** Removes the API key from text that came from the server or the network stack. */
  const scrub = (text: string): string => text.includes(key) ? text.split(key).join("[redacted]") : text

  const defaultSchedule = Retry.withRetryAfter<StartError>(config.retry)

  const execute = <A>(call: Call<A>, options?: CallOptions): Effect.Effect<Success<A>, StartError> =>
    // Suspended, so each run of the returned effect counts its own attempts.
    Effect.suspend(() => {
      const timeout = FloraConfig.positiveDuration(options?.timeout ?? config.timeout)
      const deadline = FloraConfig.positiveDuration(options?.deadline ?? config.deadline)
      if (Option.isNone(timeout) || Option.isNone(deadline)) {
        const path = Option.isNone(timeout) ? "timeout" : "deadline"
        return Effect.fail(
          new ValidationError({
            operation: `${call.method} ${call.path}`,
            origin: "client",
            issues: [new FieldIssue({ path, message: "must be a positive duration" })],
            detail: "the call's options failed validation",
            idempotencyKey: call.idempotencyKey,
            attempts: 0,
            mayHaveCreatedRun: false
          })
        )
      }
      return executeChecked(call, timeout.value, deadline.value, options?.retry)
    })

  const executeChecked = <A>(
    call: Call<A>,
    timeout: Duration.Duration,
    deadline: Duration.Duration,
    retry: Schedule.Schedule<unknown, RequestError> | undefined
  ): Effect.Effect<Success<A>, StartError> => {
    const schedule = retry === undefined ? defaultSchedule : Retry.withRetryAfter<StartError>(retry)
    const request = buildRequest(call)
    const progress: Progress = { attempts: 0, mayHaveCreatedRun: false, inFlight: false, last: undefined }
    const attempt = (limit: Duration.Duration) =>
      Effect.suspend(() => {
        progress.attempts += 1
        return sendOnce(call, request, limit, progress)
      })
    const deadlineExceeded = () =>
      new TransportError({
        ...exchangeOf(call, progress),
        mayHaveCreatedRun: progress.mayHaveCreatedRun || (progress.inFlight && call.idempotencyKey !== undefined),
        reason: "DeadlineExceeded",
        detail: `the call did not finish within its deadline of ${Duration.format(deadline)}` +
          (progress.last === undefined ? "" : `; last error: ${progress.last.message}`)
      })
    // The first attempt, which usually is the only one, runs under a single timer: its own timeout, or the
    // deadline when that comes sooner. The deadline's own timer is armed only once a retry is needed.
    const deadlineFirst = Duration.lessThanOrEqualTo(deadline, timeout)
    return Effect.flatMap(Clock.currentTimeMillis, (startedAt) =>
      attempt(deadlineFirst ? deadline : timeout).pipe(
        Effect.catchAll((error) => {
          if (deadlineFirst && error._tag === "TransportError" && error.reason === "AttemptTimeout") {
            // That timeout was the deadline's, not an attempt's: it is no "last error" to report.
            progress.last = undefined
            return Effect.fail(deadlineExceeded())
          }
          return Effect.flatMap(Clock.currentTimeMillis, (now) =>
            Retry.retryFrom(error, attempt(timeout), schedule, config.maxRetryAfter).pipe(
              Effect.timeoutFail({
                duration: Duration.subtract(deadline, Duration.millis(now - startedAt)),
                onTimeout: deadlineExceeded
              })
            ))
        })
      ))
  }

  const buildRequest = <A>(call: Call<A>): HttpClientRequest.HttpClientRequest => {
    const headers: Record<string, string> = { authorization }
    if (call.idempotencyKey !== undefined) headers["idempotency-key"] = call.idempotencyKey
    const request = HttpClientRequest.make(call.method)(call.url, { headers, acceptJson: true })
    return call.body === undefined ? request : HttpClientRequest.bodyText(request, call.body, "application/json")
  }

  const exchangeOf = <A>(call: Call<A>, progress: Progress) => ({
    operation: `${call.method} ${call.path}`,
    idempotencyKey: call.idempotencyKey,
    attempts: progress.attempts,
    mayHaveCreatedRun: progress.mayHaveCreatedRun
  })

  const sendOnce = <A>(
    call: Call<A>,
    request: HttpClientRequest.HttpClientRequest,
    timeout: Duration.Duration,
    progress: Progress
  ): Effect.Effect<Success<A>, StartError> =>
    Effect.gen(function*() {
      const startedAt = yield* Clock.currentTimeMillis

      progress.inFlight = true
      const outcome = yield* client.execute(request).pipe(
        Effect.flatMap((response) => {
          // The platform builds `headers` anew on every read, so they are read once here.
          const headers = response.headers
          return Effect.map(readBody(response, headers), (body): Reply => ({ status: response.status, headers, body }))
        }),
        Effect.timeout(timeout),
        Effect.either
      )

      progress.inFlight = false
      const now = yield* Clock.currentTimeMillis
      const result = Either.isLeft(outcome)
        ? Either.left(transportFailure(call, progress, outcome.left, timeout))
        : classify(call, progress, outcome.right, now)

      const reply = Either.isRight(outcome) ? outcome.right : undefined
      // The runtime drops a line below the minimum level anyway; checking first saves building its annotations.
      if (!LogLevel.greaterThan(yield* FiberRef.get(FiberRef.currentMinimumLogLevel), LogLevel.Debug)) {
        yield* Effect.logDebug("FLORA request").pipe(
          Effect.annotateLogs({
            method: call.method,
            path: call.path,
            status: reply?.status ?? "none",
            attempt: progress.attempts,
            requestId: reply?.headers["request-id"] ?? "none",
            durationMs: now - startedAt,
            outcome: Either.isLeft(result) ? result.left._tag : "ok"
          })
        )
      }

      if (Either.isLeft(result)) {
        progress.last = result.left
        progress.mayHaveCreatedRun = result.left.mayHaveCreatedRun
        return yield* result.left
      }
      return result.right
    }).pipe(
      Effect.withSpan("FloraClient.attempt", {
        // The stack of an attempt always points into this module; the parent span keeps the caller's.
        captureStackTrace: false,
        attributes: { "flora.operation": `${call.method} ${call.path}`, "flora.attempt": progress.attempts }
      })
    )

  /** Reads the whole body as text, refusing more than `maxResponseBytes`. */
  const readBody = (
    response: HttpClientResponse.HttpClientResponse,
    headers: Headers.Headers
  ): Effect.Effect<string | BodyTooLarge, HttpClientError.ResponseError> => {
    const limit = config.maxResponseBytes
    const declared = headers["content-length"]
    if (declared !== undefined && Number(declared) <= limit) return response.text
    if (declared !== undefined) return Effect.succeed(new BodyTooLarge(Number(declared)))
    const decoder = new TextDecoder()
    let size = 0
    let text = ""
    return response.stream.pipe(
      Stream.takeUntil((chunk) => {
        size += chunk.byteLength
        return size > limit
      }),
      Stream.runForEach((chunk) =>
        Effect.sync(() => {
          if (size <= limit) text += decoder.decode(chunk, { stream: true })
        })
      ),
      Effect.map(() => size > limit ? new BodyTooLarge(size) : text + decoder.decode()),
      // A response without a body stream (a 204, or an empty answer of an in-process client) has an empty
      // body; it is not a broken connection.
      Effect.catchIf((error) => error.reason === "EmptyBody", () => Effect.succeed(""))
    )
  }

  const transportFailure = <A>(
    call: Call<A>,
    progress: Progress,
    error: HttpClientError.HttpClientError | Cause.TimeoutException,
    timeout: Duration.Duration
  ): TransportError => {
    const [reason, detail] = describeTransport(error, timeout)
    // A refused connection or an unknown host never reached the server; anything else may have.
    const reached = reason !== "ConnectionRefused" && reason !== "DnsFailure"
    return new TransportError({
      ...exchangeOf(call, progress),
      mayHaveCreatedRun: progress.mayHaveCreatedRun || (reached && call.idempotencyKey !== undefined),
      reason,
      detail: scrub(detail)
    })
  }

  const classify = <A>(
    call: Call<A>,
    progress: Progress,
    { body, headers, status }: Reply,
    now: number
  ): Either.Either<Success<A>, StartError> => {
    const requestId = headers["request-id"]
    const creates = call.idempotencyKey !== undefined
    const base = { ...exchangeOf(call, progress), status, requestId }
    const unexpected = (detail: string, text: string, mayHaveCreated: boolean) =>
      new UnexpectedResponse({
        ...base,
        mayHaveCreatedRun: progress.mayHaveCreatedRun || mayHaveCreated,
        detail: scrub(detail),
        // Scrubbed before it is cut, so a key that straddles the cut cannot leave a piece behind.
        bodySnippet: scrub(text).slice(0, snippetLength),
        retryAfter: Option.getOrUndefined(Retry.parseRetryAfter(headers, now))
      })

    if (body instanceof BodyTooLarge) {
      return Either.left(
        unexpected(
          `the body of ${body.size} bytes or more is larger than the limit of ${config.maxResponseBytes}`,
          "",
          creates && status < 300
        )
      )
    }

    // Any 2xx is a success: FLORA documents 201 for a start, and a replay may come back as 200.
    if (status >= 200 && status < 300) {
      const json = parseJson(body)
      const decoded = json === undefined ? undefined : call.decode(json)
      if (decoded === undefined || Either.isLeft(decoded)) {
        const detail = decoded === undefined
          ? `status ${status} with a body that is not JSON`
          : `status ${status} with a body of the wrong shape: ${
            ParseResult.TreeFormatter.formatErrorSync(decoded.left)
          }`
        return Either.left(unexpected(detail, body, creates))
      }
      return Either.right({
        value: decoded.right,
        requestId,
        attempts: progress.attempts,
        replayed: headers["idempotent-replayed"] === "true"
      })
    }

    const envelope = decodeEnvelope(parseJson(body))
    if (Either.isLeft(envelope) || status < 400) {
      const detail = Either.isLeft(envelope)
        ? `status ${status} without FLORA's error envelope`
        : `status ${status}, which FLORA does not use`
      return Either.left(unexpected(detail, body, creates && status >= 500))
    }

    const { code, fields, message } = envelope.right.error
    const fromServer = { ...base, code, detail: scrub(message) }
    if (status === 400) {
      const issues = (fields ?? []).map((f) => new FieldIssue({ path: f.field, message: scrub(f.message) }))
      return Either.left(new ValidationError({ ...fromServer, origin: "server", issues }))
    }
    if (status === 409 && code === "idempotency_duplicate" && creates) {
      return Either.left(new IdempotencyDuplicate(fromServer))
    }
    return Either.left(
      new ApiError({
        ...fromServer,
        // A server error may come after the run was created.
        mayHaveCreatedRun: progress.mayHaveCreatedRun || (creates && status >= 500),
        kind: apiErrorKind(status),
        retryAfter: Option.getOrUndefined(Retry.parseRetryAfter(headers, now))
      })
    )
  }

  /** Sends a run-creating call: every attempt carries the call's idempotency key. */
  const create = <A>(
    call: Call<A> & { readonly idempotencyKey: string },
    options?: CallOptions
  ): Effect.Effect<Success<A>, StartError> => execute(call, options)

  /**
   * Sends a call that creates nothing. Without an idempotency key `classify` never builds an
   * `IdempotencyDuplicate`, so the narrower error type holds.
   */
  const read = <A>(
    call: Call<A> & { readonly idempotencyKey?: undefined },
    options?: CallOptions
  ): Effect.Effect<Success<A>, RequestError> => execute(call, options) as Effect.Effect<Success<A>, RequestError>

  return { create, read, scrub } as const
}

/** @internal */
export type Transport = ReturnType<typeof makeTransport>

/** What one attempt received: the status, the headers and the body read in full (or found too large). */
interface Reply {
  readonly status: number
  readonly headers: Headers.Headers
  readonly body: string | BodyTooLarge
}

class BodyTooLarge {
  constructor(readonly size: number) {}
}

const parseJson = (text: string): unknown => {
  if (text.length === 0) return undefined
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

const apiErrorKind = (status: number): ApiError["kind"] => {
  switch (status) {
    case 401:
      return "Unauthorized"
    case 402:
      return "InsufficientCredits"
    case 403:
      return "Forbidden"
    case 404:
      return "NotFound"
    case 429:
      return "RateLimited"
    default:
      return status >= 500 ? "ServerError" : "OtherStatus"
  }
}

const networkCodes: Record<string, TransportReason> = {
  ECONNREFUSED: "ConnectionRefused",
  ECONNRESET: "ConnectionReset",
  EPIPE: "ConnectionReset",
  UND_ERR_SOCKET: "ConnectionReset",
  UND_ERR_CLOSED: "ConnectionReset",
  ENOTFOUND: "DnsFailure",
  EAI_AGAIN: "DnsFailure",
  UND_ERR_CONNECT_TIMEOUT: "AttemptTimeout",
  UND_ERR_HEADERS_TIMEOUT: "AttemptTimeout",
  UND_ERR_BODY_TIMEOUT: "AttemptTimeout",
  ETIMEDOUT: "AttemptTimeout"
}

/** The links of a cause chain, outermost first, at most eight deep. */
const causeChain = (error: unknown): ReadonlyArray<{ readonly code?: unknown; readonly message?: unknown }> => {
  const chain: Array<{ readonly code?: unknown; readonly message?: unknown; readonly cause?: unknown }> = []
  for (let current = error; typeof current === "object" && current !== null && chain.length < 8;) {
    chain.push(current)
    current = (current as { cause?: unknown }).cause
  }
  return chain
}

const describeTransport = (
  error: HttpClientError.HttpClientError | Cause.TimeoutException,
  timeout: Duration.Duration
): readonly [TransportReason, string] => {
  if (error._tag === "TimeoutException") {
    return ["AttemptTimeout", `no complete response within the attempt timeout of ${Duration.format(timeout)}`]
  }
  // `fetch` wraps the reason in a generic "fetch failed"; the deepest message says what happened.
  const chain = causeChain(error.cause)
  const code = chain.map((link) => link.code).find((code): code is string => typeof code === "string")
  const messages = chain.map((link) => link.message).filter((m): m is string => typeof m === "string" && m !== "")
  const detail = [code, messages.at(-1) ?? error.message].filter((part) => part !== undefined).join(": ")
  if (error._tag === "ResponseError") return ["BodyReadFailed", detail]
  return [code === undefined ? "Other" : networkCodes[code] ?? "Other", detail]
}
