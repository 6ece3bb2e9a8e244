// Dataset snapshots: a dataset's items, human labels and splits frozen under a name
// (migration 006). Rows are compact (item id, sha256 as 32 bytes, class index into the
// snapshot's class list, split code); the content hash over the sorted rows is the same one a
// training run checks on resume, so "identical" means identical content. Diffs match items by
// id: an item removed and imported again is one removal and one addition.

import { createHash } from 'node:crypto'
import type Database from 'better-sqlite3'
import { type SplitCounts, type SplitName } from '../../shared/datasets-contract'
import { type SnapshotChange, type SnapshotDiff, type SnapshotDiffEntry, type SnapshotInfo } from '../../shared/snapshots-contract'
import { ConflictError, NotFoundError } from '../errors'
import { newId, nowIso, parseJson } from '../library/util'

export interface SnapshotRow {
  itemId: string
  sha256: string
  name: string
  className: string | null
  split: SplitName | null
}

const SPLITS: SplitName[] = ['train', 'val', 'test']
const SPLIT_CODE: Record<SplitName, number> = { train: 0, val: 1, test: 2 }

/** sha256 over rows sorted by item id, one `id\tsha256\tclass\tsplit\n` line each (as training's snapshotHash). */
export function rowsHash(rows: SnapshotRow[]): string {
  const h = createHash('sha256')
  const sorted = [...rows].sort((a, b) => (a.itemId < b.itemId ? -1 : a.itemId > b.itemId ? 1 : 0))
  for (const r of sorted) h.update(`${r.itemId}\t${r.sha256}\t${r.className ?? ''}\t${r.split ?? ''}\n`)
  return h.digest('hex')
}

interface SnapshotDbRow {
  n: number
  id: string
  dataset_id: string
  name: string
  note: string
  content_hash: string
  classes: string
  item_count: number
  auto: number
  created_at: string
}

export interface CurrentState {
  classes: string[]
  rows: SnapshotRow[]
}

export class SnapshotsRepo {
  constructor(private readonly db: Database.Database) {}

  /** The dataset as it is now: every item with its human label's class name and its split. */
  current(datasetId: string): CurrentState {
    const classes = (this.db.prepare('SELECT name FROM classes WHERE dataset_id = ? ORDER BY position').all(datasetId) as { name: string }[]).map((c) => c.name)
    const rows = this.db
      .prepare(
        `SELECT i.id AS itemId, i.sha256 AS sha256, i.original_name AS name, c.name AS className, s.split AS split
         FROM items i
         LEFT JOIN labels h ON h.item_id = i.id AND h.source = 'human'
         LEFT JOIN classes c ON c.id = h.class_id
         LEFT JOIN splits s ON s.item_id = i.id
         WHERE i.dataset_id = ? ORDER BY i.id`
      )
      .all(datasetId) as SnapshotRow[]
    return { classes, rows }
  }

  private byRef(datasetId: string, ref: string): SnapshotDbRow {
    const row = (this.db.prepare('SELECT * FROM snapshots WHERE dataset_id = ? AND id = ?').get(datasetId, ref) ??
      this.db.prepare('SELECT * FROM snapshots WHERE dataset_id = ? AND name = ? COLLATE NOCASE').get(datasetId, ref)) as SnapshotDbRow | undefined
    if (!row) throw new NotFoundError(`The dataset has no snapshot with id or name "${ref}".`)
    return row
  }

  rows(n: number, classes: string[]): SnapshotRow[] {
    const raw = this.db.prepare('SELECT item_id, sha256, name, class, split FROM snapshot_items WHERE snapshot = ? ORDER BY item_id').all(n) as {
      item_id: string
      sha256: Buffer
      name: string
      class: number | null
      split: number | null
    }[]
    return raw.map((r) => ({
      itemId: r.item_id,
      sha256: r.sha256.toString('hex'),
      name: r.name,
      className: r.class === null ? null : (classes[r.class] ?? null),
      split: r.split === null ? null : SPLITS[r.split]!
    }))
  }

  private info(r: SnapshotDbRow): SnapshotInfo {
    const counts = this.db
      .prepare('SELECT split, count(*) AS n, count(class) AS labelled FROM snapshot_items WHERE snapshot = ? GROUP BY split')
      .all(r.n) as { split: number | null; n: number; labelled: number }[]
    const splits: SplitCounts = { train: 0, val: 0, test: 0, none: 0 }
    let labelled = 0
    for (const c of counts) {
      splits[c.split === null ? 'none' : SPLITS[c.split]!] += c.n
      labelled += c.labelled
    }
    const usedBy = this.db
      .prepare(`SELECT id AS runId, model_id AS modelId, state FROM training_runs WHERE json_extract(metrics, '$.snapshot.id') = ? ORDER BY created_at`)
      .all(r.id) as SnapshotInfo['usedBy']
    return {
      id: r.id,
      datasetId: r.dataset_id,
      name: r.name,
      note: r.note,
      hash: r.content_hash,
      itemCount: r.item_count,
      labelled,
      classes: parseJson<string[]>(r.classes, []),
      splits,
      auto: r.auto === 1,
      createdAt: r.created_at,
      usedBy
    }
  }

  list(datasetId: string): SnapshotInfo[] {
    return (this.db.prepare('SELECT * FROM snapshots WHERE dataset_id = ? ORDER BY created_at DESC, n DESC').all(datasetId) as SnapshotDbRow[]).map((r) => this.info(r))
  }

  get(datasetId: string, ref: string): SnapshotInfo {
    return this.info(this.byRef(datasetId, ref))
  }

  /** The rows and class list of a snapshot (by id or name). */
  load(datasetId: string, ref: string): { info: SnapshotDbRow; rows: SnapshotRow[] } {
    const info = this.byRef(datasetId, ref)
    return { info, rows: this.rows(info.n, parseJson<string[]>(info.classes, [])) }
  }

  private nameTaken(datasetId: string, name: string): boolean {
    return !!this.db.prepare('SELECT 1 FROM snapshots WHERE dataset_id = ? AND name = ? COLLATE NOCASE').get(datasetId, name)
  }

  /** Freezes the dataset now. A given name must be free; a default one gets a number if needed. */
  create(datasetId: string, opts: { name?: string | undefined; note?: string | undefined; auto?: boolean } = {}): SnapshotInfo {
    const id = newId()
    const now = nowIso()
    this.db
      .transaction(() => {
        let name = opts.name
        if (name !== undefined) {
          if (this.nameTaken(datasetId, name)) throw new ConflictError(`The dataset already has a snapshot named "${name}".`, 'name')
        } else {
          const base = `${opts.auto ? 'auto ' : ''}${now.slice(0, 19).replace('T', ' ')}`
          name = base
          for (let k = 2; this.nameTaken(datasetId, name); k++) name = `${base} (${k})`
        }
        const { classes, rows } = this.current(datasetId)
        const classIndex = new Map(classes.map((c, i) => [c, i]))
        const { lastInsertRowid } = this.db
          .prepare(
            `INSERT INTO snapshots (id, dataset_id, name, note, content_hash, classes, item_count, auto, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
          )
          .run(id, datasetId, name, opts.note ?? '', rowsHash(rows), JSON.stringify(classes), rows.length, opts.auto ? 1 : 0, now)
        const insert = this.db.prepare('INSERT INTO snapshot_items (snapshot, item_id, sha256, name, class, split) VALUES (?, ?, ?, ?, ?, ?)')
        for (const r of rows)
          insert.run(lastInsertRowid, r.itemId, Buffer.from(r.sha256, 'hex'), r.name, r.className === null ? null : classIndex.get(r.className)!, r.split === null ? null : SPLIT_CODE[r.split])
      })
      .immediate()
    return this.get(datasetId, id)
  }

  /**
   * The snapshot a training run records: the dataset's latest snapshot when its content hash
   * equals the current state's, else a new automatic one.
   */
  forTraining(datasetId: string): { snapshot: SnapshotInfo; reused: boolean } {
    const latest = this.db.prepare('SELECT * FROM snapshots WHERE dataset_id = ? ORDER BY created_at DESC, n DESC LIMIT 1').get(datasetId) as SnapshotDbRow | undefined
    if (latest && latest.content_hash === rowsHash(this.current(datasetId).rows)) return { snapshot: this.info(latest), reused: true }
    return { snapshot: this.create(datasetId, { auto: true }), reused: false }
  }

  delete(datasetId: string, ref: string, force = false): { id: string } {
    const s = this.get(datasetId, ref)
    if (s.usedBy.length > 0 && !force)
      throw new ConflictError(
        `Snapshot "${s.name}" is recorded by ${s.usedBy.length} training run${s.usedBy.length === 1 ? '' : 's'}; delete it with force (the runs keep its id, name and hash).`,
        'snapshot'
      )
    this.db.prepare('DELETE FROM snapshots WHERE id = ?').run(s.id)
    return { id: s.id }
  }

  /** What changed from one snapshot to another (or to the current state when `to` is omitted or 'current'). */
  diff(datasetId: string, fromRef: string, toRef?: string, page: { change?: SnapshotChange | undefined; offset?: number | undefined; limit?: number | undefined } = {}): SnapshotDiff {
    const a = this.load(datasetId, fromRef)
    const toCurrent = toRef === undefined || toRef.toLowerCase() === 'current'
    const b = toCurrent ? null : this.load(datasetId, toRef)
    const bRows = b ? b.rows : this.current(datasetId).rows
    return diffRows(
      { id: a.info.id, name: a.info.name },
      b ? { id: b.info.id, name: b.info.name } : { id: 'current', name: 'current' },
      a.rows,
      bRows,
      page
    )
  }
}

export function diffRows(
  from: SnapshotDiff['from'],
  to: SnapshotDiff['to'],
  aRows: SnapshotRow[],
  bRows: SnapshotRow[],
  page: { change?: SnapshotChange | undefined; offset?: number | undefined; limit?: number | undefined } = {}
): SnapshotDiff {
  const before = new Map(aRows.map((r) => [r.itemId, r]))
  const after = new Map(bRows.map((r) => [r.itemId, r]))
  const counts = { added: 0, removed: 0, relabelled: 0, moved: 0, unchanged: 0, changed: 0 }
  const entries: SnapshotDiffEntry[] = []
  const side = (r: SnapshotRow): SnapshotDiffEntry['from'] => ({ className: r.className, split: r.split })
  for (const [id, r] of before) {
    const n = after.get(id)
    const changes: SnapshotChange[] = []
    if (!n) changes.push('removed')
    else {
      if (n.className !== r.className) changes.push('relabelled')
      if (n.split !== r.split) changes.push('moved')
    }
    if (changes.length === 0) {
      counts.unchanged++
      continue
    }
    for (const c of changes) counts[c]++
    counts.changed++
    entries.push({ itemId: id, name: (n ?? r).name, sha256: r.sha256, changes, from: side(r), to: n ? side(n) : null })
  }
  for (const [id, n] of after) {
    if (before.has(id)) continue
    counts.added++
    counts.changed++
    entries.push({ itemId: id, name: n.name, sha256: n.sha256, changes: ['added'], from: null, to: side(n) })
  }
  const wanted = page.change ? entries.filter((e) => e.changes.includes(page.change!)) : entries
  wanted.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : x.itemId < y.itemId ? -1 : 1))
  const offset = page.offset ?? 0
  return { from, to, counts, items: wanted.slice(offset, offset + (page.limit ?? 1000)), offset }
}
