/**
 * When `effect-flora` retries, and how long it waits.
 *
 * A retry re-sends the same request with the same `Idempotency-Key`, so it can never start a second run.
 * Only failures that may pass are retried: transport errors and attempt timeouts, and the statuses 408,
 * 429, 500, 502, 503 and 504. A 409 is never retried: it means the key was already used, so the first run
 * exists. The user's schedule decides how often and how long to wait; a server `Retry-After` hint replaces
 * the schedule's wait when it is readable, positive and within the configured cap.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import type { RequestError, StartError } from "./FloraError.js"

/**
 * The default retry schedule: 2 retries, exponential from 500 ms, jittered, each wait at most 8 s.
 *
 * @since 0.1.0
 * @category schedules
 */
export const defaultSchedule: Schedule.Schedule<unknown, RequestError> = Schedule.exponential("500 millis").pipe(
  Schedule.jittered,
  Schedule.union(Schedule.spaced("8 seconds")),
  Schedule.intersect(Schedule.recurs(2))
)

const retryableStatuses: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504])

/**
 * Returns `true` when the error may pass if the same request is sent again. This does not look at a
 * `Retry-After` hint's size: see `retryAfterWithin`.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isRetryable = (error: StartError): boolean => {
  switch (error._tag) {
    case "TransportError":
      return error.reason !== "DeadlineExceeded"
    case "ApiError":
    case "UnexpectedResponse":
      return error.status !== undefined && retryableStatuses.has(error.status)
    case "ValidationError":
    case "IdempotencyDuplicate":
      return false
  }
}

/**
 * The server's retry hint carried by an error, if any.
 *
 * @since 0.1.0
 * @category getters
 */
export const retryAfterOf = (error: StartError): Option.Option<Duration.Duration> =>
  (error._tag === "ApiError" || error._tag === "UnexpectedResponse") && error.retryAfter !== undefined
    ? Option.some(error.retryAfter)
    : Option.none()

/**
 * Returns `true` when the error is retryable and its server hint, if any, is at most `maxRetryAfter`. A
 * longer hint ends the call with the error that carried it, instead of sleeping for hours.
 *
 * @since 0.1.0
 * @category predicates
 */
export const shouldRetry = (error: StartError, maxRetryAfter: Duration.Duration): boolean =>
  isRetryable(error) &&
  Option.match(retryAfterOf(error), {
    onNone: () => true,
    onSome: (hint) => Duration.lessThanOrEqualTo(hint, maxRetryAfter)
  })

/**
 * The user's schedule with the server's hint: a readable `Retry-After` replaces the schedule's wait.
 *
 * @since 0.1.0
 * @category schedules
 */
export const withRetryAfter = <E extends StartError>(
  schedule: Schedule.Schedule<unknown, RequestError>
): Schedule.Schedule<unknown, E> =>
  Schedule.identity<E>().pipe(
    Schedule.intersect(schedule as Schedule.Schedule<unknown, E>),
    Schedule.modifyDelay(([error], delay) => Option.getOrElse(retryAfterOf(error), () => delay))
  )

/**
 * Goes on after `effect` failed once with `error`: retries it by `schedule` while its failures are
 * retryable. Only failures that `shouldRetry` accepts are handed to the schedule; any other ends the call at
 * once, so a schedule (and its `tapInput`) sees retried failures only. Nothing is allocated for the schedule
 * until a failure needs it, which keeps the call that succeeds at once cheap.
 *
 * @since 0.1.0
 * @category combinators
 */
export const retryFrom = <A, E extends StartError, R>(
  error: E,
  effect: Effect.Effect<A, E, R>,
  schedule: Schedule.Schedule<unknown, E>,
  maxRetryAfter: Duration.Duration
): Effect.Effect<A, E, R> => {
  if (!shouldRetry(error, maxRetryAfter)) return Effect.fail(error)
  return Effect.flatMap(Schedule.driver(schedule), (driver) => {
    const after = (failure: E): Effect.Effect<A, E, R> =>
      shouldRetry(failure, maxRetryAfter)
        ? Effect.zipRight(Effect.orElseFail(driver.next(failure), () => failure), Effect.catchAll(effect, after))
        : Effect.fail(failure)
    return after(error)
  })
}

/**
 * Reads a server retry hint: `retry-after-ms` (milliseconds) first, then `retry-after` as seconds or as an
 * HTTP date, measured against `nowMillis`. A value that is missing, unreadable, zero, negative or in the
 * past gives `None`, so the normal backoff applies and no zero or NaN wait ever happens.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseRetryAfter = (
  headers: { readonly [name: string]: string | undefined },
  nowMillis: number
): Option.Option<Duration.Duration> => {
  const millis = parseMillis(headers["retry-after-ms"]) ?? parseRetryAfterValue(headers["retry-after"], nowMillis)
  return millis === undefined ? Option.none() : Option.some(Duration.millis(millis))
}

const decimal = /^\s*\d+(?:\.\d+)?\s*$/

const parseMillis = (value: string | undefined): number | undefined => {
  if (value === undefined || !decimal.test(value)) return undefined
  const millis = Number(value)
  return Number.isFinite(millis) && millis > 0 ? millis : undefined
}

const parseRetryAfterValue = (value: string | undefined, nowMillis: number): number | undefined => {
  if (value === undefined) return undefined
  if (decimal.test(value)) {
    const millis = Number(value) * 1000
    return Number.isFinite(millis) && millis > 0 ? millis : undefined
  }
  // An HTTP date always names a weekday or month; this also keeps `Date.parse` away from bare numbers
  // such as "-5", which it would read as a year.
  if (!/[a-z]{3}/i.test(value)) return undefined
  const date = Date.parse(value)
  if (!Number.isFinite(date)) return undefined
  const millis = date - nowMillis
  return millis > 0 ? millis : undefined
}
