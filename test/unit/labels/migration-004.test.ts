// 004: predictions and label_changes, migrated from a version-3 library with data in it.

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

describe('migration 004', () => {
  it('upgrades a version-3 library, keeps its labels, and adds predictions and the label change log with their indexes', () => {
    const t = tempDir()
    cleanups.push(t.cleanup)
    const v3 = openLibrary(t.dir, { targetVersion: 3 })
    const now = new Date().toISOString()
    const sha = 'b'.repeat(64)
    v3.db.prepare("INSERT INTO datasets (id, name, created_at, updated_at) VALUES ('d1', 'Cats', ?, ?)").run(now, now)
    v3.db.prepare("INSERT INTO classes (id, dataset_id, name, color, position) VALUES ('c1', 'd1', 'tabby', '#123456', 0)").run()
    v3.db.prepare("INSERT INTO media (sha256, path, mime, bytes, created_at) VALUES (?, 'media/bb/x.png', 'image/png', 3, ?)").run(sha, now)
    v3.db.prepare("INSERT INTO items (id, dataset_id, sha256, original_name, added_at) VALUES ('i1', 'd1', ?, 'x.png', ?)").run(sha, now)
    v3.db.prepare("INSERT INTO labels (item_id, source, class_id, created_at) VALUES ('i1', 'human', 'c1', ?)").run(now)
    v3.db.prepare("INSERT INTO models (id, name, kind, source, path, created_at) VALUES ('m1', 'tiny', 'imagegpt', 'imported', 'models/m1', ?)").run(now)
    v3.close()

    const lib = openLibrary(t.dir, { targetVersion: 4 })
    cleanups.push(() => lib.close())
    const { db } = lib
    expect(db.pragma('user_version', { simple: true })).toBe(4)
    expect(db.prepare('SELECT item_id, source, class_id FROM labels').all()).toEqual([{ item_id: 'i1', source: 'human', class_id: 'c1' }])

    db.prepare("INSERT INTO predictions (model_id, item_id, class_name, confidence, created_at) VALUES ('m1', 'i1', 'Tabby', 0.9, ?)").run(now)
    expect(() => db.prepare("INSERT INTO predictions (model_id, item_id, class_name, confidence, created_at) VALUES ('m1', 'i1', 'x', 0.1, ?)").run(now)).toThrow(/UNIQUE|PRIMARY/)
    expect(() => db.prepare("INSERT INTO predictions (model_id, item_id, class_name, confidence, created_at) VALUES ('m1', 'nope', 'x', 0.1, ?)").run(now)).toThrow(/FOREIGN KEY/)
    // Class names match without regard to case.
    expect(db.prepare("SELECT c.id FROM predictions p JOIN classes c ON c.name = p.class_name").all()).toEqual([{ id: 'c1' }])
    db.prepare("INSERT INTO label_changes (dataset_id, action, changes, created_at) VALUES ('d1', 'Label 1 item tabby', '[]', ?)").run(now)
    expect(() => db.prepare("INSERT INTO label_changes (dataset_id, action, changes, undone, created_at) VALUES ('d1', 'x', '[]', 2, ?)").run(now)).toThrow(/CHECK/)

    expect(plan(db, 'SELECT id FROM label_changes WHERE dataset_id = ? AND undone = 0 ORDER BY id DESC LIMIT 1', 'd1')).toMatch(/label_changes_by_dataset/)
    expect(plan(db, 'SELECT class_name FROM predictions WHERE item_id = ?', 'i1')).toMatch(/predictions_by_item/)
    expect(plan(db, 'SELECT class_name FROM predictions WHERE model_id = ? AND item_id = ?', 'm1', 'i1')).toMatch(/PRIMARY|autoindex/)

    // Deleting the item, the model or the dataset takes their rows along.
    db.prepare("DELETE FROM items WHERE id = 'i1'").run()
    expect(db.prepare('SELECT count(*) AS n FROM predictions').get()).toEqual({ n: 0 })
    db.prepare("DELETE FROM datasets WHERE id = 'd1'").run()
    expect(db.prepare('SELECT count(*) AS n FROM label_changes').get()).toEqual({ n: 0 })
  })
})
