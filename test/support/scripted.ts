/**
 * An in-process `HttpClient` that answers from a script, one reply per request, and records what the
 * client sent. For unit tests of the client's own logic; end-to-end behaviour is tested against the
 * emulator.
 */
import type * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as FloraClient from "../../src/FloraClient.js"
import type * as FloraConfig from "../../src/FloraConfig.js"

export const apiKey = "sk_test_unit_0123456789"
export const baseUrl = "https://flora.test/api/v1"

export interface Sent {
  readonly method: string
  readonly url: string
  readonly headers: Record<string, string>
  readonly body: string | undefined
}

export type Reply =
  | { readonly status: number; readonly body?: string | object; readonly headers?: Record<string, string> }
  | { readonly network: string }
  | { readonly stallBody: true; readonly status: number }
  | { readonly hang: true }

export const json = (status: number, body: object, headers?: Record<string, string>): Reply => ({
  status,
  body,
  headers: { "request-id": `req_${status}`, ...headers }
})

export const envelope = (status: number, code: string, message = code, headers?: Record<string, string>): Reply =>
  json(status, { error: { code, message } }, headers)

export const started = (runId = "run_1"): Reply =>
  json(201, {
    run_id: runId,
    type: "technique",
    estimated_seconds: 3,
    charged_cost: 0.25,
    poll_url: `${baseUrl}/runs/${runId}`,
    project_id: null,
    model: null,
    action: null,
    technique: { technique_id: "tech_demo", name: "Demo" }
  })

export const runSnapshot = (status: string, progress: number, extra: object = {}): Reply =>
  json(200, { run_id: "run_1", status, progress, created_at: 1, ...extra })

export interface Script {
  readonly sent: Array<Sent>
  readonly replies: Array<Reply | ((sent: Sent) => Reply)>
}

export const makeScript = (...replies: Array<Reply | ((sent: Sent) => Reply)>): Script => ({ sent: [], replies })

const textOf = (body: HttpBody.HttpBody): string | undefined =>
  body._tag === "Uint8Array" ? new TextDecoder().decode(body.body) : undefined

export const httpClient = (script: Script): HttpClient.HttpClient =>
  HttpClient.make((request, url) =>
    Effect.suspend(() => {
      const sent: Sent = {
        method: request.method,
        url: url.toString(),
        headers: { ...request.headers },
        body: textOf(request.body)
      }
      script.sent.push(sent)
      const next = script.replies.shift()
      if (next === undefined) return Effect.die(`no scripted reply for ${sent.method} ${sent.url}`)
      const reply = typeof next === "function" ? next(sent) : next
      if ("network" in reply) {
        const cause = Object.assign(new TypeError("fetch failed"), {
          cause: Object.assign(new Error(`${reply.network} (scripted)`), { code: reply.network })
        })
        return Effect.fail(new HttpClientError.RequestError({ request, reason: "Transport", cause }))
      }
      if ("hang" in reply) return Effect.never
      if ("stallBody" in reply) {
        const body = new ReadableStream({ start: (controller) => controller.enqueue(new TextEncoder().encode("{")) })
        return Effect.succeed(HttpClientResponse.fromWeb(request, new Response(body, { status: reply.status })))
      }
      const text = reply.body === undefined
        ? ""
        : typeof reply.body === "string"
        ? reply.body
        : JSON.stringify(reply.body)
      return Effect.succeed(
        HttpClientResponse.fromWeb(request, new Response(text, { status: reply.status, headers: reply.headers ?? {} }))
      )
    })
  )

export const clientLayer = (script: Script, options?: Partial<FloraConfig.Options>) =>
  FloraClient.layer({ apiKey: Redacted.make(apiKey), baseUrl, ...options }).pipe(
    Layer.provide(Layer.succeed(HttpClient.HttpClient, httpClient(script))),
    Layer.orDie
  )
