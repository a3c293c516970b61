/**
 * The start-technique benchmark: every client sends the same calls to the same fixed-response server, in
 * rounds, and within a round the clients take turns at each concurrency (in an order that rotates from round to
 * round), so a noisy neighbour slows all of them alike and the ratios to raw `fetch` hold.
 */
import type { Client } from "./clients.js"
import { type Cost, measure, median, percentile } from "./stats.js"

/** One client's batch at one concurrency in one round. */
export interface Sample {
  readonly client: string
  readonly concurrency: number
  readonly round: number
  readonly calls: number
  readonly perSecond: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly cpuUsPerCall: number
  readonly allocatedKbPerCall: number
}

export interface Options {
  readonly rounds: number
  readonly calls: number
  readonly warmupCalls: number
  readonly concurrencies: ReadonlyArray<number>
  readonly onSample?: (sample: Sample) => void
}

const sampleOf = (client: string, concurrency: number, round: number, latencies: Array<number>, cost: Cost) => ({
  client,
  concurrency,
  round,
  calls: latencies.length,
  perSecond: latencies.length / (cost.wallMs / 1000),
  p50Ms: percentile(latencies, 50),
  p99Ms: percentile(latencies, 99),
  cpuUsPerCall: (cost.cpuMs * 1000) / latencies.length,
  allocatedKbPerCall: cost.allocatedBytes / 1024 / latencies.length
})

export const run = async (clients: ReadonlyArray<Client>, options: Options): Promise<ReadonlyArray<Sample>> => {
  for (const client of clients) await client.batch(options.warmupCalls, 16, [])
  const samples: Array<Sample> = []
  for (let round = 0; round < options.rounds; round++) {
    for (const concurrency of options.concurrencies) {
      for (let turn = 0; turn < clients.length; turn++) {
        const client = clients[(turn + round) % clients.length]!
        const latencies: Array<number> = []
        const { cost } = await measure(() => client.batch(options.calls, concurrency, latencies))
        const sample = sampleOf(client.name, concurrency, round, latencies, cost)
        samples.push(sample)
        options.onSample?.(sample)
      }
    }
  }
  return samples
}

/** A client's medians over rounds at one concurrency, with its per-round ratios to the baseline's. */
export interface Summary {
  readonly client: string
  readonly concurrency: number
  readonly perSecond: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly cpuUsPerCall: number
  readonly allocatedKbPerCall: number
  /** Median over rounds of baseline throughput over this client's: 1.20 means 20 % slower. */
  readonly timeRatio: number
  /** Median over rounds of this client's CPU per call over the baseline's. */
  readonly cpuRatio: number
}

export const summarize = (samples: ReadonlyArray<Sample>, baseline: string): ReadonlyArray<Summary> => {
  const find = (client: string, concurrency: number, round: number) =>
    samples.find((s) => s.client === client && s.concurrency === concurrency && s.round === round)!
  const keys = [...new Map(samples.map((s) => [`${s.client}@${s.concurrency}`, s])).values()]
  return keys.map(({ client, concurrency }) => {
    const mine = samples.filter((s) => s.client === client && s.concurrency === concurrency)
    const ratios = mine.map((s) => {
      const base = find(baseline, concurrency, s.round)
      return { time: base.perSecond / s.perSecond, cpu: s.cpuUsPerCall / base.cpuUsPerCall }
    })
    return {
      client,
      concurrency,
      perSecond: median(mine.map((s) => s.perSecond)),
      p50Ms: median(mine.map((s) => s.p50Ms)),
      p99Ms: median(mine.map((s) => s.p99Ms)),
      cpuUsPerCall: median(mine.map((s) => s.cpuUsPerCall)),
      allocatedKbPerCall: median(mine.map((s) => s.allocatedKbPerCall)),
      timeRatio: median(ratios.map((r) => r.time)),
      cpuRatio: median(ratios.map((r) => r.cpu))
    }
  })
}
