/**
 * Options of a `FloraClient`, and the `Config` that reads them from the environment.
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Schedule from "effect/Schedule"
import type { RequestError } from "./FloraError.js"
import * as Retry from "./Retry.js"

/**
 * The production base URL of the FLORA API.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultBaseUrl = "https://app.flora.ai/api/v1"

/**
 * How a client polls runs. Every field has a default; `FloraClient` methods take the same fields per call.
 *
 * @since 0.1.0
 * @category models
 */
export interface PollOptions {
  /**
   * The wait between polls after the first. Default: from 2 s, growing by a quarter each poll, capped at
   * 5 s (FLORA recommends polling every 2 to 5 seconds). A `Retry-After` from the server lengthens a wait.
   */
  readonly schedule?: Schedule.Schedule<unknown, unknown> | undefined
  /**
   * The wait before the first poll. Default: the run's `estimated_seconds`, at most 10 s, or 2 s when the
   * run has no estimate.
   */
  readonly initialDelay?: Duration.DurationInput | undefined
  /** How long polling may take in all before it fails with `PollTimeout`. Default: 15 minutes. */
  readonly deadline?: Duration.DurationInput | undefined
}

/**
 * How a client sends requests. Every field but `apiKey` has a default.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The FLORA API key (`sk_live_...` or `sk_test_...`). Leading and trailing whitespace is ignored. */
  readonly apiKey: Redacted.Redacted<string>
  /** The API's base URL. Default: `https://app.flora.ai/api/v1`. */
  readonly baseUrl?: string | undefined
  /** The timeout of each attempt, from connecting to the last byte of the body. Default: 60 seconds. */
  readonly timeout?: Duration.DurationInput | undefined
  /** The overall deadline of one call, retries and waits included. Default: 3 minutes. */
  readonly deadline?: Duration.DurationInput | undefined
  /**
   * When to retry a retryable failure. Default: `Retry.defaultSchedule` (2 retries, exponential from
   * 500 ms, jittered, capped at 8 s). Whatever the schedule, only retryable errors are retried.
   */
  readonly retry?: Schedule.Schedule<unknown, RequestError> | undefined
  /**
   * The longest server retry hint (`Retry-After`) that is obeyed. A longer hint ends the call at once
   * with the error that carried it. Default: 60 seconds.
   */
  readonly maxRetryAfter?: Duration.DurationInput | undefined
  /** Responses larger than this many bytes fail with `UnexpectedResponse`. Default: 8 MiB. */
  readonly maxResponseBytes?: number | undefined
  /**
   * Allows a plain `http:` base URL on a host that is not this machine. Off by default, since the API key
   * would cross the network unencrypted; `http:` on loopback, `localhost` and `*.local` needs no permission.
   */
  readonly allowInsecureHttp?: boolean | undefined
  /** How runs are polled, unless a call says otherwise. */
  readonly poll?: PollOptions | undefined
}

/**
 * Options with every default filled in and the key and base URL checked.
 *
 * @since 0.1.0
 * @category models
 */
export interface Resolved {
  readonly apiKey: Redacted.Redacted<string>
  readonly baseUrl: string
  readonly origin: string
  readonly timeout: Duration.Duration
  readonly deadline: Duration.Duration
  readonly retry: Schedule.Schedule<unknown, RequestError>
  readonly maxRetryAfter: Duration.Duration
  readonly maxResponseBytes: number
  readonly poll: PollOptions
}

const printableAscii = /^[\x21-\x7e]+$/

/**
 * Checks the options and fills in the defaults. A missing, empty or malformed key, or a base URL that is
 * not http(s), fails with a `ConfigError` whose message never contains the key.
 *
 * @since 0.1.0
 * @category constructors
 */
export const resolve = (options: Options): Effect.Effect<Resolved, ConfigError.ConfigError> =>
  Either.gen(function*() {
    const apiKey = yield* checkApiKey(options.apiKey)
    const url = yield* checkBaseUrl(options.baseUrl ?? defaultBaseUrl, options.allowInsecureHttp ?? false)
    return {
      apiKey,
      baseUrl: url.href.replace(/\/+$/, ""),
      origin: url.origin,
      timeout: yield* checkDuration("timeout", options.timeout ?? "60 seconds"),
      deadline: yield* checkDuration("deadline", options.deadline ?? "3 minutes"),
      retry: options.retry ?? Retry.defaultSchedule,
      maxRetryAfter: yield* checkDuration("maxRetryAfter", options.maxRetryAfter ?? "60 seconds"),
      maxResponseBytes: yield* checkByteLimit(options.maxResponseBytes ?? 8 * 1024 * 1024),
      poll: options.poll ?? {}
    }
  })

const checkApiKey = (
  apiKey: Redacted.Redacted<string> | undefined
): Either.Either<Redacted.Redacted<string>, ConfigError.ConfigError> => {
  if (apiKey === undefined || !Redacted.isRedacted(apiKey) || typeof Redacted.value(apiKey) !== "string") {
    return Either.left(ConfigError.MissingData(["apiKey"], "The FLORA API key is missing (set FLORA_API_KEY)"))
  }
  const key = Redacted.value(apiKey).trim()
  if (key.length === 0) {
    return Either.left(ConfigError.MissingData(["apiKey"], "The FLORA API key is empty (set FLORA_API_KEY)"))
  }
  if (!printableAscii.test(key) || !key.startsWith("sk_")) {
    return Either.left(
      ConfigError.InvalidData(
        ["apiKey"],
        "The FLORA API key is malformed: expected printable ASCII starting with sk_ (sk_live_... or sk_test_...)"
      )
    )
  }
  return Either.right(key === Redacted.value(apiKey) ? apiKey : Redacted.make(key))
}

/**
 * Decodes a duration that must be positive. `Duration.decode` turns zero, negative and `NaN` inputs into a
 * zero duration, which would make every attempt time out at once.
 *
 * @since 0.1.0
 * @category constructors
 */
export const positiveDuration = (input: Duration.DurationInput): Option.Option<Duration.Duration> => {
  const duration = Duration.decode(input)
  return Duration.greaterThan(duration, Duration.zero) ? Option.some(duration) : Option.none()
}

const checkDuration = (
  name: string,
  input: Duration.DurationInput
): Either.Either<Duration.Duration, ConfigError.ConfigError> =>
  Option.match(positiveDuration(input), {
    onNone: () => Either.left(ConfigError.InvalidData([name], `The ${name} must be a positive duration`)),
    onSome: Either.right
  })

const checkByteLimit = (bytes: number): Either.Either<number, ConfigError.ConfigError> =>
  Number.isSafeInteger(bytes) && bytes > 0
    ? Either.right(bytes)
    : Either.left(ConfigError.InvalidData(["maxResponseBytes"], "The maxResponseBytes must be a positive integer"))

const checkBaseUrl = (baseUrl: string, allowInsecureHttp: boolean): Either.Either<URL, ConfigError.ConfigError> => {
  const invalid = ConfigError.InvalidData(["baseUrl"], `The FLORA base URL must be an absolute http(s) URL`)
  if (!URL.canParse(baseUrl)) return Either.left(invalid)
  const url = new URL(baseUrl)
  if (url.protocol === "https:") return Either.right(url)
  if (url.protocol !== "http:") return Either.left(invalid)
  if (allowInsecureHttp || isLocalHost(url.hostname)) return Either.right(url)
  return Either.left(
    ConfigError.InvalidData(
      ["baseUrl"],
      "The FLORA base URL uses plain http on a remote host, which would send the API key unencrypted: use " +
        "https, or set allowInsecureHttp"
    )
  )
}

/** This machine, or a name that never leaves the local network. */
const isLocalHost = (hostname: string): boolean =>
  hostname === "localhost" || hostname.endsWith(".localhost") || hostname.endsWith(".local") ||
  /^127(?:\.\d{1,3}){3}$/.test(hostname) || hostname === "[::1]"

/**
 * Reads the options from the environment (or any `ConfigProvider`): `FLORA_API_KEY` (required, read as
 * `Redacted`) and `FLORA_BASE_URL` (default `https://app.flora.ai/api/v1`).
 *
 * @since 0.1.0
 * @category config
 */
export const fromEnv: Config.Config<Options> = Config.all({
  // Read as a string and wrapped at once: `Config.redacted` would also redact the "is missing" message.
  apiKey: Config.string("FLORA_API_KEY").pipe(Config.map(Redacted.make)),
  baseUrl: Config.string("FLORA_BASE_URL").pipe(Config.option, Config.map(Option.getOrUndefined))
})
