// The jobs table: rows <-> contract `Job`. State changes are single UPDATEs with a
// guard on the expected state, so two processes never both claim a job.

import type Database from 'better-sqlite3'
import { type Job, type JobState } from '../../shared/contract'
import { newId, nowIso, parseJson } from '../library/util'

export interface JobRow {
  id: string
  kind: string
  title: string
  state: JobState
  heavy: number
  params: string
  checkpoint: string | null
  phase: string | null
  done: number
  total: number | null
  rate: number | null
  eta_s: number | null
  error: string | null
  result: string | null
  control: 'cancel' | 'pause' | null
  runner_pid: number | null
  created_at: string
  started_at: string | null
  finished_at: string | null
  updated_at: string
}

export function rowToJob(r: JobRow): Job {
  return {
    id: r.id,
    kind: r.kind,
    title: r.title,
    state: r.state,
    heavy: r.heavy === 1,
    params: parseJson(r.params, null),
    phase: r.phase,
    done: r.done,
    total: r.total,
    rate: r.rate,
    etaS: r.eta_s,
    error: r.error,
    result: parseJson(r.result, null),
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at
  }
}

export class JobStore {
  constructor(readonly db: Database.Database) {}

  insert(kind: string, title: string, heavy: boolean, params: unknown): JobRow {
    const id = newId()
    const now = nowIso()
    this.db
      .prepare(
        `INSERT INTO jobs (id, kind, title, state, heavy, params, created_at, updated_at)
         VALUES (?, ?, ?, 'queued', ?, ?, ?, ?)`
      )
      .run(id, kind, title, heavy ? 1 : 0, JSON.stringify(params ?? null), now, now)
    return this.row(id)!
  }

  row(id: string): JobRow | undefined {
    return this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined
  }

  list(states?: JobState[], limit = 200): JobRow[] {
    if (states && states.length > 0) {
      const q = states.map(() => '?').join(', ')
      return this.db
        .prepare(`SELECT * FROM jobs WHERE state IN (${q}) ORDER BY created_at DESC, rowid DESC LIMIT ?`)
        .all(...states, limit) as JobRow[]
    }
    return this.db.prepare('SELECT * FROM jobs ORDER BY created_at DESC, rowid DESC LIMIT ?').all(limit) as JobRow[]
  }

  queued(): JobRow[] {
    return this.db.prepare(`SELECT * FROM jobs WHERE state = 'queued' ORDER BY created_at, rowid`).all() as JobRow[]
  }

  runningHeavyCount(): number {
    return (this.db.prepare(`SELECT count(*) AS n FROM jobs WHERE state = 'running' AND heavy = 1`).get() as { n: number }).n
  }

  /** Moves a job from one of `from` to `to`; false when it was in none of them. */
  transition(id: string, from: JobState[], to: JobState, set: Partial<Omit<JobRow, 'id' | 'state'>> = {}): boolean {
    const fields = { ...set, updated_at: nowIso() }
    const assignments = Object.keys(fields).map((k) => `${k} = @${k}`)
    const q = from.map((_, i) => `@from${i}`).join(', ')
    const params: Record<string, unknown> = { ...fields, id, to }
    from.forEach((s, i) => (params[`from${i}`] = s))
    const res = this.db
      .prepare(`UPDATE jobs SET state = @to, ${assignments.join(', ')} WHERE id = @id AND state IN (${q})`)
      .run(params)
    return res.changes === 1
  }

  update(id: string, set: Partial<Omit<JobRow, 'id' | 'state'>>): void {
    const fields = { ...set, updated_at: nowIso() }
    const assignments = Object.keys(fields).map((k) => `${k} = @${k}`)
    this.db.prepare(`UPDATE jobs SET ${assignments.join(', ')} WHERE id = @id`).run({ ...fields, id })
  }
}
