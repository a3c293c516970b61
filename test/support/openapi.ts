/**
 * Checks response bodies against the FLORA reference document (`test/fixtures/flora-runs.openapi.json`, a copy of
 * `shared/reference/flora-runs.openapi.json`) with ajv, plus the technique catalog schema the reference lacks.
 */
import addFormatsModule from "ajv-formats"
import { Ajv2020 } from "ajv/dist/2020.js"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url))

/** Where the team's reference lives when `shared/` sits beside the clone. */
export const sharedReferencePath = fileURLToPath(
  new URL("../../../shared/reference/flora-runs.openapi.json", import.meta.url)
)

/** The path of the copy the tests validate against. */
export const openApiFixturePath = fixture("flora-runs.openapi.json")

const openApiId = "https://effect-flora.test/flora-runs.openapi.json"
const techniquesId = "https://effect-flora.test/flora-techniques.schema.json"

const readJson = (path: string): any => JSON.parse(readFileSync(path, "utf8"))

const openApi = readJson(openApiFixturePath)

// `strict: false`: the OpenAPI document is not itself a JSON Schema, only its `components` are.
const ajv = new Ajv2020({ strict: false, allErrors: true })
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void
addFormats(ajv)
ajv.addSchema({ ...openApi, $id: openApiId })
ajv.addSchema(readJson(fixture("flora-techniques.schema.json")))

const escapePointer = (segment: string): string => segment.replace(/~/g, "~0").replace(/\//g, "~1")

const resolveRef = (ref: string): { readonly pointer: string; readonly value: any } => {
  const pointer = ref.replace(/^#/, "")
  const value = pointer.split("/").slice(1).reduce(
    (node, segment) => node?.[segment.replace(/~1/g, "/").replace(/~0/g, "~")],
    openApi
  )
  if (value === undefined) throw new Error(`Unresolvable $ref ${ref} in the OpenAPI document`)
  return { pointer, value }
}

/** The schema reference of the JSON body the document declares for one operation and status. */
const responseSchemaRef = (method: string, template: string, status: number): string => {
  const operation = openApi.paths?.[template]?.[method.toLowerCase()]
  if (operation === undefined) throw new Error(`The OpenAPI document has no operation ${method} ${template}`)
  let response = operation.responses?.[String(status)]
  let pointer = `/paths/${escapePointer(template)}/${method.toLowerCase()}/responses/${status}`
  if (response === undefined) throw new Error(`The OpenAPI document declares no ${status} for ${method} ${template}`)
  if (typeof response.$ref === "string") {
    const resolved = resolveRef(response.$ref)
    response = resolved.value
    pointer = resolved.pointer
  }
  if (response.content?.["application/json"]?.schema === undefined) {
    throw new Error(`The OpenAPI document has no JSON body for ${status} on ${method} ${template}`)
  }
  return `${openApiId}#${pointer}/content/application~1json/schema`
}

const catalogSchemaRef = (template: string, status: number): string => {
  if (status >= 400) return `${openApiId}#/components/schemas/ErrorEnvelope`
  if (status !== 200) throw new Error(`The technique catalog answers only 200 or an error, not ${status}`)
  return `${techniquesId}#/$defs/${template === "/techniques" ? "TechniquePage" : "Technique"}`
}

const templates = [...Object.keys(openApi.paths), "/techniques", "/techniques/{techniqueId}"]

/** The path template of a concrete path relative to the base URL, e.g. `/runs/run_1` → `/runs/{runId}`. */
export const templateOf = (path: string): string | undefined => {
  const bare = path.split("?")[0]!
  return templates.find((template) => template === bare) ??
    templates.find((template) => new RegExp(`^${template.replace(/\{[^}]+\}/g, "[^/]+")}$`).test(bare))
}

/**
 * Throws, listing every violation, unless `body` is what the reference allows for `method template` answering
 * `status`. An operation or status the reference does not declare is an error too.
 */
export const assertConforms = (method: string, template: string, status: number, body: unknown): void => {
  const ref = template.startsWith("/techniques")
    ? catalogSchemaRef(template, status)
    : responseSchemaRef(method, template, status)
  const validate = ajv.getSchema(ref) ?? ajv.compile({ $ref: ref })
  if (!validate(body)) {
    throw new Error(
      `${method} ${template} ${status} does not conform to the reference:\n` +
        `${ajv.errorsText(validate.errors, { separator: "\n" })}\nbody: ${JSON.stringify(body)}`
    )
  }
}
