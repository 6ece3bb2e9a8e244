// The queries behind the Datasets grid (items.list with every filter and sort), its charts
// (datasets.stats) and the gallery (gallery.list with each indexed filter) use indexes:
// recorded from the real services and checked with EXPLAIN QUERY PLAN. Without ANALYZE the
// planner's choice does not depend on row counts, so a few thousand rows show the plan a
// 200k-item library gets (test/slow/resources-200k.test.ts runs the same calls at that size).

import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AppContext, createContext } from '../../src/main/context'
import { createDispatcher, type Dispatch } from '../../src/main/host/dispatch'
import { createServices } from '../../src/main/services'
import { tempDir } from '../unit/library/tmp'
import { bareScans, curationQueries, mainQueries, type PlannedStatement, plansOf, scansOf } from './query-plans'
import { type Seeded, seedCuration, seedLibrary } from './seed'

const ITEM_TABLES = ['i', 'h', 'm', 's', 'f', 'md', 'mi', 'items', 'labels', 'splits', 'item_flags', 'media', 'media_info']

let ctx: AppContext
let cleanup: () => void
let dispatch: Dispatch
let seeded: Seeded
let collectionId: string
const jobId = '00000000-0000-4000-8000-000000000001'

beforeAll(() => {
  const t = tempDir()
  cleanup = t.cleanup
  ctx = createContext({ libraryDir: join(t.dir, 'lib'), host: 'browser' })
  dispatch = createDispatcher(createServices(ctx))
  seeded = seedLibrary(ctx.library.db, { items: 3000, classes: 10, gallery: 1500 })
  const db = ctx.library.db
  collectionId = '00000000-0000-4000-8000-000000000002'
  db.prepare("INSERT INTO collections (id, name, created_at) VALUES (?, 'Picks', '2026-01-01T00:00:00Z')").run(collectionId)
  for (const id of seeded.galleryIds.slice(0, 40)) db.prepare("INSERT INTO collection_outputs (collection_id, output_id, added_at) VALUES (?, ?, '2026-01-01T00:00:00Z')").run(collectionId, id)
  db.prepare('UPDATE gallery_outputs SET job_id = ? WHERE rowid % 50 = 0').run(jobId)
})
afterAll(async () => {
  await ctx?.close()
  cleanup?.()
})

async function planned(method: string, input: unknown): Promise<PlannedStatement[]> {
  let result: { ok: boolean } | undefined
  const plans = await plansOf(ctx.library.db, async () => (result = await dispatch(method, input)))
  expect(result, `${method} ${JSON.stringify(input)}`).toMatchObject({ ok: true })
  expect(plans.length).toBeGreaterThan(0)
  return plans
}

describe('query plans: the Datasets grid and its stats', () => {
  it('items.list with every filter and sort never scans items, labels, splits, flags or media', async () => {
    const cases = mainQueries(seeded).filter(([, m]) => m === 'items.list')
    expect(cases.length).toBe(60)
    for (const [what, method, input] of cases) {
      const plans = await planned(method, input)
      expect(scansOf(plans, ITEM_TABLES), what).toEqual([])
      expect(bareScans(plans), what).toEqual([])
    }
  })

  it('every filter x sort pages and counts from one covering index of items: no sort, no join (migration 009)', async () => {
    for (const [what, method, input] of mainQueries(seeded).filter(([, m]) => m === 'items.list')) {
      const plans = await planned(method, input)
      const page = plans.find((p) => p.sql.startsWith('SELECT i.id AS id FROM items i WHERE'))!
      const count = plans.find((p) => p.sql.startsWith('SELECT count(*) AS n FROM items i WHERE'))!
      expect(page.plan.join(' | '), what).not.toMatch(/TEMP B-TREE/)
      expect(page.plan[0], what).toMatch(/^SEARCH i USING (COVERING )?INDEX items_by_\w+ \(dataset_id=\?/)
      expect(page.plan.join(' | '), what).not.toMatch(/\b(labels|splits|media|h|m|s|md)\b USING/)
      expect(count.plan[0], what).toMatch(/^SEARCH i USING COVERING INDEX items_\w+ \(dataset_id=\?/)
      // Without a flag filter the page's index holds all it needs (no table rows read), except
      // class + split, which reads the rows of one class (or one split) to check the other.
      if (!('flag' in input) && !('classId' in input && 'split' in input)) expect(page.plan.join(' | '), what).toMatch(/^SEARCH i USING COVERING INDEX/)
    }
  })

  it('a page sorted by name or date comes straight from an index (no sort of the whole dataset)', async () => {
    for (const sort of ['name', 'date'])
      for (const desc of [false, true]) {
        const plans = await planned('items.list', { dataset: seeded.datasetId, sort, desc, offset: 1000, limit: 100 })
        const page = plans.find((p) => /^SELECT i\.id AS id FROM items i/.test(p.sql))!
        expect(page.plan.join(' | '), `${sort} ${desc}`).toMatch(/SEARCH i USING (COVERING )?INDEX items_by_dataset_(name|added)_id \(dataset_id=\?\)/)
        expect(page.plan.join(' | '), `${sort} ${desc}`).not.toMatch(/TEMP B-TREE/)
      }
  })

  it('datasets.stats never scans items, labels or splits', async () => {
    const plans = await planned('datasets.stats', { ref: seeded.datasetId })
    expect(scansOf(plans, ITEM_TABLES)).toEqual([])
    expect(bareScans(plans)).toEqual([])
    // Counts per (class, split, source) in index order from items_stats alone: no join, no sort.
    const grouped = plans.find((p) => p.sql.startsWith('SELECT label_class_id AS class_id'))!
    expect(grouped.plan).toEqual(['SEARCH items USING COVERING INDEX items_stats (dataset_id=?)'])
  })

  it('the curation sorts page through the run\'s (run, score, item) index, then the unscored items by id', async () => {
    const db = ctx.library.db
    const other = seedLibrary(db, { items: 500, classes: 4, name: 'Curated' })
    seedCuration(db, other)
    for (const [what, method, input] of curationQueries(other)) {
      for (const offset of [0, 480]) {
        const plans = await planned(method, { ...input, offset, limit: 100 })
        const all = plans.map((p) => p.plan.join(' | ')).join(' || ')
        expect(all, what).not.toMatch(/TEMP B-TREE/)
        expect(scansOf(plans, [...ITEM_TABLES, 'cs', 'curation_scores']), what).toEqual([])
        expect(bareScans(plans), what).toEqual([])
        const scored = plans.find((p) => p.sql.startsWith('SELECT cs.item_id AS id FROM curation_scores cs'))
        if (offset === 0) expect(scored?.plan[0], what).toMatch(/^SEARCH cs USING COVERING INDEX curation_scores_by_(self_confidence|bits|outlier) \(run_id=\?/)
        const rest = plans.find((p) => p.sql.includes('NOT EXISTS'))
        if (rest) {
          expect(rest.plan[0], what).toMatch(/^SEARCH i USING (COVERING )?INDEX items_by_dataset_id \(dataset_id=\?\)/)
          // One item's score by item id, never a walk of the run's scores per item.
          expect(rest.plan.join(' | '), what).toMatch(/SEARCH cs USING INDEX curation_scores_by_item \(item_id=\?\)/)
        }
      }
    }
  })
})

describe('the class filter (read through labels_by_class)', () => {
  it('matches human labels, and model labels only where no human label overrides them', async () => {
    const db = ctx.library.db
    const [c3, c5] = [seeded.classIds[3]!, seeded.classIds[5]!]
    const total = async (classId: string): Promise<number> => {
      const r = await dispatch('items.list', { dataset: seeded.datasetId, classId, limit: 1 })
      if (!r.ok) throw new Error(r.error.message)
      return (r.value as { total: number }).total
    }
    const expected = (classId: string): number =>
      (db.prepare(
        `SELECT count(*) AS n FROM items i LEFT JOIN labels h ON h.item_id = i.id AND h.source = 'human' LEFT JOIN labels m ON m.item_id = i.id AND m.source = 'model'
         WHERE i.dataset_id = ? AND coalesce(h.class_id, m.class_id) = ?`
      ).get(seeded.datasetId, classId) as { n: number }).n
    const before3 = await total(c3)
    expect(before3).toBe(expected(c3))
    // An item the model put in class 3 gets a human label 5: it moves from 3 to 5.
    const { item_id } = db.prepare("SELECT item_id FROM labels WHERE source = 'model' AND class_id = ? LIMIT 1").get(c3) as { item_id: string }
    const before5 = await total(c5)
    db.prepare("INSERT INTO labels (item_id, source, class_id, created_at) VALUES (?, 'human', ?, '2026-01-02T00:00:00Z')").run(item_id, c5)
    expect(await total(c3)).toBe(before3 - 1)
    expect(await total(c5)).toBe(before5 + 1)
    expect(await total(c3)).toBe(expected(c3))
    expect(await total(c5)).toBe(expected(c5))
    db.prepare("DELETE FROM labels WHERE item_id = ? AND source = 'human'").run(item_id)
  })
})

describe('query plans: the gallery', () => {
  it('gallery.list by date, class, stars, rating, seed, collection and job reads an index, never the whole table', async () => {
    const cases = mainQueries(seeded, { collectionId, jobId }).filter(([, m]) => m === 'gallery.list')
    expect(cases.length).toBe(11)
    for (const [what, method, input] of cases) {
      const plans = await planned(method, input)
      expect(bareScans(plans), what).toEqual([])
      const filtered = Object.keys(input).some((k) => k !== 'sort')
      // With a filter, the matching rows are found through an index (SEARCH), never by walking them all.
      if (filtered) expect(scansOf(plans, ['g', 'gallery_outputs']), what).toEqual([])
    }
  })

  it('the newest page walks the created_at index and stops at the page (no sort)', async () => {
    const plans = await planned('gallery.list', { sort: 'newest', limit: 100 })
    const page = plans.find((p) => p.sql.startsWith('SELECT g.*'))!
    expect(page.plan.join(' | ')).toMatch(/SCAN g USING INDEX gallery_by_created/)
    expect(page.plan.join(' | ')).not.toMatch(/TEMP B-TREE FOR ORDER BY/)
  })
})
