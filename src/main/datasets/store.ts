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
  size: 'md.bytes',
  selfConfidence: 'cs.self_confidence',
  bitsPerToken: 'cs.bits_per_token',
  featureOutlier: 'cs.feature_outlier'
}
const CURATION_SORT = new Set<ItemSort>(['selfConfidence', 'bitsPerToken', 'featureOutlier'])

export class DatasetItemsStore {
  constructor(private readonly db: Database.Database) {}

  /**
   * WHERE clause and the joins it needs. Only the joins a filter or sort uses are
   * made: paging and counting walk tens of thousands of rows, details join 120.
   */
  private where(datasetId: string, f: ItemFilter, sort?: ItemQuery['sort']): { joins: string; sql: string; params: unknown[] } {
    const parts = ['i.dataset_id = ?']
    const params: unknown[] = [datasetId]
    const joins = new Set<string>()
    const labels = (): void => {
      joins.add("LEFT JOIN labels h ON h.item_id = i.id AND h.source = 'human'")
      joins.add("LEFT JOIN labels m ON m.item_id = i.id AND m.source = 'model'")
    }
    if (f.classId === 'none') {
      labels()
      parts.push('h.class_id IS NULL AND m.class_id IS NULL')
    } else if (f.classId) {
      // The class's own labels through labels_by_class (human, or model where no human label
      // overrides it), so the work grows with the class, not with the dataset.
      parts.push(`i.id IN (
        SELECT item_id FROM labels WHERE class_id = ? AND source = 'human'
        UNION ALL
        SELECT lm.item_id FROM labels lm WHERE lm.class_id = ? AND lm.source = 'model'
          AND NOT EXISTS (SELECT 1 FROM labels lh WHERE lh.item_id = lm.item_id AND lh.source = 'human'))`)
      params.push(f.classId, f.classId)
    }
    if (f.split) {
      joins.add('LEFT JOIN splits s ON s.item_id = i.id')
      if (f.split === 'none') parts.push('s.split IS NULL')
      else {
        parts.push('s.split = ?')
        params.push(f.split)
      }
    }
    if (f.labelSource) {
      labels()
      if (f.labelSource === 'human') parts.push('h.class_id IS NOT NULL')
      else if (f.labelSource === 'model') parts.push('h.class_id IS NULL AND m.class_id IS NOT NULL')
      else parts.push('h.class_id IS NULL AND m.class_id IS NULL')
    }
    if (f.flag) {
      parts.push('EXISTS (SELECT 1 FROM item_flags f WHERE f.item_id = i.id AND f.flag = ?)')
      params.push(f.flag)
    }
    if (sort === 'size') joins.add('JOIN media md ON md.sha256 = i.sha256')
    if (sort && CURATION_SORT.has(sort)) {
      // Scores of the dataset's latest finished curation run (migration 007).
      joins.add(
        `LEFT JOIN curation_scores cs ON cs.item_id = i.id AND cs.run_id = (SELECT r.id FROM curation_runs r WHERE r.dataset_id = ? AND r.finished_at IS NOT NULL ORDER BY r.finished_at DESC, r.rowid DESC LIMIT 1)`
      )
      params.unshift(datasetId)
    }
    return { joins: [...joins].join('\n'), sql: parts.join(' AND '), params }
  }

  list(datasetId: string, q: ItemQuery = {}): ItemPage {
    const offset = q.offset ?? 0
    const limit = q.limit ?? 200
    const w = this.where(datasetId, q, q.sort)
    const dir = q.desc ? 'DESC' : 'ASC'
    const key = SORTS[q.sort ?? 'name']
    // Items without a score (unlabelled for self-confidence, unread, not yet curated) go last either way.
    const order = `${q.sort && CURATION_SORT.has(q.sort) ? `${key} IS NULL, ` : ''}${key} ${dir}, i.id ${dir}`
    const countW = this.where(datasetId, q)
    const total = (this.db.prepare(`SELECT count(*) AS n FROM items i ${countW.joins} WHERE ${countW.sql}`).get(...countW.params) as { n: number }).n
    // Ids of the page first (narrow rows, index order), then their details.
    const ids = (this.db.prepare(`SELECT i.id AS id FROM items i ${w.joins} WHERE ${w.sql} ORDER BY ${order} LIMIT ? OFFSET ?`).all(...w.params, limit, offset) as { id: string }[]).map((r) => r.id)
    return { items: this.getMany(ids), total, offset }
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
    const rows = this.db
      .prepare(
        `SELECT coalesce(h.class_id, m.class_id) AS class_id, s.split AS split,
           CASE WHEN h.class_id IS NOT NULL THEN 'human' WHEN m.class_id IS NOT NULL THEN 'model' ELSE 'none' END AS source,
           count(*) AS n
         FROM items i
         LEFT JOIN labels h ON h.item_id = i.id AND h.source = 'human'
         LEFT JOIN labels m ON m.item_id = i.id AND m.source = 'model'
         LEFT JOIN splits s ON s.item_id = i.id
         WHERE i.dataset_id = ? GROUP BY 1, 2, 3`
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
