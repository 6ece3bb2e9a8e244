// Bulk rows for load and resource tests, written straight into a library's tables in one
// transaction (a 200k-item dataset in seconds). Media rows point at files that do not exist:
// these tests query and label, they never read pixels.

import { createHash, randomUUID } from 'node:crypto'
import type Database from 'better-sqlite3'

export interface Seeded {
  datasetId: string
  classIds: string[]
  itemIds: string[]
  galleryIds: string[]
}

export function seedLibrary(
  db: Database.Database,
  opts: { items: number; classes?: number; gallery?: number; labelled?: number; name?: string }
): Seeded {
  const nClasses = opts.classes ?? 10
  const datasetId = randomUUID()
  const classIds = Array.from({ length: nClasses }, () => randomUUID())
  const itemIds: string[] = []
  const galleryIds: string[] = []
  const t0 = Date.parse('2026-01-01T00:00:00Z')
  const iso = (i: number): string => new Date(t0 + i * 1000).toISOString()
  const sha = (tag: string, i: number): string => createHash('sha256').update(`${datasetId}:${tag}:${i}`).digest('hex')
  db.transaction(() => {
    db.prepare('INSERT INTO datasets (id, name, description, created_at, updated_at) VALUES (?, ?, ?, ?, ?)').run(datasetId, opts.name ?? `Seeded ${datasetId.slice(0, 8)}`, '', iso(0), iso(0))
    const cls = db.prepare('INSERT INTO classes (id, dataset_id, name, color, position) VALUES (?, ?, ?, ?, ?)')
    classIds.forEach((id, i) => cls.run(id, datasetId, `class${i}`, '#888888', i))
    const media = db.prepare('INSERT INTO media (sha256, path, mime, bytes, width, height, thumb_path, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
    const info = db.prepare('INSERT INTO media_info (sha256, format, dhash, phash) VALUES (?, ?, NULL, NULL)')
    const item = db.prepare('INSERT INTO items (id, dataset_id, sha256, original_name, source_path, added_at) VALUES (?, ?, ?, ?, NULL, ?)')
    const label = db.prepare("INSERT INTO labels (item_id, source, class_id, confidence, model_id, created_at) VALUES (?, ?, ?, ?, NULL, ?)")
    const split = db.prepare('INSERT INTO splits (item_id, split) VALUES (?, ?)')
    const flag = db.prepare('INSERT INTO item_flags (item_id, flag) VALUES (?, ?)')
    const labelled = opts.labelled ?? Math.floor(opts.items / 2)
    for (let i = 0; i < opts.items; i++) {
      const s = sha('item', i)
      media.run(s, `media/${s.slice(0, 2)}/${s}.png`, 'image/png', 100 + (i % 997), 28, 28, `thumbs/${s.slice(0, 2)}/${s}.webp`, iso(i))
      info.run(s, 'png')
      const id = randomUUID()
      itemIds.push(id)
      item.run(id, datasetId, s, `img-${String((i * 7919) % opts.items).padStart(7, '0')}.png`, iso(i))
      if (i < labelled) label.run(id, i % 3 === 0 ? 'model' : 'human', classIds[i % nClasses], i % 3 === 0 ? 0.5 + (i % 50) / 100 : null, iso(i))
      if (i % 4 !== 3) split.run(id, i % 4 === 0 ? 'train' : i % 4 === 1 ? 'val' : 'test')
      if (i % 100 === 0) flag.run(id, 'near-duplicate')
    }
    const out = db.prepare(
      `INSERT INTO gallery_outputs (id, sha256, model_id, params, seed, favorite, created_at, rating, model_name, class_name, image_index, bits_per_token, class_confidence, search_text)
       VALUES (?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
    )
    for (let i = 0; i < (opts.gallery ?? 0); i++) {
      const s = sha('out', i)
      media.run(s, `outputs/${s}.png`, 'image/png', 200, 14, 14, null, iso(i))
      const id = randomUUID()
      galleryIds.push(id)
      const cls = i % 5 === 0 ? null : `class${i % nClasses}`
      out.run(id, s, JSON.stringify({ seed: i, temperature: 1, topK: 0 }), i, i % 7 === 0 ? 1 : 0, iso(i), i % 6, 'tessera-digits', cls, i % 16, 0.5 + (i % 100) / 100, (i % 100) / 100, `tessera-digits ${cls ?? 'any'} seed:${i} ${i}`)
    }
  })()
  return { datasetId, classIds, itemIds, galleryIds }
}

/**
 * A finished curation run over a seeded dataset (migration 007): every item scored except each
 * tenth, some scores missing (NULL), so the curation sorts have scored and unscored items.
 */
export function seedCuration(db: Database.Database, s: Seeded): { modelId: string; runId: string } {
  const modelId = randomUUID()
  const runId = randomUUID()
  db.transaction(() => {
    db.prepare("INSERT INTO models (id, name, kind, source, path, created_at) VALUES (?, ?, 'imagegpt', 'imported', ?, '2026-01-01T00:00:00Z')").run(modelId, `curator-${modelId.slice(0, 8)}`, `models/${modelId}`)
    db.prepare("INSERT INTO curation_runs (id, dataset_id, model_id, model_name, params, created_at, finished_at) VALUES (?, ?, ?, 'curator', '{}', '2026-01-02T00:00:00Z', '2026-01-02T01:00:00Z')").run(runId, s.datasetId, modelId)
    const score = db.prepare('INSERT INTO curation_scores (model_id, item_id, run_id, self_confidence, bits_per_token, feature_outlier) VALUES (?, ?, ?, ?, ?, ?)')
    s.itemIds.forEach((id, i) => {
      if (i % 10 !== 9) score.run(modelId, id, runId, i % 6 === 0 ? null : (i % 1009) / 1009, i % 5 === 0 ? null : (i % 997) / 100, i % 4 === 0 ? null : (i % 983) / 983)
    })
  })()
  return { modelId, runId }
}
