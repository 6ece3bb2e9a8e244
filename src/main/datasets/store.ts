// Queries over a dataset's items for the grid, the detail view and the charts:
// filtered, sorted, offset-paged lists (the virtualized grid asks for the page under
// the viewport), per-class/per-split counts, and class lookup-or-create for imports.

import type Database from 'better-sqlite3'
import {
  type DatasetItem,
  type DatasetStats,
  type ItemPage,
  type ItemSort,
  type LabelSourceName,
  type SplitCounts,
  type SplitName
} from '../../shared/datasets-contract'
import { NotFoundError } from '../errors'
import { isReferencedPath } from '../library/media'
import { CLASS_COLORS } from '../library/datasets'
import { newId } from '../library/util'

export interface ItemFilter {
  classId?: string | undefined
  split?: SplitName | 'none' | undefined
  labelSource?: LabelSourceName | undefined
  flag?: string | undefined
}

export interface ItemQuery extends ItemFilter {
  offset?: number | undefined
  limit?: number | undefined
  sort?: ItemSort | undefined
  desc?: boolean | undefined
}

interface Row {
  id: string
  dataset_id: string
  sha256: string
  original_name: string
  source_path: string | null
  added_at: string
  h_class: string | null
  m_class: string | null
  confidence: number | null
  class_name: string | null
  split: SplitName | null
  bytes: number
  width: number | null
  height: number | null
  mime: string
  path: string
  format: string | null
  flags: string | null
}

const FROM = `
  FROM items i
  JOIN media md ON md.sha256 = i.sha256
  LEFT JOIN media_info mi ON mi.sha256 = i.sha256
  LEFT JOIN labels h ON h.item_id = i.id AND h.source = 'human'
  LEFT JOIN labels m ON m.item_id = i.id AND m.source = 'model'
  LEFT JOIN classes c ON c.id = coalesce(h.class_id, m.class_id)
  LEFT JOIN splits s ON s.item_id = i.id`

const COLUMNS = `i.*, h.class_id AS h_class, m.class_id AS m_class, m.confidence AS confidence, c.name AS class_name,
  s.split AS split, md.bytes AS bytes, md.width AS width, md.height AS height, md.mime AS mime, md.path AS path,
  mi.format AS format, (SELECT group_concat(flag, ',') FROM item_flags f WHERE f.item_id = i.id) AS flags`

const toItem = (r: Row): DatasetItem => ({
  id: r.id,
  datasetId: r.dataset_id,
  sha256: r.sha256,
  name: r.original_name,
  sourcePath: r.source_path,
  addedAt: r.added_at,
  classId: r.h_class ?? r.m_class,
  className: r.class_name,
  labelSource: r.h_class ? 'human' : r.m_class ? 'model' : 'none',
  suggestedClassId: r.m_class,
  confidence: r.confidence,
  split: r.split,
  bytes: r.bytes,
  width: r.width,
  height: r.height,
  format: r.format,
  mime: r.mime,
  referenced: isReferencedPath(r.path),
  flags: r.flags ? r.flags.split(',').sort() : []
})

const emptySplits = (): SplitCounts => ({ train: 0, val: 0, test: 0, none: 0 })

const SORTS: Record<ItemSort, string> = {
  name: 'i.original_name',
  date: 'i.added_at',
  size: 'i.file_bytes',
  selfConfidence: 'self_confidence',
  bitsPerToken: 'bits_per_token',
  featureOutlier: 'feature_outlier'
}
const CURATION_SORT = new Set<ItemSort>(['selfConfidence', 'bitsPerToken', 'featureOutlier'])

export class DatasetItemsStore {
  constructor(private readonly db: Database.Database) {}

  /**
   * WHERE clause of a filter. Class, label source, split and file size are stored on the item
   * (migration 009, kept by triggers), so each filter and sort is an index range of items alone:
   * paging and counting never join labels, splits or media.
   */
  private where(datasetId: string, f: ItemFilter): { sql: string; params: unknown[]; filtered: boolean } {
    const parts = ['i.dataset_id = ?']
    const params: unknown[] = [datasetId]
    if (f.classId === 'none') parts.push('i.label_class_id IS NULL')
    else if (f.classId) {
      parts.push('i.label_class_id = ?')
      params.push(f.classId)
    }
    if (f.split === 'none') parts.push('i.split IS NULL')
    else if (f.split) {
      parts.push('i.split = ?')
      params.push(f.split)
    }
    if (f.labelSource) {
      parts.push('i.label_source = ?')
      params.push(f.labelSource)
    }
    if (f.flag) {
      parts.push('EXISTS (SELECT 1 FROM item_flags f WHERE f.item_id = i.id AND f.flag = ?)')
      params.push(f.flag)
    }
    return { sql: parts.join(' AND '), params, filtered: parts.length > 1 }
  }

  list(datasetId: string, q: ItemQuery = {}): ItemPage {
    const offset = q.offset ?? 0
    const limit = q.limit ?? 200
    const w = this.where(datasetId, q)
    const dir = q.desc ? 'DESC' : 'ASC'
    const sort = q.sort ?? 'name'
    const total = (this.db.prepare(`SELECT count(*) AS n FROM items i WHERE ${w.sql}`).get(...w.params) as { n: number }).n
    // Ids of the page first (narrow rows, index order), then their details.
    const ids = CURATION_SORT.has(sort)
      ? this.curatedPage(datasetId, SORTS[sort], dir, w, limit, offset)
      : (this.db
          .prepare(`SELECT i.id AS id FROM items i WHERE ${w.sql} ORDER BY ${SORTS[sort]} ${dir}, i.id ${dir} LIMIT ? OFFSET ?`)
          .all(...w.params, limit, offset) as { id: string }[]).map((r) => r.id)
    return { items: this.getMany(ids), total, offset }
  }

  /**
   * A page in the order of a score of the dataset's latest finished curation run (migration 007):
   * by score then id, items without a score (unlabelled for self-confidence, unread, not yet
   * curated) last by id either way. Scored items come in order from the run's (run, score, item)
   * index (migration 009), the rest from the (dataset, id) index, so no page sorts the dataset.
   */
  private curatedPage(datasetId: string, column: string, dir: string, w: { sql: string; params: unknown[]; filtered: boolean }, limit: number, offset: number): string[] {
    const run = this.db
      .prepare('SELECT r.id AS id FROM curation_runs r WHERE r.dataset_id = ? AND r.finished_at IS NOT NULL ORDER BY r.finished_at DESC, r.rowid DESC LIMIT 1')
      .get(datasetId) as { id: string } | undefined
    // One item's score, found through curation_scores_by_item ('+' keeps the planner off the
    // (run, score) indexes, which would walk the run's scores for every item).
    const scoredItem = `SELECT 1 FROM curation_scores cs WHERE cs.item_id = i.id AND +cs.run_id = ? AND +cs.${column} IS NOT NULL`
    const ids: string[] = []
    let scored = 0
    if (run) {
      // A run scores only its dataset's items, so without a filter the count is the index's.
      scored =
        !w.filtered
          ? (this.db.prepare(`SELECT count(*) AS n FROM curation_scores WHERE run_id = ? AND ${column} IS NOT NULL`).get(run.id) as { n: number }).n
          : (this.db
              .prepare(`SELECT count(*) AS n FROM items i WHERE ${w.sql} AND EXISTS (${scoredItem})`)
              .get(...w.params, run.id) as { n: number }).n
      if (offset < scored)
        for (const r of this.db
          .prepare(
            `SELECT cs.item_id AS id FROM curation_scores cs CROSS JOIN items i ON i.id = cs.item_id
             WHERE cs.run_id = ? AND cs.${column} IS NOT NULL AND ${w.sql} ORDER BY cs.${column} ${dir}, cs.item_id ${dir} LIMIT ? OFFSET ?`
          )
          .all(run.id, ...w.params, limit, offset) as { id: string }[])
          ids.push(r.id)
    }
    if (ids.length < limit) {
      const unscored = run ? `AND NOT EXISTS (${scoredItem})` : ''
      for (const r of this.db
        .prepare(`SELECT i.id AS id FROM items i WHERE ${w.sql} ${unscored} ORDER BY i.id ${dir} LIMIT ? OFFSET ?`)
        .all(...w.params, ...(run ? [run.id] : []), limit - ids.length, Math.max(0, offset - scored)) as { id: string }[])
        ids.push(r.id)
    }
    return ids
  }

  get(id: string): DatasetItem {
    const row = this.db.prepare(`SELECT ${COLUMNS} ${FROM} WHERE i.id = ?`).get(id) as Row | undefined
    if (!row) throw new NotFoundError(`No item with id "${id}".`)
    return toItem(row)
  }

  /** Items by id, in the order given (missing ids skipped). */
  getMany(ids: string[]): DatasetItem[] {
    if (ids.length === 0) return []
    const rows = this.db.prepare(`SELECT ${COLUMNS} ${FROM} WHERE i.id IN (SELECT value FROM json_each(?))`).all(JSON.stringify(ids)) as Row[]
    const byId = new Map(rows.map((r) => [r.id, r]))
    return ids.map((id) => byId.get(id)).filter((r): r is Row => !!r).map(toItem)
  }

  stats(datasetId: string): DatasetStats {
    const classes = this.db.prepare('SELECT id, name, color FROM classes WHERE dataset_id = ? ORDER BY position').all(datasetId) as {
      id: string
      name: string
      color: string
    }[]
    // Read from the items_stats index alone (migration 009).
    const rows = this.db
      .prepare(
        `SELECT label_class_id AS class_id, split, label_source AS source, count(*) AS n
         FROM items WHERE dataset_id = ? GROUP BY label_class_id, split, label_source`
      )
      .all(datasetId) as { class_id: string | null; split: SplitName | null; source: LabelSourceName; n: number }[]
    const byClass = new Map(classes.map((c) => [c.id, { ...c, count: 0, splits: emptySplits() }]))
    const unlabelled = { count: 0, splits: emptySplits() }
    const splits = emptySplits()
    const labelSources: Record<LabelSourceName, number> = { human: 0, model: 0, none: 0 }
    let total = 0
    for (const r of rows) {
      const target = (r.class_id && byClass.get(r.class_id)) || unlabelled
      target.count += r.n
      target.splits[r.split ?? 'none'] += r.n
      splits[r.split ?? 'none'] += r.n
      labelSources[r.source] += r.n
      total += r.n
    }
    const flagRows = this.db
      .prepare('SELECT f.flag AS flag, count(*) AS n FROM item_flags f JOIN items i ON i.id = f.item_id WHERE i.dataset_id = ? GROUP BY f.flag')
      .all(datasetId) as { flag: string; n: number }[]
    return { datasetId, total, classes: [...byClass.values()], unlabelled, splits, labelSources, flags: Object.fromEntries(flagRows.map((r) => [r.flag, r.n])) }
  }

  /** The class with this name (any case), created at the end of the list if new. */
  classId(datasetId: string, name: string): string {
    const row = this.db.prepare('SELECT id FROM classes WHERE dataset_id = ? AND name = ?').get(datasetId, name) as { id: string } | undefined
    if (row) return row.id
    const { n } = this.db.prepare('SELECT count(*) AS n FROM classes WHERE dataset_id = ?').get(datasetId) as { n: number }
    const id = newId()
    this.db
      .prepare('INSERT INTO classes (id, dataset_id, name, color, position) VALUES (?, ?, ?, ?, ?)')
      .run(id, datasetId, name, CLASS_COLORS[n % CLASS_COLORS.length], n)
    return id
  }

  setFlag(itemIds: string[], flag: string, on: boolean): void {
    const add = this.db.prepare('INSERT INTO item_flags (item_id, flag) VALUES (?, ?) ON CONFLICT DO NOTHING')
    const del = this.db.prepare('DELETE FROM item_flags WHERE item_id = ? AND flag = ?')
    for (const id of itemIds) (on ? add : del).run(id, flag)
  }

  clearFlag(datasetId: string, flag: string): void {
    this.db.prepare('DELETE FROM item_flags WHERE flag = ? AND item_id IN (SELECT id FROM items WHERE dataset_id = ?)').run(flag, datasetId)
  }

  touch(datasetId: string): void {
    this.db.prepare('UPDATE datasets SET updated_at = ? WHERE id = ?').run(new Date().toISOString(), datasetId)
  }
}
