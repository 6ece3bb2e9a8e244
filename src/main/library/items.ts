// Items of a dataset (each one media file), their labels (a human label and a model
// suggestion can coexist) and their train/val/test split.

import type Database from 'better-sqlite3'
import { ConflictError, NotFoundError } from '../errors'
import { newId, nowIso } from './util'

export type LabelSource = 'human' | 'model'
export type Split = 'train' | 'val' | 'test'

export interface Item {
  id: string
  datasetId: string
  sha256: string
  originalName: string
  sourcePath: string | null
  addedAt: string
  /** Human label's class id, if any. */
  classId: string | null
  /** Model suggestion, if any. */
  suggestedClassId: string | null
  confidence: number | null
  split: Split | null
}

interface ItemRow {
  id: string
  dataset_id: string
  sha256: string
  original_name: string
  source_path: string | null
  added_at: string
  class_id: string | null
  suggested_class_id: string | null
  confidence: number | null
  split: Split | null
}

const SELECT = `
  SELECT i.*, h.class_id AS class_id, m.class_id AS suggested_class_id, m.confidence AS confidence, s.split AS split
  FROM items i
  LEFT JOIN labels h ON h.item_id = i.id AND h.source = 'human'
  LEFT JOIN labels m ON m.item_id = i.id AND m.source = 'model'
  LEFT JOIN splits s ON s.item_id = i.id`

const toItem = (r: ItemRow): Item => ({
  id: r.id,
  datasetId: r.dataset_id,
  sha256: r.sha256,
  originalName: r.original_name,
  sourcePath: r.source_path,
  addedAt: r.added_at,
  classId: r.class_id,
  suggestedClassId: r.suggested_class_id,
  confidence: r.confidence,
  split: r.split
})

export class ItemsRepo {
  constructor(private readonly db: Database.Database) {}

  /** Adds a media file to a dataset; the same file twice in one dataset is one item. */
  add(datasetId: string, sha256: string, origin: { originalName?: string; sourcePath?: string | null } = {}): { item: Item; added: boolean } {
    const existing = this.db.prepare('SELECT id FROM items WHERE dataset_id = ? AND sha256 = ?').get(datasetId, sha256) as { id: string } | undefined
    if (existing) return { item: this.get(existing.id), added: false }
    const id = newId()
    this.db
      .prepare('INSERT INTO items (id, dataset_id, sha256, original_name, source_path, added_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(id, datasetId, sha256, origin.originalName ?? '', origin.sourcePath ?? null, nowIso())
    return { item: this.get(id), added: true }
  }

  get(id: string): Item {
    const row = this.db.prepare(`${SELECT} WHERE i.id = ?`).get(id) as ItemRow | undefined
    if (!row) throw new NotFoundError(`No item with id "${id}".`)
    return toItem(row)
  }

  /** A page of a dataset's items in the order they were added (keyset paging on added_at, id). */
  list(datasetId: string, page: { limit?: number; after?: { addedAt: string; id: string } } = {}): Item[] {
    const limit = page.limit ?? 200
    const rows = page.after
      ? this.db
          .prepare(`${SELECT} WHERE i.dataset_id = ? AND (i.added_at, i.id) > (?, ?) ORDER BY i.added_at, i.id LIMIT ?`)
          .all(datasetId, page.after.addedAt, page.after.id, limit)
      : this.db.prepare(`${SELECT} WHERE i.dataset_id = ? ORDER BY i.added_at, i.id LIMIT ?`).all(datasetId, limit)
    return (rows as ItemRow[]).map(toItem)
  }

  count(datasetId: string): number {
    return (this.db.prepare('SELECT count(*) AS n FROM items WHERE dataset_id = ?').get(datasetId) as { n: number }).n
  }

  remove(ids: string[]): number {
    const del = this.db.prepare('DELETE FROM items WHERE id = ?')
    return this.db.transaction(() => ids.reduce((n, id) => n + del.run(id).changes, 0)).immediate()
  }

  /** Sets (or with classId null, clears) labels of one source on many items, in one transaction. */
  setLabels(itemIds: string[], classId: string | null, source: LabelSource, extra: { confidence?: number; modelId?: string } = {}): void {
    const upsert = this.db.prepare(
      `INSERT INTO labels (item_id, source, class_id, confidence, model_id, created_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (item_id, source) DO UPDATE SET class_id = excluded.class_id, confidence = excluded.confidence,
         model_id = excluded.model_id, created_at = excluded.created_at`
    )
    const clear = this.db.prepare('DELETE FROM labels WHERE item_id = ? AND source = ?')
    const sameDataset = this.db.prepare(
      'SELECT 1 FROM items i JOIN classes c ON c.dataset_id = i.dataset_id WHERE i.id = ? AND c.id = ?'
    )
    const now = nowIso()
    this.db
      .transaction(() => {
        for (const id of itemIds) {
          if (classId === null) {
            clear.run(id, source)
            continue
          }
          if (!sameDataset.get(id, classId)) throw new ConflictError(`Item ${id} and class ${classId} are not in the same dataset.`)
          upsert.run(id, source, classId, extra.confidence ?? null, extra.modelId ?? null, now)
        }
      })
      .immediate()
  }

  setSplit(itemIds: string[], split: Split | null): void {
    const upsert = this.db.prepare('INSERT INTO splits (item_id, split) VALUES (?, ?) ON CONFLICT (item_id) DO UPDATE SET split = excluded.split')
    const clear = this.db.prepare('DELETE FROM splits WHERE item_id = ?')
    this.db.transaction(() => itemIds.forEach((id) => (split ? upsert.run(id, split) : clear.run(id)))).immediate()
  }

  /** Human-labelled item counts per class of a dataset. */
  classCounts(datasetId: string): Map<string, number> {
    const rows = this.db
      .prepare(
        `SELECT c.id AS class_id, count(l.item_id) AS n FROM classes c
         LEFT JOIN labels l ON l.class_id = c.id AND l.source = 'human'
         WHERE c.dataset_id = ? GROUP BY c.id`
      )
      .all(datasetId) as { class_id: string; n: number }[]
    return new Map(rows.map((r) => [r.class_id, r.n]))
  }
}
