// The `classify` job: walks the folders, decodes a batch while the model runs the previous one,
// writes each batch's results to classify_files in one transaction (the library is the real
// checkpoint: a resumed run skips every path it already has, so each file gets exactly one row
// however the run was stopped), then copies or moves the batch's files. A copy/move is recorded
// as `pending` with its planned destination before the file is touched and as `done` after, so
// a crash in between is settled on resume (finished if it got halfway, redone if it never started).

import path from 'node:path'

import { ClassifyParams, type TopClass } from '../../shared/classify-contract'
import { type EventBus } from '../events'
import { type JobKind } from '../jobs/runner'
import { type Library } from '../library/library'
import { type ModelsRepo } from '../library/models'
import { type ModelRegistry } from '../models/registry'
import { freeName, labelFolder, placeFile, settlePending } from './actions'
import { appendCsv, writeCsv } from './csv'
import { type Predictor, type PreparedFile, loadPredictor } from './predictor'
import { countFiles, type ScanEntry, walkFiles } from './scan'
import { ClassifyRepo, type NewFileResult } from './store'

export const CLASSIFY_JOB = 'classify'
export const UNSURE = 'unsure'

export interface ClassifyCheckpoint {
  total: number
}

export interface ClassifyJobResult {
  runId: string
  files: number
  ok: number
  error: number
  unsure: number
  byLabel: Record<string, number>
  plan: Record<string, number>
  actionsSkipped: number
  out: string | null
}

export interface ClassifyDeps {
  library: Library
  bus: EventBus
  models: () => ModelRegistry
  modelsRepo: () => ModelsRepo
}

function message(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e)
  return m.replace(/\s+/g, ' ').trim()
}

type Prepared = { entry: ScanEntry; file?: PreparedFile; error?: string }

/**
 * Images per forward run for the execution provider sessions run on: 32 on CPU (bigger batches
 * buy nothing there and hold more decoded images), 128 on a GPU provider, where a launch costs
 * more than a small batch's work.
 */
export async function defaultBatchSize(models: ModelRegistry): Promise<number> {
  try {
    return (await models.runtimeReport()).active === 'cpu' ? 32 : 128
  } catch {
    return 32
  }
}

export function classifyJobKind(deps: ClassifyDeps): JobKind<ClassifyParams, ClassifyCheckpoint, ClassifyJobResult> {
  const repo = new ClassifyRepo(deps.library.db)
  return {
    heavy: true,
    // The model by name (a request may name it by id); the ref itself if it is gone.
    title: (p) => `Classify ${p.folders.map((f) => path.basename(f) || f).join(', ')} with ${deps.modelsRepo().find(p.model)?.name ?? p.model}`,
    async run(ctx) {
      const params = ClassifyParams.parse(ctx.params)
      const runId = ctx.jobId
      const predictor: Predictor = await loadPredictor(deps.models(), deps.modelsRepo(), params.model, params.batchSize ?? (await defaultBatchSize(deps.models())))
      repo.createRun(runId, params, { id: predictor.modelId, name: predictor.modelName }, predictor.labels)
      const root = params.root ? path.resolve(params.root) : null
      const mode = params.action === 'none' ? null : params.action
      const exclude = root ? [root] : []
      const scan = { recursive: params.recursive, ...(params.extensions ? { extensions: params.extensions } : {}), exclude }

      let total = ctx.checkpoint?.total
      if (total === undefined) {
        ctx.progress({ phase: 'listing files', done: 0, total: null })
        total = await countFiles(params.folders, scan)
        ctx.saveCheckpoint({ total }, { phase: 'classifying', done: 0, total })
      }
      const cp: ClassifyCheckpoint = { total }

      // Copies/moves a crash left half-done.
      let actionsSkipped = 0
      if (mode && !params.dryRun) {
        for (const row of repo.pending(runId)) {
          const was = { size: row.size, mtimeMs: row.mtimeMs, sha256: row.sha256 }
          if ((await settlePending(row.path, row.dest, mode, was)) === 'done') repo.setAction(runId, row.path, 'done', row.dest)
          else {
            const r = await placeFile(row.path, path.join(root!, labelFolder(row.label ?? UNSURE)), mode, was)
            if (r.status === 'done') repo.setAction(runId, row.path, 'done', r.dest)
            else {
              repo.setAction(runId, row.path, 'skipped', null, r.reason)
              actionsSkipped++
            }
          }
        }
      }

      const out = params.out ? path.resolve(params.out) : null
      if (out) await writeCsv(out, repo.iterate(runId))

      let done = repo.counts(runId).files
      const started = done
      ctx.progress({ phase: 'classifying', done, total })
      const walker = walkFiles(params.folders, scan)
      const batchSize = Math.max(1, predictor.batchSize)
      const testDelay = Number(process.env.TESSERA_CLASSIFY_TEST_DELAY_MS ?? 0)

      const nextBatch = async (): Promise<ScanEntry[] | null> => {
        const b: ScanEntry[] = []
        while (b.length < batchSize) {
          const n = await walker.next()
          if (n.done) break
          if (!repo.has(runId, n.value.path)) b.push(n.value)
        }
        return b.length ? b : null
      }
      const prepare = (entries: ScanEntry[]): Promise<Prepared[]> =>
        Promise.all(
          entries.map(async (entry): Promise<Prepared> => {
            if (entry.error) return { entry, error: entry.error }
            try {
              return { entry, file: await predictor.prepare(entry.path, path.basename(entry.path)) }
            } catch (e) {
              return { entry, error: message(e) }
            }
          })
        )

      // The model runs in the ML worker, so this thread is free while it works: up to PREFETCH
      // batches are read and decoded ahead (file reads and sharp on libuv's thread pool, palette
      // mapping here), and the next batch is handed to the model before this one's results are
      // written, so the model never waits on SQLite, the CSV or copies. Memory is bounded by
      // that depth, not by the folder size.
      const PREFETCH = 2
      const queue: Promise<Prepared[]>[] = []
      let exhausted = false
      const fill = async (): Promise<void> => {
        while (!exhausted && queue.length < PREFETCH) {
          const b = await nextBatch()
          if (!b) exhausted = true
          else {
            const p = prepare(b)
            p.catch(() => undefined)
            queue.push(p)
          }
        }
      }
      /** Probabilities of a batch's readable files, in order; a file the model refuses gets its error set. */
      const classifyBatch = async (items: Prepared[]): Promise<number[][]> => {
        const good = items.filter((i) => i.file)
        if (!good.length) return []
        try {
          return await predictor.predict(good.map((g) => g.file!.input))
        } catch {
          // A batch the model refuses as a whole: try one at a time so one bad input does not sink the rest.
          const probs: number[][] = []
          for (const g of good) {
            try {
              probs.push(((await predictor.predict([g.file!.input]))[0] as number[]) ?? [])
            } catch (e2) {
              probs.push([])
              g.error = message(e2)
            }
          }
          return probs
        }
      }
      const startBatch = async (): Promise<{ items: Prepared[]; probs: Promise<number[][]> } | null> => {
        const next = queue.shift()
        if (!next) return null
        const items = await next
        await fill()
        const probs = classifyBatch(items)
        probs.catch(() => undefined)
        return { items, probs }
      }
      await fill()
      const dryPlanned = new Set<string>()
      let current = await startBatch()
      while (current) {
        ctx.signal.throwIfAborted()
        const { items } = current
        const probs = await current.probs
        // The next batch goes to the model now and runs while this one's results are written.
        current = await startBatch()
        const rows: NewFileResult[] = []
        // Names planned in this batch (a dry run: in the whole run, as nothing lands on disk).
        const planned = params.dryRun ? dryPlanned : new Set<string>()
        let k = 0
        for (const it of items) {
          if (!it.file || it.error) {
            if (it.file) k++
            rows.push({ path: it.entry.path, status: 'error', error: it.error ?? 'could not be read', size: it.file?.size ?? null, mtimeMs: it.file?.mtimeMs ?? null, sha256: it.file?.sha256 ?? null })
            continue
          }
          const p = probs[k++] as number[]
          const top: TopClass[] = p
            .map((probability, i) => ({ label: predictor.labels[i] ?? String(i), probability }))
            .sort((a, b) => b.probability - a.probability)
          const best = top[0]!
          const label = best.probability >= params.threshold ? best.label : UNSURE
          const row: NewFileResult = {
            path: it.entry.path,
            status: 'ok',
            label,
            topLabel: best.label,
            confidence: best.probability,
            topK: top.slice(0, params.topK),
            size: it.file.size,
            mtimeMs: it.file.mtimeMs,
            sha256: it.file.sha256
          }
          if (mode && root) {
            const dir = path.join(root, labelFolder(label))
            row.action = params.dryRun ? 'plan' : mode
            row.dest = await freeName(dir, path.basename(it.entry.path), planned)
            row.actionStatus = params.dryRun ? 'planned' : 'pending'
          }
          rows.push(row)
        }
        done += repo.insert(runId, rows)

        if (mode && root && !params.dryRun) {
          for (const r of rows) {
            if (r.status !== 'ok') continue
            const was = { size: r.size ?? null, mtimeMs: r.mtimeMs ?? null, sha256: r.sha256 ?? null }
            const res = await placeFile(r.path, path.join(root, labelFolder(r.label ?? UNSURE)), mode, was)
            if (res.status === 'done') repo.setAction(runId, r.path, 'done', res.dest)
            else {
              repo.setAction(runId, r.path, 'skipped', null, res.reason)
              actionsSkipped++
            }
          }
        }
        if (out) await appendCsv(out, repo.rowsByPath(runId, rows.map((r) => r.path)))
        ctx.saveCheckpoint(cp, { phase: 'classifying', done, total: Math.max(total, done), metrics: { resumedFrom: started } })
        if (testDelay > 0) await new Promise((r) => setTimeout(r, testDelay))
      }

      if (out) await writeCsv(out, repo.iterate(runId))
      const counts = repo.counts(runId)
      deps.bus.emit('library.changed', { domain: 'classify', id: runId })
      return { runId, ...counts, plan: repo.plan(runId), actionsSkipped, out }
    }
  }
}
