// Handlers for classify.* methods, joined into the handler map in services/index.ts.

import { type AppContext } from '../context'
import { type Handlers } from '../services'
import { exportRun, classifyRepo, resumeClassify, runInfo, sendToDataset, startClassify, thumbnail, undoRun } from './service'

type ClassifyMethods =
  | 'classify.start'
  | 'classify.runs'
  | 'classify.run'
  | 'classify.results'
  | 'classify.resume'
  | 'classify.undo'
  | 'classify.correct'
  | 'classify.toDataset'
  | 'classify.export'
  | 'classify.thumb'

export function classifyServices(ctx: AppContext): Pick<Handlers, ClassifyMethods> {
  const repo = classifyRepo(ctx)
  return {
    'classify.start': async (input) => {
      const { runId, jobId } = await startClassify(ctx, input)
      return { runId, jobId }
    },
    'classify.runs': () => repo.runs().map((r) => runInfo(ctx, r)),
    'classify.run': (input) => runInfo(ctx, repo.run(input.id)),
    'classify.results': (input) => {
      repo.run(input.runId)
      return repo.query(input)
    },
    'classify.resume': (input) => {
      const { runId, job } = resumeClassify(ctx, input.id)
      return { runId, jobId: job.id }
    },
    'classify.undo': (input) => undoRun(ctx, input.id),
    'classify.correct': (input) => {
      repo.run(input.runId)
      const updated = repo.correct(input.runId, input.paths, input.label)
      ctx.bus.emit('library.changed', { domain: 'classify', id: input.runId })
      return { updated }
    },
    'classify.toDataset': (input) => sendToDataset(ctx, input),
    'classify.export': (input) => exportRun(ctx, input.runId, input.out, input.format),
    'classify.thumb': (input) => thumbnail(ctx, input.runId, input.path, input.side)
  }
}
