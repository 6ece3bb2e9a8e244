// `tessera train`: one fine-tuning run in this process, progress on stderr, the new model's id
// on stdout (`--json`: id, name, run, metrics). `--resume <run>` continues a paused, cancelled,
// interrupted or killed run from its last checkpoint.

import { type Command, InvalidArgumentError, Option } from 'commander'
import { type Job } from '../../../shared/contract'
import { type AppContext } from '../../context'
import { AppError } from '../../errors'
import { type TrainResult } from './job'
import { type TrainRequest } from './plan'
import { enqueueTraining, resumeTraining } from './service'

export interface TrainCliHelpers {
  open(): { ctx: AppContext }
  print<T>(value: T, human: (v: T) => string): void
  runJob(jobId: string): Promise<Job>
  jobOutcome(job: Job): void
}

const num = (flag: string, min = 0) => (v: string): number => {
  const n = Number(v)
  if (v.trim() === '' || !Number.isFinite(n) || n < min) throw new InvalidArgumentError(`${flag} must be a number >= ${min}, not "${v}".`)
  return n
}
const whole = (flag: string, min = 1) => (v: string): number => {
  if (!/^\s*\d+\s*$/.test(v) || Number(v) < min) throw new InvalidArgumentError(`${flag} must be a whole number >= ${min}, not "${v}".`)
  return Number(v)
}

interface TrainFlags {
  dataset?: string
  base?: string
  objective: TrainRequest['objective']
  optimizer?: 'adamw' | 'sgd'
  lr?: number
  steps?: number
  epochs?: number
  batchSize?: number | 'all'
  weightDecay?: number
  augment: boolean
  flip?: boolean
  balanced?: boolean
  seed?: number
  name?: string
  layer?: number
  evalEvery?: number
  patience?: number
  checkpointEvery?: number
  resume?: string
}

export function metricsHuman(r: TrainResult): string {
  const lines = [r.modelId, `  ${r.modelName}`, `  ${r.plan.reason}`, `  ${r.steps} steps in ${r.durationS.toFixed(1)} s; metrics on the ${r.metrics.split} split:`]
  const cls = r.metrics.classification
  if (cls) {
    lines.push(`  accuracy ${(cls.accuracy * 100).toFixed(1)}% of ${cls.count}, macro F1 ${cls.macroF1.toFixed(3)}, ECE ${cls.ece.toFixed(3)}`)
    for (const c of cls.perClass) lines.push(`    ${c.name.padEnd(12)} P ${c.precision.toFixed(2)}  R ${c.recall.toFixed(2)}  F1 ${c.f1.toFixed(2)}  (${c.support})`)
  }
  if (r.metrics.bitsPerToken !== undefined) lines.push(`  ${r.metrics.bitsPerToken.toFixed(4)} bits/token`)
  return lines.join('\n')
}

export function registerTrainCommand(program: Command, h: TrainCliHelpers): void {
  program
    .command('train')
    .description('fine-tune a model on a dataset; prints the new model id')
    .option('--dataset <ref>', 'dataset id or name')
    .option('--base <model>', 'base model id or name')
    .addOption(new Option('--objective <o>', 'what to train').choices(['auto', 'probe', 'classify', 'joint', 'generative']).default('auto'))
    .addOption(new Option('--optimizer <o>', 'optimizer (default adamw)').choices(['adamw', 'sgd']))
    .addOption(new Option('--lr <x>', 'peak learning rate').argParser(num('--lr')))
    .addOption(new Option('--steps <n>', 'optimizer steps').argParser(whole('--steps')).conflicts('epochs'))
    .addOption(new Option('--epochs <n>', 'passes over the train split').argParser(whole('--epochs')))
    .addOption(
      new Option('--batch-size <n|all>', 'items per step, or all train items').argParser((v) => (v === 'all' ? 'all' : whole('--batch-size')(v)))
    )
    .addOption(new Option('--weight-decay <x>', 'weight decay').argParser(num('--weight-decay')))
    .option('--no-augment', 'no token-space flips and shifts')
    .option('--flip', 'mirror flips in the augmentation even if the base model says its images are not mirror-symmetric')
    .option('--no-flip', 'shifts only: no mirror flips in the augmentation')
    .option('--balanced', 'class-balanced sampling')
    .addOption(new Option('--seed <s>', 'seed of split, data order and initialisation').argParser(whole('--seed', 0)))
    .option('--name <name>', 'name of the new model')
    .addOption(new Option('--layer <l>', 'probe layer (1..layers)').argParser(whole('--layer')))
    .addOption(new Option('--eval-every <n>', 'validate every n steps').argParser(whole('--eval-every')))
    .addOption(new Option('--patience <n>', 'validations without improvement before stopping (0 = never)').argParser(whole('--patience', 0)))
    .addOption(new Option('--checkpoint-every <n>', 'also checkpoint every n steps').argParser(whole('--checkpoint-every')))
    .option('--resume <run>', 'continue a run (id) from its last checkpoint')
    .action(async (o: TrainFlags) => {
      const { ctx } = h.open()
      let jobId: string
      if (o.resume) {
        const r = resumeTraining(ctx, o.resume)
        jobId = r.jobId
        process.stderr.write(`Resuming run ${r.runId} (job ${r.jobId})\n`)
      } else {
        if (!o.dataset || !o.base) throw new AppError('VALIDATION', 'train needs --dataset and --base (or --resume <run>).')
        const req: TrainRequest = {
          dataset: o.dataset,
          base: o.base,
          objective: o.objective ?? 'auto',
          augment: o.augment,
          ...(o.flip !== undefined ? { flip: o.flip } : {}),
          ...(o.optimizer ? { optimizer: o.optimizer } : {}),
          ...(o.lr !== undefined ? { lr: o.lr } : {}),
          ...(o.steps !== undefined ? { steps: o.steps } : {}),
          ...(o.epochs !== undefined ? { epochs: o.epochs } : {}),
          ...(o.batchSize !== undefined ? { batchSize: o.batchSize } : {}),
          ...(o.weightDecay !== undefined ? { weightDecay: o.weightDecay } : {}),
          ...(o.balanced ? { balanced: true } : {}),
          ...(o.seed !== undefined ? { seed: o.seed } : {}),
          ...(o.name !== undefined ? { name: o.name } : {}),
          ...(o.layer !== undefined ? { layer: o.layer } : {}),
          ...(o.evalEvery !== undefined ? { evalEvery: o.evalEvery } : {}),
          ...(o.patience !== undefined ? { patience: o.patience } : {}),
          ...(o.checkpointEvery !== undefined ? { checkpointEvery: o.checkpointEvery } : {})
        }
        const r = enqueueTraining(ctx, req)
        jobId = r.jobId
        process.stderr.write(`Run ${r.runId} (job ${r.jobId})\n`)
      }
      const final = await h.runJob(jobId)
      h.jobOutcome(final)
      const r = final.result as TrainResult
      h.print({ id: r.modelId, name: r.modelName, runId: r.runId, objective: r.plan.objective, reason: r.plan.reason, steps: r.steps, durationS: r.durationS, metrics: r.metrics }, () => metricsHuman(r))
    })
}
