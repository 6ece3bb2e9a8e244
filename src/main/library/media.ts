import { createHash, randomBytes } from 'node:crypto'
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, isAbsolute } from 'node:path'
import type Database from 'better-sqlite3'
import { type Library } from './library'
import { nowIso } from './util'

export interface MediaRow {
  sha256: string
  /** Relative to the library folder. */
  path: string
  mime: string
  bytes: number
  width: number | null
  height: number | null
  thumb_path: string | null
  created_at: string
}

export const SHA256_HEX = /^[0-9a-f]{64}$/

/** A media row's path names a file left where it was imported from ("reference in place"). */
export const isReferencedPath = (path: string): boolean => isAbsolute(path) || /^[A-Za-z]:[\\/]/.test(path)

/**
 * Where a media row's file is: inside the library for stored files (checked not to leave it),
 * the absolute source path as recorded for referenced ones. Only database rows name paths, so a
 * referenced path is one the user chose to import.
 */
export function mediaFilePath(library: Pick<Library, 'resolveInside'>, path: string): string {
  return isReferencedPath(path) ? path : library.resolveInside(path)
}

/** Content-addressed files: `media/ab/<sha256>.<ext>` by convention. */
export class MediaRepo {
  constructor(private readonly db: Database.Database) {}

  get(sha256: string): MediaRow | undefined {
    if (!SHA256_HEX.test(sha256)) return undefined
    return this.db.prepare('SELECT * FROM media WHERE sha256 = ?').get(sha256) as MediaRow | undefined
  }

  /** Inserts or keeps the existing row (same content, same row). */
  put(row: Omit<MediaRow, 'created_at' | 'thumb_path'> & { thumb_path?: string | null }): MediaRow {
    this.db
      .prepare(
        `INSERT INTO media (sha256, path, mime, bytes, width, height, thumb_path, created_at)
         VALUES (@sha256, @path, @mime, @bytes, @width, @height, @thumb_path, @created_at)
         ON CONFLICT (sha256) DO NOTHING`
      )
      .run({ ...row, thumb_path: row.thumb_path ?? null, created_at: nowIso() })
    return this.get(row.sha256)!
  }

  setThumb(sha256: string, thumbPath: string): void {
    this.db.prepare('UPDATE media SET thumb_path = ? WHERE sha256 = ?').run(thumbPath, sha256)
  }

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM media').get() as { n: number }).n
  }

  /** Rows in hash order after `after` (exclusive): a stable order that a checkpoint can name. */
  pageAfter(after: string, limit: number): MediaRow[] {
    return this.db.prepare('SELECT * FROM media WHERE sha256 > ? ORDER BY sha256 LIMIT ?').all(after, limit) as MediaRow[]
  }
}

const EXT = /^[a-z0-9]{1,8}$/

/**
 * Stores bytes content-addressed under media/ (or outputs/), atomically: written to
 * a temp file beside the target, then renamed; the row is inserted after the file
 * exists. Same bytes -> same file and row, written once.
 */
export function storeBytes(
  library: Library,
  data: Uint8Array,
  meta: { ext: string; mime: string; width?: number | null; height?: number | null; under?: 'media' | 'outputs' }
): MediaRow {
  if (!EXT.test(meta.ext)) throw new Error(`Bad file extension "${meta.ext}"`)
  const repo = new MediaRepo(library.db)
  const sha256 = createHash('sha256').update(data).digest('hex')
  const existing = repo.get(sha256)
  if (existing) return existing
  const rel = `${meta.under ?? 'media'}/${sha256.slice(0, 2)}/${sha256}.${meta.ext}`
  const abs = library.resolveInside(rel)
  mkdirSync(dirname(abs), { recursive: true })
  const tmp = `${abs}.${randomBytes(6).toString('hex')}.tmp`
  try {
    writeFileSync(tmp, data, { flag: 'wx' })
    renameSync(tmp, abs)
  } catch (e) {
    rmSync(tmp, { force: true })
    throw e
  }
  return repo.put({ sha256, path: rel, mime: meta.mime, bytes: data.byteLength, width: meta.width ?? null, height: meta.height ?? null })
}
