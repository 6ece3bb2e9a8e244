// 006: snapshots and snapshot_items, migrated from a version-5 library with data in it.

import { afterEach, describe, expect, it } from 'vitest'
import { openLibrary } from '../../../src/main/library/library'
import { tempDir } from '../library/tmp'
import { queryPlan } from '../../helpers/migration'

let cleanups: (() => void)[] = []
afterEach(() => {
  cleanups.forEach((c) => c())
  cleanups = []
})

describe('migration 006', () => {
  it('upgrades a version-5 library, keeps its rows, and adds snapshots with compact item rows', () => {
    const t = tempDir()
    cleanups.push(t.cleanup)
    const v5 = openLibrary(t.dir, { targetVersion: 5 })
    const now = new Date().toISOString()
    const sha = 'b'.repeat(64)
    v5.db.prepare("INSERT INTO datasets (id, name, created_at, updated_at) VALUES ('d1', 'Cats', ?, ?)").run(now, now)
    v5.db.prepare("INSERT INTO media (sha256, path, mime, bytes, created_at) VALUES (?, 'media/bb/x.png', 'image/png', 3, ?)").run(sha, now)
    v5.db.prepare("INSERT INTO items (id, dataset_id, sha256, original_name, added_at) VALUES ('i1', 'd1', ?, 'x.png', ?)").run(sha, now)
    v5.close()

    const lib = openLibrary(t.dir, { targetVersion: 6 })
    cleanups.push(() => lib.close())
    const { db } = lib
    expect(db.pragma('user_version', { simple: true })).toBe(6)
    expect(db.prepare('SELECT count(*) AS n FROM items').get()).toEqual({ n: 1 })

    const snap = (n: number, id: string, name: string, hash = 'a'.repeat(64)): unknown =>
      db.prepare("INSERT INTO snapshots (n, id, dataset_id, name, content_hash, classes, item_count, created_at) VALUES (?, ?, 'd1', ?, ?, '[\"cat\"]', 1, ?)").run(n, id, name, hash, now)
    snap(1, 's1', 'v1')
    expect(() => snap(2, 's2', 'v1')).toThrow(/UNIQUE/)
    expect(() => snap(2, 's2', 'v2', 'short')).toThrow(/CHECK/)
    const row = db.prepare('INSERT INTO snapshot_items (snapshot, item_id, sha256, name, class, split) VALUES (?, ?, ?, ?, ?, ?)')
    row.run(1, 'i1', Buffer.from(sha, 'hex'), 'x.png', 0, 1)
    expect(() => row.run(1, 'i1', Buffer.from(sha, 'hex'), 'x.png', 0, 1)).toThrow(/UNIQUE|PRIMARY/)
    expect(() => row.run(1, 'i2', Buffer.from('ab', 'hex'), 'y.png', 0, 1)).toThrow(/CHECK/)
    expect(() => row.run(1, 'i3', Buffer.from(sha, 'hex'), 'z.png', 0, 7)).toThrow(/CHECK/)
    expect(() => row.run(9, 'i4', Buffer.from(sha, 'hex'), 'w.png', null, null)).toThrow(/FOREIGN KEY/)
    // A snapshot outlives its items (no foreign key on item_id) ...
    db.prepare("DELETE FROM items WHERE id = 'i1'").run()
    expect(db.prepare('SELECT count(*) AS n FROM snapshot_items').get()).toEqual({ n: 1 })
    // ... but goes with its dataset, rows and all.
    db.prepare("DELETE FROM datasets WHERE id = 'd1'").run()
    expect(db.prepare('SELECT count(*) AS n FROM snapshots').get()).toEqual({ n: 0 })
    expect(db.prepare('SELECT count(*) AS n FROM snapshot_items').get()).toEqual({ n: 0 })

    expect(queryPlan(db, "SELECT id FROM snapshots WHERE dataset_id = 'd1' ORDER BY created_at DESC")).toMatch(/snapshots_by_dataset/)
    expect(queryPlan(db, 'SELECT item_id FROM snapshot_items WHERE snapshot = 1')).toMatch(/PRIMARY KEY|snapshot=/)
  })
})
