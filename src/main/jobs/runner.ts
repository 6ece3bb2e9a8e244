// The job runner: takes queued jobs from the table, runs their registered handler
// with an AbortSignal and a checkpoint, reports throttled progress, and records the
// outcome. One heavy job runs at a time (across processes sharing the library);
// light jobs run alongside. A job whose process died while `running` becomes
// `interrupted` when a runner next starts, and resumes from its last checkpoint.

import { type Job, type JobState } from '../../shared/contract'
import { AppError, ConflictError, NotFoundError } from '../errors'
import { type EventBus } from '../events'
import { nowIso, parseJson } from '../library/util'
import { type JobRow, JobStore, rowToJob } from './store'
import type Database from 'better-sqlite3'

export interface ProgressUpdate {
  phase?: string
  done: number
  total?: number | null
  metrics?: Record<string, number>
}

export interface JobContext<P = unknown, C = unknown> {
  jobId: string
  params: P
  /** Aborted on cancel, pause or shutdown; check it between units of work. */
  signal: AbortSignal
  /** The last saved checkpoint, or null on a fresh start. */
  checkpoint: C | null
  /** Persists a checkpoint now (one UPDATE); a resumed job gets it back. */
  saveCheckpoint(value: C, progress?: ProgressUpdate): void
  progress(update: ProgressUpdate): void
}

export interface JobKind<P = unknown, C = unknown, R = unknown> {
  /** Heavy jobs (training, batch classify, generation) run one at a time. */
  heavy: boolean
  title(params: P): string
  run(ctx: JobContext<P, C>): Promise<R>
}

type StopReason = 'cancel' | 'pause' | 'shutdown'
const STOP_STATE: Record<StopReason, JobState> = { cancel: 'cancelled', pause: 'paused', shutdown: 'interrupted' }
const FINAL_OR_WAITING: JobState[] = ['done', 'failed', 'cancelled', 'paused', 'interrupted']

interface Active {
  abort: AbortController
  promise: Promise<void>
}

export interface JobRunnerOptions {
  /** Minimum time between persisted/emitted progress updates of one job. */
  progressIntervalMs?: number
  /** Seconds of history used for the rate. */
  rateWindowS?: number
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export class JobRunner {
  readonly store: JobStore
  private readonly kinds = new Map<string, JobKind<never, never, unknown>>()
  private readonly active = new Map<string, Active>()
  private accept: ((job: JobRow) => boolean) | null = null
  private pumping = false
  private closed = false
  private readonly progressIntervalMs: number
  private readonly rateWindowMs: number

  constructor(
    db: Database.Database,
    private readonly bus: EventBus,
    options: JobRunnerOptions = {}
  ) {
    this.store = new JobStore(db)
    this.progressIntervalMs = options.progressIntervalMs ?? 250
    this.rateWindowMs = (options.rateWindowS ?? 5) * 1000
  }

  register<P, C, R>(kind: string, def: JobKind<P, C, R>): void {
    if (this.kinds.has(kind)) throw new Error(`Job kind ${kind} is registered twice`)
    this.kinds.set(kind, def as unknown as JobKind<never, never, unknown>)
    this.pump() // queued jobs of this kind may be waiting
  }

  hasKind(kind: string): boolean {
    return this.kinds.has(kind)
  }

  /** Marks jobs left `running` by a process that no longer exists as `interrupted`. */
  recover(): Job[] {
    const out: Job[] = []
    for (const row of this.store.list(['running'], 10_000)) {
      const mine = row.runner_pid === process.pid && this.active.has(row.id)
      if (mine || (row.runner_pid !== null && row.runner_pid !== process.pid && pidAlive(row.runner_pid))) continue
      if (
        this.store.transition(row.id, ['running'], 'interrupted', {
          runner_pid: null,
          rate: null,
          eta_s: null,
          error: 'The studio stopped while this job was running; resume it to continue from its last checkpoint.'
        })
      )
        out.push(this.emitState(row.id))
    }
    return out
  }

  /**
   * Starts taking queued jobs. `accept` limits which ones (the CLI runs only the
   * job it was asked to; the app and browser host take all).
   */
  start(accept: (job: JobRow) => boolean = () => true): void {
    this.accept = accept
    this.pump()
  }

  enqueue(kind: string, params: unknown, title?: string): Job {
    const def = this.kinds.get(kind)
    if (!def) throw new AppError('UNSUPPORTED', `There is no job kind "${kind}".`)
    const row = this.store.insert(kind, title ?? def.title(params as never), def.heavy, params)
    this.emitState(row.id)
    this.pump()
    return rowToJob(row)
  }

  get(id: string): Job {
    const row = this.store.row(id)
    if (!row) throw new NotFoundError(`No job with id "${id}".`)
    return rowToJob(row)
  }

  list(states?: JobState[], limit?: number): Job[] {
    return this.store.list(states, limit).map(rowToJob)
  }

  cancel(id: string): Job {
    const job = this.get(id)
    if (job.state === 'running') return this.stopRunning(id, 'cancel')
    if (!this.store.transition(id, ['queued', 'paused', 'interrupted'], 'cancelled', { finished_at: nowIso(), rate: null, eta_s: null }))
      throw new ConflictError(`The job is ${job.state}; only queued, running, paused or interrupted jobs can be cancelled.`)
    return this.emitState(id)
  }

  pause(id: string): Job {
    const job = this.get(id)
    if (job.state === 'running') return this.stopRunning(id, 'pause')
    if (!this.store.transition(id, ['queued'], 'paused', { rate: null, eta_s: null }))
      throw new ConflictError(`The job is ${job.state}; only queued or running jobs can be paused.`)
    return this.emitState(id)
  }

  resume(id: string): Job {
    const job = this.get(id)
    if (!this.kinds.has(job.kind)) throw new AppError('UNSUPPORTED', `This Tessera cannot run jobs of kind "${job.kind}".`)
    if (!this.store.transition(id, ['paused', 'interrupted'], 'queued', { error: null, control: null, finished_at: null }))
      throw new ConflictError(`The job is ${job.state}; only paused or interrupted jobs can be resumed.`)
    const out = this.emitState(id)
    this.pump()
    return out
  }

  /** Resolves when the job is done, failed, cancelled, paused or interrupted. */
  wait(id: string): Promise<Job> {
    return new Promise((resolve) => {
      const check = (): boolean => {
        const job = this.get(id)
        if (FINAL_OR_WAITING.includes(job.state) && !this.active.has(id)) {
          off()
          resolve(job)
          return true
        }
        return false
      }
      const off = this.bus.on('job.state', (j) => {
        if (j.id === id) queueMicrotask(check)
      })
      check()
    })
  }

  /** Stops taking jobs and interrupts running ones (resumable later). */
  async close(): Promise<void> {
    this.closed = true
    for (const a of this.active.values()) a.abort.abort('shutdown' satisfies StopReason)
    await Promise.allSettled([...this.active.values()].map((a) => a.promise))
  }

  private stopRunning(id: string, reason: StopReason): Job {
    const a = this.active.get(id)
    if (a) a.abort.abort(reason)
    // Running in another process: leave a request that its runner reads at its next progress write.
    else this.store.update(id, { control: reason === 'pause' ? 'pause' : 'cancel' })
    return this.get(id)
  }

  private emitState(id: string): Job {
    const job = rowToJob(this.store.row(id)!)
    this.bus.emit('job.state', job)
    return job
  }

  private pump(): void {
    if (!this.accept || this.closed || this.pumping) return
    this.pumping = true
    try {
      for (const row of this.store.queued()) {
        if (!this.kinds.has(row.kind) || !this.accept(row)) continue
        if (row.heavy === 1 && this.store.runningHeavyCount() > 0) continue
        const claimed = this.store.transition(row.id, ['queued'], 'running', {
          runner_pid: process.pid,
          started_at: row.started_at ?? nowIso(),
          control: null,
          error: null
        })
        if (claimed) this.launch(row.id)
      }
    } finally {
      this.pumping = false
    }
  }

  private launch(id: string): void {
    const row = this.store.row(id)!
    const def = this.kinds.get(row.kind)!
    const abort = new AbortController()
    const samples: { t: number; done: number }[] = []
    let lastFlush = 0
    let phase = row.phase ?? 'starting'
    let done = row.done
    let total = row.total
    let metrics: Record<string, number> | undefined

    const rate = (): number | null => {
      const first = samples[0]
      const last = samples[samples.length - 1]
      if (!first || !last || last.t <= first.t) return null
      return (last.done - first.done) / ((last.t - first.t) / 1000)
    }

    const flush = (extra: Partial<JobRow> = {}): void => {
      lastFlush = Date.now()
      const r = rate()
      const etaS = r && r > 0 && total !== null ? Math.max(0, (total - done) / r) : null
      this.store.update(id, { phase, done, total, rate: r, eta_s: etaS, ...extra })
      this.bus.emit('job.progress', { jobId: id, phase, done, total, rate: r, etaS, ...(metrics ? { metrics } : {}) })
      // A cancel or pause asked for by another process (e.g. `tessera jobs cancel`).
      const control = (this.store.db.prepare('SELECT control FROM jobs WHERE id = ?').get(id) as { control: JobRow['control'] } | undefined)?.control
      if (control && !abort.signal.aborted) abort.abort(control satisfies StopReason)
    }

    const progress = (u: ProgressUpdate, force = false): void => {
      const phaseChanged = u.phase !== undefined && u.phase !== phase
      if (u.phase !== undefined) phase = u.phase
      done = u.done
      if (u.total !== undefined) total = u.total
      if (u.metrics) metrics = u.metrics
      const now = Date.now()
      // One sample per 100 ms is plenty for a rate and keeps the window small.
      const lastSample = samples[samples.length - 1]
      if (!lastSample || now - lastSample.t >= 100) samples.push({ t: now, done })
      else lastSample.done = done
      while (samples.length > 2 && samples[0]!.t < now - this.rateWindowMs) samples.shift()
      if (force || phaseChanged || (total !== null && done >= total) || now - lastFlush >= this.progressIntervalMs) flush()
    }

    const ctx: JobContext<never, never> = {
      jobId: id,
      params: parseJson(row.params, null) as never,
      signal: abort.signal,
      checkpoint: parseJson(row.checkpoint, null) as never,
      saveCheckpoint: (value, p) => {
        if (p) {
          if (p.phase !== undefined) phase = p.phase
          done = p.done
          if (p.total !== undefined) total = p.total
          samples.push({ t: Date.now(), done })
        }
        this.store.update(id, { checkpoint: JSON.stringify(value) })
        flush()
      },
      progress: (u) => progress(u)
    }

    const finish = (state: JobState, set: Partial<JobRow>): void => {
      this.store.transition(id, ['running'], state, { runner_pid: null, control: null, rate: null, eta_s: null, ...set })
      this.active.delete(id)
      this.emitState(id)
      this.pump()
    }

    const promise = (async () => {
      this.emitState(id)
      try {
        const result = await def.run(ctx)
        finish('done', { result: JSON.stringify(result ?? null), finished_at: nowIso(), phase: 'done', done, total })
      } catch (e) {
        if (abort.signal.aborted) {
          const reason = abort.signal.reason as StopReason
          const state = STOP_STATE[reason] ?? 'cancelled'
          finish(state, {
            done,
            phase,
            finished_at: state === 'cancelled' ? nowIso() : null,
            error: state === 'interrupted' ? 'The studio closed while this job was running; resume it to continue.' : null
          })
        } else {
          if (!(e instanceof AppError)) console.error(`[jobs] ${row.kind} ${id} failed:`, e)
          const message = e instanceof Error ? e.message : String(e)
          finish('failed', { error: message, finished_at: nowIso(), done, phase })
        }
      }
    })()
    this.active.set(id, { abort, promise })
  }
}
