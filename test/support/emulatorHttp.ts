/**
 * Raw HTTP against the emulator through whatever `HttpClient` is in context, checking every JSON answer
 * against the reference document and every answer for a `request-id` header.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Effect from "effect/Effect"
import * as FloraEmulator from "../../src/testing/FloraEmulator.js"
import { assertConforms, templateOf } from "./openapi.js"

export interface SendOptions {
  /** The bearer key; `null` sends no Authorization header. Defaults to the emulator's default key. */
  readonly apiKey?: string | null | undefined
  /** Serialised as the JSON body. */
  readonly json?: unknown
  /** A raw body, sent as `application/json`. */
  readonly body?: string | undefined
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** Skip the reference check, for answers a fault made up. */
  readonly conform?: boolean | undefined
  readonly baseUrl?: string | undefined
}

export interface Reply {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly text: string
  readonly json: any
}

export const request = (method: "GET" | "POST", path: string, options: SendOptions = {}) => {
  let built = HttpClientRequest.make(method)(`${options.baseUrl ?? FloraEmulator.inProcessBaseUrl}${path}`).pipe(
    HttpClientRequest.setHeaders(options.headers ?? {})
  )
  const apiKey = options.apiKey === undefined ? FloraEmulator.defaultApiKey : options.apiKey
  if (apiKey !== null) built = HttpClientRequest.bearerToken(built, apiKey)
  if (options.json !== undefined) built = HttpClientRequest.bodyUnsafeJson(built, options.json)
  if (options.body !== undefined) built = HttpClientRequest.bodyText(built, options.body, "application/json")
  return built
}

export const send = (method: "GET" | "POST", path: string, options: SendOptions = {}) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const response = yield* client.execute(request(method, path, options))
    const text = yield* response.text
    const reply: Reply = { status: response.status, headers: response.headers, text, json: parseOrUndefined(text) }
    if (options.conform !== false) {
      if (!/^req_\w+$/.test(reply.headers["request-id"] ?? "")) {
        throw new Error(`${method} ${path} answered without a request-id header`)
      }
      const template = templateOf(path)
      if (template === undefined) throw new Error(`No reference path matches ${path}`)
      assertConforms(method, template, reply.status, reply.json)
    }
    return reply
  })

const parseOrUndefined = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

export const startDemoRun = (techniqueId = "tech_demo", options: SendOptions = {}) =>
  send("POST", "/runs/technique", {
    json: { technique_id: techniqueId, workspace_id: FloraEmulator.defaultWorkspaceId, inputs: { prompt: "a fox" } },
    ...options
  })
