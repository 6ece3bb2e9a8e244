// The gallery's SQL: generated images (gallery_outputs, one media file each under outputs/),
// their recipes and scores, stars and ratings, collections and the "send new outputs to"
// preference. Filtering and text search run in SQLite (indexes on created_at, model, seed,
// class), so a page of a 20k-image gallery is one query.

import type Database from 'better-sqlite3'
import { type GalleryCollection, type GalleryCollections, type GalleryItem, type GalleryPage, type GenerationRecipe } from '../../shared/contract'
import { type GalleryListInput } from '../../shared/gallery-contract'
import { ConflictError, NotFoundError } from '../errors'
import { newId, nowIso, parseJson } from '../library/util'
import { type z } from 'zod'

interface Row {
  id: string
  sha256: string
  model_id: string | null
  model_name: string
  params: string
  seed: number | null
  image_index: number
  class_name: string | null
  favorite: number
  rating: number
  bits_per_token: number | null
  class_confidence: number | null
  source_sha256: string | null
  duration_ms: number | null
  job_id: string | null
  width: number | null
  height: number | null
  collections: string | null
  created_at: string
}

export interface NewOutput {
  sha256: string
  recipe: GenerationRecipe
  /** The model row, when it is still in the library. */
  modelId: string | null
  bitsPerToken: number | null
  classConfidence: number | null
  sourceSha256: string | null
  jobId: string | null
}

export type ListQuery = z.output<typeof GalleryListInput>

const SELECT = `SELECT g.*, m.width, m.height,
  (SELECT group_concat(collection_id, ',') FROM collection_outputs co WHERE co.output_id = g.id) AS collections
  FROM gallery_outputs g LEFT JOIN media m ON m.sha256 = g.sha256`

function toItem(r: Row): GalleryItem {
  const recipe = parseJson<GenerationRecipe>(r.params, {} as GenerationRecipe)
  return {
    id: r.id,
    sha256: r.sha256,
    modelId: r.model_id,
    modelName: r.model_name,
    recipe,
    seed: r.seed ?? 0,
    index: r.image_index,
    className: r.class_name,
    starred: r.favorite === 1,
    rating: r.rating,
    bitsPerToken: r.bits_per_token,
    classConfidence: r.class_confidence,
    sourceSha256: r.source_sha256,
    durationMs: r.duration_ms,
    jobId: r.job_id,
    width: r.width,
    height: r.height,
    collections: r.collections ? r.collections.split(',') : [],
    createdAt: r.created_at
  }
}

/** The words text search looks in: model, class, seed, index and every parameter as key:value and value. */
export function searchText(recipe: GenerationRecipe): string {
  const words = [
    recipe.model.name,
    recipe.model.id,
    recipe.class ?? 'any',
    `seed:${recipe.seed}`,
    String(recipe.seed),
    `index:${recipe.index}`,
    `temperature:${recipe.temperature}`,
    `topk:${recipe.topK}`,
    `topp:${recipe.topP}`,
    recipe.greedy ? 'greedy' : 'sampled',
    recipe.complete ? `completion keeprows:${recipe.keepRows}` : '',
    recipe.complete?.file ?? ''
  ]
  return words.filter(Boolean).join(' ').toLowerCase()
}

const SORTS: Record<ListQuery['sort'], string> = {
  newest: 'g.created_at DESC, g.rowid DESC',
  oldest: 'g.created_at ASC, g.rowid ASC',
  bits: 'g.bits_per_token IS NULL, g.bits_per_token ASC, g.rowid DESC',
  'bits-desc': 'g.bits_per_token IS NULL, g.bits_per_token DESC, g.rowid DESC',
  confidence: 'g.class_confidence IS NULL, g.class_confidence ASC, g.rowid DESC',
  'confidence-desc': 'g.class_confidence IS NULL, g.class_confidence DESC, g.rowid DESC',
  rating: 'g.rating DESC, g.created_at DESC, g.rowid DESC'
}

export class GalleryStore {
  constructor(readonly db: Database.Database) {}

  add(o: NewOutput): GalleryItem {
    const id = newId()
    const r = o.recipe
    this.db
      .prepare(
        `INSERT INTO gallery_outputs (id, sha256, model_id, params, seed, created_at, model_name, class_name, image_index,
           source_sha256, duration_ms, bits_per_token, class_confidence, job_id, search_text)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
      )
      .run(
        id,
        o.sha256,
        o.modelId,
        JSON.stringify(r),
        r.seed,
        nowIso(),
        r.model.name,
        r.class,
        r.index,
        o.sourceSha256,
        r.durationMs,
        o.bitsPerToken,
        o.classConfidence,
        o.jobId,
        searchText(r)
      )
    const sendTo = this.sendTo()
    if (sendTo) this.addToCollection(sendTo, [id])
    return this.get(id)
  }

  get(id: string): GalleryItem {
    const row = this.db.prepare(`${SELECT} WHERE g.id = ?`).get(id) as Row | undefined
    if (!row) throw new NotFoundError(`No gallery image with id "${id}".`)
    return toItem(row)
  }

  list(q: ListQuery): GalleryPage {
    const where: string[] = []
    const args: unknown[] = []
    const add = (clause: string, ...values: unknown[]): void => {
      where.push(clause)
      args.push(...values)
    }
    if (q.modelId) add('g.model_id = ?', q.modelId)
    if (q.className !== undefined) add(q.className === 'any' ? 'g.class_name IS NULL' : 'g.class_name = ? COLLATE NOCASE', ...(q.className === 'any' ? [] : [q.className]))
    if (q.from) add('g.created_at >= ?', q.from)
    if (q.to) add('g.created_at < ?', q.to)
    if (q.starred !== undefined) add('g.favorite = ?', q.starred ? 1 : 0)
    if (q.minRating) add('g.rating >= ?', q.minRating)
    if (q.collectionId) add('g.id IN (SELECT output_id FROM collection_outputs WHERE collection_id = ?)', q.collectionId)
    if (q.seed !== undefined) add('g.seed = ?', q.seed)
    if (q.jobId) add('g.job_id = ?', q.jobId)
    for (const [key, value] of Object.entries(q.params ?? {})) {
      // Keys are checked by the schema (letters, digits, underscore), so they can be a JSON path.
      if (value === null) add(`json_extract(g.params, '$.${key}') IS NULL`)
      else add(`json_extract(g.params, '$.${key}') = ?`, typeof value === 'boolean' ? (value ? 1 : 0) : value)
    }
    for (const word of (q.q ?? '').toLowerCase().split(/\s+/).filter(Boolean)) {
      // key:value words (seed:42, topk:8) match whole words, so seed:4 does not find seed:42; other words match anywhere.
      if (word.includes(':')) add(`instr(' ' || g.search_text || ' ', ?) > 0`, ` ${word} `)
      else add(`instr(g.search_text, ?) > 0`, word)
    }
    const w = where.length ? `WHERE ${where.join(' AND ')}` : ''
    const total = (this.db.prepare(`SELECT count(*) AS n FROM gallery_outputs g ${w}`).get(...args) as { n: number }).n
    const rows = this.db.prepare(`${SELECT} ${w} ORDER BY ${SORTS[q.sort]} LIMIT ? OFFSET ?`).all(...args, q.limit, q.offset) as Row[]
    return { items: rows.map(toItem), total, offset: q.offset }
  }

  facets(): { models: { id: string | null; name: string; count: number }[]; classes: string[] } {
    const models = this.db
      .prepare('SELECT model_id AS id, model_name AS name, count(*) AS count FROM gallery_outputs GROUP BY model_id, model_name ORDER BY model_name')
      .all() as { id: string | null; name: string; count: number }[]
    const classes = (this.db.prepare('SELECT DISTINCT class_name AS c FROM gallery_outputs WHERE class_name IS NOT NULL ORDER BY c').all() as { c: string }[]).map((r) => r.c)
    return { models, classes }
  }

  private requireAll(ids: readonly string[]): void {
    const have = this.db.prepare('SELECT 1 FROM gallery_outputs WHERE id = ?')
    for (const id of ids) if (!have.get(id)) throw new NotFoundError(`No gallery image with id "${id}".`)
  }

  setStarred(ids: readonly string[], starred: boolean): number {
    this.requireAll(ids)
    const st = this.db.prepare('UPDATE gallery_outputs SET favorite = ? WHERE id = ?')
    let n = 0
    this.db.transaction(() => ids.forEach((id) => (n += st.run(starred ? 1 : 0, id).changes))).immediate()
    return n
  }

  setRating(ids: readonly string[], rating: number): number {
    this.requireAll(ids)
    const st = this.db.prepare('UPDATE gallery_outputs SET rating = ? WHERE id = ?')
    let n = 0
    this.db.transaction(() => ids.forEach((id) => (n += st.run(rating, id).changes))).immediate()
    return n
  }

  /** Removes the rows; returns the media rows (sha256, path) no longer used by anything. */
  remove(ids: readonly string[]): { removed: number; orphans: { sha256: string; path: string }[] } {
    this.requireAll(ids)
    const shas = new Set<string>()
    let removed = 0
    const orphans: { sha256: string; path: string }[] = []
    this.db
      .transaction(() => {
        const get = this.db.prepare('SELECT sha256, source_sha256 FROM gallery_outputs WHERE id = ?')
        const del = this.db.prepare('DELETE FROM gallery_outputs WHERE id = ?')
        for (const id of ids) {
          const r = get.get(id) as { sha256: string; source_sha256: string | null }
          shas.add(r.sha256)
          removed += del.run(id).changes
        }
        const used = this.db.prepare(
          `SELECT (SELECT count(*) FROM gallery_outputs WHERE sha256 = @s OR source_sha256 = @s)
                + (SELECT count(*) FROM items WHERE sha256 = @s) AS n`
        )
        const media = this.db.prepare('SELECT path FROM media WHERE sha256 = ?')
        const delMedia = this.db.prepare('DELETE FROM media WHERE sha256 = ?')
        for (const s of shas) {
          if ((used.get({ s }) as { n: number }).n > 0) continue
          const m = media.get(s) as { path: string } | undefined
          if (!m) continue
          delMedia.run(s)
          orphans.push({ sha256: s, path: m.path })
        }
      })
      .immediate()
    return { removed, orphans }
  }

  collections(): GalleryCollections {
    const collections = this.db
      .prepare(
        `SELECT c.id, c.name, c.created_at AS createdAt, count(co.output_id) AS count FROM collections c
         LEFT JOIN collection_outputs co ON co.collection_id = c.id GROUP BY c.id ORDER BY c.name`
      )
      .all() as GalleryCollection[]
    return { collections, sendTo: this.sendTo() }
  }

  createCollection(name: string): GalleryCollection {
    if (this.db.prepare('SELECT 1 FROM collections WHERE name = ?').get(name)) throw new ConflictError(`A collection named "${name}" already exists.`, 'name')
    const c = { id: newId(), name, createdAt: nowIso(), count: 0 }
    this.db.prepare('INSERT INTO collections (id, name, created_at) VALUES (?, ?, ?)').run(c.id, c.name, c.createdAt)
    return c
  }

  private requireCollection(id: string): void {
    if (!this.db.prepare('SELECT 1 FROM collections WHERE id = ?').get(id)) throw new NotFoundError(`No collection with id "${id}".`)
  }

  addToCollection(collectionId: string, ids: readonly string[], move = false): number {
    this.requireCollection(collectionId)
    this.requireAll(ids)
    const ins = this.db.prepare('INSERT OR IGNORE INTO collection_outputs (collection_id, output_id, added_at) VALUES (?, ?, ?)')
    const out = this.db.prepare('DELETE FROM collection_outputs WHERE output_id = ? AND collection_id <> ?')
    const now = nowIso()
    let n = 0
    this.db
      .transaction(() => {
        for (const id of ids) {
          if (move) out.run(id, collectionId)
          n += ins.run(collectionId, id, now).changes
        }
      })
      .immediate()
    return n
  }

  removeFromCollection(collectionId: string, ids: readonly string[]): number {
    this.requireCollection(collectionId)
    const del = this.db.prepare('DELETE FROM collection_outputs WHERE collection_id = ? AND output_id = ?')
    let n = 0
    this.db.transaction(() => ids.forEach((id) => (n += del.run(collectionId, id).changes))).immediate()
    return n
  }

  sendTo(): string | null {
    const row = this.db.prepare("SELECT value FROM gallery_prefs WHERE key = 'sendTo'").get() as { value: string } | undefined
    const id = parseJson<string | null>(row?.value, null)
    if (id && !this.db.prepare('SELECT 1 FROM collections WHERE id = ?').get(id)) return null
    return id
  }

  setSendTo(collectionId: string | null): void {
    if (collectionId) this.requireCollection(collectionId)
    this.db
      .prepare("INSERT INTO gallery_prefs (key, value) VALUES ('sendTo', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
      .run(JSON.stringify(collectionId))
  }

  /** Media row of an output (for export and serving). */
  mediaOf(id: string): { sha256: string; path: string } {
    const r = this.db.prepare('SELECT m.sha256, m.path FROM gallery_outputs g JOIN media m ON m.sha256 = g.sha256 WHERE g.id = ?').get(id) as
      | { sha256: string; path: string }
      | undefined
    if (!r) throw new NotFoundError(`No gallery image with id "${id}".`)
    return r
  }
}
