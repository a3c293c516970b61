/**
 * Starting and stopping the benchmark's helper processes.
 */
import { type ChildProcess, fork } from "node:child_process"
import { fileURLToPath } from "node:url"

/** A forked helper and the first message it sent. */
export interface Helper<M> {
  readonly message: M
  readonly process: ChildProcess
  readonly stop: () => Promise<void>
}

/** Forks `script` (a `.ts` file in `bench/`, run through tsx) and waits for the first message it sends. */
export const forkHelper = <M = { readonly baseUrl: string }>(
  script: string,
  args: ReadonlyArray<string> = []
): Promise<Helper<M>> =>
  new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(new URL(script, import.meta.url)), [...args], {
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"]
    })
    child.once("error", reject)
    child.once("exit", (code) => reject(new Error(`${script} exited with code ${code} before it was ready`)))
    child.once("message", (message) => {
      child.removeAllListeners("exit")
      const stop = () =>
        new Promise<void>((done) => {
          if (child.exitCode !== null) return done()
          child.once("exit", () => done())
          child.kill()
        })
      resolve({ message: message as M, process: child, stop })
    })
  })
