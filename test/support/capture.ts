/**
 * Captures everything the SDK says about itself while a test runs: every log line (at every level, with
 * annotations) and every span (name, attributes, events), as text a test can search.
 */
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Tracer from "effect/Tracer"
import { inspect } from "node:util"

export interface Captured {
  readonly logs: Array<
    { readonly message: string; readonly annotations: Record<string, unknown>; readonly level: string }
  >
  readonly spans: Array<{ readonly name: string; readonly attributes: Map<string, unknown>; events: Array<unknown> }>
  /** Everything above as one string, for searching. */
  readonly text: () => string
}

let nextId = 0

export const makeCapture = (): { readonly captured: Captured; readonly layer: Layer.Layer<never> } => {
  const logs: Captured["logs"] = []
  const spans: Captured["spans"] = []

  const logger = Logger.make(({ annotations, logLevel, message }) => {
    logs.push({
      message: Array.isArray(message) ? message.map(String).join(" ") : String(message),
      annotations: Object.fromEntries(annotations),
      level: logLevel.label
    })
  })

  const tracer = Tracer.make({
    span: (name, parent, context, links, startTime, kind) => {
      const attributes = new Map<string, unknown>()
      const events: Array<unknown> = []
      spans.push({ name, attributes, events })
      const span: Tracer.Span = {
        _tag: "Span",
        name,
        spanId: `span${++nextId}`,
        traceId: "trace",
        parent,
        context,
        status: { _tag: "Started", startTime },
        attributes,
        links: [...links],
        sampled: true,
        kind,
        end: (_endTime, exit) => {
          attributes.set("exit", exit._tag === "Failure" ? String(exit.cause) : "success")
        },
        attribute: (key, value) => {
          attributes.set(key, value)
        },
        event: (eventName, _time, eventAttributes) => {
          events.push({ eventName, eventAttributes })
        },
        addLinks: () => {}
      }
      return span
    },
    context: (f) => f()
  })

  const text = () =>
    JSON.stringify({
      logs,
      spans: spans.map((span) => ({ ...span, attributes: Object.fromEntries(span.attributes) }))
    }, (_key, value) => typeof value === "bigint" ? value.toString() : value)

  const layer = Layer.mergeAll(
    Logger.replace(Logger.defaultLogger, logger),
    Logger.minimumLogLevel(LogLevel.All),
    Layer.setTracer(tracer)
  )

  return { captured: { logs, spans, text }, layer }
}

/** Every way an error can be turned into text: `String`, JSON, its message and stack, and Node's inspect. */
export const renderings = (error: unknown): ReadonlyArray<string> => {
  const { message, stack } = error as { message?: unknown; stack?: unknown }
  return [
    String(error),
    JSON.stringify(error),
    String(message),
    String(stack),
    inspect(error, { depth: 10, showHidden: true })
  ]
}
