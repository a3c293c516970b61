import * as HttpClient from "@effect/platform/HttpClient"
import { describe, expect, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as FloraClient from "../src/FloraClient.js"
import { renderings } from "./support/capture.js"
import { httpClient, makeScript, type Script, started } from "./support/scripted.js"

const params = { technique_id: "tech_demo", workspace_id: "ws_demo", inputs: {} }

const fromEnv = (env: Record<string, string>, script: Script) =>
  FloraClient.layerConfig().pipe(
    Layer.provide(Layer.succeed(HttpClient.HttpClient, httpClient(script))),
    Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))))
  )

describe("FloraClient.layerConfig", () => {
  it.effect("reads FLORA_API_KEY and defaults the base URL to the production API", () =>
    Effect.gen(function*() {
      const script = makeScript(started())
      yield* FloraClient.startTechnique(params).pipe(
        Effect.provide(fromEnv({ FLORA_API_KEY: "sk_live_abc" }, script))
      )
      expect(script.sent[0].url).toBe("https://app.flora.ai/api/v1/runs/technique")
      expect(script.sent[0].headers["authorization"]).toBe("Bearer sk_live_abc")
    }))

  it.effect("reads FLORA_BASE_URL, with or without a trailing slash", () =>
    Effect.gen(function*() {
      const script = makeScript(started())
      yield* FloraClient.startTechnique(params).pipe(
        Effect.provide(fromEnv({ FLORA_API_KEY: "sk_test_x", FLORA_BASE_URL: "http://127.0.0.1:4010/api/v1/" }, script))
      )
      expect(script.sent[0].url).toBe("http://127.0.0.1:4010/api/v1/runs/technique")
    }))

  it.effect("ignores a trailing newline on the key", () =>
    Effect.gen(function*() {
      const script = makeScript(started())
      yield* FloraClient.startTechnique(params).pipe(
        Effect.provide(fromEnv({ FLORA_API_KEY: "sk_test_newline\n" }, script))
      )
      expect(script.sent[0].headers["authorization"]).toBe("Bearer sk_test_newline")
    }))

  it.effect("fails at layer construction when the key is missing", () =>
    Effect.gen(function*() {
      const error = yield* Layer.build(fromEnv({}, makeScript())).pipe(Effect.scoped, Effect.flip)
      expect(error._op).toBe("MissingData")
      expect(String(error)).toContain("Expected FLORA_API_KEY to exist")
    }))

  const malformed = ["sk_live_has space", "pk_live_wrongprefix", "sk_live_ünïcode", "   "]
  for (const key of malformed) {
    it.effect(`fails at layer construction on the malformed key ${JSON.stringify(key)}, without repeating it`, () =>
      Effect.gen(function*() {
        const script = makeScript()
        const error = yield* Layer.build(fromEnv({ FLORA_API_KEY: key }, script)).pipe(Effect.scoped, Effect.flip)
        for (const text of renderings(error)) {
          if (key.trim().length > 0) expect(text).not.toContain(key.trim())
        }
        expect(String(error)).toMatch(/FLORA API key is (malformed|empty)/)
        expect(script.sent).toHaveLength(0)
      }))
  }

  it.effect("fails at layer construction on a base URL that is not http(s)", () =>
    Effect.gen(function*() {
      const error = yield* Layer.build(
        fromEnv({ FLORA_API_KEY: "sk_test_x", FLORA_BASE_URL: "ftp://example.invalid" }, makeScript())
      ).pipe(Effect.scoped, Effect.flip)
      expect(String(error)).toContain("base URL")
    }))
})

describe("plain http", () => {
  const build = (baseUrl: string, allowInsecureHttp?: boolean) =>
    Layer.build(
      FloraClient.layer({ apiKey: Redacted.make("sk_test_x"), baseUrl, allowInsecureHttp }).pipe(
        Layer.provide(Layer.succeed(HttpClient.HttpClient, httpClient(makeScript())))
      )
    ).pipe(Effect.scoped, Effect.either)

  it.effect("is refused on a remote host, since the key would cross the network unencrypted", () =>
    Effect.gen(function*() {
      const result = yield* build("http://flora.example.com/api/v1")
      expect(result._tag === "Left" && String(result.left)).toContain("send the API key unencrypted")
    }))

  it.effect("is accepted on loopback, localhost and .local, or when allowed", () =>
    Effect.gen(function*() {
      for (const url of ["http://127.0.0.1:4010/api/v1", "http://localhost/api/v1", "http://[::1]:4010/api/v1"]) {
        expect((yield* build(url))._tag).toBe("Right")
      }
      expect((yield* build("http://flora.emulator.local/api/v1"))._tag).toBe("Right")
      expect((yield* build("http://flora.example.com/api/v1", true))._tag).toBe("Right")
    }))
})

describe("FloraClient.layer", () => {
  it.effect("takes explicit options", () =>
    Effect.gen(function*() {
      const script = makeScript(started())
      const layer = FloraClient.layer({ apiKey: Redacted.make("sk_test_opt"), baseUrl: "https://flora.example/v9" })
      yield* FloraClient.startTechnique(params).pipe(
        Effect.provide(layer.pipe(Layer.provide(Layer.succeed(HttpClient.HttpClient, httpClient(script)))))
      )
      expect(script.sent[0].url).toBe("https://flora.example/v9/runs/technique")
    }))
})
