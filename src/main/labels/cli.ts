// `tessera label ...`: the Label panel's back end from the command line, on the same
// library and the same undo history as every open window (history, undo, redo), plus
// predictions (a job run here), accept-above and the disagreement queue.

import { type Command, InvalidArgumentError } from 'commander'
import { type Job, type LabelChangeResult, type MethodInput, type MethodName, type MethodResult } from '../../shared/contract'

export interface LabelCliHelpers {
  call<M extends MethodName>(method: M, input: MethodInput<M>): Promise<MethodResult<M>>
  print<T>(value: T, human: (v: T) => string): void
  runJob(jobId: string): Promise<Job>
  jobOutcome(job: Job): void
}

const unit = (v: string): number => {
  const n = Number(v)
  if (v.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError(`must be a number from 0 to 1, not "${v}".`)
  return n
}

const step = (r: LabelChangeResult): string =>
  `${r.changed} item${r.changed === 1 ? '' : 's'} changed. ${r.history.undoAction ? `Next undo: ${r.history.undoAction}.` : 'Nothing left to undo.'}${r.history.redoAction ? ` Next redo: ${r.history.redoAction}.` : ''}`

export function registerLabelCommands(program: Command, h: LabelCliHelpers): void {
  const label = program.command('label').alias('labels').description("a dataset's labels: undo history, model predictions, accept-above, review queue")
  label
    .command('history <dataset>')
    .description('what undo and redo would change (shared with every open window)')
    .action(async (dataset: string) =>
      h.print(await h.call('labels.history', { dataset }), (r) => `undo: ${r.undoAction ?? '(nothing)'}\nredo: ${r.redoAction ?? '(nothing)'}\n${r.size} undoable step${r.size === 1 ? '' : 's'}`)
    )
  label
    .command('undo <dataset>')
    .description("undo the dataset's latest label change")
    .action(async (dataset: string) => h.print(await h.call('labels.undo', { dataset }), step))
  label
    .command('redo <dataset>')
    .description("redo the dataset's latest undone label change")
    .action(async (dataset: string) => h.print(await h.call('labels.redo', { dataset }), step))
  label
    .command('predict <dataset>')
    .description("cache a classifier's predictions for the dataset's items (runs the job here)")
    .requiredOption('--model <ref>', 'model id or name (one with a classifier)')
    .action(async (dataset: string, o: { model: string }) => {
      const job = await h.call('labels.predict', { dataset, model: o.model })
      const final = await h.runJob(job.id)
      h.jobOutcome(final)
      h.print(final.result as { predicted: number; failed: number; total: number }, (r) => `${r.predicted} of ${r.total} items have a prediction${r.failed ? `; ${r.failed} could not be read` : ''}.`)
    })
  label
    .command('accept-above <dataset>')
    .description('model labels for items without a human label predicted at or above a confidence')
    .requiredOption('--model <ref>', 'model id or name')
    .requiredOption('--threshold <p>', 'confidence from 0 to 1', unit)
    .option('--dry-run', 'only count')
    .action(async (dataset: string, o: { model: string; threshold: number; dryRun?: boolean }) =>
      h.print(
        await h.call('labels.acceptAbove', { dataset, model: o.model, threshold: o.threshold, dryRun: o.dryRun === true }),
        (r) =>
          `${r.count} item${r.count === 1 ? '' : 's'} ${r.applied ? 'got' : 'would get'} a model label; ${r.skippedHuman} with a human label left alone${r.noClass ? `; ${r.noClass} predicted a class the dataset lacks` : ''}.`
      )
    )
  label
    .command('queue <dataset>')
    .description('items whose human label the model disagrees with, surest model first')
    .requiredOption('--model <ref>', 'model id or name')
    .option('--low <p>', 'instead: predictions under this confidence, least sure first', unit)
    .action(async (dataset: string, o: { model: string; low?: number }) => {
      const page = await h.call('labels.list', { dataset, model: o.model, limit: 2000, ...(o.low !== undefined ? { mode: 'lowConfidence' as const, threshold: o.low } : { mode: 'disagree' as const }) })
      h.print(page, (p) =>
        [`${p.total} item${p.total === 1 ? '' : 's'}`, ...p.items.map((i) => `  ${i.name}  label ${i.className ?? '-'} (${i.labelSource})  model ${i.prediction?.className ?? '-'} ${i.prediction ? `${Math.round(i.prediction.confidence * 100)}%` : ''}`)].join('\n')
      )
    })
}
