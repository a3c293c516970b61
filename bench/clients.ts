/**
 * The clients compared by the throughput benchmark, each behind one interface: send `count` start-technique
 * calls with `concurrency` in flight, recording each call's latency.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClientTag from "@effect/platform/HttpClient"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import Flora from "@flora-ai/flora"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import * as FloraClient from "../src/FloraClient.js"

export const apiKey = "sk_test_emulator"

export const params = { technique_id: "tech_demo", workspace_id: "ws_demo", inputs: { prompt: "a lighthouse" } }

/** One client under test. */
export interface Client {
  readonly name: string
  /** Sends `count` calls, `concurrency` at a time, pushing each call's latency in milliseconds. */
  readonly batch: (count: number, concurrency: number, latencies: Array<number>) => Promise<void>
  readonly close: () => Promise<void>
}

/** Runs `call` `count` times with `concurrency` workers, each awaiting its call before the next. */
const pool = async (
  count: number,
  concurrency: number,
  latencies: Array<number>,
  call: () => Promise<unknown>
): Promise<void> => {
  let left = count
  const worker = async () => {
    while (left > 0) {
      left -= 1
      const startedAt = performance.now()
      await call()
      latencies.push(performance.now() - startedAt)
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker))
}

/**
 * A hand-written `fetch` call with the headers effect-flora sends: the floor any client is compared with.
 * It checks the status and parses the JSON, and does nothing else.
 */
export const rawFetch = (baseUrl: string): Client => {
  const url = `${baseUrl}/runs/technique`
  const body = JSON.stringify(params)
  const call = async () => {
    const response = await fetch(url, {
      method: "POST",
      headers: {
        authorization: `Bearer ${apiKey}`,
        accept: "application/json",
        "content-type": "application/json",
        "idempotency-key": crypto.randomUUID()
      },
      body
    })
    const json = await response.json()
    if (response.status !== 201) throw new Error(`status ${response.status}`)
    return json
  }
  return {
    name: "raw fetch",
    batch: (count, concurrency, latencies) => pool(count, concurrency, latencies, call),
    close: async () => {}
  }
}

/** The official `@flora-ai/flora` client with its defaults (2 retries, 60 s timeout, global `fetch`). */
export const official = (baseUrl: string): Client => {
  const client = new Flora({ apiKey, baseURL: baseUrl })
  return {
    name: "@flora-ai/flora",
    batch: (count, concurrency, latencies) =>
      pool(count, concurrency, latencies, () => client.runs.startTechnique(params)),
    close: async () => {}
  }
}

/**
 * effect-flora with its defaults, used the Effect way: the service is built once, and each batch is one
 * `Effect.forEach` with bounded concurrency run by a `ManagedRuntime`.
 */
const effectFlora = async (
  name: string,
  baseUrl: string,
  httpClient: Layer.Layer<HttpClient.HttpClient>
): Promise<Client> => {
  const runtime = ManagedRuntime.make(
    FloraClient.layer({ apiKey: Redacted.make(apiKey), baseUrl }).pipe(Layer.provide(httpClient))
  )
  const client = await runtime.runPromise(FloraClient.FloraClient)
  return timedClient(name, runtime, Effect.suspend(() => client.startTechnique(params)))
}

/**
 * The same POST through `@effect/platform`'s `HttpClient` alone, with the same headers, reading the body as
 * text and parsing it: the floor under effect-flora, to tell its own cost from the platform's.
 */
const effectPlatform = async (
  name: string,
  baseUrl: string,
  httpClient: Layer.Layer<HttpClient.HttpClient>
): Promise<Client> => {
  const runtime = ManagedRuntime.make(httpClient)
  const client = await runtime.runPromise(HttpClientTag.HttpClient)
  const url = `${baseUrl}/runs/technique`
  const body = JSON.stringify(params)
  const call = Effect.suspend(() =>
    client.execute(
      HttpClientRequest.post(url, {
        headers: { authorization: `Bearer ${apiKey}`, "idempotency-key": crypto.randomUUID() },
        acceptJson: true,
        body: HttpBody.text(body, "application/json")
      })
    )
  ).pipe(
    Effect.flatMap((response) => response.text),
    Effect.map((text) => JSON.parse(text) as unknown)
  )
  return timedClient(name, runtime, call)
}

/** A `Client` that runs `call` in `runtime`, `concurrency` at a time, timing each run. */
const timedClient = <R, E>(
  name: string,
  runtime: ManagedRuntime.ManagedRuntime<R, E>,
  call: Effect.Effect<unknown, unknown, R>
): Client => {
  const timed = (latencies: Array<number>) =>
    Effect.suspend(() => {
      const startedAt = performance.now()
      return Effect.map(call, () => {
        latencies.push(performance.now() - startedAt)
      })
    })
  return {
    name,
    batch: (count, concurrency, latencies) =>
      runtime.runPromise(
        Effect.forEach(Array.from({ length: count }), () => timed(latencies), { concurrency, discard: true })
      ),
    close: () => runtime.dispose()
  }
}

export const effectPlatformFetch = (baseUrl: string) =>
  effectPlatform("@effect/platform HttpClient (fetch)", baseUrl, FetchHttpClient.layer)

export const effectFloraFetch = (baseUrl: string) =>
  effectFlora("effect-flora (FetchHttpClient)", baseUrl, FetchHttpClient.layer)

export const effectFloraUndici = (baseUrl: string) =>
  effectFlora("effect-flora (undici)", baseUrl, NodeHttpClient.layerUndici)
