// A library: one folder with library.db and the content-addressed files it
// describes. Opening one creates the folder layout, applies pragmas and migrates.

import { mkdirSync } from 'node:fs'
import { isAbsolute, join, relative, resolve } from 'node:path'
import Database from 'better-sqlite3'
import { LATEST_SCHEMA_VERSION, migrate } from './migrations'

export interface LibraryPaths {
  root: string
  db: string
  media: string
  thumbs: string
  models: string
  outputs: string
}

export interface Library {
  paths: LibraryPaths
  db: Database.Database
  schemaVersion: number
  /** Absolute path of a library-relative path; throws if it would leave the library. */
  resolveInside(rel: string): string
  close(): void
}

export interface OpenLibraryOptions {
  /** Migrate only up to this version (tests of individual migrations). */
  targetVersion?: number
  readonly?: boolean
}

export function libraryPaths(dir: string): LibraryPaths {
  const root = resolve(dir)
  return {
    root,
    db: join(root, 'library.db'),
    media: join(root, 'media'),
    thumbs: join(root, 'thumbs'),
    models: join(root, 'models'),
    outputs: join(root, 'outputs')
  }
}

export function openLibrary(dir: string, options: OpenLibraryOptions = {}): Library {
  const paths = libraryPaths(dir)
  for (const d of [paths.root, paths.media, paths.thumbs, paths.models, paths.outputs]) mkdirSync(d, { recursive: true })
  const db = new Database(paths.db)
  try {
    db.pragma('journal_mode = WAL')
    db.pragma('foreign_keys = ON')
    db.pragma('busy_timeout = 5000')
    db.pragma('synchronous = NORMAL')
    const schemaVersion = migrate(db, paths.db, options.targetVersion ?? LATEST_SCHEMA_VERSION)
    return {
      paths,
      db,
      schemaVersion,
      resolveInside(rel: string) {
        const abs = resolve(paths.root, rel)
        const r = relative(paths.root, abs)
        if (r === '' || r.startsWith('..') || isAbsolute(r)) throw new Error(`Path ${rel} is outside the library`)
        return abs
      },
      close() {
        if (db.open) db.close()
      }
    }
  } catch (e) {
    db.close()
    throw e
  }
}
