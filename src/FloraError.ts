/**
 * The typed errors of `effect-flora`.
 *
 * Every failure of a `FloraClient` method is one of the classes below, each with a `_tag` for
 * `Effect.catchTag`. Errors that come from an HTTP exchange carry its `status`, the FLORA error `code`
 * and the `requestId` header; errors of a run-creating call also carry its `idempotencyKey`, the number of
 * `attempts` made and `mayHaveCreatedRun`, which says whether some attempt may have reached the server and
 * started a (billed) run. No error ever holds the API key.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"

/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId: unique symbol = Symbol.for("effect-flora/FloraError")

/**
 * @since 0.1.0
 * @category type ids
 */
export type TypeId = typeof TypeId

/**
 * Returns `true` when the value is one of this package's errors.
 *
 * @since 0.1.0
 * @category guards
 */
export const isFloraError = (u: unknown): u is FloraError => Predicate.hasProperty(u, TypeId)

/**
 * What every error of an HTTP exchange with FLORA carries. Fields are absent when they do not apply (no
 * response was received, or the call was not one that creates a run).
 *
 * @since 0.1.0
 * @category models
 */
const exchangeFields = {
  /** The HTTP method and path of the request, e.g. `POST /runs/technique`. */
  operation: Schema.String,
  /** The HTTP status of the last response, when one was received. */
  status: Schema.optional(Schema.Number),
  /** The FLORA error code of the last response (`error.code` in the envelope), when there was one. */
  code: Schema.optional(Schema.String),
  /** The `request-id` header of the last response: quote it to FLORA support. */
  requestId: Schema.optional(Schema.String),
  /** The `Idempotency-Key` sent on every attempt of a run-creating call. */
  idempotencyKey: Schema.optional(Schema.String),
  /** How many HTTP attempts the call made before failing. */
  attempts: Schema.Number,
  /**
   * `true` when an attempt of this call may have reached the server and started a run, so the run may
   * exist although the call failed: look for it with `idempotencyKey` before starting another.
   */
  mayHaveCreatedRun: Schema.Boolean
}

/**
 * One field-level problem: `path` is the dotted location (`inputs.prompt`, `technique_id`), `message`
 * says what is wrong with it.
 *
 * @since 0.1.0
 * @category models
 */
export class FieldIssue extends Schema.Class<FieldIssue>("effect-flora/FieldIssue")({
  path: Schema.String,
  message: Schema.String
}) {}

const describeExchange = (self: {
  readonly operation: string
  readonly status?: number | undefined
  readonly code?: string | undefined
  readonly requestId?: string | undefined
  readonly idempotencyKey?: string | undefined
  readonly attempts: number
  readonly mayHaveCreatedRun: boolean
}): string => {
  const parts = [self.operation]
  if (self.status !== undefined) parts.push(`status ${self.status}`)
  if (self.code !== undefined) parts.push(`code ${self.code}`)
  if (self.requestId !== undefined) parts.push(`request-id ${self.requestId}`)
  parts.push(`${self.attempts} attempt${self.attempts === 1 ? "" : "s"}`)
  if (self.idempotencyKey !== undefined) parts.push(`idempotency key ${self.idempotencyKey}`)
  const context = `(${parts.join(", ")})`
  return self.mayHaveCreatedRun
    ? `${context}. A run may have been created by this call: look for it before starting another`
    : context
}

/**
 * The request was refused before anything was sent (`origin: "client"`: the params failed the schema),
 * or the server rejected it with 400 `input_validation_error` / `invalid_json` (`origin: "server"`).
 * `issues` lists each field path and message. Never retried.
 *
 * @since 0.1.0
 * @category errors
 */
export class ValidationError extends Schema.TaggedError<ValidationError>("effect-flora/ValidationError")(
  "ValidationError",
  {
    ...exchangeFields,
    origin: Schema.Literal("client", "server"),
    issues: Schema.Array(FieldIssue),
    detail: Schema.String
  }
) {
  /** @since 0.1.0 */
  readonly [TypeId]: TypeId = TypeId

  /** @since 0.1.0 */
  override get message(): string {
    const where = this.origin === "client" ? "Invalid request, nothing was sent" : "FLORA rejected the request"
    const issues = this.issues.map((issue) => `${issue.path}: ${issue.message}`).join("; ")
    return `${where}: ${issues.length > 0 ? issues : this.detail} ${describeExchange(this)}`
  }
}

/**
 * The server answered 409 `idempotency_duplicate`: a request with this `idempotencyKey` was already
 * accepted within the last two hours. When `mayHaveCreatedRun` is `true`, an earlier attempt of this very
 * call reached the server, and the run it started probably exists. Never retried.
 *
 * @since 0.1.0
 * @category errors
 */
export class IdempotencyDuplicate extends Schema.TaggedError<IdempotencyDuplicate>(
  "effect-flora/IdempotencyDuplicate"
)("IdempotencyDuplicate", { ...exchangeFields, detail: Schema.String }) {
  /** @since 0.1.0 */
  readonly [TypeId]: TypeId = TypeId

  /** @since 0.1.0 */
  override get message(): string {
    const lead = this.mayHaveCreatedRun
      ? "An earlier attempt of this call probably started the run; the server refused the retry as a duplicate"
      : "The idempotency key was already used within the last two hours"
    return `${lead} ${describeExchange(this)}`
  }
}

/**
 * Why a request got no usable HTTP response.
 *
 * @since 0.1.0
 * @category models
 */
export const TransportReason = Schema.Literal(
  "ConnectionRefused",
  "ConnectionReset",
  "DnsFailure",
  "AttemptTimeout",
  "DeadlineExceeded",
  "BodyReadFailed",
  "Other"
)

/**
 * @since 0.1.0
 * @category models
 */
export type TransportReason = typeof TransportReason.Type

/**
 * No usable response: the connection was refused or reset, the host name did not resolve, an attempt
 * took longer than its timeout (`AttemptTimeout`, which covers the whole body read), the call ran past
 * its overall deadline (`DeadlineExceeded`), or the body broke off (`BodyReadFailed`). Retried, except
 * `DeadlineExceeded`, which ends the call.
 *
 * @since 0.1.0
 * @category errors
 */
export class TransportError extends Schema.TaggedError<TransportError>("effect-flora/TransportError")(
  "TransportError",
  { ...exchangeFields, reason: TransportReason, detail: Schema.String }
) {
  /** @since 0.1.0 */
  readonly [TypeId]: TypeId = TypeId

  /** @since 0.1.0 */
  override get message(): string {
    return `${this.reason}: ${this.detail} ${describeExchange(this)}`
  }
}

/**
 * The statuses FLORA answers with a documented error envelope, and the class each becomes.
 *
 * @since 0.1.0
 * @category models
 */
export const ApiErrorKind = Schema.Literal(
  "Unauthorized",
  "InsufficientCredits",
  "Forbidden",
  "NotFound",
  "RateLimited",
  "ServerError",
  "OtherStatus"
)

/**
 * FLORA answered with an error status and its documented envelope. `kind` names the case:
 * `Unauthorized` (401), `InsufficientCredits` (402), `Forbidden` (403), `NotFound` (404), `RateLimited`
 * (429), `ServerError` (5xx) and `OtherStatus` (any other 4xx, such as 408 or 422). `retryAfter` holds
 * the server's parsed retry hint. 408, 429, 500, 502, 503 and 504 are retried; the rest are not.
 *
 * @since 0.1.0
 * @category errors
 */
export class ApiError extends Schema.TaggedError<ApiError>("effect-flora/ApiError")("ApiError", {
  ...exchangeFields,
  kind: ApiErrorKind,
  detail: Schema.String,
  retryAfter: Schema.optional(Schema.DurationFromSelf)
}) {
  /** @since 0.1.0 */
  readonly [TypeId]: TypeId = TypeId

  /** @since 0.1.0 */
  override get message(): string {
    const hint = this.retryAfter === undefined ? "" : ` Retry after ${Duration.format(this.retryAfter)}.`
    return `${this.kind}: ${this.detail}${hint} ${describeExchange(this)}`
  }
}

/**
 * The server answered something the API does not promise: an HTML page from a proxy, an empty body,
 * malformed JSON, a body of the wrong shape, or one larger than the configured limit. When the status was
 * 2xx on a run-creating call, the run was probably created (`mayHaveCreatedRun`). Retried only when the
 * status is itself retryable.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnexpectedResponse extends Schema.TaggedError<UnexpectedResponse>("effect-flora/UnexpectedResponse")(
  "UnexpectedResponse",
  {
    ...exchangeFields,
    detail: Schema.String,
    /** The first few hundred characters of the body, with the API key removed. */
    bodySnippet: Schema.String,
    retryAfter: Schema.optional(Schema.DurationFromSelf)
  }
) {
  /** @since 0.1.0 */
  readonly [TypeId]: TypeId = TypeId

  /** @since 0.1.0 */
  override get message(): string {
    return `Unexpected response: ${this.detail} ${describeExchange(this)}`
  }
}

/**
 * The run ended with status `failed`. `errorCode` and `errorMessage` come from the run (for example
 * `provider_error`); the HTTP exchange itself succeeded.
 *
 * @since 0.1.0
 * @category errors
 */
export class RunFailed extends Schema.TaggedError<RunFailed>("effect-flora/RunFailed")("RunFailed", {
  runId: Schema.String,
  errorCode: Schema.optional(Schema.String),
  errorMessage: Schema.optional(Schema.String),
  /** What the failed run was charged, in USD, when the run says. */
  chargedCost: Schema.optional(Schema.Number),
  idempotencyKey: Schema.optional(Schema.String)
}) {
  /** @since 0.1.0 */
  readonly [TypeId]: TypeId = TypeId

  /** @since 0.1.0 */
  override get message(): string {
    return `Run ${this.runId} failed: ${this.errorCode ?? "no error code"}: ${this.errorMessage ?? "no message"}`
  }
}

/**
 * Polling stopped before the run ended: it reached its overall `deadline`, or a custom poll schedule
 * ended. `lastStatus` is the last status seen (absent when no poll succeeded); the run may still finish
 * later, so it can be polled again.
 *
 * @since 0.1.0
 * @category errors
 */
export class PollTimeout extends Schema.TaggedError<PollTimeout>("effect-flora/PollTimeout")("PollTimeout", {
  runId: Schema.String,
  lastStatus: Schema.optional(Schema.String),
  lastProgress: Schema.optional(Schema.Number),
  polls: Schema.Number,
  deadline: Schema.DurationFromSelf,
  idempotencyKey: Schema.optional(Schema.String)
}) {
  /** @since 0.1.0 */
  readonly [TypeId]: TypeId = TypeId

  /** @since 0.1.0 */
  override get message(): string {
    return `Polling of run ${this.runId} stopped before the run ended (${this.polls} polls, last status ` +
      `${this.lastStatus ?? "unknown"}, deadline ${Duration.format(this.deadline)}); it may still finish later`
  }
}

/**
 * The errors of one HTTP call to FLORA.
 *
 * @since 0.1.0
 * @category models
 */
export type RequestError = ValidationError | TransportError | ApiError | UnexpectedResponse

/**
 * The errors of `startTechnique`.
 *
 * @since 0.1.0
 * @category models
 */
export type StartError = RequestError | IdempotencyDuplicate

/**
 * Every error of this package.
 *
 * @since 0.1.0
 * @category models
 */
export type FloraError = StartError | RunFailed | PollTimeout
