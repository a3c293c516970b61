/**
 * Schemas of the technique catalog: which techniques exist, what inputs each takes and what a run costs.
 *
 * Like the run schemas, decoding ignores extra fields and accepts media types this version does not know.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { OutputType } from "./Run.js"

/**
 * One input or output of a technique. Fill an input by its `id` in `startTechnique`'s `inputs`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const TechniquePort = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  /** `imageUrl`, `videoUrl`, `audioUrl`, `text` or `documentUrl`. */
  type: OutputType,
  optional: Schema.optionalWith(Schema.Boolean, { nullable: true }),
  description: Schema.optionalWith(Schema.String, { nullable: true }),
  /** The input can be filled with an element id instead of a URL. */
  accepts_element: Schema.optionalWith(Schema.Boolean, { nullable: true }),
  specified_aspect_ratio: Schema.optionalWith(Schema.String, { nullable: true }),
  specified_duration: Schema.optionalWith(Schema.Number, { nullable: true })
}).annotations({ identifier: "TechniquePort" })

/**
 * @since 0.1.0
 * @category models
 */
export interface TechniquePort extends Schema.Schema.Type<typeof TechniquePort> {}

/**
 * A technique, from `GET /techniques/{techniqueId}`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Technique = Schema.Struct({
  technique_id: Schema.String,
  name: Schema.String,
  description: Schema.optionalWith(Schema.String, { nullable: true }),
  /** What one run costs, in USD. */
  run_cost: Schema.Number,
  inputs: Schema.Array(TechniquePort),
  outputs: Schema.optionalWith(Schema.Array(TechniquePort), { nullable: true, default: () => [] })
}).annotations({ identifier: "Technique" })

/**
 * @since 0.1.0
 * @category models
 */
export interface Technique extends Schema.Schema.Type<typeof Technique> {}

/**
 * One page of `GET /techniques`. `next_cursor` is absent on the last page.
 *
 * @since 0.1.0
 * @category schemas
 */
export const TechniquePage = Schema.Struct({
  techniques: Schema.Array(Technique),
  meta: Schema.Struct({
    next_cursor: Schema.optionalWith(Schema.String, { nullable: true }),
    total_estimate: Schema.optionalWith(Schema.Number, { nullable: true })
  })
}).annotations({ identifier: "TechniquePage" })

/**
 * @since 0.1.0
 * @category models
 */
export interface TechniquePage extends Schema.Schema.Type<typeof TechniquePage> {}
