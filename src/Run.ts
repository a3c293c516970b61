/**
 * Schemas of FLORA runs, as they travel on the wire.
 *
 * Field names keep the API's snake_case. Decoding is forward-compatible: extra fields are ignored, a
 * nullable field accepts both `null` and a missing key (either becomes an absent property), and enum
 * values this version does not know yet (a new run `type`, `status` or output `type`) decode as plain
 * strings instead of failing the call.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * A known literal or any other string: decodes values a newer API adds, while the known ones keep their
 * names in the schema's documentation.
 */
const OpenEnum = <const Literals extends ReadonlyArray<string>>(
  ...literals: Literals
): Schema.Schema<Literals[number] | (string & {})> =>
  // `string & {}` keeps the known literals visible to editors, which a plain `string` would swallow.
  Schema.Union(Schema.Literal(...literals), Schema.String) as Schema.Schema<Literals[number] | (string & {})>

const nullable = <S extends Schema.Schema.Any>(schema: S) => Schema.optionalWith(schema, { nullable: true })

const prefixed = (prefix: string) =>
  Schema.String.pipe(
    Schema.filter((s) => s.startsWith(prefix) && s.length > prefix.length && !/\s/.test(s), {
      message: () => `must start with ${prefix} and contain no whitespace`
    })
  )

/**
 * A technique id, such as `tech_abcd1234`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const TechniqueId = prefixed("tech_").annotations({ identifier: "TechniqueId" })

/**
 * A workspace id, such as `ws_abc123`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const WorkspaceId = prefixed("ws_").annotations({ identifier: "WorkspaceId" })

/**
 * A run id, such as `run_abc123`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const RunId = prefixed("run_").annotations({ identifier: "RunId" })

/**
 * Any JSON value. Numbers must be finite and objects must be plain, so that nothing is silently changed
 * or dropped by `JSON.stringify` (which turns `NaN` into `null` and drops `undefined`).
 *
 * @since 0.1.0
 * @category schemas
 */
export type JsonValue = null | boolean | number | string | ReadonlyArray<JsonValue> | {
  readonly [key: string]: JsonValue
}

/**
 * @since 0.1.0
 * @category schemas
 */
export const JsonValue: Schema.Schema<JsonValue> = Schema.Union(
  Schema.Null,
  Schema.Boolean,
  Schema.Number.pipe(Schema.finite({ message: () => "must be a finite number" })),
  Schema.String,
  Schema.Array(Schema.suspend(() => JsonValue)),
  Schema.Record({ key: Schema.String, value: Schema.suspend(() => JsonValue) })
).annotations({ identifier: "JsonValue", message: () => "must be a JSON value" })

/**
 * The body of `POST /runs/technique`: which technique to run, in which workspace, with which inputs
 * (keyed by the technique's input ids; see `GET /techniques/{id}`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const StartTechniqueParams = Schema.Struct({
  technique_id: TechniqueId,
  workspace_id: WorkspaceId,
  inputs: Schema.Record({ key: Schema.String, value: JsonValue }).annotations({
    message: () => "must be a JSON object of input id to value"
  })
}).annotations({ identifier: "StartTechniqueParams" })

/**
 * @since 0.1.0
 * @category models
 */
export interface StartTechniqueParams extends Schema.Schema.Type<typeof StartTechniqueParams> {}

/**
 * What `startTechnique` accepts: the shape of `StartTechniqueParams`, with `inputs` typed loosely so that
 * data from JSON or a form needs no cast. The params are checked against `StartTechniqueParams` before
 * anything is sent; a value that is not JSON fails as a client-side `ValidationError`.
 *
 * @since 0.1.0
 * @category models
 */
export interface StartTechniqueInput {
  readonly technique_id: string
  readonly workspace_id: string
  readonly inputs: { readonly [inputId: string]: unknown }
}

/**
 * The kind of a run. Values this version does not know decode as plain strings.
 *
 * @since 0.1.0
 * @category schemas
 */
export const RunType = OpenEnum("generation", "technique", "action")

/**
 * The 201 response of a run-creating call. It has no status: poll `GET /runs/{run_id}` for that.
 *
 * @since 0.1.0
 * @category schemas
 */
export const StartRunResponse = Schema.Struct({
  run_id: Schema.NonEmptyString,
  type: RunType,
  /** FLORA's estimate of the run's duration; `undefined` when it has none. */
  estimated_seconds: nullable(Schema.Number),
  /** What the run cost, in USD. */
  charged_cost: Schema.Number,
  poll_url: nullable(Schema.String),
  project_id: nullable(Schema.String),
  model: nullable(Schema.Struct({ model_id: Schema.String })),
  technique: nullable(Schema.Struct({ technique_id: Schema.String, name: Schema.String })),
  action: nullable(Schema.Struct({ action_id: Schema.String }))
}).annotations({ identifier: "StartRunResponse" })

/**
 * @since 0.1.0
 * @category models
 */
export interface StartRunResponse extends Schema.Schema.Type<typeof StartRunResponse> {}

/**
 * A run that was started, as `startTechnique` returns it: the 201 response plus what the SDK knows of the
 * exchange.
 *
 * @since 0.1.0
 * @category models
 */
export interface StartedRun extends StartRunResponse {
  /** The `Idempotency-Key` sent on every attempt of the call. */
  readonly idempotencyKey: string
  /** The `request-id` header of the successful response. */
  readonly requestId: string | undefined
  /** How many HTTP attempts the call made. */
  readonly attempts: number
  /** `true` when the server answered with a replay of an earlier response (`idempotent-replayed: true`). */
  readonly replayed: boolean
}

/**
 * The lifecycle state of a run: `pending`, then `running`, then `completed` or `failed`. Values this
 * version does not know decode as plain strings and are treated as not yet finished.
 *
 * @since 0.1.0
 * @category schemas
 */
export const RunStatus = OpenEnum("pending", "running", "completed", "failed")

/**
 * @since 0.1.0
 * @category models
 */
export type RunStatus = typeof RunStatus.Type

/**
 * The kind of a run output. Values this version does not know decode as plain strings.
 *
 * @since 0.1.0
 * @category schemas
 */
export const OutputType = OpenEnum("imageUrl", "videoUrl", "audioUrl", "text", "documentUrl")

/**
 * One output of a completed run. `url` is a URL, except when `type` is `text`: then it holds the text.
 *
 * @since 0.1.0
 * @category schemas
 */
export const RunOutput = Schema.Struct({
  output_id: Schema.String,
  type: OutputType,
  url: Schema.String
}).annotations({ identifier: "RunOutput" })

/**
 * @since 0.1.0
 * @category models
 */
export interface RunOutput extends Schema.Schema.Type<typeof RunOutput> {}

/**
 * A snapshot of a run, from `GET /runs/{runId}`. A run that ends `failed` is still a successful HTTP
 * response: check `status`, or use `waitForRun`, which turns it into a `RunFailed` error.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Run = Schema.Struct({
  run_id: Schema.NonEmptyString,
  status: RunStatus,
  /** Advisory progress, 0 to 100 while running; never a completion signal. */
  progress: Schema.Number,
  created_at: Schema.Number,
  started_at: nullable(Schema.Number),
  completed_at: nullable(Schema.Number),
  charged_cost: nullable(Schema.Number),
  error_code: nullable(Schema.String),
  error_message: nullable(Schema.String),
  outputs: nullable(Schema.Array(RunOutput)),
  poll_url: nullable(Schema.String)
}).annotations({ identifier: "Run" })

/**
 * @since 0.1.0
 * @category models
 */
export interface Run extends Schema.Schema.Type<typeof Run> {}

/**
 * Returns `true` when the run has ended, `completed` or `failed`.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isTerminal = (run: Pick<Run, "status">): boolean => run.status === "completed" || run.status === "failed"
