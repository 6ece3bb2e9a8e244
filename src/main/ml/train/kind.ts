// The `train` job kind as registered by the context. The training code (and onnxruntime-node
// with it) loads only when a run starts, not with every context.

import { type JobKind } from '../../jobs/runner'
import { type TrainCheckpoint, type TrainDeps, type TrainJobParams, type TrainResult } from './job'

export function trainJobKind(deps: TrainDeps): JobKind<TrainJobParams, TrainCheckpoint, TrainResult> {
  return {
    heavy: true,
    title: (p) => `Train ${p.objective && p.objective !== 'auto' ? p.objective + ' ' : ''}on ${p.dataset}`,
    run: async (ctx) => (await import('./job')).runTraining(deps, ctx)
  }
}
