// 007: curation runs, cached features and per-model scores, migrated from a version-6 library
// with data in it.

import { afterEach, describe, expect, it } from 'vitest'
import { openLibrary } from '../../../src/main/library/library'
import { queryPlan } from '../../helpers/migration'
import { tempDir } from '../library/tmp'

let cleanups: (() => void)[] = []
afterEach(() => {
  cleanups.forEach((c) => c())
  cleanups = []
})

describe('migration 007', () => {
  it('upgrades a version-6 library, keeps its items and labels, and adds the curation tables with their keys and indexes', () => {
    const t = tempDir()
    cleanups.push(t.cleanup)
    const v6 = openLibrary(t.dir, { targetVersion: 6 })
    const now = new Date().toISOString()
    const sha = 'c'.repeat(64)
    v6.db.prepare("INSERT INTO datasets (id, name, created_at, updated_at) VALUES ('d1', 'Digits', ?, ?)").run(now, now)
    v6.db.prepare("INSERT INTO classes (id, dataset_id, name, color, position) VALUES ('c1', 'd1', 'seven', '#123456', 0)").run()
    v6.db.prepare("INSERT INTO media (sha256, path, mime, bytes, created_at) VALUES (?, 'media/cc/x.png', 'image/png', 3, ?)").run(sha, now)
    v6.db.prepare("INSERT INTO items (id, dataset_id, sha256, original_name, added_at) VALUES ('i1', 'd1', ?, 'x.png', ?)").run(sha, now)
    v6.db.prepare("INSERT INTO labels (item_id, source, class_id, created_at) VALUES ('i1', 'human', 'c1', ?)").run(now)
    v6.db.prepare("INSERT INTO models (id, name, kind, source, path, created_at) VALUES ('m1', 'tiny', 'imagegpt', 'imported', 'models/m1', ?)").run(now)
    v6.close()

    const lib = openLibrary(t.dir, { targetVersion: 7 })
    cleanups.push(() => lib.close())
    const { db } = lib
    expect(db.pragma('user_version', { simple: true })).toBe(7)
    expect(db.prepare('SELECT item_id, source, class_id FROM labels').all()).toEqual([{ item_id: 'i1', source: 'human', class_id: 'c1' }])

    db.prepare("INSERT INTO curation_runs (id, dataset_id, model_id, model_name, params, created_at) VALUES ('r1', 'd1', 'm1', 'tiny', '{}', ?)").run(now)
    const blob = Buffer.from(new Float32Array([1, 2, 3]).buffer)
    db.prepare("INSERT INTO curation_features (model_id, item_id, layer, features, bits_per_token) VALUES ('m1', 'i1', 3, ?, 0.8)").run(blob)
    expect(() => db.prepare("INSERT INTO curation_features (model_id, item_id, layer, features) VALUES ('m1', 'i1', 3, ?)").run(blob)).toThrow(/UNIQUE|PRIMARY/)
    expect(() => db.prepare("INSERT INTO curation_features (model_id, item_id, layer, features) VALUES ('m1', 'i1', 0, ?)").run(blob)).toThrow(/CHECK/)
    expect(() => db.prepare("INSERT INTO curation_features (model_id, item_id, layer, features) VALUES ('m1', 'nope', 2, ?)").run(blob)).toThrow(/FOREIGN KEY/)
    db.prepare(
      `INSERT INTO curation_scores (model_id, item_id, run_id, given_class_id, self_confidence, suggested_class_id, suggested_confidence, likely_mislabel, bits_per_token, feature_outlier)
       VALUES ('m1', 'i1', 'r1', 'c1', 0.1, 'c1', 0.8, 1, 0.8, 0.2)`
    ).run()
    expect(() => db.prepare("INSERT INTO curation_scores (model_id, item_id, run_id, likely_mislabel) VALUES ('m1', 'i1', 'r1', 0)").run()).toThrow(/UNIQUE|PRIMARY/)
    db.prepare("INSERT INTO models (id, name, kind, source, path, created_at) VALUES ('m2', 'other', 'imagegpt', 'imported', 'models/m2', ?)").run(now)
    expect(() => db.prepare("INSERT INTO curation_scores (model_id, item_id, run_id, likely_mislabel) VALUES ('m2', 'i1', 'r1', 2)").run()).toThrow(/CHECK/)

    expect(queryPlan(db, 'SELECT self_confidence FROM curation_scores WHERE model_id = ? AND item_id = ?', 'm1', 'i1')).toMatch(/PRIMARY|autoindex/)
    expect(queryPlan(db, 'SELECT item_id FROM curation_scores WHERE run_id = ? AND likely_mislabel = 1 ORDER BY self_confidence', 'r1')).toMatch(/curation_scores_by_run/)
    expect(queryPlan(db, "SELECT id FROM curation_runs WHERE dataset_id = ? AND finished_at IS NOT NULL ORDER BY finished_at DESC", 'd1')).toMatch(/curation_runs_by_dataset/)
    expect(queryPlan(db, 'SELECT features FROM curation_features WHERE model_id = ? AND layer = ? AND item_id = ?', 'm1', 3, 'i1')).toMatch(/PRIMARY|autoindex/)

    // A deleted class leaves the score without its class; a removed model takes its rows along
    // but leaves the run (without the link); a removed dataset takes everything.
    db.prepare("DELETE FROM classes WHERE id = 'c1'").run()
    expect(db.prepare('SELECT given_class_id, suggested_class_id FROM curation_scores').get()).toEqual({ given_class_id: null, suggested_class_id: null })
    db.prepare("DELETE FROM models WHERE id = 'm1'").run()
    expect(db.prepare('SELECT count(*) AS n FROM curation_scores').get()).toEqual({ n: 0 })
    expect(db.prepare('SELECT count(*) AS n FROM curation_features').get()).toEqual({ n: 0 })
    expect(db.prepare("SELECT model_id FROM curation_runs WHERE id = 'r1'").get()).toEqual({ model_id: null })
    db.prepare("DELETE FROM datasets WHERE id = 'd1'").run()
    expect(db.prepare('SELECT count(*) AS n FROM curation_runs').get()).toEqual({ n: 0 })
  })
})
