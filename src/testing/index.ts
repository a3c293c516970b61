/**
 * Test helpers for code that uses FLORA: a stateful emulator of the API with an in-process `HttpClient`.
 * This entry point imports nothing Node-specific; the loopback socket server is `effect-flora/testing/node`.
 *
 * @since 0.1.0
 */

/**
 * The FLORA emulator, its options, faults and in-process layers.
 *
 * @since 0.1.0
 */
export * as FloraEmulator from "./FloraEmulator.js"
