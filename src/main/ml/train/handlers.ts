// Handlers for train.* methods, joined into the handler map in services/index.ts.

import { type TrainRunInfo } from '../../../shared/contract'
import { type AppContext } from '../../context'
import { type TrainingRun } from '../../library/runs'
import { type Handlers } from '../../services'
import { type TrainRequest } from './plan'
import { enqueueTraining, findRun, resumeTraining } from './service'

type TrainMethods = 'train.start' | 'train.runs' | 'train.run' | 'train.resume'

const snapshotOf = (v: unknown): TrainRunInfo['snapshot'] => {
  const s = v as { id?: unknown; name?: unknown; hash?: unknown } | undefined
  return s && typeof s.id === 'string' ? { id: s.id, name: typeof s.name === 'string' ? s.name : '', hash: typeof s.hash === 'string' ? s.hash : '' } : null
}

export function runInfo(r: TrainingRun): TrainRunInfo {
  const m = r.metrics as Record<string, unknown>
  return {
    id: r.id,
    jobId: r.jobId,
    state: r.state,
    objective: r.objective,
    baseModelId: r.baseModelId,
    datasetId: r.datasetId,
    modelId: r.modelId,
    createdAt: r.createdAt,
    finishedAt: r.finishedAt,
    reason: typeof m.reason === 'string' ? m.reason : null,
    plan: (m.plan as Record<string, unknown> | undefined) ?? null,
    history: (m.history as TrainRunInfo['history'] | undefined) ?? [],
    val: (m.val as TrainRunInfo['val'] | undefined) ?? [],
    test: (m.test as TrainRunInfo['test'] | undefined) ?? null,
    durationS: typeof m.durationS === 'number' ? m.durationS : null,
    steps: typeof m.steps === 'number' ? m.steps : null,
    bestStep: typeof m.bestStep === 'number' ? m.bestStep : null,
    stoppedEarly: m.stoppedEarly === true,
    error: typeof m.error === 'string' ? m.error : null,
    snapshot: snapshotOf(m.snapshot)
  }
}

export function trainServices(ctx: AppContext): Pick<Handlers, TrainMethods> {
  return {
    'train.start': (input) => enqueueTraining(ctx, input as TrainRequest),
    'train.runs': () => ctx.repos.runs.list().map(runInfo),
    'train.run': (input) => runInfo(findRun(ctx, input.id)),
    'train.resume': (input) => resumeTraining(ctx, input.id)
  }
}
