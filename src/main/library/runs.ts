// Training runs: what was trained from what, with which settings, and how it went.

import type Database from 'better-sqlite3'
import { NotFoundError } from '../errors'
import { newId, nowIso, parseJson } from './util'

export interface TrainingRun {
  id: string
  jobId: string | null
  baseModelId: string | null
  modelId: string | null
  datasetId: string | null
  objective: string
  params: Record<string, unknown>
  metrics: Record<string, unknown>
  state: string
  createdAt: string
  finishedAt: string | null
}

interface RunRow {
  id: string
  job_id: string | null
  base_model_id: string | null
  model_id: string | null
  dataset_id: string | null
  objective: string
  params: string
  metrics: string
  state: string
  created_at: string
  finished_at: string | null
}

const toRun = (r: RunRow): TrainingRun => ({
  id: r.id,
  jobId: r.job_id,
  baseModelId: r.base_model_id,
  modelId: r.model_id,
  datasetId: r.dataset_id,
  objective: r.objective,
  params: parseJson(r.params, {}),
  metrics: parseJson(r.metrics, {}),
  state: r.state,
  createdAt: r.created_at,
  finishedAt: r.finished_at
})

export class RunsRepo {
  constructor(private readonly db: Database.Database) {}

  create(input: { objective: string; jobId?: string | null; baseModelId?: string | null; datasetId?: string | null; params?: Record<string, unknown> }): TrainingRun {
    const id = newId()
    this.db
      .prepare(
        `INSERT INTO training_runs (id, job_id, base_model_id, dataset_id, objective, params, state, created_at)
         VALUES (?, ?, ?, ?, ?, ?, 'running', ?)`
      )
      .run(id, input.jobId ?? null, input.baseModelId ?? null, input.datasetId ?? null, input.objective, JSON.stringify(input.params ?? {}), nowIso())
    return this.get(id)
  }

  get(id: string): TrainingRun {
    const row = this.db.prepare('SELECT * FROM training_runs WHERE id = ?').get(id) as RunRow | undefined
    if (!row) throw new NotFoundError(`No training run with id "${id}".`)
    return toRun(row)
  }

  list(opts: { baseModelId?: string; datasetId?: string } = {}): TrainingRun[] {
    if (opts.baseModelId)
      return (this.db.prepare('SELECT * FROM training_runs WHERE base_model_id = ? ORDER BY created_at DESC').all(opts.baseModelId) as RunRow[]).map(toRun)
    if (opts.datasetId)
      return (this.db.prepare('SELECT * FROM training_runs WHERE dataset_id = ? ORDER BY created_at DESC').all(opts.datasetId) as RunRow[]).map(toRun)
    return (this.db.prepare('SELECT * FROM training_runs ORDER BY created_at DESC').all() as RunRow[]).map(toRun)
  }

  /** Records metrics so far (merged into the stored ones). */
  updateMetrics(id: string, metrics: Record<string, unknown>): TrainingRun {
    const merged = { ...this.get(id).metrics, ...metrics }
    this.db.prepare('UPDATE training_runs SET metrics = ? WHERE id = ?').run(JSON.stringify(merged), id)
    return this.get(id)
  }

  finish(id: string, outcome: { state: 'done' | 'failed' | 'cancelled'; modelId?: string | null }): TrainingRun {
    this.db
      .prepare('UPDATE training_runs SET state = ?, model_id = coalesce(?, model_id), finished_at = ? WHERE id = ?')
      .run(outcome.state, outcome.modelId ?? null, nowIso(), id)
    return this.get(id)
  }
}
