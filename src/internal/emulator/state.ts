/**
 * The emulator's state. Every method is synchronous and is called from inside `Effect.sync`, so each one is
 * an atomic transaction even when many requests are in flight.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import type * as FloraEmulator from "../../testing/FloraEmulator.js"

/** @internal */
export interface StateConfig {
  readonly accounts: ReadonlyArray<FloraEmulator.Account>
  readonly techniques: ReadonlyArray<FloraEmulator.Technique>
  readonly idempotency: FloraEmulator.IdempotencyMode
  readonly idempotencyWindowMs: number
  readonly rateLimit: { readonly requests: number; readonly windowMs: number } | undefined
  readonly instant: boolean
}

/** @internal */
export interface RunRecord extends FloraEmulator.CreatedRun {
  readonly technique: FloraEmulator.Technique
  readonly queueMs: number
  readonly durationMs: number
}

/** @internal */
export interface StoredIdempotencyKey {
  readonly storedAt: number
  readonly canonicalBody: string
  readonly status: number
  readonly body: unknown
  readonly requestId: string
}

interface QueuedFault {
  readonly route: FloraEmulator.Route | "*"
  readonly fault: FloraEmulator.Fault
  remaining: number
}

interface RateWindow {
  readonly startedAt: number
  count: number
}

// Money is kept in micro-dollars so that charging $0.01 a thousand times leaves an exact balance.
const toMicros = (usd: number): number => Math.round(usd * 1_000_000)
const toUsd = (micros: number): number => micros / 1_000_000

/** @internal */
export class EmulatorState {
  readonly accountsByKey: ReadonlyMap<string, FloraEmulator.Account>
  readonly techniques: ReadonlyMap<string, FloraEmulator.Technique>
  private balances = new Map<string, number>()
  private runsById = new Map<string, RunRecord>()
  private requestLog: Array<FloraEmulator.RecordedRequest> = []
  private idempotencyKeys = new Map<string, StoredIdempotencyKey>()
  private rateWindows = new Map<string, RateWindow>()
  private faults: Array<QueuedFault> = []

  constructor(readonly config: StateConfig) {
    this.accountsByKey = new Map(config.accounts.map((account) => [account.apiKey, account]))
    this.techniques = new Map(config.techniques.map((technique) => [technique.id, technique]))
    this.reset()
  }

  reset(): void {
    this.balances = new Map(this.config.accounts.map((account) => [account.workspaceId, toMicros(account.credits)]))
    this.runsById = new Map()
    this.requestLog = []
    this.idempotencyKeys = new Map()
    this.rateWindows = new Map()
    this.faults = []
  }

  inject(injection: FloraEmulator.Injection): void {
    this.faults.push({ route: injection.route, fault: injection.fault, remaining: injection.times ?? 1 })
  }

  pendingFaults(): number {
    return this.faults.reduce((sum, queued) => sum + queued.remaining, 0)
  }

  takeFault(route: FloraEmulator.Route): FloraEmulator.Fault | undefined {
    const index = this.faults.findIndex((queued) => queued.route === "*" || queued.route === route)
    if (index === -1) return undefined
    const queued = this.faults[index]!
    queued.remaining -= 1
    if (queued.remaining <= 0) this.faults.splice(index, 1)
    return queued.fault
  }

  record(request: FloraEmulator.RecordedRequest): void {
    this.requestLog.push(request)
  }

  recordedRequests(): ReadonlyArray<FloraEmulator.RecordedRequest> {
    return [...this.requestLog]
  }

  createdRuns(): ReadonlyArray<FloraEmulator.CreatedRun> {
    return Array.from(this.runsById.values(), (run) => ({
      runId: run.runId,
      techniqueId: run.techniqueId,
      workspaceId: run.workspaceId,
      inputs: run.inputs,
      chargedCost: run.chargedCost,
      idempotencyKey: run.idempotencyKey,
      requestId: run.requestId,
      createdAt: run.createdAt
    }))
  }

  credits(workspaceId: string): number {
    return toUsd(this.balanceOf(workspaceId))
  }

  setCredits(workspaceId: string, credits: number): void {
    this.balanceOf(workspaceId)
    this.balances.set(workspaceId, toMicros(credits))
  }

  canAfford(workspaceId: string, cost: number): boolean {
    return this.balanceOf(workspaceId) >= toMicros(cost)
  }

  /** Counts one request against the workspace's window; answers the seconds to wait when over the limit. */
  consumeRateLimit(workspaceId: string, now: number): number | undefined {
    const limit = this.config.rateLimit
    if (limit === undefined) return undefined
    let window = this.rateWindows.get(workspaceId)
    if (window === undefined || now - window.startedAt >= limit.windowMs) {
      window = { startedAt: now, count: 0 }
      this.rateWindows.set(workspaceId, window)
    }
    if (window.count >= limit.requests) {
      return Math.max(1, Math.ceil((window.startedAt + limit.windowMs - now) / 1000))
    }
    window.count += 1
    return undefined
  }

  findIdempotencyKey(apiKey: string, key: string, now: number): StoredIdempotencyKey | undefined {
    const stored = this.idempotencyKeys.get(idempotencyScope(apiKey, key))
    if (stored === undefined || now - stored.storedAt >= this.config.idempotencyWindowMs) return undefined
    return stored
  }

  storeIdempotencyKey(apiKey: string, key: string, stored: StoredIdempotencyKey): void {
    this.idempotencyKeys.set(idempotencyScope(apiKey, key), stored)
  }

  createRun(run: Omit<RunRecord, "queueMs" | "durationMs">): RunRecord {
    const instant = this.config.instant
    const record: RunRecord = {
      ...run,
      queueMs: instant ? 0 : Duration.toMillis(run.technique.queue ?? "500 millis"),
      durationMs: instant ? 0 : Duration.toMillis(run.technique.duration ?? "3 seconds")
    }
    this.balances.set(run.workspaceId, this.balanceOf(run.workspaceId) - toMicros(run.chargedCost))
    this.runsById.set(run.runId, record)
    return record
  }

  findRun(runId: string): RunRecord | undefined {
    return this.runsById.get(runId)
  }

  private balanceOf(workspaceId: string): number {
    const balance = this.balances.get(workspaceId)
    if (balance === undefined) throw new Error(`The emulator has no workspace ${workspaceId}`)
    return balance
  }
}

const idempotencyScope = (apiKey: string, key: string): string => `${apiKey}\u0000${key}`
