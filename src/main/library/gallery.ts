// Generated images (each one media file under outputs/) and named collections of them.

import type Database from 'better-sqlite3'
import { ConflictError, NotFoundError } from '../errors'
import { newId, nowIso, parseJson } from './util'

export interface GalleryOutput {
  id: string
  sha256: string
  modelId: string | null
  params: Record<string, unknown>
  seed: number | null
  favorite: boolean
  createdAt: string
}

interface OutputRow {
  id: string
  sha256: string
  model_id: string | null
  params: string
  seed: number | null
  favorite: number
  created_at: string
}

const toOutput = (r: OutputRow): GalleryOutput => ({
  id: r.id,
  sha256: r.sha256,
  modelId: r.model_id,
  params: parseJson(r.params, {}),
  seed: r.seed,
  favorite: r.favorite === 1,
  createdAt: r.created_at
})

export class GalleryRepo {
  constructor(private readonly db: Database.Database) {}

  add(input: { sha256: string; modelId?: string | null; params?: Record<string, unknown>; seed?: number | null }): GalleryOutput {
    const id = newId()
    this.db
      .prepare('INSERT INTO gallery_outputs (id, sha256, model_id, params, seed, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(id, input.sha256, input.modelId ?? null, JSON.stringify(input.params ?? {}), input.seed ?? null, nowIso())
    return this.get(id)
  }

  get(id: string): GalleryOutput {
    const row = this.db.prepare('SELECT * FROM gallery_outputs WHERE id = ?').get(id) as OutputRow | undefined
    if (!row) throw new NotFoundError(`No gallery image with id "${id}".`)
    return toOutput(row)
  }

  /** Newest first; `before` (a createdAt) pages further back. */
  list(opts: { limit?: number; before?: string; modelId?: string; favorites?: boolean; collectionId?: string } = {}): GalleryOutput[] {
    const where: string[] = []
    const params: unknown[] = []
    const add = (clause: string, ...values: unknown[]): void => {
      where.push(clause)
      params.push(...values)
    }
    if (opts.before) add('g.created_at < ?', opts.before)
    if (opts.modelId) add('g.model_id = ?', opts.modelId)
    if (opts.favorites) add('g.favorite = 1')
    if (opts.collectionId) add('g.id IN (SELECT output_id FROM collection_outputs WHERE collection_id = ?)', opts.collectionId)
    const sql = `SELECT g.* FROM gallery_outputs g ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY g.created_at DESC, g.rowid DESC LIMIT ?`
    return (this.db.prepare(sql).all(...params, opts.limit ?? 200) as OutputRow[]).map(toOutput)
  }

  setFavorite(id: string, favorite: boolean): GalleryOutput {
    this.db.prepare('UPDATE gallery_outputs SET favorite = ? WHERE id = ?').run(favorite ? 1 : 0, id)
    return this.get(id)
  }

  remove(id: string): void {
    this.db.prepare('DELETE FROM gallery_outputs WHERE id = ?').run(id)
  }

  createCollection(name: string): { id: string; name: string; createdAt: string } {
    const taken = this.db.prepare('SELECT 1 FROM collections WHERE name = ?').get(name)
    if (taken) throw new ConflictError(`A collection named "${name}" already exists.`, 'name')
    const c = { id: newId(), name, createdAt: nowIso() }
    this.db.prepare('INSERT INTO collections (id, name, created_at) VALUES (?, ?, ?)').run(c.id, c.name, c.createdAt)
    return c
  }

  listCollections(): { id: string; name: string; createdAt: string; count: number }[] {
    return this.db
      .prepare(
        `SELECT c.id, c.name, c.created_at AS createdAt, count(co.output_id) AS count FROM collections c
         LEFT JOIN collection_outputs co ON co.collection_id = c.id GROUP BY c.id ORDER BY c.name`
      )
      .all() as { id: string; name: string; createdAt: string; count: number }[]
  }

  addToCollection(collectionId: string, outputIds: string[]): void {
    const ins = this.db.prepare('INSERT OR IGNORE INTO collection_outputs (collection_id, output_id, added_at) VALUES (?, ?, ?)')
    const now = nowIso()
    this.db.transaction(() => outputIds.forEach((o) => ins.run(collectionId, o, now))).immediate()
  }
}
