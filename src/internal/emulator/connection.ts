/**
 * The signal the emulator app raises instead of answering, and the path it serves under.
 *
 * @internal
 */
import * as Data from "effect/Data"

/** @internal */
export const basePath = "/api/v1"

/** @internal */
export class ConnectionFault extends Data.TaggedError("ConnectionFault")<{
  readonly kind: "drop" | "reset"
}> {}
