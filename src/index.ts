/**
 * @since 0.1.0
 */
export * as FloraClient from "./FloraClient.js"

/**
 * @since 0.1.0
 */
export * as FloraConfig from "./FloraConfig.js"

/**
 * @since 0.1.0
 */
export * as FloraError from "./FloraError.js"

/**
 * @since 0.1.0
 */
export * as Retry from "./Retry.js"

/**
 * @since 0.1.0
 */
export * as Run from "./Run.js"

/**
 * @since 0.1.0
 */
export * as Technique from "./Technique.js"
