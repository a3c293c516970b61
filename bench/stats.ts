/**
 * Small measurement helpers: percentiles, medians, and CPU time and heap allocation over a stretch of work.
 */
import * as v8 from "node:v8"

/** The `p`-th percentile (0–100) of `values`, by the nearest-rank method. */
export const percentile = (values: ReadonlyArray<number>, p: number): number => {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(Math.max(rank, 1), sorted.length) - 1]!
}

export const median = (values: ReadonlyArray<number>): number => percentile(values, 50)

/** What a stretch of work cost the process. */
export interface Cost {
  readonly wallMs: number
  /** User plus system CPU time. */
  readonly cpuMs: number
  /** Bytes allocated on the V8 heap, garbage collected or not. */
  readonly allocatedBytes: number
}

/**
 * Measures `work`. Allocation is the growth of the used heap plus what every garbage collection in between
 * freed, read from V8's GC profiler, so it counts short-lived garbage that `heapUsed` alone would miss.
 */
export const measure = async <A>(work: () => Promise<A>): Promise<{ readonly result: A; readonly cost: Cost }> => {
  const profiler = new v8.GCProfiler()
  profiler.start()
  const heapBefore = v8.getHeapStatistics().used_heap_size
  const cpuBefore = process.cpuUsage()
  const wallBefore = process.hrtime.bigint()
  const result = await work()
  const wallMs = Number(process.hrtime.bigint() - wallBefore) / 1e6
  const cpu = process.cpuUsage(cpuBefore)
  const heapAfter = v8.getHeapStatistics().used_heap_size
  const freed = profiler.stop().statistics.reduce(
    (sum, gc) => sum + gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize,
    0
  )
  return {
    result,
    cost: { wallMs, cpuMs: (cpu.user + cpu.system) / 1000, allocatedBytes: heapAfter - heapBefore + freed }
  }
}

/** Formats a number with a fixed count of significant-looking decimals. */
export const fixed = (value: number, digits = 2): string => Number.isFinite(value) ? value.toFixed(digits) : "n/a"
