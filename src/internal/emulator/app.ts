/**
 * The emulator's HTTP app: FLORA's routes, wire format and error envelope on top of `EmulatorState`.
 *
 * @internal
 */
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Encoding from "effect/Encoding"
import * as Random from "effect/Random"
import * as Stream from "effect/Stream"
import type * as FloraEmulator from "../../testing/FloraEmulator.js"
import { basePath, ConnectionFault } from "./connection.js"
import type { EmulatorState, RunRecord } from "./state.js"

interface FieldError {
  readonly field: string
  readonly message: string
}

class ApiError extends Data.TaggedError("ApiError")<{
  readonly status: number
  readonly code: string
  readonly message: string
  readonly fields?: ReadonlyArray<FieldError> | undefined
  readonly headers?: Readonly<Record<string, string>> | undefined
}> {}

const validationError = (fields: ReadonlyArray<FieldError>): ApiError =>
  new ApiError({
    status: 400,
    code: "input_validation_error",
    message: fields.map((field) => `${field.field}: ${field.message}`).join("; "),
    fields
  })

const notFound = (message: string): ApiError => new ApiError({ status: 404, code: "not_found", message })

const errorResponse = (error: ApiError): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.unsafeJson(
    {
      error: {
        code: error.code,
        message: error.message,
        ...(error.fields === undefined ? {} : { fields: error.fields })
      }
    },
    { status: error.status, headers: error.headers ?? {} }
  )

interface RequestContext {
  readonly request: HttpServerRequest.HttpServerRequest
  readonly requestId: string
  readonly body: string
  readonly origin: string
  readonly receivedAt: number
}

class CurrentRequest extends Context.Tag("effect-flora/internal/emulator/CurrentRequest")<
  CurrentRequest,
  RequestContext
>() {}

const alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"

const randomId = (prefix: string, length: number): Effect.Effect<string> =>
  Effect.map(
    Effect.all(Array.from({ length }, () => Random.nextIntBetween(0, alphabet.length))),
    (indices) => prefix + indices.map((index) => alphabet[index]).join("")
  )

// Absolute for in-process requests (built from a full URL); a bare path with a Host header on a socket.
const originOf = (request: HttpServerRequest.HttpServerRequest): string => {
  if (/^https?:\/\//.test(request.originalUrl)) return new URL(request.originalUrl).origin
  return `http://${request.headers["host"] ?? "127.0.0.1"}`
}

const redactHeaders = (headers: Readonly<Record<string, string>>): Record<string, string> => {
  const redacted: Record<string, string> = { ...headers }
  if (redacted["authorization"] !== undefined) {
    redacted["authorization"] = redacted["authorization"].replace(/^(\s*Bearer\s+).+$/i, "$1<redacted>")
  }
  return redacted
}

const parseJson = (text: string): Either.Either<unknown, undefined> => {
  try {
    return Either.right(JSON.parse(text))
  } catch {
    return Either.left(undefined)
  }
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const canonicalJson = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`
  if (isPlainObject(value)) {
    const keys = Object.keys(value).sort()
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`).join(",")}}`
  }
  return JSON.stringify(value)
}

const outputExtension: Record<FloraEmulator.MediaType, string> = {
  imageUrl: "png",
  videoUrl: "mp4",
  audioUrl: "mp3",
  documentUrl: "pdf",
  text: "txt"
}

const techniqueOutputs = (technique: FloraEmulator.Technique): ReadonlyArray<FloraEmulator.TechniqueOutput> =>
  technique.outcome.status === "completed" ? technique.outcome.outputs : []

const techniqueJson = (technique: FloraEmulator.Technique) => ({
  technique_id: technique.id,
  name: technique.name,
  ...(technique.description === undefined ? {} : { description: technique.description }),
  run_cost: technique.runCost,
  inputs: technique.inputs.map((input) => ({
    id: input.id,
    name: input.name,
    type: input.type,
    ...(input.optional === undefined ? {} : { optional: input.optional }),
    ...(input.description === undefined ? {} : { description: input.description })
  })),
  outputs: techniqueOutputs(technique).map((output, index) => ({
    id: `output_${index + 1}`,
    name: output.name ?? `Output ${index + 1}`,
    type: output.type
  }))
})

const pollUrl = (origin: string, runId: string): string => `${origin}${basePath}/runs/${runId}`

const estimatedSeconds = (run: RunRecord): number => Math.ceil((run.queueMs + run.durationMs) / 1000)

const startRunJson = (run: RunRecord, origin: string) => ({
  run_id: run.runId,
  type: "technique",
  estimated_seconds: estimatedSeconds(run),
  charged_cost: run.chargedCost,
  poll_url: pollUrl(origin, run.runId),
  project_id: null,
  model: null,
  technique: { technique_id: run.technique.id, name: run.technique.name },
  action: null
})

/** The run as `GET /runs/{runId}` shows it at `now`: its status is derived from the clock, never stored. */
const runJson = (run: RunRecord, now: number, origin: string) => {
  const startedAt = run.createdAt + run.queueMs
  const completedAt = startedAt + run.durationMs
  const base = { run_id: run.runId }
  const tail = { charged_cost: run.chargedCost, poll_url: pollUrl(origin, run.runId) }
  if (now < startedAt) return { ...base, status: "pending", progress: 0, created_at: run.createdAt, ...tail }
  if (now < completedAt) {
    const progress = Math.floor((100 * (now - startedAt)) / run.durationMs)
    return { ...base, status: "running", progress, created_at: run.createdAt, started_at: startedAt, ...tail }
  }
  const times = { created_at: run.createdAt, started_at: startedAt, completed_at: completedAt }
  const outcome = run.technique.outcome
  if (outcome.status === "failed") {
    return {
      ...base,
      status: "failed",
      progress: 100,
      ...times,
      charged_cost: run.chargedCost,
      error_code: outcome.errorCode,
      error_message: outcome.errorMessage ?? `The run failed with ${outcome.errorCode}.`,
      poll_url: tail.poll_url
    }
  }
  return {
    ...base,
    status: "completed",
    progress: 100,
    ...times,
    charged_cost: run.chargedCost,
    outputs: outcome.outputs.map((output, index) => ({
      output_id: `output_${index + 1}`,
      type: output.type,
      url: output.value ?? (output.type === "text"
        ? `Text output ${index + 1} of ${run.runId}.`
        : `https://media.flora.emulator.local/${run.runId}/output_${index + 1}.${outputExtension[output.type]}`)
    })),
    poll_url: tail.poll_url
  }
}

const startRunFields = new Set(["technique_id", "workspace_id", "inputs"])

const checkId = (body: Record<string, unknown>, field: string, prefix: string): ReadonlyArray<FieldError> => {
  const value = body[field]
  if (value === undefined) return [{ field, message: "is required" }]
  if (typeof value !== "string") return [{ field, message: "must be a string" }]
  if (!new RegExp(`^${prefix}\\S+$`).test(value)) return [{ field, message: `must start with ${prefix}` }]
  return []
}

interface StartRunBody {
  readonly technique_id: string
  readonly workspace_id: string
  readonly inputs: Record<string, unknown>
}

const validateStartRun = (body: unknown): Either.Either<StartRunBody, ApiError> => {
  if (!isPlainObject(body)) return Either.left(validationError([{ field: "body", message: "must be a JSON object" }]))
  const fields: Array<FieldError> = Object.keys(body)
    .filter((key) => !startRunFields.has(key))
    .map((key) => ({ field: key, message: "is not allowed" }))
  fields.push(...checkId(body, "technique_id", "tech_"), ...checkId(body, "workspace_id", "ws_"))
  if (body.inputs === undefined) fields.push({ field: "inputs", message: "is required" })
  else if (!isPlainObject(body.inputs)) fields.push({ field: "inputs", message: "must be an object" })
  return fields.length > 0 ? Either.left(validationError(fields)) : Either.right(body as unknown as StartRunBody)
}

const validateInputs = (
  technique: FloraEmulator.Technique,
  inputs: Record<string, unknown>
): ReadonlyArray<FieldError> =>
  technique.inputs.flatMap((input): ReadonlyArray<FieldError> => {
    const value = inputs[input.id]
    const field = `inputs.${input.id}`
    if (value === undefined || value === null || value === "") {
      return input.optional === true ? [] : [{ field, message: "is required" }]
    }
    return typeof value === "string" ? [] : [{ field, message: "must be a string" }]
  })

const maxPageSize = 100

const decodeCursor = (cursor: string): number | undefined => {
  const decoded = Encoding.decodeBase64UrlString(cursor)
  if (Either.isLeft(decoded)) return undefined
  const parsed = parseJson(decoded.right)
  if (Either.isLeft(parsed) || !isPlainObject(parsed.right)) return undefined
  const offset = parsed.right.offset
  return typeof offset === "number" && Number.isInteger(offset) && offset >= 0 ? offset : undefined
}

/** Sends the status, headers and first half of the body of `response`, then never finishes the body. */
const stallBody = (response: HttpServerResponse.HttpServerResponse): HttpServerResponse.HttpServerResponse => {
  const bytes = response.body._tag === "Uint8Array" ? response.body.body : new TextEncoder().encode(" ")
  const sent = bytes.subarray(0, Math.max(1, Math.floor(bytes.length / 2)))
  return HttpServerResponse.stream(Stream.concat(Stream.succeed(sent), Stream.never), {
    status: response.status,
    headers: response.headers,
    contentLength: bytes.length
  })
}

const respondFault = (fault: Extract<FloraEmulator.Fault, { _tag: "Respond" }>) => {
  const headers = Object.fromEntries(Object.entries(fault.headers).map(([name, value]) => [name.toLowerCase(), value]))
  if (fault.body === "") return HttpServerResponse.empty({ status: fault.status, headers })
  return HttpServerResponse.text(fault.body, {
    status: fault.status,
    headers,
    contentType: headers["content-type"] ?? "text/plain"
  })
}

/** @internal */
export const makeApp = (state: EmulatorState): HttpApp.Default<ConnectionFault> => {
  const record = (
    context: RequestContext,
    route: FloraEmulator.Route | undefined,
    fault: FloraEmulator.Fault | undefined
  ) =>
    state.record({
      requestId: context.requestId,
      method: context.request.method,
      path: context.request.url,
      route,
      headers: redactHeaders(context.request.headers),
      body: context.body,
      json: Either.getOrUndefined(parseJson(context.body)),
      fault: fault?._tag,
      receivedAt: context.receivedAt
    })

  /** Authenticates the bearer key and counts the request against its workspace's rate limit. */
  const admit = (context: RequestContext) =>
    Effect.gen(function*() {
      const authorization = context.request.headers["authorization"]
      if (authorization === undefined || authorization.trim() === "") {
        return yield* new ApiError({
          status: 401,
          code: "unauthorized",
          message: "Missing Authorization header; send 'Authorization: Bearer <api key>'."
        })
      }
      const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization)
      if (bearer === null) {
        return yield* new ApiError({
          status: 401,
          code: "unauthorized",
          message: "The Authorization header must be 'Bearer <api key>'."
        })
      }
      const account = state.accountsByKey.get(bearer[1]!)
      if (account === undefined) {
        return yield* new ApiError({ status: 401, code: "invalid_api_key", message: "Invalid API key." })
      }
      const now = yield* Clock.currentTimeMillis
      const retryAfter = yield* Effect.sync(() => state.consumeRateLimit(account.workspaceId, now))
      if (retryAfter !== undefined) {
        return yield* new ApiError({
          status: 429,
          code: "rate_limited",
          message: `Rate limit exceeded; retry after ${retryAfter} seconds.`,
          headers: { "retry-after": String(retryAfter) }
        })
      }
      return account
    })

  const startTechniqueRun = (context: RequestContext) =>
    Effect.gen(function*() {
      const account = yield* admit(context)
      const parsed = parseJson(context.body)
      if (Either.isLeft(parsed)) {
        return yield* new ApiError({
          status: 400,
          code: "invalid_json",
          message: "The request body is not valid JSON."
        })
      }
      const idempotencyKey = context.request.headers["idempotency-key"]
      if (idempotencyKey === "") {
        return yield* validationError([{ field: "Idempotency-Key", message: "must not be empty" }])
      }
      const body = yield* validateStartRun(parsed.right)
      if (body.workspace_id !== account.workspaceId) {
        return yield* new ApiError({
          status: 403,
          code: "forbidden",
          message: `This API key cannot use workspace ${body.workspace_id}.`
        })
      }
      const technique = state.techniques.get(body.technique_id)
      if (technique === undefined) return yield* notFound(`Technique ${body.technique_id} not found.`)
      const inputErrors = validateInputs(technique, body.inputs)
      if (inputErrors.length > 0) return yield* validationError(inputErrors)
      const now = yield* Clock.currentTimeMillis
      const runId = yield* randomId("run_", 20)
      const canonicalBody = canonicalJson(parsed.right)

      // One synchronous step from the idempotency lookup to storing the key, so no concurrent request
      // with the same key can slip in between.
      return yield* Effect.suspend(() => {
        const stored = idempotencyKey === undefined
          ? undefined
          : state.findIdempotencyKey(account.apiKey, idempotencyKey, now)
        if (stored !== undefined) {
          if (state.config.idempotency === "reject") {
            return new ApiError({ status: 409, code: "idempotency_duplicate", message: "Duplicate idempotency key." })
          }
          if (stored.canonicalBody !== canonicalBody) {
            return new ApiError({
              status: 422,
              code: "idempotency_conflict",
              message: "This Idempotency-Key was used with a different request body."
            })
          }
          return Effect.succeed(HttpServerResponse.unsafeJson(stored.body, {
            status: stored.status,
            headers: { "idempotent-replayed": "true", "request-id": stored.requestId }
          }))
        }
        if (!state.canAfford(account.workspaceId, technique.runCost)) {
          return new ApiError({
            status: 402,
            code: "insufficient_credits",
            message: `Workspace ${account.workspaceId} has $${
              state.credits(account.workspaceId)
            } left; this run costs $${technique.runCost}.`
          })
        }
        const run = state.createRun({
          runId,
          technique,
          techniqueId: technique.id,
          workspaceId: account.workspaceId,
          inputs: body.inputs,
          chargedCost: technique.runCost,
          idempotencyKey,
          requestId: context.requestId,
          createdAt: now
        })
        const json = startRunJson(run, context.origin)
        if (idempotencyKey !== undefined) {
          state.storeIdempotencyKey(account.apiKey, idempotencyKey, {
            storedAt: now,
            canonicalBody,
            status: 201,
            body: json,
            requestId: context.requestId
          })
        }
        return Effect.succeed(HttpServerResponse.unsafeJson(json, { status: 201 }))
      })
    })

  const getRun = (context: RequestContext) =>
    Effect.gen(function*() {
      const account = yield* admit(context)
      const { runId = "" } = yield* HttpRouter.params
      if (!/^run_\S+$/.test(runId)) return yield* validationError([{ field: "runId", message: "must start with run_" }])
      const run = state.findRun(runId)
      if (run === undefined || run.workspaceId !== account.workspaceId) {
        return yield* notFound(`Run ${runId} not found.`)
      }
      const now = yield* Clock.currentTimeMillis
      return HttpServerResponse.unsafeJson(runJson(run, now, context.origin))
    })

  const listTechniques = (context: RequestContext) =>
    Effect.gen(function*() {
      const account = yield* admit(context)
      const query = new URL(context.request.url, context.origin).searchParams
      const workspaceId = query.get("workspace_id")
      if (workspaceId !== null && workspaceId !== account.workspaceId) {
        return yield* new ApiError({
          status: 403,
          code: "forbidden",
          message: `This API key cannot use workspace ${workspaceId}.`
        })
      }
      const limitParam = query.get("limit")
      const limit = limitParam === null ? 20 : Number(limitParam)
      if (!Number.isInteger(limit) || limit < 1 || limit > maxPageSize) {
        return yield* validationError([{ field: "limit", message: `must be an integer from 1 to ${maxPageSize}` }])
      }
      const cursor = query.get("cursor")
      const offset = cursor === null || cursor === "" ? 0 : decodeCursor(cursor)
      if (offset === undefined) return yield* validationError([{ field: "cursor", message: "is not a valid cursor" }])
      const search = query.get("query")?.toLowerCase() ?? ""
      const matching = Array.from(state.techniques.values()).filter((technique) =>
        `${technique.name} ${technique.description ?? ""}`.toLowerCase().includes(search)
      )
      const page = matching.slice(offset, offset + limit)
      const next = offset + limit < matching.length
        ? Encoding.encodeBase64Url(JSON.stringify({ offset: offset + limit }))
        : null
      return HttpServerResponse.unsafeJson({ techniques: page.map(techniqueJson), meta: { next_cursor: next } })
    })

  const getTechnique = (context: RequestContext) =>
    Effect.gen(function*() {
      yield* admit(context)
      const { techniqueId = "" } = yield* HttpRouter.params
      const technique = state.techniques.get(techniqueId)
      if (technique === undefined) return yield* notFound(`Technique ${techniqueId} not found.`)
      return HttpServerResponse.unsafeJson(techniqueJson(technique))
    })

  /** Records the request, applies the next fault queued for `route`, and otherwise answers with `handler`. */
  const route = <R>(
    name: FloraEmulator.Route,
    handler: (context: RequestContext) => Effect.Effect<HttpServerResponse.HttpServerResponse, ApiError, R>
  ) =>
    Effect.gen(function*() {
      const context = yield* CurrentRequest
      const fault = yield* Effect.sync(() => state.takeFault(name))
      yield* Effect.sync(() => record(context, name, fault))
      const answer = Effect.catchTag(handler(context), "ApiError", (error) => Effect.succeed(errorResponse(error)))
      if (fault === undefined) return yield* answer
      switch (fault._tag) {
        case "Respond":
          return respondFault(fault)
        case "Delay":
          yield* Effect.sleep(fault.duration)
          return yield* answer
        case "DropBeforeCreate":
          return yield* new ConnectionFault({ kind: "drop" })
        case "Reset":
          return yield* new ConnectionFault({ kind: "reset" })
        case "DropAfterCreate":
          yield* answer
          return yield* new ConnectionFault({ kind: "drop" })
        case "StallBody":
          return stallBody(yield* answer)
      }
    })

  const router = HttpRouter.empty.pipe(
    HttpRouter.post("/runs/technique", route("POST /runs/technique", startTechniqueRun)),
    HttpRouter.get("/runs/:runId", route("GET /runs/{runId}", getRun)),
    HttpRouter.get("/techniques", route("GET /techniques", listTechniques)),
    HttpRouter.get("/techniques/:techniqueId", route("GET /techniques/{techniqueId}", getTechnique)),
    HttpRouter.prefixAll(basePath)
  )

  return Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const context: RequestContext = {
      request,
      requestId: yield* randomId("req_", 24),
      body: yield* Effect.orElseSucceed(request.text, () => ""),
      origin: originOf(request),
      receivedAt: yield* Clock.currentTimeMillis
    }
    const response = yield* router.pipe(
      Effect.provideService(CurrentRequest, context),
      Effect.catchTag("RouteNotFound", () =>
        Effect.sync(() => {
          record(context, undefined, undefined)
          return errorResponse(notFound(`No route for ${request.method} ${request.url}.`))
        })),
      Effect.catchAllDefect((defect) =>
        Effect.succeed(errorResponse(new ApiError({ status: 500, code: "unknown_error", message: String(defect) })))
      )
    )
    return response.headers["request-id"] === undefined
      ? HttpServerResponse.setHeader(response, "request-id", context.requestId)
      : response
  })
}
