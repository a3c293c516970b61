/**
 * Serves a {@link FloraEmulator} on a real loopback socket, for clients that must go through the network stack
 * (the official `@flora-ai/flora` client, `curl`, another process). Faults are real here: a dropped connection
 * destroys the socket, a reset sends a TCP RST, a stalled body keeps the socket open with the body unfinished.
 *
 * Needs the optional peer dependency `@effect/platform-node`.
 *
 * @since 0.1.0
 */
/// <reference types="node" />
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpServerError from "@effect/platform/HttpServerError"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as Http from "node:http"
import * as FloraClient from "../FloraClient.js"
import type * as FloraConfig from "../FloraConfig.js"
import * as FloraEmulator from "./FloraEmulator.js"

/**
 * Where a served emulator listens.
 *
 * @since 0.1.0
 * @category models
 */
export interface ServerInfo {
  readonly port: number
  /** `http://127.0.0.1:<port>/api/v1`: pass it to any FLORA client as its base URL. */
  readonly baseUrl: string
}

/**
 * Options of {@link serve}.
 *
 * @since 0.1.0
 * @category models
 */
export interface ServeOptions {
  /** A random free port when omitted. */
  readonly port?: number | undefined
}

/**
 * The loopback server of the emulator in context.
 *
 * @since 0.1.0
 * @category tags
 */
export class FloraEmulatorServer extends Context.Tag("effect-flora/testing/node/FloraEmulatorServer")<
  FloraEmulatorServer,
  ServerInfo
>() {}

const loopback = "127.0.0.1"

/**
 * Listens on `127.0.0.1` (never another interface) and serves `emulator` until the scope closes, when open
 * connections, stalled ones included, are closed too. The handlers run in the runtime that calls `serve`, so a
 * test's `TestClock` drives the runs; use real time (`it.live`) with clients that wait on their own timers.
 *
 * @since 0.1.0
 * @category constructors
 */
export const serve = (
  emulator: FloraEmulator.Service,
  options: ServeOptions = {}
): Effect.Effect<ServerInfo, HttpServerError.ServeError, Scope.Scope> =>
  Effect.gen(function*() {
    const nodeServer = Http.createServer()
    const server = yield* NodeHttpServer.make(() => nodeServer, { host: loopback, port: options.port ?? 0 })

    // Registered after the server's own finalizer, so it runs first: `close` would otherwise wait for
    // stalled responses forever.
    yield* Effect.addFinalizer(() => Effect.sync(() => nodeServer.closeAllConnections()))

    yield* server.serve(onSocket(emulator.app))
    const port = server.address._tag === "TcpAddress" ? server.address.port : 0
    return { port, baseUrl: `http://${loopback}:${port}${FloraEmulator.basePath}` }
  })

/**
 * Answers a {@link FloraEmulator.ConnectionFault} by destroying the request's socket. The handler then waits to
 * be interrupted, which the server does as soon as it sees the connection close.
 */
const onSocket = (app: FloraEmulator.Service["app"]) =>
  Effect.catchTag(app, "ConnectionFault", (fault) =>
    Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
      const socket = NodeHttpServerRequest.toServerResponse(request).socket
      if (fault.kind === "reset") socket?.resetAndDestroy()
      else socket?.destroy()
      return Effect.never
    }))

/**
 * Serves the {@link FloraEmulator.FloraEmulator} in context on loopback.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerServer = (
  options?: ServeOptions
): Layer.Layer<FloraEmulatorServer, HttpServerError.ServeError, FloraEmulator.FloraEmulator> =>
  Layer.scoped(FloraEmulatorServer, Effect.flatMap(FloraEmulator.FloraEmulator, (emulator) => serve(emulator, options)))

/**
 * Provides a fresh emulator and its loopback server.
 *
 * @example
 * ```ts
 * it.live("the official client reads a run back", () =>
 *   Effect.gen(function*() {
 *     const { baseUrl } = yield* FloraEmulatorServer
 *     // new Flora({ apiKey: FloraEmulator.defaultApiKey, baseURL: baseUrl })
 *   }).pipe(Effect.provide(layer())))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options?: FloraEmulator.Options & ServeOptions
): Layer.Layer<FloraEmulator.FloraEmulator | FloraEmulatorServer, HttpServerError.ServeError> =>
  Layer.provideMerge(layerServer(options), FloraEmulator.layerEmulator(options))

/**
 * Provides a `FloraClient` talking to a fresh emulator over a real loopback socket, with the emulator and
 * its server. The client sends through whatever `HttpClient` is provided (`FetchHttpClient.layer`,
 * `NodeHttpClient.layerUndici`, ...), so transport behaviour is exercised end to end.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFloraClient = (
  options?: FloraEmulator.Options & ServeOptions & {
    readonly client?: Omit<FloraConfig.Options, "apiKey" | "baseUrl"> | undefined
  }
): Layer.Layer<
  FloraClient.FloraClient | FloraEmulator.FloraEmulator | FloraEmulatorServer,
  HttpServerError.ServeError,
  HttpClient.HttpClient
> =>
  Layer.unwrapEffect(
    Effect.map(FloraEmulatorServer, (server) =>
      FloraClient.layer({
        ...options?.client,
        apiKey: Redacted.make(options?.accounts?.[0]?.apiKey ?? FloraEmulator.defaultApiKey),
        baseUrl: server.baseUrl
      }).pipe(
        // The key and base URL above are always valid, so the client's configuration cannot fail.
        Layer.orDie
      ))
  ).pipe(Layer.provideMerge(layer(options)))
