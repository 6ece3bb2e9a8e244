// `datasets.import`: scan a folder or CSV, then ingest files in order, several in flight
// (sharp decodes on libuv's pool), committing finished files in scan order, a chunk's items,
// labels and splits in one transaction, and checkpointing the index of the next file. Resume
// re-scans (sorted, so the same list) and carries on from that index; adding an item is
// idempotent, so a chunk redone after a crash adds nothing twice.

import { availableParallelism } from 'node:os'
import { extname } from 'node:path'
import { type ImportIssue, type ImportResult } from '../../shared/datasets-contract'
import { DiskFullError, isDiskFull } from '../errors'
import { type EventBus } from '../events'
import { type JobKind } from '../jobs/runner'
import { DatasetsRepo } from '../library/datasets'
import { type Library } from '../library/library'
import { newId, nowIso } from '../library/util'
import { IngestError, type Ingested, ingestFile } from './ingest'
import { type ScanEntry, type ScanResult, scanCsv, scanFolder } from './scan'
import { DatasetItemsStore } from './store'

export interface ImportParams {
  datasetId: string
  source: string
  splitFromFolders?: boolean
  reference?: boolean
  /** Files per commit (one transaction and checkpoint each; also caps the files in flight). */
  chunkSize?: number
}

export interface ImportCheckpoint {
  next: number
  imported: number
  stored: number
  duplicates: { path: string; sameAs: string }[]
  errors: ImportIssue[]
}

/** Files decoded at once by an import (and by bench:import's raw-decode baseline). */
export const IMPORT_CONCURRENCY = Math.max(8, availableParallelism() * 4)
/** Files per transaction and checkpoint. */
export const COMMIT_EVERY = 64

export const isCsvSource = (source: string): boolean => extname(source).toLowerCase() === '.csv'

export async function scanSource(params: Pick<ImportParams, 'source' | 'splitFromFolders'>): Promise<ScanResult> {
  return isCsvSource(params.source) ? scanCsv(params.source) : scanFolder(params.source, { splitFromFolders: !!params.splitFromFolders })
}

export function datasetImportKind(library: Library, bus: EventBus): JobKind<ImportParams, ImportCheckpoint, ImportResult> {
  const datasets = new DatasetsRepo(library.db)
  const store = new DatasetItemsStore(library.db)
  const db = library.db
  const setLabel = db.prepare(
    `INSERT INTO labels (item_id, source, class_id, created_at) VALUES (?, 'human', ?, ?)
     ON CONFLICT (item_id, source) DO UPDATE SET class_id = excluded.class_id, created_at = excluded.created_at`
  )
  const setSplit = db.prepare('INSERT INTO splits (item_id, split) VALUES (?, ?) ON CONFLICT (item_id) DO UPDATE SET split = excluded.split')
  const findItem = db.prepare('SELECT id, original_name FROM items WHERE dataset_id = ? AND sha256 = ?')
  const insertItem = db.prepare('INSERT INTO items (id, dataset_id, sha256, original_name, source_path, added_at) VALUES (?, ?, ?, ?, ?, ?)')

  return {
    heavy: false,
    title: (p) => `Import ${p.source}`,
    async run(ctx) {
      const p = ctx.params
      const dataset = datasets.get(p.datasetId)
      const cp: ImportCheckpoint = ctx.checkpoint ?? { next: 0, imported: 0, stored: 0, duplicates: [], errors: [] }
      const resumedFrom = cp.next
      ctx.progress({ phase: 'scanning', done: 0, total: null })
      const scan = await scanSource(p)
      const entries = scan.entries
      const total = entries.length
      const commitEvery = Math.max(1, p.chunkSize ?? COMMIT_EVERY)
      // Files in flight: enough to keep libuv's pool (sharp and file I/O) busy, never more than
      // one commit's worth (so a pause or cancel stops within one small chunk when asked for).
      const window = Math.max(1, Math.min(IMPORT_CONCURRENCY, commitEvery))
      ctx.progress({ phase: 'importing', done: cp.next, total })

      type Outcome = { e: ScanEntry; ok: Ingested } | { e: ScanEntry; error: string }
      const ingestOne = async (e: ScanEntry): Promise<Outcome> => {
        try {
          return { e, ok: await ingestFile(library, e.path, { reference: !!p.reference }) }
        } catch (err) {
          if (err instanceof IngestError) return { e, error: err.message }
          throw err
        }
      }
      /** Commits the finished files that follow the checkpoint without a gap, in scan order. */
      const done = new Map<number, Outcome>()
      let lastCommit = Date.now()
      const record = (batch: Outcome[]): void =>
        db.transaction(() => {
          const now = nowIso()
          for (const r of batch) {
            if ('error' in r) {
              cp.errors.push({ path: r.e.name, reason: r.error })
              continue
            }
            if (r.ok.record()) cp.stored++
            const existing = findItem.get(dataset.id, r.ok.sha256) as { id: string; original_name: string } | undefined
            if (existing) {
              // Same bytes already in this dataset (from this import or before): one item.
              if (existing.original_name !== r.e.name) cp.duplicates.push({ path: r.e.name, sameAs: existing.original_name })
              continue
            }
            const id = newId()
            insertItem.run(id, dataset.id, r.ok.sha256, r.e.name, r.e.path, now)
            if (r.e.label) setLabel.run(id, store.classId(dataset.id, r.e.label), now)
            if (r.e.split) setSplit.run(id, r.e.split)
            cp.imported++
          }
          store.touch(dataset.id)
        }).immediate()
      const commit = (): void => {
        const batch: Outcome[] = []
        while (done.has(cp.next + batch.length)) batch.push(done.get(cp.next + batch.length)!)
        if (batch.length === 0) return
        // The batch's rows and the checkpoint that counts them commit together (the inner
        // transaction becomes a savepoint): a kill lands before both or after both, so a resume
        // neither redoes the batch nor miscounts it.
        db.transaction(() => {
          record(batch)
          for (let i = 0; i < batch.length; i++) done.delete(cp.next + i)
          cp.next += batch.length
          ctx.saveCheckpoint(cp, { phase: 'importing', done: cp.next, total })
        }).immediate()
        lastCommit = Date.now()
        bus.emit('library.changed', { domain: 'items', id: dataset.id })
      }

      // A sliding window rather than chunks with a barrier: a slow file holds up only its own
      // slot. Results commit in scan order every `commitEvery` files (or second), so the
      // checkpoint is still one index and duplicates keep naming the first file in order.
      let started = cp.next
      let inflight = 0
      let fatal: unknown = null
      await new Promise<void>((resolve, reject) => {
        const settle = (): void => {
          if (inflight > 0) return
          if (fatal) reject(fatal as Error)
          else resolve()
        }
        const pump = (): void => {
          while (fatal === null && inflight < window && started < total && !ctx.signal.aborted) {
            const i = started++
            inflight++
            ingestOne(entries[i]!).then(
              (r) => {
                inflight--
                done.set(i, r)
                if (fatal === null) {
                  const finished = inflight === 0 && (started >= total || ctx.signal.aborted)
                  try {
                    let ready = 0
                    while (done.has(cp.next + ready)) ready++
                    if (finished || ready >= commitEvery || (ready > 0 && Date.now() - lastCommit >= 1000)) commit()
                  } catch (err) {
                    fatal = err
                  }
                  if (fatal === null && !finished) return pump()
                }
                settle()
              },
              (err: unknown) => {
                inflight--
                fatal ??= err
                settle()
              }
            )
          }
          settle()
        }
        pump()
      }).catch((err: unknown) => {
        // A failure that stops the import (a full disk): every file still in flight has settled;
        // the ones that made it are recorded (their files exist), without a checkpoint past the
        // gap, so a resume redoes them (adding an item is idempotent).
        const finished = [...done.entries()].sort((a, b) => a[0] - b[0]).map(([, r]) => r).filter((r) => 'ok' in r)
        if (finished.length) record(finished)
        bus.emit('library.changed', { domain: 'items', id: dataset.id })
        if (isDiskFull(err)) throw new DiskFullError(`importing into "${dataset.name}"`, (err as NodeJS.ErrnoException).path)
        throw err
      })
      ctx.signal.throwIfAborted()
      const d = datasets.get(dataset.id)
      return {
        datasetId: d.id,
        datasetName: d.name,
        scanned: total,
        imported: cp.imported,
        stored: cp.stored,
        duplicates: cp.duplicates,
        errors: [...scan.errors, ...cp.errors],
        resumedFrom
      }
    }
  }
}
