// `tessera classify <folder>... --model <ref>`: one classify run in this process, progress on
// stderr, a summary (or with --json one document) on stdout; `--resume [runId]` continues a
// paused, interrupted or killed run; `tessera classify undo <runId>` puts moved files back.
// Exit 0 when the run completed (unreadable files are rows with status `error`), 1 when it
// could not run, 2 for usage errors.

import { type Command, InvalidArgumentError, Option } from 'commander'

import { type ClassifyRunInfo } from '../../shared/classify-contract'
import { type Job } from '../../shared/contract'
import { type AppContext } from '../context'
import { AppError } from '../errors'
import { type ClassifyJobResult } from './job'
import { classifyRepo, resumeClassify, runInfo, startClassify, undoRun } from './service'

export interface ClassifyCliHelpers {
  open(): { ctx: AppContext }
  print<T>(value: T, human: (v: T) => string): void
  runJob(jobId: string): Promise<Job>
  jobOutcome(job: Job): void
}

interface ClassifyFlags {
  model?: string
  out?: string
  threshold?: number
  copyTo?: string
  moveTo?: string
  dryRun?: boolean
  resume?: string | boolean
  topK?: number
  recursive: boolean
  ext?: string
  batchSize?: number
}

const unit = (v: string): number => {
  const n = Number(v)
  if (v.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError(`--threshold must be a number from 0 to 1, not "${v}".`)
  return n
}
const whole = (flag: string) => (v: string): number => {
  if (!/^\s*\d+\s*$/.test(v) || Number(v) < 1) throw new InvalidArgumentError(`${flag} must be a whole number >= 1, not "${v}".`)
  return Number(v)
}

/** The summary a person reads; `errors` are the first unreadable files with their reasons (the CSV and the panel have all). */
export function summaryHuman(info: ClassifyRunInfo, result: ClassifyJobResult | null, errors: { path: string; error: string | null }[] = []): string {
  const c = info.counts
  const lines = [`Run ${info.id}: ${c.files} files with ${info.modelName}: ${c.ok} classified (${c.unsure} unsure), ${c.error} could not be read.`]
  for (const [label, n] of Object.entries(c.byLabel).sort((a, b) => b[1] - a[1])) lines.push(`  ${label.padEnd(16)} ${n}`)
  if (errors.length) {
    lines.push(c.error > errors.length ? `Could not be read (the first ${errors.length} of ${c.error}):` : 'Could not be read:')
    for (const e of errors) lines.push(`  ${e.path}: ${e.error ?? 'unknown reason'}`)
  }
  const plan = Object.entries(info.plan)
  if (plan.length) {
    lines.push(info.params.dryRun ? 'Plan (dry run, nothing touched):' : `${info.params.action === 'move' ? 'Moved' : 'Copied'} into:`)
    for (const [dir, n] of plan.sort()) lines.push(`  ${dir}  ${n}`)
  }
  if (result?.actionsSkipped) lines.push(`${result.actionsSkipped} files changed or vanished since they were read and were left alone.`)
  if (result?.out) lines.push(`Results: ${result.out}`)
  if (info.params.action === 'move' && !info.params.dryRun) lines.push(`Undo with: tessera classify undo ${info.id}`)
  return lines.join('\n')
}

export function registerClassifyCommand(program: Command, h: ClassifyCliHelpers): void {
  const cmd = program
    .command('classify')
    .description('classify every image in folders; report, or copy/move them into class folders')
    .argument('[folders...]', 'folders to classify (recursive)')
    .option('--model <ref>', 'model id or name (any model with a classifier)')
    .option('--out <file.csv>', 'CSV of results (path,label,confidence,top_k,status,error), kept up to date while running')
    .addOption(new Option('--threshold <p>', 'below this confidence a file is "unsure"').argParser(unit))
    .option('--copy-to <dir>', 'copy files into <dir>/<label>/ (never overwriting)')
    .option('--move-to <dir>', 'move files into <dir>/<label>/ (never overwriting; undo puts them back)')
    .option('--dry-run', 'classify and show the plan (files per destination) without touching anything')
    .option('--resume [runId]', 'continue a paused, interrupted or cancelled run (default: the newest one)')
    .addOption(new Option('--top-k <n>', 'classes kept per file').argParser(whole('--top-k')))
    .option('--no-recursive', 'only the folders themselves, not their subfolders')
    .option('--ext <list>', 'extensions to classify, comma separated (default: common image types)')
    .addOption(new Option('--batch-size <n>', 'images per forward run').argParser(whole('--batch-size')))
    .action(async (folders: string[], o: ClassifyFlags) => {
      const { ctx } = h.open()
      let runId: string
      if (o.resume !== undefined) {
        runId = resumeClassify(ctx, typeof o.resume === 'string' ? o.resume : undefined).runId
        process.stderr.write(`Resuming run ${runId}\n`)
      } else {
        if (!folders.length) throw new AppError('VALIDATION', 'Name at least one folder to classify (or --resume a run).')
        if (!o.model) throw new AppError('VALIDATION', 'Name the model with --model <ref> (a model with a classifier, by id or name: `tessera model list` shows them).')
        if (o.copyTo && o.moveTo) throw new AppError('VALIDATION', '--copy-to and --move-to cannot be used together.')
        const r = await startClassify(ctx, {
          folders,
          model: o.model,
          threshold: o.threshold ?? 0,
          action: o.copyTo ? 'copy' : o.moveTo ? 'move' : 'none',
          ...(o.copyTo || o.moveTo ? { root: (o.copyTo ?? o.moveTo)! } : {}),
          dryRun: !!o.dryRun,
          recursive: o.recursive,
          topK: o.topK ?? 3,
          ...(o.ext ? { extensions: o.ext.split(',') } : {}),
          ...(o.out ? { out: o.out } : {}),
          ...(o.batchSize ? { batchSize: o.batchSize } : {})
        })
        runId = r.runId
        process.stderr.write(`Run ${runId}\n`)
      }
      const final = await h.runJob(runId)
      h.jobOutcome(final)
      const info = runInfo(ctx, classifyRepo(ctx).run(runId))
      const result = final.result as ClassifyJobResult | null
      const errors = info.counts.error ? classifyRepo(ctx).query({ runId, errorsOnly: true, limit: 10 }).rows : []
      h.print({ ...info, result }, (v) => summaryHuman(v, result, errors))
    })

  cmd
    .command('undo <runId>')
    .description("put a run's moved files back (and remove its unchanged copies)")
    .action(async (runId: string) => {
      const { ctx } = h.open()
      const r = await undoRun(ctx, runId)
      h.print(r, (v) =>
        [`${v.restored} files moved back, ${v.removedCopies} copies removed.`, ...v.skipped.map((s) => `  left alone: ${s.path}: ${s.reason}`)].join('\n')
      )
      if (r.skipped.length) throw new AppError('CONFLICT', `${r.skipped.length} files could not be put back; see the list above.`)
    })
}
