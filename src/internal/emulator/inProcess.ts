/**
 * An `HttpClient` that answers from the emulator's app in the calling fiber, without a socket.
 *
 * @internal
 */
import type * as HttpApp from "@effect/platform/HttpApp"
import type * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import type { ConnectionFault } from "./connection.js"

const requestBody = (
  body: HttpBody.HttpBody
): Effect.Effect<BodyInit | undefined, HttpBody.HttpBodyError | unknown> => {
  switch (body._tag) {
    case "Empty":
      return Effect.succeed(undefined)
    case "Uint8Array":
      return Effect.succeed(body.body as Uint8Array<ArrayBuffer>)
    case "Raw":
      return Effect.succeed(body.body as BodyInit)
    case "FormData":
      return Effect.succeed(body.formData)
    case "Stream":
      return Effect.map(Stream.runCollect(body.stream), (chunks) => {
        const parts = Chunk.toReadonlyArray(chunks)
        const joined = new Uint8Array(parts.reduce((size, part) => size + part.length, 0))
        parts.reduce((offset, part) => (joined.set(part, offset), offset + part.length), 0)
        return joined
      })
  }
}

// Shaped like the errors Node's sockets raise, so code that inspects `cause.code` sees what it would in production.
const transportCause = (fault: ConnectionFault): Error =>
  fault.kind === "reset"
    ? Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET", errno: -104, syscall: "read" })
    : Object.assign(new Error("socket hang up"), { code: "ECONNRESET" })

const transportError = (request: HttpClientRequest.HttpClientRequest, cause: unknown) =>
  new HttpClientError.RequestError({ request, reason: "Transport", cause })

/** @internal */
export const makeInProcessClient = (app: HttpApp.Default<ConnectionFault>): HttpClient.HttpClient =>
  HttpClient.make((request, url) =>
    Effect.gen(function*() {
      const body = yield* Effect.mapError(requestBody(request.body), (cause) => transportError(request, cause))
      const serverRequest = HttpServerRequest.fromWeb(
        new Request(url, { method: request.method, headers: request.headers, body: body ?? null })
      )
      const runtime = yield* Effect.runtime<never>()
      const response = yield* app.pipe(
        Effect.provideService(HttpServerRequest.HttpServerRequest, serverRequest),
        Effect.mapError((fault) => transportError(request, transportCause(fault)))
      )
      return HttpClientResponse.fromWeb(request, HttpServerResponse.toWeb(response, { runtime }))
    })
  )
