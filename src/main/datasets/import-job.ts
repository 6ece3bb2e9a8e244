// `datasets.import`: scan a folder or CSV, then ingest files in order, a few at a
// time (sharp decodes on libuv's pool), committing each chunk's items, labels and
// splits in one transaction and checkpointing the index of the next file. Resume
// re-scans (sorted, so the same list) and carries on from that index; adding an
// item is idempotent, so a chunk redone after a crash adds nothing twice.

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
  /** Files per chunk (one transaction and checkpoint each). */
  chunkSize?: number
}

export interface ImportCheckpoint {
  next: number
  imported: number
  stored: number
  duplicates: { path: string; sameAs: string }[]
  errors: ImportIssue[]
}

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
      const chunkSize = Math.max(1, p.chunkSize ?? Math.max(4, availableParallelism() * 2))
      ctx.progress({ phase: 'importing', done: cp.next, total })

      while (cp.next < total) {
        ctx.signal.throwIfAborted()
        const chunk = entries.slice(cp.next, cp.next + chunkSize)
        // Every file of the chunk settles before anything is recorded, so a failure that stops
        // the import (a full disk) leaves no write in flight; the files that made it are recorded.
        let fatal: unknown = null
        const settled = await Promise.all(
          chunk.map(async (e): Promise<{ e: ScanEntry; ok: Ingested } | { e: ScanEntry; error: string } | null> => {
            try {
              return { e, ok: await ingestFile(library, e.path, { reference: !!p.reference }) }
            } catch (err) {
              if (err instanceof IngestError) return { e, error: err.message }
              fatal ??= err
              return null
            }
          })
        )
        const results = fatal ? settled.filter((r): r is { e: ScanEntry; ok: Ingested } => r !== null && 'ok' in r) : settled.filter((r) => r !== null)
        db.transaction(() => {
          const now = nowIso()
          for (const r of results) {
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
        if (fatal) {
          // The chunk is not checkpointed: a resume redoes it (adding an item is idempotent).
          bus.emit('library.changed', { domain: 'items', id: dataset.id })
          if (isDiskFull(fatal)) throw new DiskFullError(`importing into "${dataset.name}"`, (fatal as NodeJS.ErrnoException).path)
          throw fatal
        }
        cp.next += chunk.length
        ctx.saveCheckpoint(cp, { phase: 'importing', done: cp.next, total })
        bus.emit('library.changed', { domain: 'items', id: dataset.id })
      }
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
