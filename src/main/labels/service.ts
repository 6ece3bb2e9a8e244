// Labelling: human labels with an undo/redo log kept in the library (every change one
// transaction, so a crash loses nothing and every window and the CLI share the same
// history), class editing (create, rename, recolour, reorder, merge, delete), cached
// classifier predictions, and accepting them. Model labels (source 'model') never
// replace or remove a human label.

import type Database from 'better-sqlite3'
import {
  type AcceptAboveResult,
  type ClassImpact,
  type LabelChangeResult,
  type LabelHistory,
  type PredictedPage,
  type Prediction,
  type PredictionStatus
} from '../../shared/labels-contract'
import { type ClassInfo, type ItemSort, type SplitName, type LabelSourceName } from '../../shared/contract'
import { AppError, ConflictError, NotFoundError } from '../errors'
import { DatasetItemsStore } from '../datasets/store'
import { CLASS_COLORS } from '../library/datasets'
import { newId, nowIso } from '../library/util'

type Source = 'human' | 'model'
/** A label as stored: class, confidence and model (model labels). */
interface LabelVal {
  c: string
  p: number | null
  m: string | null
}
/** One item's label of one source, before and after a change. */
interface Change {
  i: string
  s: Source
  b: LabelVal | null
  a: LabelVal | null
}

/** Undo steps kept per dataset. */
export const HISTORY_LIMIT = 1000

export interface ListQuery {
  model?: string | undefined
  mode?: 'all' | 'disagree' | 'lowConfidence' | undefined
  threshold?: number | undefined
  classId?: string | undefined
  split?: SplitName | 'none' | undefined
  labelSource?: LabelSourceName | undefined
  flag?: string | undefined
  sort?: ItemSort | undefined
  desc?: boolean | undefined
  offset?: number | undefined
  limit?: number | undefined
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`

export class LabelService {
  private readonly store: DatasetItemsStore

  constructor(private readonly db: Database.Database) {
    this.store = new DatasetItemsStore(db)
  }

  // ------------------------------------------------------------------ lookups

  datasetId(ref: string): string {
    const r = this.db.prepare('SELECT id FROM datasets WHERE id = ? OR name = ? ORDER BY id = ? DESC LIMIT 1').get(ref, ref, ref) as { id: string } | undefined
    if (!r) throw new NotFoundError(`No dataset "${ref}".`)
    return r.id
  }

  modelId(ref: string): string {
    const r = this.db.prepare('SELECT id FROM models WHERE id = ? OR name = ? ORDER BY id = ? DESC LIMIT 1').get(ref, ref, ref) as { id: string } | undefined
    if (!r) throw new NotFoundError(`No model "${ref}".`)
    return r.id
  }

  classes(datasetId: string): ClassInfo[] {
    return this.db.prepare('SELECT id, name, color, position FROM classes WHERE dataset_id = ? ORDER BY position').all(datasetId) as ClassInfo[]
  }

  private klass(id: string): ClassInfo & { dataset_id: string } {
    const c = this.db.prepare('SELECT id, name, color, position, dataset_id FROM classes WHERE id = ?').get(id) as (ClassInfo & { dataset_id: string }) | undefined
    if (!c) throw new NotFoundError(`No class with id "${id}".`)
    return c
  }

  /** The dataset all these items belong to (labelling one dataset at a time). */
  private datasetOfItems(ids: string[]): string {
    const rows = this.db.prepare('SELECT DISTINCT dataset_id AS d FROM items WHERE id IN (SELECT value FROM json_each(?))').all(JSON.stringify(ids)) as { d: string }[]
    if (rows.length === 0) throw new NotFoundError('None of these items exist.')
    if (rows.length > 1) throw new ConflictError('These items belong to more than one dataset; label one dataset at a time.', 'ids')
    return (rows[0] as { d: string }).d
  }

  private readLabel(itemId: string, source: Source): LabelVal | null {
    const r = this.db.prepare('SELECT class_id AS c, confidence AS p, model_id AS m FROM labels WHERE item_id = ? AND source = ?').get(itemId, source) as LabelVal | undefined
    return r ?? null
  }

  private writeLabel(itemId: string, source: Source, v: LabelVal | null, now: string): void {
    if (v === null) {
      this.db.prepare('DELETE FROM labels WHERE item_id = ? AND source = ?').run(itemId, source)
      return
    }
    this.db
      .prepare(
        `INSERT INTO labels (item_id, source, class_id, confidence, model_id, created_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (item_id, source) DO UPDATE SET class_id = excluded.class_id, confidence = excluded.confidence,
           model_id = excluded.model_id, created_at = excluded.created_at`
      )
      .run(itemId, source, v.c, v.p, v.m, now)
  }

  // ------------------------------------------------------------------ history

  private describe(action: string): string {
    return action
  }

  history(datasetId: string): LabelHistory {
    const undo = this.db.prepare('SELECT action FROM label_changes WHERE dataset_id = ? AND undone = 0 ORDER BY id DESC LIMIT 1').get(datasetId) as { action: string } | undefined
    const redo = this.db.prepare('SELECT action FROM label_changes WHERE dataset_id = ? AND undone = 1 ORDER BY id ASC LIMIT 1').get(datasetId) as { action: string } | undefined
    const size = (this.db.prepare('SELECT count(*) AS n FROM label_changes WHERE dataset_id = ? AND undone = 0').get(datasetId) as { n: number }).n
    return {
      datasetId,
      canUndo: !!undo,
      canRedo: !!redo,
      undoAction: undo ? this.describe(undo.action) : null,
      redoAction: redo ? this.describe(redo.action) : null,
      size
    }
  }

  /**
   * Applies label changes of one action in one transaction and records them as one undo
   * step (dropping the redo stack). `plan` runs inside the transaction and returns the
   * wanted label per item and source; unchanged ones are left out of the step.
   */
  private apply(datasetId: string, action: string, plan: () => { i: string; s: Source; a: LabelVal | null }[]): number {
    return this.db
      .transaction(() => {
        const now = nowIso()
        const changes: Change[] = []
        for (const want of plan()) {
          const b = this.readLabel(want.i, want.s)
          if (b === null && want.a === null) continue
          if (b && want.a && b.c === want.a.c && b.p === want.a.p && b.m === want.a.m) continue
          this.writeLabel(want.i, want.s, want.a, now)
          changes.push({ i: want.i, s: want.s, b, a: want.a })
        }
        if (changes.length === 0) return 0
        this.db.prepare('DELETE FROM label_changes WHERE dataset_id = ? AND undone = 1').run(datasetId)
        this.db.prepare('INSERT INTO label_changes (dataset_id, action, changes, created_at) VALUES (?, ?, ?, ?)').run(datasetId, action, JSON.stringify(changes), now)
        this.db
          .prepare(
            `DELETE FROM label_changes WHERE dataset_id = ? AND id <= (
               SELECT id FROM label_changes WHERE dataset_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`
          )
          .run(datasetId, datasetId, HISTORY_LIMIT)
        return new Set(changes.map((c) => c.i)).size
      })
      .immediate()
  }

  /** Reverts the latest change of a dataset (its labels as they were before). */
  undo(datasetRef: string): LabelChangeResult {
    return this.step(this.datasetId(datasetRef), 'undo')
  }

  redo(datasetRef: string): LabelChangeResult {
    return this.step(this.datasetId(datasetRef), 'redo')
  }

  private step(datasetId: string, dir: 'undo' | 'redo'): LabelChangeResult {
    const changed = this.db
      .transaction(() => {
        const row = (
          dir === 'undo'
            ? this.db.prepare('SELECT id, changes FROM label_changes WHERE dataset_id = ? AND undone = 0 ORDER BY id DESC LIMIT 1')
            : this.db.prepare('SELECT id, changes FROM label_changes WHERE dataset_id = ? AND undone = 1 ORDER BY id ASC LIMIT 1')
        ).get(datasetId) as { id: number; changes: string } | undefined
        if (!row) throw new AppError('CONFLICT', dir === 'undo' ? 'Nothing to undo.' : 'Nothing to redo.')
        const changes = JSON.parse(row.changes) as Change[]
        const now = nowIso()
        const itemExists = this.db.prepare('SELECT 1 FROM items WHERE id = ?')
        const classExists = this.db.prepare('SELECT 1 FROM classes WHERE id = ?')
        const touched = new Set<string>()
        // Undo walks the change backwards so an item touched twice ends as it began.
        for (const c of dir === 'undo' ? [...changes].reverse() : changes) {
          const v = dir === 'undo' ? c.b : c.a
          // Items removed since, or classes deleted since, have nothing left to restore.
          if (!itemExists.get(c.i) || (v && !classExists.get(v.c))) continue
          this.writeLabel(c.i, c.s, v, now)
          touched.add(c.i)
        }
        this.db.prepare('UPDATE label_changes SET undone = ? WHERE id = ?').run(dir === 'undo' ? 1 : 0, row.id)
        return touched.size
      })
      .immediate()
    return { changed, history: this.history(datasetId) }
  }

  // ------------------------------------------------------------------ labels

  /** Sets (classId) or clears (null) the human label of items: one undo step. */
  assign(ids: string[], classId: string | null): LabelChangeResult {
    const datasetId = this.datasetOfItems(ids)
    let name = ''
    if (classId !== null) {
      const c = this.klass(classId)
      if (c.dataset_id !== datasetId) throw new ConflictError(`Class "${c.name}" belongs to another dataset.`, 'classId')
      name = c.name
    }
    const unique = [...new Set(ids)]
    const action = classId === null ? `Clear the label of ${plural(unique.length, 'item')}` : `Label ${plural(unique.length, 'item')} ${name}`
    const changed = this.apply(datasetId, action, () => unique.map((i) => ({ i, s: 'human' as const, a: classId === null ? null : { c: classId, p: null, m: null } })))
    return { changed, history: this.history(datasetId) }
  }

  /**
   * Accepts a model's prediction for items as the human label (Enter on an item: a person
   * looked and agreed). Items without a prediction, or whose predicted class the dataset
   * lacks, are left alone.
   */
  accept(ids: string[], modelRef: string): LabelChangeResult {
    const datasetId = this.datasetOfItems(ids)
    const modelId = this.modelId(modelRef)
    const unique = [...new Set(ids)]
    const changed = this.apply(datasetId, `Accept the suggestion for ${plural(unique.length, 'item')}`, () => {
      const out: { i: string; s: Source; a: LabelVal }[] = []
      for (const p of this.predictionsFor(modelId, unique)) if (p.classId) out.push({ i: p.itemId, s: 'human', a: { c: p.classId, p: null, m: null } })
      return out
    })
    return { changed, history: this.history(datasetId) }
  }

  /**
   * "Label all above confidence X": every item of the dataset without a human label
   * whose cached prediction is at least `threshold` gets a model label (source 'model',
   * with the model and confidence). Human labels are never touched. dryRun only counts.
   */
  acceptAbove(datasetRef: string, modelRef: string, threshold: number, dryRun = false): AcceptAboveResult {
    const datasetId = this.datasetId(datasetRef)
    const modelId = this.modelId(modelRef)
    type Row = { item_id: string; class_id: string | null; confidence: number; human: string | null; same: number }
    const rows = (): Row[] =>
      this.db
        .prepare(
          `SELECT p.item_id, c.id AS class_id, p.confidence, h.class_id AS human,
             (m.class_id IS c.id AND m.model_id IS p.model_id AND m.confidence IS p.confidence) AS same
           FROM predictions p JOIN items i ON i.id = p.item_id
           LEFT JOIN classes c ON c.dataset_id = i.dataset_id AND c.name = p.class_name
           LEFT JOIN labels h ON h.item_id = p.item_id AND h.source = 'human'
           LEFT JOIN labels m ON m.item_id = p.item_id AND m.source = 'model'
           WHERE p.model_id = ? AND i.dataset_id = ? AND p.confidence >= ?`
        )
        .all(modelId, datasetId, threshold) as Row[]
    // Counted: items whose model label this would set or change (already so labelled: not again).
    const count = (rs: Row[]): Omit<AcceptAboveResult, 'applied' | 'history'> => ({
      count: rs.filter((r) => !r.human && r.class_id && !r.same).length,
      skippedHuman: rs.filter((r) => r.human).length,
      noClass: rs.filter((r) => !r.human && !r.class_id).length
    })
    if (dryRun) return { ...count(rows()), applied: false, history: this.history(datasetId) }
    let counted: Omit<AcceptAboveResult, 'applied' | 'history'> = { count: 0, skippedHuman: 0, noClass: 0 }
    this.apply(datasetId, `Accept model labels at ${Math.round(threshold * 100)}% or more`, () => {
      const rs = rows()
      counted = count(rs)
      return rs.filter((r) => !r.human && r.class_id).map((r) => ({ i: r.item_id, s: 'model' as const, a: { c: r.class_id as string, p: r.confidence, m: modelId } }))
    })
    return { ...counted, applied: true, history: this.history(datasetId) }
  }

  // ------------------------------------------------------------------ predictions

  predictionsFor(modelId: string, itemIds: string[]): Prediction[] {
    if (itemIds.length === 0) return []
    const rows = this.db
      .prepare(
        `SELECT p.item_id, p.model_id, p.class_name, p.confidence, c.id AS class_id
         FROM predictions p JOIN items i ON i.id = p.item_id
         LEFT JOIN classes c ON c.dataset_id = i.dataset_id AND c.name = p.class_name
         WHERE p.model_id = ? AND p.item_id IN (SELECT value FROM json_each(?))`
      )
      .all(modelId, JSON.stringify(itemIds)) as { item_id: string; model_id: string; class_name: string; confidence: number; class_id: string | null }[]
    return rows.map((r) => ({ itemId: r.item_id, modelId: r.model_id, className: r.class_name, classId: r.class_id, confidence: r.confidence }))
  }

  /** Stores predictions (one transaction). */
  savePredictions(modelId: string, rows: { itemId: string; className: string; confidence: number }[]): void {
    const put = this.db.prepare(
      `INSERT INTO predictions (model_id, item_id, class_name, confidence, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (model_id, item_id) DO UPDATE SET class_name = excluded.class_name, confidence = excluded.confidence, created_at = excluded.created_at`
    )
    const now = nowIso()
    this.db.transaction(() => rows.forEach((r) => put.run(modelId, r.itemId, r.className, r.confidence, now))).immediate()
  }

  /** Items of a dataset the model has no cached prediction for, in a stable order. */
  unpredicted(datasetId: string, modelId: string, limit: number): { id: string; sha256: string }[] {
    return this.db
      .prepare(
        `SELECT i.id, i.sha256 FROM items i
         WHERE i.dataset_id = ? AND NOT EXISTS (SELECT 1 FROM predictions p WHERE p.model_id = ? AND p.item_id = i.id)
         ORDER BY i.id LIMIT ?`
      )
      .all(datasetId, modelId, limit) as { id: string; sha256: string }[]
  }

  predictionStatus(datasetRef: string, modelRef: string): PredictionStatus {
    const datasetId = this.datasetId(datasetRef)
    const modelId = this.modelId(modelRef)
    const total = (this.db.prepare('SELECT count(*) AS n FROM items WHERE dataset_id = ?').get(datasetId) as { n: number }).n
    const predicted = (
      this.db.prepare('SELECT count(*) AS n FROM predictions p JOIN items i ON i.id = p.item_id WHERE p.model_id = ? AND i.dataset_id = ?').get(modelId, datasetId) as { n: number }
    ).n
    return { modelId, datasetId, predicted, total }
  }

  /**
   * A page of items with the chosen model's prediction. mode 'all' takes the Datasets
   * filters; 'disagree' is the review queue (a human label the model predicts
   * differently); 'lowConfidence' has predictions under the threshold (default 0.5).
   */
  list(datasetRef: string, q: ListQuery): PredictedPage {
    const datasetId = this.datasetId(datasetRef)
    const modelId = q.model ? this.modelId(q.model) : null
    const mode = q.mode ?? 'all'
    const offset = q.offset ?? 0
    const limit = q.limit ?? 200
    let page: { ids: string[]; total: number }
    if (mode === 'all') {
      const p = this.store.list(datasetId, { classId: q.classId, split: q.split, labelSource: q.labelSource, flag: q.flag, offset, limit, sort: q.sort ?? 'name', desc: q.desc })
      page = { ids: p.items.map((i) => i.id), total: p.total }
    } else {
      if (!modelId) throw new AppError('VALIDATION', 'Choose a model to see where it disagrees or is unsure.', 'model')
      const where =
        mode === 'disagree'
          ? `h.class_id IS NOT NULL AND (c.id IS NULL OR c.id <> h.class_id)`
          : `p.confidence < ?`
      const params: unknown[] = [modelId, datasetId]
      if (mode === 'lowConfidence') params.push(q.threshold ?? 0.5)
      const from = `FROM items i JOIN predictions p ON p.item_id = i.id AND p.model_id = ?
        LEFT JOIN classes c ON c.dataset_id = i.dataset_id AND c.name = p.class_name
        LEFT JOIN labels h ON h.item_id = i.id AND h.source = 'human'
        WHERE i.dataset_id = ? AND ${where}`
      const total = (this.db.prepare(`SELECT count(*) AS n ${from}`).get(...params) as { n: number }).n
      const order = mode === 'disagree' ? 'p.confidence DESC' : 'p.confidence ASC'
      const ids = (this.db.prepare(`SELECT i.id AS id ${from} ORDER BY ${order}, i.id LIMIT ? OFFSET ?`).all(...params, limit, offset) as { id: string }[]).map((r) => r.id)
      page = { ids, total }
    }
    const items = this.store.getMany(page.ids)
    const preds = modelId ? new Map(this.predictionsFor(modelId, page.ids).map((p) => [p.itemId, p])) : new Map<string, Prediction>()
    return { items: items.map((i) => ({ ...i, prediction: preds.get(i.id) ?? null })), total: page.total, offset }
  }

  // ------------------------------------------------------------------ classes

  createClass(datasetRef: string, name: string, color?: string): ClassInfo {
    const datasetId = this.datasetId(datasetRef)
    const taken = this.db.prepare('SELECT 1 FROM classes WHERE dataset_id = ? AND name = ?').get(datasetId, name)
    if (taken) throw new ConflictError(`The dataset already has a class "${name}".`, 'name')
    const n = (this.db.prepare('SELECT count(*) AS n, coalesce(max(position), -1) AS p FROM classes WHERE dataset_id = ?').get(datasetId) as { n: number; p: number })
    const id = newId()
    this.db.prepare('INSERT INTO classes (id, dataset_id, name, color, position) VALUES (?, ?, ?, ?, ?)').run(id, datasetId, name, color ?? CLASS_COLORS[n.n % CLASS_COLORS.length], n.p + 1)
    return this.klass(id)
  }

  renameClass(id: string, name: string): ClassInfo {
    const c = this.klass(id)
    const taken = this.db.prepare('SELECT 1 FROM classes WHERE dataset_id = ? AND name = ? AND id <> ?').get(c.dataset_id, name, id)
    if (taken) throw new ConflictError(`The dataset already has a class "${name}"; merge the two instead.`, 'name')
    this.db.prepare('UPDATE classes SET name = ? WHERE id = ?').run(name, id)
    return this.klass(id)
  }

  recolorClass(id: string, color: string): ClassInfo {
    this.klass(id)
    this.db.prepare('UPDATE classes SET color = ? WHERE id = ?').run(color, id)
    return this.klass(id)
  }

  /** New order of a dataset's classes: `ids` first in that order, any others after. */
  reorderClasses(datasetRef: string, ids: string[]): ClassInfo[] {
    const datasetId = this.datasetId(datasetRef)
    const current = this.classes(datasetId)
    const known = new Set(current.map((c) => c.id))
    const bad = ids.find((i) => !known.has(i))
    if (bad) throw new NotFoundError(`Class "${bad}" is not in this dataset.`)
    const order = [...new Set(ids), ...current.map((c) => c.id).filter((i) => !ids.includes(i))]
    const set = this.db.prepare('UPDATE classes SET position = ? WHERE id = ?')
    this.db.transaction(() => order.forEach((cid, i) => set.run(i, cid))).immediate()
    return this.classes(datasetId)
  }

  private counts(classId: string): { human: number; model: number } {
    const rows = this.db.prepare('SELECT source, count(*) AS n FROM labels WHERE class_id = ? GROUP BY source').all(classId) as { source: Source; n: number }[]
    return { human: rows.find((r) => r.source === 'human')?.n ?? 0, model: rows.find((r) => r.source === 'model')?.n ?? 0 }
  }

  /**
   * Merges class `from` into `into`: every label of `from` (human and model) becomes
   * `into`, then `from` is deleted. Ends the dataset's undo history (its steps name the
   * class that goes). dryRun only says what would happen.
   */
  mergeClasses(fromId: string, intoId: string, dryRun = false): ClassImpact {
    const from = this.klass(fromId)
    const into = this.klass(intoId)
    if (from.dataset_id !== into.dataset_id) throw new ConflictError('Both classes must be in the same dataset.', 'into')
    if (from.id === into.id) throw new ConflictError('A class cannot be merged into itself.', 'into')
    const n = this.counts(from.id)
    const message = `Merging "${from.name}" into "${into.name}" relabels ${plural(n.human, 'human-labelled item')} and ${plural(n.model, 'model-labelled item')} as "${into.name}", deletes "${from.name}" and clears the undo history.`
    if (!dryRun) {
      this.db
        .transaction(() => {
          this.db.prepare('UPDATE labels SET class_id = ? WHERE class_id = ?').run(into.id, from.id)
          this.db.prepare('DELETE FROM classes WHERE id = ?').run(from.id)
          this.db.prepare('DELETE FROM label_changes WHERE dataset_id = ?').run(from.dataset_id)
        })
        .immediate()
    }
    return { classId: from.id, name: from.name, humanLabels: n.human, modelLabels: n.model, message, applied: !dryRun }
  }

  /**
   * Deletes a class. Its items lose that label (human and model) and become unlabelled;
   * the items themselves stay. Ends the dataset's undo history. dryRun only says so.
   */
  deleteClass(id: string, dryRun = false): ClassImpact {
    const c = this.klass(id)
    const n = this.counts(c.id)
    const message = `Deleting "${c.name}" removes its label from ${plural(n.human, 'human-labelled item')} and ${plural(n.model, 'model-labelled item')}; the items stay, unlabelled, and the undo history is cleared.`
    if (!dryRun) {
      this.db
        .transaction(() => {
          this.db.prepare('DELETE FROM labels WHERE class_id = ?').run(c.id)
          this.db.prepare('DELETE FROM classes WHERE id = ?').run(c.id)
          this.db.prepare('DELETE FROM label_changes WHERE dataset_id = ?').run(c.dataset_id)
        })
        .immediate()
    }
    return { classId: c.id, name: c.name, humanLabels: n.human, modelLabels: n.model, message, applied: !dryRun }
  }

  datasetOfClass(id: string): string {
    return this.klass(id).dataset_id
  }

  datasetOf(ids: string[]): string {
    return this.datasetOfItems(ids)
  }
}
