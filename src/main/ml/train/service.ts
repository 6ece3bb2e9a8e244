// Starting and resuming training runs: a run record plus a queued `train` job. Used by the CLI
// and by any other front end (the job itself is src/main/ml/train/job.ts).

import { type AppContext } from '../../context'
import { AppError, ConflictError } from '../../errors'
import { RunsRepo, type TrainingRun } from '../../library/runs'
import { type TrainJobParams } from './job'
import { type TrainRequest } from './plan'

export function enqueueTraining(ctx: AppContext, req: TrainRequest): { runId: string; jobId: string } {
  const dataset = ctx.repos.datasets.get(req.dataset)
  const base = ctx.repos.models.get(req.base)
  // Say so now, not after hours of training.
  if (req.name !== undefined && ctx.repos.models.nameTaken(req.name)) {
    throw new ConflictError(`A model named "${req.name}" already exists; choose another name for the trained model.`, 'name')
  }
  const full: TrainRequest = { ...req, dataset: dataset.id, base: base.id }
  const runs = new RunsRepo(ctx.library.db)
  const run = runs.create({ objective: full.objective ?? 'auto', baseModelId: base.id, datasetId: dataset.id, params: full as unknown as Record<string, unknown> })
  const params: TrainJobParams = { ...full, runId: run.id }
  const job = ctx.jobs.enqueue('train', params, `Train ${base.name} on ${dataset.name}`)
  ctx.library.db.prepare('UPDATE training_runs SET job_id = ? WHERE id = ?').run(job.id, run.id)
  return { runId: run.id, jobId: job.id }
}

/** The run by its id or its job's id. */
export function findRun(ctx: AppContext, ref: string): TrainingRun {
  const run = new RunsRepo(ctx.library.db).list().find((r) => r.id === ref || r.jobId === ref)
  if (!run) throw new AppError('NOT_FOUND', `No training run "${ref}".`)
  return run
}

/** Queues a paused, cancelled, interrupted (or killed) run again; it continues from its last checkpoint. */
export function resumeTraining(ctx: AppContext, ref: string): { runId: string; jobId: string } {
  const run = findRun(ctx, ref)
  if (run.state === 'done') throw new AppError('CONFLICT', `Run ${run.id} already finished (model ${run.modelId}).`)
  if (!run.jobId) throw new AppError('NOT_FOUND', `Run ${run.id} has no job to resume.`)
  const job = ctx.jobs.resume(run.jobId)
  ctx.library.db.prepare("UPDATE training_runs SET state = 'running', finished_at = NULL WHERE id = ?").run(run.id)
  return { runId: run.id, jobId: job.id }
}
