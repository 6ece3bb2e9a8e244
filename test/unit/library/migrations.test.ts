import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { NewerSchemaError } from '../../../src/main/errors'
import { openLibrary } from '../../../src/main/library/library'
import { LATEST_SCHEMA_VERSION, migrations } from '../../../src/main/library/migrations'
import { tempDir } from './tmp'

let cleanups: (() => void)[] = []
afterEach(() => {
  cleanups.forEach((c) => c())
  cleanups = []
})

function freshDir(): string {
  const t = tempDir()
  cleanups.push(t.cleanup)
  return t.dir
}

const plan = (db: Database.Database, sql: string, ...params: unknown[]): string =>
  (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail).join(' | ')

describe('migrations', () => {
  it('are numbered 1..N in order', () => {
    expect(migrations.map((m) => m.version)).toEqual(migrations.map((_, i) => i + 1))
    expect(LATEST_SCHEMA_VERSION).toBe(migrations.length)
  })

  it('001 creates every table, foreign keys and indexes the queries use', () => {
    const lib = openLibrary(freshDir(), { targetVersion: 1 })
    cleanups.push(() => lib.close())
    const { db } = lib
    expect(db.pragma('user_version', { simple: true })).toBe(1)
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1)
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((r) => r.name)
    for (const t of ['settings', 'datasets', 'classes', 'media', 'items', 'labels', 'splits', 'models', 'jobs', 'training_runs', 'gallery_outputs', 'collections', 'collection_outputs'])
      expect(tables).toContain(t)

    // Data round trip through the foreign keys, then a cascade.
    const now = new Date().toISOString()
    const sha = 'a'.repeat(64)
    db.prepare("INSERT INTO datasets (id, name, created_at, updated_at) VALUES ('d1', 'Cats', ?, ?)").run(now, now)
    db.prepare("INSERT INTO classes (id, dataset_id, name, color, position) VALUES ('c1', 'd1', 'tabby', '#000', 0)").run()
    db.prepare("INSERT INTO media (sha256, path, mime, bytes, created_at) VALUES (?, 'media/aa/x.png', 'image/png', 3, ?)").run(sha, now)
    db.prepare("INSERT INTO items (id, dataset_id, sha256, added_at) VALUES ('i1', 'd1', ?, ?)").run(sha, now)
    db.prepare("INSERT INTO labels (item_id, source, class_id, created_at) VALUES ('i1', 'human', 'c1', ?)").run(now)
    db.prepare("INSERT INTO labels (item_id, source, class_id, confidence, created_at) VALUES ('i1', 'model', 'c1', 0.9, ?)").run(now)
    db.prepare("INSERT INTO splits (item_id, split) VALUES ('i1', 'train')").run()
    expect(() => db.prepare("INSERT INTO labels (item_id, source, class_id, created_at) VALUES ('i1', 'robot', 'c1', ?)").run(now)).toThrow(/CHECK/)
    expect(() => db.prepare("INSERT INTO items (id, dataset_id, sha256, added_at) VALUES ('i2', 'nope', ?, ?)").run(sha, now)).toThrow(/FOREIGN KEY/)
    expect(() => db.prepare("INSERT INTO datasets (id, name, created_at, updated_at) VALUES ('d2', 'CATS', ?, ?)").run(now, now)).toThrow(/UNIQUE/)
    db.prepare("DELETE FROM datasets WHERE id = 'd1'").run()
    expect(db.prepare('SELECT count(*) AS n FROM labels').get()).toEqual({ n: 0 })
    expect(db.prepare('SELECT count(*) AS n FROM splits').get()).toEqual({ n: 0 })
    expect(db.prepare('SELECT count(*) AS n FROM media').get()).toEqual({ n: 1 }) // files outlive datasets

    expect(plan(db, 'SELECT * FROM items WHERE dataset_id = ? ORDER BY added_at', 'd1')).toMatch(/USING INDEX items_by_dataset/)
    expect(plan(db, "SELECT * FROM jobs WHERE state = 'queued' ORDER BY created_at")).toMatch(/USING INDEX jobs_by_state/)
    expect(plan(db, 'SELECT * FROM labels WHERE class_id = ?', 'c1')).toMatch(/USING INDEX labels_by_class/)
    expect(plan(db, 'SELECT * FROM gallery_outputs ORDER BY created_at DESC LIMIT 50')).toMatch(/gallery_by_created/)
  })

  it('reopening a migrated library changes nothing', () => {
    const dir = freshDir()
    openLibrary(dir).close()
    const lib = openLibrary(dir)
    cleanups.push(() => lib.close())
    expect(lib.schemaVersion).toBe(LATEST_SCHEMA_VERSION)
  })

  it('refuses a database from a newer Tessera with a typed error and leaves it untouched', () => {
    const dir = freshDir()
    openLibrary(dir).close()
    const raw = new Database(`${dir}/library.db`)
    raw.pragma(`user_version = ${LATEST_SCHEMA_VERSION + 5}`)
    raw.close()
    let err: unknown
    try {
      openLibrary(dir)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(NewerSchemaError)
    const e = err as NewerSchemaError
    expect(e.found).toBe(LATEST_SCHEMA_VERSION + 5)
    expect(e.supported).toBe(LATEST_SCHEMA_VERSION)
    expect(e.message).toMatch(/newer|Update Tessera/i)
    const check = new Database(`${dir}/library.db`)
    expect(check.pragma('user_version', { simple: true })).toBe(LATEST_SCHEMA_VERSION + 5)
    check.close()
  })

  it('creates the library folder layout', async () => {
    const dir = freshDir()
    const lib = openLibrary(`${dir}/nested/lib`)
    cleanups.push(() => lib.close())
    const { existsSync } = await import('node:fs')
    for (const p of [lib.paths.db, lib.paths.media, lib.paths.thumbs, lib.paths.models, lib.paths.outputs]) expect(existsSync(p)).toBe(true)
    expect(() => lib.resolveInside('../outside')).toThrow(/outside/)
    expect(() => lib.resolveInside('/etc/passwd')).toThrow(/outside/)
    expect(lib.resolveInside('media/aa/b.png')).toBe(`${lib.paths.root}/media/aa/b.png`)
  })
})
