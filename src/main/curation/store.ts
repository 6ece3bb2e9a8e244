// The curation tables (migration 007): cached features per model, layer and item; runs with
// their summaries; the latest scores per model and item; and the flags a run leaves.

import type Database from 'better-sqlite3'
import { CURATION_FLAGS, type CurationParams, type CurationSummary, type FeatureDuplicateGroup, type MislabelRow } from '../../shared/curation-contract'
import { DatasetItemsStore } from '../datasets/store'
import { nowIso } from '../library/util'

export interface FeatureRow {
  itemId: string
  features: Float32Array
  bitsPerToken: number | null
}

export interface ScoreRow {
  itemId: string
  givenClassId: string | null
  selfConfidence: number | null
  suggestedClassId: string | null
  suggestedConfidence: number | null
  likelyMislabel: boolean
  bitsPerToken: number | null
  featureOutlier: number | null
  duplicateGroup: number | null
}

const toBlob = (f: Float32Array): Buffer => Buffer.from(f.buffer, f.byteOffset, f.byteLength)
const fromBlob = (b: Buffer): Float32Array => {
  const out = new Float32Array(b.byteLength / 4)
  new Uint8Array(out.buffer).set(b)
  return out
}

export class CurationStore {
  private readonly items: DatasetItemsStore

  constructor(private readonly db: Database.Database) {
    this.items = new DatasetItemsStore(db)
  }

  /** Items of the dataset without cached features for (model, layer), in a stable order. */
  missingFeatures(datasetId: string, modelId: string, layer: number, limit: number, skip: ReadonlySet<string>): { id: string; sha256: string }[] {
    const rows = this.db
      .prepare(
        `SELECT i.id AS id, i.sha256 AS sha256 FROM items i
         WHERE i.dataset_id = ? AND NOT EXISTS (SELECT 1 FROM curation_features f WHERE f.model_id = ? AND f.layer = ? AND f.item_id = i.id)
         ORDER BY i.id LIMIT ?`
      )
      .all(datasetId, modelId, layer, limit + skip.size) as { id: string; sha256: string }[]
    return rows.filter((r) => !skip.has(r.id)).slice(0, limit)
  }

  featureCounts(datasetId: string, modelId: string, layer: number): { total: number; done: number } {
    const total = (this.db.prepare('SELECT count(*) AS n FROM items WHERE dataset_id = ?').get(datasetId) as { n: number }).n
    const done = (
      this.db
        .prepare('SELECT count(*) AS n FROM curation_features f JOIN items i ON i.id = f.item_id WHERE i.dataset_id = ? AND f.model_id = ? AND f.layer = ?')
        .get(datasetId, modelId, layer) as { n: number }
    ).n
    return { total, done }
  }

  saveFeatures(modelId: string, layer: number, rows: FeatureRow[]): void {
    const put = this.db.prepare(
      `INSERT INTO curation_features (model_id, item_id, layer, features, bits_per_token) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (model_id, layer, item_id) DO UPDATE SET features = excluded.features, bits_per_token = excluded.bits_per_token`
    )
    this.db.transaction(() => {
      for (const r of rows) put.run(modelId, r.itemId, layer, toBlob(r.features), r.bitsPerToken)
    })()
  }

  /** Cached features of the dataset's items with their effective label (human, else model), in item id order. */
  /** Each item's stored features with its label and its perceptual hash (null when the file has none). */
  features(datasetId: string, modelId: string, layer: number): (FeatureRow & { classId: string | null; phash: string | null })[] {
    const rows = this.db
      .prepare(
        `SELECT f.item_id AS itemId, f.features AS features, f.bits_per_token AS bits, coalesce(h.class_id, m.class_id) AS classId, mi.phash AS phash
         FROM curation_features f JOIN items i ON i.id = f.item_id
         LEFT JOIN media_info mi ON mi.sha256 = i.sha256
         LEFT JOIN labels h ON h.item_id = i.id AND h.source = 'human'
         LEFT JOIN labels m ON m.item_id = i.id AND m.source = 'model'
         WHERE i.dataset_id = ? AND f.model_id = ? AND f.layer = ? ORDER BY i.id`
      )
      .all(datasetId, modelId, layer) as { itemId: string; features: Buffer; bits: number | null; classId: string | null; phash: string | null }[]
    return rows.map((r) => ({ itemId: r.itemId, features: fromBlob(r.features), bitsPerToken: r.bits, classId: r.classId, phash: r.phash }))
  }

  startRun(runId: string, datasetId: string, modelId: string, modelName: string, params: CurationParams): void {
    this.db
      .prepare('INSERT INTO curation_runs (id, dataset_id, model_id, model_name, params, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING')
      .run(runId, datasetId, modelId, modelName, JSON.stringify(params), nowIso())
  }

  /**
   * Replaces the model's scores for the dataset's items with this run's, and the dataset's
   * curation flags with this run's findings, in one transaction.
   */
  finishRun(runId: string, datasetId: string, modelId: string, scores: ScoreRow[], flags: { mislabel: string[]; outlier: string[]; duplicate: string[] }, summary: CurationSummary): void {
    const put = this.db.prepare(
      `INSERT INTO curation_scores (model_id, item_id, run_id, given_class_id, self_confidence, suggested_class_id, suggested_confidence,
         likely_mislabel, bits_per_token, feature_outlier, duplicate_group) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
    )
    const flag = this.db.prepare('INSERT INTO item_flags (item_id, flag) VALUES (?, ?) ON CONFLICT DO NOTHING')
    this.db
      .transaction(() => {
        this.db.prepare('DELETE FROM curation_scores WHERE model_id = ? AND item_id IN (SELECT id FROM items WHERE dataset_id = ?)').run(modelId, datasetId)
        for (const s of scores)
          put.run(
            modelId,
            s.itemId,
            runId,
            s.givenClassId,
            s.selfConfidence,
            s.suggestedClassId,
            s.suggestedConfidence,
            s.likelyMislabel ? 1 : 0,
            s.bitsPerToken,
            s.featureOutlier,
            s.duplicateGroup
          )
        for (const f of Object.values(CURATION_FLAGS))
          this.db.prepare('DELETE FROM item_flags WHERE flag = ? AND item_id IN (SELECT id FROM items WHERE dataset_id = ?)').run(f, datasetId)
        for (const id of flags.mislabel) flag.run(id, CURATION_FLAGS.mislabel)
        for (const id of flags.outlier) flag.run(id, CURATION_FLAGS.outlier)
        for (const id of flags.duplicate) flag.run(id, CURATION_FLAGS.duplicate)
        this.db.prepare('UPDATE curation_runs SET summary = ?, finished_at = ? WHERE id = ?').run(JSON.stringify(summary), summary.finishedAt, runId)
      })
      .immediate()
  }

  /** The dataset's latest finished run. */
  latestRun(datasetId: string): { id: string; modelId: string | null; summary: CurationSummary } | null {
    const r = this.db
      .prepare('SELECT id, model_id AS modelId, summary FROM curation_runs WHERE dataset_id = ? AND finished_at IS NOT NULL ORDER BY finished_at DESC, rowid DESC LIMIT 1')
      .get(datasetId) as { id: string; modelId: string | null; summary: string } | undefined
    return r ? { id: r.id, modelId: r.modelId, summary: JSON.parse(r.summary) as CurationSummary } : null
  }

  /** Items of the latest run still flagged as likely mislabels, least self-confident first. */
  mislabels(datasetId: string, offset: number, limit: number): { total: number; rows: MislabelRow[] } {
    const run = this.latestRun(datasetId)
    if (!run) return { total: 0, rows: [] }
    const from = `FROM curation_scores s JOIN item_flags f ON f.item_id = s.item_id AND f.flag = '${CURATION_FLAGS.mislabel}'
      WHERE s.run_id = ? AND s.likely_mislabel = 1`
    const total = (this.db.prepare(`SELECT count(*) AS n ${from}`).get(run.id) as { n: number }).n
    const rows = this.db
      .prepare(
        `SELECT s.item_id AS itemId, s.given_class_id AS givenClassId, s.suggested_class_id AS suggestedClassId, s.self_confidence AS selfConfidence,
           s.suggested_confidence AS suggestedConfidence ${from} ORDER BY s.self_confidence ASC, s.item_id LIMIT ? OFFSET ?`
      )
      .all(run.id, limit, offset) as (Omit<MislabelRow, 'item'> & { itemId: string })[]
    const items = new Map(this.items.getMany(rows.map((r) => r.itemId)).map((i) => [i.id, i]))
    return {
      total,
      rows: rows.flatMap(({ itemId, ...r }) => {
        const item = items.get(itemId)
        return item ? [{ item, ...r }] : []
      })
    }
  }

  featureDuplicates(datasetId: string): FeatureDuplicateGroup[] {
    const run = this.latestRun(datasetId)
    if (!run) return []
    const rows = this.db
      .prepare(
        `SELECT s.item_id AS itemId, s.duplicate_group AS g FROM curation_scores s JOIN item_flags f ON f.item_id = s.item_id AND f.flag = '${CURATION_FLAGS.duplicate}'
         WHERE s.run_id = ? AND s.duplicate_group IS NOT NULL ORDER BY s.duplicate_group, s.item_id`
      )
      .all(run.id) as { itemId: string; g: number }[]
    const byGroup = new Map<number, string[]>()
    for (const r of rows) byGroup.set(r.g, [...(byGroup.get(r.g) ?? []), r.itemId])
    const similarity = run.summary.featureDuplicates.similarities
    const out: FeatureDuplicateGroup[] = []
    for (const [g, ids] of byGroup) if (ids.length >= 2) out.push({ minSimilarity: similarity[g] ?? NaN, items: this.items.getMany(ids) })
    return out.sort((a, b) => b.minSimilarity - a.minSimilarity)
  }

  /** The suggested class of each item still flagged as a likely mislabel in the latest run of its dataset. */
  suggestions(ids: string[]): { itemId: string; datasetId: string; suggestedClassId: string | null }[] {
    return this.db
      .prepare(
        `SELECT s.item_id AS itemId, i.dataset_id AS datasetId, s.suggested_class_id AS suggestedClassId
         FROM curation_scores s JOIN items i ON i.id = s.item_id
         WHERE s.item_id IN (SELECT value FROM json_each(?)) AND s.likely_mislabel = 1
           AND s.run_id = (SELECT r.id FROM curation_runs r WHERE r.dataset_id = i.dataset_id AND r.finished_at IS NOT NULL ORDER BY r.finished_at DESC, r.rowid DESC LIMIT 1)`
      )
      .all(JSON.stringify(ids)) as { itemId: string; datasetId: string; suggestedClassId: string | null }[]
  }

  /** Clears the likely-mislabel finding of items (a person reviewed them). */
  resolveMislabels(ids: string[]): number {
    return this.db
      .transaction(() => {
        const json = JSON.stringify(ids)
        this.db.prepare('UPDATE curation_scores SET likely_mislabel = 0 WHERE item_id IN (SELECT value FROM json_each(?)) AND likely_mislabel = 1').run(json)
        return this.db.prepare(`DELETE FROM item_flags WHERE flag = ? AND item_id IN (SELECT value FROM json_each(?))`).run(CURATION_FLAGS.mislabel, json).changes
      })
      .immediate()
  }
}
