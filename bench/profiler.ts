/**
 * CPU profiles of one stretch of work, through the inspector, so start-up and warm-up stay out of them.
 */
import * as Fs from "node:fs"
import * as Inspector from "node:inspector/promises"

/** Runs `work`, recording a CPU profile of it into `file` (read it with `bench/topSelf.ts`) when given one. */
export const profiled = async <A>(file: string | undefined, work: () => Promise<A>): Promise<A> => {
  if (file === undefined) return work()
  const session = new Inspector.Session()
  session.connect()
  await session.post("Profiler.enable")
  await session.post("Profiler.setSamplingInterval", { interval: 100 })
  await session.post("Profiler.start")
  const result = await work()
  const { profile } = await session.post("Profiler.stop")
  Fs.writeFileSync(file, JSON.stringify(profile))
  session.disconnect()
  return result
}
