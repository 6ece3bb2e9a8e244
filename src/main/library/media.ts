import type Database from 'better-sqlite3'
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

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM media').get() as { n: number }).n
  }

  /** Rows in hash order after `after` (exclusive): a stable order that a checkpoint can name. */
  pageAfter(after: string, limit: number): MediaRow[] {
    return this.db.prepare('SELECT * FROM media WHERE sha256 > ? ORDER BY sha256 LIMIT ?').all(after, limit) as MediaRow[]
  }
}
