// Migration 009 stores each item's effective class (human label, else the model's), label source,
// split and file size on the item, kept by triggers. These tests drive the real services (label
// set/clear, accept model labels, undo/redo, split moves and assignment, class merge and delete,
// item removal, a new item, media size changes) and after every step compare the stored facts
// with the ones the labels, splits and media tables give; a library made before 009 is backfilled.
// Every items.list filter x sort (curation sorts included) pages exactly like the join-based
// reference query the grid used before 009.

import { randomUUID } from 'node:crypto'
import type Database from 'better-sqlite3'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { type AppContext, createContext } from '../../../src/main/context'
import { createDispatcher } from '../../../src/main/host/dispatch'
import { ItemsRepo } from '../../../src/main/library/items'
import { openLibrary } from '../../../src/main/library/library'
import { createServices } from '../../../src/main/services'
import { type MethodInput, type MethodName, type MethodResult } from '../../../src/shared/contract'
import { seedLibrary } from '../../integration/seed'
import { tempDir } from './tmp'

let cleanups: (() => void | Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.reverse()) await c()
  cleanups = []
})

function libDir(): string {
  const t = tempDir()
  cleanups.push(t.cleanup)
  return join(t.dir, 'lib')
}

function services(dir: string) {
  const ctx: AppContext = createContext({ libraryDir: dir, host: 'browser' })
  cleanups.push(() => ctx.close())
  const dispatch = createDispatcher(createServices(ctx))
  const call = async <M extends MethodName>(m: M, input: MethodInput<M>): Promise<MethodResult<M>> => {
    const r = await dispatch(m, input)
    if (!r.ok) throw new Error(`${m}: ${r.error.code} ${r.error.message}`)
    return r.value as MethodResult<M>
  }
  return { ctx, db: ctx.library.db, call }
}

/** Items whose stored facts differ from what labels, splits and media say. */
function mismatches(db: Database.Database): unknown[] {
  return db
    .prepare(
      `SELECT i.id, i.label_class_id, i.label_source, i.split, i.file_bytes,
         coalesce(h.class_id, m.class_id) AS want_class,
         CASE WHEN h.class_id IS NOT NULL THEN 'human' WHEN m.class_id IS NOT NULL THEN 'model' ELSE 'none' END AS want_source,
         s.split AS want_split, md.bytes AS want_bytes
       FROM items i JOIN media md ON md.sha256 = i.sha256
       LEFT JOIN labels h ON h.item_id = i.id AND h.source = 'human'
       LEFT JOIN labels m ON m.item_id = i.id AND m.source = 'model'
       LEFT JOIN splits s ON s.item_id = i.id
       WHERE i.label_class_id IS NOT coalesce(h.class_id, m.class_id) OR i.label_source IS NOT want_source
          OR i.split IS NOT s.split OR i.file_bytes IS NOT md.bytes`
    )
    .all()
}

const facts = (db: Database.Database, id: string) =>
  db.prepare('SELECT label_class_id AS classId, label_source AS source, split, file_bytes AS bytes FROM items WHERE id = ?').get(id) as
    | { classId: string | null; source: string; split: string | null; bytes: number }
    | undefined

describe('stored item facts (migration 009)', () => {
  it('follow labels, undo/redo, model labels, splits, classes, removal and media through the services', async () => {
    const { db, call } = services(libDir())
    // 40 items, 4 classes; the first 20 labelled (every third by a model), splits by i % 4.
    const s = seedLibrary(db, { items: 40, classes: 4, labelled: 20 })
    const [c0, c1, c2, c3] = s.classIds as [string, string, string, string]
    const d = s.datasetId
    const a = s.itemIds[30]! // unlabelled, split test (30 % 4 = 2)
    const b = s.itemIds[31]! // unlabelled, no split
    const ok = (): void => expect(mismatches(db)).toEqual([])
    ok()
    expect(facts(db, a)).toMatchObject({ classId: null, source: 'none', split: 'test' })
    expect(facts(db, s.itemIds[0]!)).toMatchObject({ classId: c0, source: 'model', split: 'train' })
    expect(facts(db, s.itemIds[1]!)).toMatchObject({ classId: c1, source: 'human', split: 'val' })

    // Model labels from cached predictions (accept above a confidence).
    db.prepare("INSERT INTO models (id, name, kind, source, path, created_at) VALUES (?, 'clf', 'imagegpt', 'imported', 'models/clf', '2026-01-01T00:00:00Z')").run(randomUUID())
    const predict = db.prepare("INSERT INTO predictions (model_id, item_id, class_name, confidence, created_at) VALUES ((SELECT id FROM models WHERE name = 'clf'), ?, ?, ?, '2026-01-01T00:00:00Z')")
    predict.run(a, 'class1', 0.9)
    predict.run(b, 'class2', 0.95)
    await call('labels.acceptAbove', { dataset: d, model: 'clf', threshold: 0.8 })
    ok()
    expect(facts(db, a)).toMatchObject({ classId: c1, source: 'model' })
    expect(facts(db, b)).toMatchObject({ classId: c2, source: 'model' })

    // A human label overrides the model's; clearing it shows the model's again.
    await call('labels.assign', { ids: [a], classId: c3 })
    ok()
    expect(facts(db, a)).toMatchObject({ classId: c3, source: 'human' })
    await call('labels.assign', { ids: [a], classId: null })
    expect(facts(db, a)).toMatchObject({ classId: c1, source: 'model' })
    // Undo and redo go through the same rows.
    await call('labels.undo', { dataset: d })
    expect(facts(db, a)).toMatchObject({ classId: c3, source: 'human' })
    await call('labels.undo', { dataset: d })
    expect(facts(db, a)).toMatchObject({ classId: c1, source: 'model' })
    await call('labels.undo', { dataset: d }) // the model labels go too
    expect(facts(db, a)).toMatchObject({ classId: null, source: 'none' })
    expect(facts(db, b)).toMatchObject({ classId: null, source: 'none' })
    ok()
    await call('labels.redo', { dataset: d })
    await call('labels.redo', { dataset: d })
    expect(facts(db, a)).toMatchObject({ classId: c3, source: 'human' })
    ok()
    // The older items.setLabel path (no history).
    await call('items.setLabel', { ids: [b], classId: c0 })
    expect(facts(db, b)).toMatchObject({ classId: c0, source: 'human' })
    await call('items.setLabel', { ids: [b], classId: null })
    expect(facts(db, b)).toMatchObject({ classId: c2, source: 'model' })
    ok()

    // Split moves, clearing and seeded assignment.
    await call('items.setSplit', { ids: [a, b], split: 'val', allowTestMove: true })
    expect(facts(db, a)?.split).toBe('val')
    expect(facts(db, b)?.split).toBe('val')
    await call('items.setSplit', { ids: [a], split: null })
    expect(facts(db, a)?.split).toBeNull()
    await call('datasets.split', { ref: d, train: 0.8, val: 0.1, test: 0.1 })
    expect(facts(db, a)?.split).not.toBeNull()
    expect(db.prepare('SELECT count(*) AS n FROM items WHERE dataset_id = ? AND split IS NULL').get(d)).toEqual({ n: 0 })
    ok()

    // Merge moves human and model labels; delete leaves the other source's label showing.
    await call('labels.assign', { ids: [b], classId: c3 }) // b: human c3 over model c2
    await call('classes.merge', { from: c3, into: c1 })
    expect(facts(db, a)).toMatchObject({ classId: c1, source: 'human' })
    expect(facts(db, b)).toMatchObject({ classId: c1, source: 'human' })
    ok()
    await call('classes.merge', { from: c2, into: c0 }) // b's model label c2 -> c0
    await call('classes.delete', { id: c1 }) // b loses its human label: the model's c0 shows
    expect(facts(db, b)).toMatchObject({ classId: c0, source: 'model' })
    expect(facts(db, a)).toMatchObject({ classId: null, source: 'none' })
    ok()
    // Deleting the class through the foreign key cascade alone (no explicit label delete).
    db.prepare('DELETE FROM classes WHERE id = ?').run(c0)
    expect(facts(db, b)).toMatchObject({ classId: null, source: 'none' })
    ok()

    // Removal: the rows go, stats follow.
    const before = await call('datasets.stats', { ref: d })
    await call('items.remove', { ids: [a, s.itemIds[1]!] })
    expect(facts(db, a)).toBeUndefined()
    const after = await call('datasets.stats', { ref: d })
    expect(after.total).toBe(before.total - 2)
    ok()

    // A new item takes its file's size; a size that changes later follows.
    const sha = 'f'.repeat(64)
    db.prepare("INSERT INTO media (sha256, path, mime, bytes, created_at) VALUES (?, 'media/ff/x.png', 'image/png', 4321, '2026-01-01T00:00:00Z')").run(sha)
    const { item } = new ItemsRepo(db).add(d, sha, { originalName: 'new.png' })
    expect(facts(db, item.id)).toMatchObject({ bytes: 4321, source: 'none', split: null, classId: null })
    db.prepare('UPDATE media SET bytes = 99 WHERE sha256 = ?').run(sha)
    expect(facts(db, item.id)?.bytes).toBe(99)
    ok()

    // Stats agree with the join-based counts.
    const st = await call('datasets.stats', { ref: d })
    const ref = db
      .prepare(
        `SELECT CASE WHEN h.class_id IS NOT NULL THEN 'human' WHEN m.class_id IS NOT NULL THEN 'model' ELSE 'none' END AS src, count(*) AS n
         FROM items i LEFT JOIN labels h ON h.item_id = i.id AND h.source = 'human' LEFT JOIN labels m ON m.item_id = i.id AND m.source = 'model'
         WHERE i.dataset_id = ? GROUP BY 1`
      )
      .all(d) as { src: 'human' | 'model' | 'none'; n: number }[]
    for (const r of ref) expect(st.labelSources[r.src]).toBe(r.n)
    const ds = await call('datasets.get', { ref: d })
    expect(ds.labelledCount).toBe(ref.find((r) => r.src === 'human')?.n ?? 0)
  })

  it('a library made before 009 is backfilled when it opens', () => {
    const dir = libDir()
    const old = openLibrary(dir, { targetVersion: 8 })
    const s = seedLibrary(old.db, { items: 200, classes: 5, labelled: 120 })
    old.db.prepare("INSERT INTO labels (item_id, source, class_id, confidence, created_at) VALUES (?, 'model', ?, 0.7, '2026-01-01T00:00:00Z')").run(s.itemIds[1], s.classIds[4]) // under a human label
    old.close()
    const lib = openLibrary(dir)
    cleanups.push(() => lib.close())
    expect(lib.schemaVersion).toBeGreaterThanOrEqual(9)
    expect(mismatches(lib.db)).toEqual([])
    const counts = lib.db.prepare('SELECT label_source AS s, count(*) AS n FROM items GROUP BY 1 ORDER BY 1').all()
    expect(counts).toEqual([
      { s: 'human', n: 80 },
      { s: 'model', n: 40 },
      { s: 'none', n: 80 }
    ])
    expect(facts(lib.db, s.itemIds[1]!)).toMatchObject({ classId: s.classIds[1], source: 'human', split: 'val', bytes: 101 })
    expect(lib.db.prepare('SELECT count(*) AS n FROM items WHERE split IS NULL').get()).toEqual({ n: 50 })
  })
})

// ------------------------------------------------------------------ pages equal the reference

/** The grid's query before migration 009: filters and sorts through joins of labels, splits, media and scores. */
function referencePage(db: Database.Database, datasetId: string, q: Record<string, unknown>): { ids: string[]; total: number } {
  const parts = ['i.dataset_id = ?']
  const params: unknown[] = [datasetId]
  if (q.classId === 'none') parts.push('h.class_id IS NULL AND m.class_id IS NULL')
  else if (q.classId) {
    parts.push('coalesce(h.class_id, m.class_id) = ?')
    params.push(q.classId)
  }
  if (q.split === 'none') parts.push('s.split IS NULL')
  else if (q.split) {
    parts.push('s.split = ?')
    params.push(q.split)
  }
  if (q.labelSource === 'human') parts.push('h.class_id IS NOT NULL')
  else if (q.labelSource === 'model') parts.push('h.class_id IS NULL AND m.class_id IS NOT NULL')
  else if (q.labelSource === 'none') parts.push('h.class_id IS NULL AND m.class_id IS NULL')
  if (q.flag) {
    parts.push('EXISTS (SELECT 1 FROM item_flags f WHERE f.item_id = i.id AND f.flag = ?)')
    params.push(q.flag)
  }
  const sorts: Record<string, string> = {
    name: 'i.original_name',
    date: 'i.added_at',
    size: 'md.bytes',
    selfConfidence: 'cs.self_confidence',
    bitsPerToken: 'cs.bits_per_token',
    featureOutlier: 'cs.feature_outlier'
  }
  const sort = (q.sort as string) ?? 'name'
  const key = sorts[sort]!
  const dir = q.desc ? 'DESC' : 'ASC'
  const curated = sort.startsWith('self') || sort.startsWith('bits') || sort.startsWith('feature')
  const from = `FROM items i JOIN media md ON md.sha256 = i.sha256
    LEFT JOIN labels h ON h.item_id = i.id AND h.source = 'human'
    LEFT JOIN labels m ON m.item_id = i.id AND m.source = 'model'
    LEFT JOIN splits s ON s.item_id = i.id
    LEFT JOIN curation_scores cs ON cs.item_id = i.id AND cs.run_id = (SELECT r.id FROM curation_runs r WHERE r.dataset_id = ? AND r.finished_at IS NOT NULL ORDER BY r.finished_at DESC, r.rowid DESC LIMIT 1)
    WHERE ${parts.join(' AND ')}`
  const order = `${curated ? `${key} IS NULL, ` : ''}${key} ${dir}, i.id ${dir}`
  const ids = (db.prepare(`SELECT i.id AS id ${from} ORDER BY ${order} LIMIT ? OFFSET ?`).all(datasetId, ...params, q.limit, q.offset) as { id: string }[]).map((r) => r.id)
  const total = (db.prepare(`SELECT count(*) AS n ${from}`).get(datasetId, ...params) as { n: number }).n
  return { ids, total }
}

describe('items.list pages (migration 009 columns and indexes)', () => {
  it('equal the join-based reference for every filter x sort, curation sorts included, across pages', async () => {
    const { db, call } = services(libDir())
    const s = seedLibrary(db, { items: 300, classes: 5, labelled: 200 })
    const other = seedLibrary(db, { items: 30, classes: 2, name: 'Other' }) // a second dataset stays out
    // Model labels under some human labels, sizes with ties, and a finished curation run that
    // scores most items (some scores missing) plus an older run that must be ignored.
    const overlay = db.prepare("INSERT INTO labels (item_id, source, class_id, confidence, created_at) VALUES (?, 'model', ?, 0.6, '2026-01-01T00:00:00Z') ON CONFLICT DO NOTHING")
    s.itemIds.forEach((id, i) => i % 7 === 1 && overlay.run(id, s.classIds[(i + 2) % 5]))
    db.prepare("UPDATE media SET bytes = 100 + (rowid % 13) WHERE sha256 IN (SELECT sha256 FROM items WHERE dataset_id = ?)").run(s.datasetId)
    const modelId = randomUUID()
    db.prepare("INSERT INTO models (id, name, kind, source, path, created_at) VALUES (?, 'm', 'imagegpt', 'imported', 'models/m', '2026-01-01T00:00:00Z')").run(modelId)
    const run = db.prepare("INSERT INTO curation_runs (id, dataset_id, model_id, model_name, params, created_at, finished_at) VALUES (?, ?, ?, 'm', '{}', ?, ?)")
    const score = db.prepare(
      'INSERT OR REPLACE INTO curation_scores (model_id, item_id, run_id, self_confidence, bits_per_token, feature_outlier) VALUES (?, ?, ?, ?, ?, ?)'
    )
    const [oldRun, newRun] = [randomUUID(), randomUUID()]
    run.run(oldRun, s.datasetId, modelId, '2026-01-01T00:00:00Z', '2026-01-01T01:00:00Z')
    s.itemIds.forEach((id, i) => score.run(modelId, id, oldRun, 1 - i / 300, i, i))
    run.run(newRun, s.datasetId, modelId, '2026-01-02T00:00:00Z', '2026-01-02T01:00:00Z')
    s.itemIds.forEach((id, i) => {
      if (i % 10 !== 9) score.run(modelId, id, newRun, i % 6 === 0 ? null : (i % 17) / 17, i % 5 === 0 ? null : (i % 11) / 3, i % 4 === 0 ? null : (i % 23) / 23)
    })
    expect(mismatches(db)).toEqual([])

    const filters: Record<string, unknown>[] = [
      {},
      { classId: s.classIds[2] },
      { classId: 'none' },
      { split: 'val' },
      { split: 'none' },
      { labelSource: 'human' },
      { labelSource: 'model' },
      { labelSource: 'none' },
      { flag: 'near-duplicate' },
      { classId: s.classIds[1], split: 'train' },
      { labelSource: 'model', split: 'none' }
    ]
    let pages = 0
    for (const f of filters)
      for (const sort of ['name', 'date', 'size', 'selfConfidence', 'bitsPerToken', 'featureOutlier'])
        for (const desc of [false, true])
          for (const [offset, limit] of [[0, 25], [40, 60], [150, 200], [260, 40]] as const) {
            const q = { ...f, sort, desc, offset, limit }
            const got = await call('items.list', { dataset: s.datasetId, ...q } as MethodInput<'items.list'>)
            const want = referencePage(db, s.datasetId, q)
            const what = JSON.stringify(q)
            expect(got.total, what).toBe(want.total)
            expect(got.items.map((i) => i.id), what).toEqual(want.ids)
            pages++
          }
    expect(pages).toBe(filters.length * 6 * 2 * 4)
    // The other dataset's pages are its own.
    const o = await call('items.list', { dataset: other.datasetId, sort: 'selfConfidence', limit: 100 })
    expect(o.items.map((i) => i.id).sort()).toEqual([...other.itemIds].sort())
  })
})
