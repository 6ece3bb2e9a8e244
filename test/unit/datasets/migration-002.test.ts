// 002: media_info and item_flags, migrated from a version-1 library with data in it.

import { afterEach, describe, expect, it } from 'vitest'
import { openLibrary } from '../../../src/main/library/library'
import { tempDir } from '../library/tmp'
import { queryPlan } from '../../helpers/migration'

let cleanups: (() => void)[] = []
afterEach(() => {
  cleanups.forEach((c) => c())
  cleanups = []
})

const plan = queryPlan

describe('migration 002', () => {
  it('upgrades a version-1 library, keeps its rows, and adds media_info, item_flags and the name index', () => {
    const t = tempDir()
    cleanups.push(t.cleanup)
    const v1 = openLibrary(t.dir, { targetVersion: 1 })
    const now = new Date().toISOString()
    const sha = 'b'.repeat(64)
    v1.db.prepare("INSERT INTO datasets (id, name, created_at, updated_at) VALUES ('d1', 'Cats', ?, ?)").run(now, now)
    v1.db.prepare("INSERT INTO media (sha256, path, mime, bytes, created_at) VALUES (?, 'media/bb/x.png', 'image/png', 3, ?)").run(sha, now)
    v1.db.prepare("INSERT INTO items (id, dataset_id, sha256, original_name, added_at) VALUES ('i1', 'd1', ?, 'x.png', ?)").run(sha, now)
    v1.close()

    const lib = openLibrary(t.dir, { targetVersion: 2 })
    cleanups.push(() => lib.close())
    const { db } = lib
    expect(db.pragma('user_version', { simple: true })).toBe(2)
    expect(db.prepare('SELECT count(*) AS n FROM items').get()).toEqual({ n: 1 })
    db.prepare("INSERT INTO media_info (sha256, format, dhash, phash) VALUES (?, 'png', '0123456789abcdef', NULL)").run(sha)
    expect(() => db.prepare("INSERT INTO media_info (sha256, format, dhash) VALUES (?, 'png', 'short')").run('c'.repeat(64))).toThrow(/CHECK|FOREIGN/)
    expect(() => db.prepare("INSERT INTO media_info (sha256, format) VALUES (?, 'png')").run('c'.repeat(64))).toThrow(/FOREIGN KEY/)
    db.prepare("INSERT INTO item_flags (item_id, flag) VALUES ('i1', 'near-duplicate')").run()
    expect(() => db.prepare("INSERT INTO item_flags (item_id, flag) VALUES ('i1', 'near-duplicate')").run()).toThrow(/UNIQUE|PRIMARY/)
    db.prepare("DELETE FROM items WHERE id = 'i1'").run()
    expect(db.prepare('SELECT count(*) AS n FROM item_flags').get()).toEqual({ n: 0 })
    db.prepare('DELETE FROM media WHERE sha256 = ?').run(sha)
    expect(db.prepare('SELECT count(*) AS n FROM media_info').get()).toEqual({ n: 0 })

    expect(plan(db, 'SELECT id FROM items WHERE dataset_id = ? ORDER BY original_name', 'd1')).toMatch(/items_by_dataset_name/)
    expect(plan(db, "SELECT item_id FROM item_flags WHERE flag = 'near-duplicate'")).toMatch(/item_flags_by_flag|PRIMARY|autoindex/)
  })
})
