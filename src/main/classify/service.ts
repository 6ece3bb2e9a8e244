// What the contract and the CLI do with classify runs besides running them: start, list, page
// through results, correct labels, send corrected images into a dataset, export, undo, thumbnails.

import { randomUUID } from 'node:crypto'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import sharp from 'sharp'

import { ClassifyParams, type ClassifyParamsInput, type ClassifyRow, type ClassifyRunInfo, type ClassifyUndoReport } from '../../shared/classify-contract'
import { type Job } from '../../shared/contract'
import { type AppContext } from '../context'
import { ingestFile } from '../datasets/ingest'
import { AppError, ConflictError } from '../errors'
import { replaceFile } from '../files'
import { CLASS_COLORS, DatasetsRepo } from '../library/datasets'
import { ItemsRepo } from '../library/items'
import { parseJson } from '../library/util'
import { removeEmptyDirs, undoOne } from './actions'
import { writeCsv } from './csv'
import { CLASSIFY_JOB } from './job'
import { ClassifyRepo, type RunDbRow } from './store'

export function classifyRepo(ctx: AppContext): ClassifyRepo {
  return new ClassifyRepo(ctx.library.db)
}

/** Checks what can be checked before a job is queued (model has a classifier, folders exist), then queues it. */
export async function startClassify(ctx: AppContext, input: ClassifyParamsInput): Promise<{ runId: string; jobId: string; job: Job }> {
  const params = ClassifyParams.parse(input)
  const rec = ctx.repos.models.record(params.model)
  const info = rec.config as { classes?: string[]; onnx?: { task?: string } }
  if (!info.classes || info.classes.length === 0) throw new AppError('UNSUPPORTED', `Model "${rec.name}" has no classifier; pick a model that predicts classes.`)
  for (const f of params.folders) {
    const st = await fs.stat(f).catch(() => null)
    if (!st?.isDirectory()) throw new AppError('NOT_FOUND', `${f} is not a folder.`, 'folders')
  }
  const folders = params.folders.map((f) => path.resolve(f))
  const job = ctx.jobs.enqueue(CLASSIFY_JOB, {
    ...params,
    folders,
    model: rec.id,
    ...(params.root ? { root: path.resolve(params.root) } : {}),
    ...(params.out ? { out: path.resolve(params.out) } : {})
  })
  classifyRepo(ctx).createRun(job.id, { ...params, folders }, { id: rec.id, name: rec.name }, info.classes)
  ctx.bus.emit('library.changed', { domain: 'classify', id: job.id })
  return { runId: job.id, jobId: job.id, job }
}

export function runInfo(ctx: AppContext, r: RunDbRow): ClassifyRunInfo {
  const repo = classifyRepo(ctx)
  let job: ClassifyRunInfo['job']
  try {
    const j = ctx.jobs.get(r.id)
    job = { state: j.state, done: j.done, total: j.total, rate: j.rate, etaS: j.etaS, error: j.error }
  } catch {
    job = null
  }
  return {
    id: r.id,
    modelId: r.model_id,
    modelName: r.model_name,
    params: parseJson(r.params, {} as ClassifyParams),
    labels: parseJson<string[]>(r.labels, []),
    createdAt: r.created_at,
    undoneAt: r.undone_at,
    counts: repo.counts(r.id),
    plan: repo.plan(r.id),
    job
  }
}

const RESUMABLE = ['paused', 'interrupted', 'cancelled']

/**
 * Queues a paused, interrupted or cancelled run again; it skips every file it already has. (The
 * job runner resumes only paused/interrupted jobs; a cancelled classify run is made paused first,
 * since its results are all in the library and nothing of it is lost by going on.)
 */
export function resumeClassify(ctx: AppContext, runId?: string): { runId: string; job: Job } {
  const id = resumableRun(ctx, runId)
  const j = ctx.jobs.get(id)
  if (!RESUMABLE.includes(j.state)) throw new ConflictError(`Run ${id} is ${j.state}; only paused, interrupted or cancelled runs can be resumed.`)
  if (j.state === 'cancelled') ctx.jobs.store.transition(id, ['cancelled'], 'paused', { finished_at: null })
  return { runId: id, job: ctx.jobs.resume(id) }
}

/** The newest run that can be resumed (paused, interrupted or cancelled), or a given one. */
export function resumableRun(ctx: AppContext, runId?: string): string {
  const repo = classifyRepo(ctx)
  if (runId) {
    repo.run(runId)
    return runId
  }
  for (const r of repo.runs(1000)) {
    try {
      const j = ctx.jobs.get(r.id)
      if (RESUMABLE.includes(j.state)) return r.id
    } catch {
      // no job row: skip
    }
  }
  throw new AppError('NOT_FOUND', 'There is no paused, interrupted or cancelled classify run to resume.')
}

/** Puts moved files back and removes unchanged copies, newest first. */
export async function undoRun(ctx: AppContext, runId: string): Promise<ClassifyUndoReport> {
  const repo = classifyRepo(ctx)
  const run = repo.run(runId)
  try {
    const j = ctx.jobs.get(runId)
    if (j.state === 'running' || j.state === 'queued') throw new ConflictError('The run is still going; cancel or pause it before undoing.')
  } catch (e) {
    if (e instanceof ConflictError) throw e
  }
  const rows: ClassifyRow[] = []
  for (const r of repo.iterate(runId)) if ((r.action === 'move' || r.action === 'copy') && (r.actionStatus === 'done' || r.actionStatus === 'pending') && r.dest) rows.push(r)
  rows.reverse()
  const report: ClassifyUndoReport = { restored: 0, removedCopies: 0, skipped: [] }
  const dirs = new Set<string>()
  for (const r of rows) {
    const dest = r.dest!
    const was = { size: r.size, mtimeMs: r.mtimeMs, sha256: r.sha256 }
    if (r.actionStatus === 'pending') {
      // A crash between record and finish: undo only what is actually at the destination.
      const there = await fs.stat(dest).catch(() => null)
      if (!there) {
        repo.setAction(runId, r.path, 'undone', null, 'was never placed')
        continue
      }
    }
    const res = await undoOne(r.path, dest, r.action as 'copy' | 'move', was)
    if (res.ok) {
      repo.setAction(runId, r.path, 'undone', dest)
      if (r.action === 'move') report.restored++
      else report.removedCopies++
      dirs.add(path.dirname(dest))
    } else report.skipped.push({ path: r.path, reason: res.reason })
  }
  await removeEmptyDirs(dirs)
  if (run.undone_at === null) repo.markUndone(runId)
  ctx.bus.emit('library.changed', { domain: 'classify', id: runId })
  return report
}

export async function exportRun(ctx: AppContext, runId: string, out: string, format: 'csv' | 'json'): Promise<{ path: string; rows: number }> {
  const repo = classifyRepo(ctx)
  repo.run(runId)
  const file = path.resolve(out)
  let n = 0
  if (format === 'csv') {
    await writeCsv(
      file,
      (function* () {
        for (const r of repo.iterate(runId)) {
          n++
          yield r
        }
      })()
    )
  } else {
    const rows = [...repo.iterate(runId)].map((r) => ({
      path: r.path,
      label: r.corrected ?? r.label,
      predicted: r.label,
      confidence: r.confidence,
      top_k: r.topK,
      status: r.status,
      error: r.error,
      action: r.action,
      dest: r.dest,
      action_status: r.actionStatus
    }))
    n = rows.length
    await fs.mkdir(path.dirname(file), { recursive: true })
    await replaceFile(file, JSON.stringify({ run: runInfo(ctx, repo.run(runId)), rows }, null, 2))
  }
  return { path: file, rows: n }
}

/**
 * Adds a run's images to a dataset as labelled training data: the corrected ones (or the given
 * paths), each labelled with its corrected label (else its predicted one), class created when
 * missing, in the train split. A file that moved is read where it went.
 */
export async function sendToDataset(
  ctx: AppContext,
  input: { runId: string; dataset: string; paths?: string[] | undefined; correctedOnly: boolean }
): Promise<{ added: number; already: number; labelled: number; skipped: { path: string; reason: string }[] }> {
  const repo = classifyRepo(ctx)
  repo.run(input.runId)
  const db = ctx.library.db
  const dataset = new DatasetsRepo(db).get(input.dataset)
  const items = new ItemsRepo(db)
  let rows: ClassifyRow[] = input.paths ? repo.rowsByPath(input.runId, input.paths) : [...repo.iterate(input.runId)]
  if (input.correctedOnly) rows = rows.filter((r) => r.corrected)
  const out = { added: 0, already: 0, labelled: 0, skipped: [] as { path: string; reason: string }[] }
  for (const r of rows) {
    const label = r.corrected ?? (r.label !== 'unsure' ? r.label : null)
    if (r.status !== 'ok' || !label) {
      out.skipped.push({ path: r.path, reason: r.status !== 'ok' ? 'could not be read' : 'no label (unsure and not corrected)' })
      continue
    }
    const file = r.action === 'move' && r.actionStatus === 'done' && r.dest ? r.dest : r.path
    let ing
    try {
      ing = await ingestFile(ctx.library, file)
    } catch (e) {
      out.skipped.push({ path: r.path, reason: (e as Error).message })
      continue
    }
    const classId = classIn(ctx, dataset.id, label)
    db.transaction(() => {
      ing.record()
      const a = items.add(dataset.id, ing.sha256, { originalName: path.basename(r.path), sourcePath: file })
      if (a.added) out.added++
      else out.already++
      items.setLabels([a.item.id], classId, 'human')
      out.labelled++
      if (a.added) items.setSplit([a.item.id], 'train')
    })()
  }
  ctx.bus.emit('library.changed', { domain: 'items', id: dataset.id })
  return out
}

function classIn(ctx: AppContext, datasetId: string, name: string): string {
  const db = ctx.library.db
  const found = db.prepare('SELECT id FROM classes WHERE dataset_id = ? AND name = ? COLLATE NOCASE').get(datasetId, name) as { id: string } | undefined
  if (found) return found.id
  const position = (db.prepare('SELECT count(*) AS n FROM classes WHERE dataset_id = ?').get(datasetId) as { n: number }).n
  const id = randomUUID()
  db.prepare('INSERT INTO classes (id, dataset_id, name, color, position) VALUES (?, ?, ?, ?, ?)').run(id, datasetId, name, CLASS_COLORS[position % CLASS_COLORS.length]!, position)
  return id
}

/** A small PNG of a file the run met (where it is now), as a data URL; null when it cannot be read. */
export async function thumbnail(ctx: AppContext, runId: string, file: string, side: number): Promise<{ dataUrl: string | null }> {
  const [r] = classifyRepo(ctx).rowsByPath(runId, [file])
  if (!r) throw new AppError('NOT_FOUND', `${file} is not in this run.`)
  const at = r.action === 'move' && r.actionStatus === 'done' && r.dest ? r.dest : r.path
  try {
    const png = await sharp(at, { limitInputPixels: 100_000_000, failOn: 'error', pages: 1 }).rotate().resize(side, side, { fit: 'inside' }).png().toBuffer()
    return { dataUrl: `data:image/png;base64,${png.toString('base64')}` }
  } catch {
    return { dataUrl: null }
  }
}
