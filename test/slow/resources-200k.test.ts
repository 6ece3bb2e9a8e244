// A 200,000-item library (bulk rows in one transaction, at schema 8) migrates (009 backfills the
// stored item facts), opens, and answers the grid, stats and gallery calls correctly, every one
// through indexes (EXPLAIN QUERY PLAN); the stored facts match the labels, splits and media.
// Times are printed for the record, not asserted (benchmarks measure speed).

import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AppContext, createContext } from '../../src/main/context'
import { createDispatcher, type Dispatch } from '../../src/main/host/dispatch'
import { openLibrary } from '../../src/main/library/library'
import { LATEST_SCHEMA_VERSION } from '../../src/main/library/migrations'
import { createServices } from '../../src/main/services'
import { bareScans, curationQueries, mainQueries, plansOf, scansOf } from '../integration/query-plans'
import { type Seeded, seedCuration, seedLibrary } from '../integration/seed'
import { tempDir } from '../unit/library/tmp'

const ITEMS = 200_000
const GALLERY = 20_000

let ctx: AppContext
let dispatch: Dispatch
let cleanup: () => void
let seeded: Seeded

beforeAll(() => {
  const t = tempDir()
  cleanup = t.cleanup
  const libDir = join(t.dir, 'lib')
  // A library made before migration 009 (no stored item facts, no triggers): the bulk rows go in
  // fast, and the first open below migrates and backfills 200k items, as an upgrade would.
  const lib = openLibrary(libDir, { targetVersion: 8 })
  seeded = seedLibrary(lib.db, { items: ITEMS, classes: 10, gallery: GALLERY, labelled: ITEMS / 2 })
  seedCuration(lib.db, seeded)
  lib.close()
  let t0 = performance.now()
  openLibrary(libDir).close()
  console.log(`migrate a ${ITEMS}-item library to ${LATEST_SCHEMA_VERSION} (backfill, indexes): ${(performance.now() - t0).toFixed(0)} ms`)
  // Open it again the way the app does.
  t0 = performance.now()
  ctx = createContext({ libraryDir: libDir, host: 'browser' })
  dispatch = createDispatcher(createServices(ctx))
  console.log(`open a ${ITEMS}-item library: ${(performance.now() - t0).toFixed(0)} ms`)
})
afterAll(async () => {
  await ctx?.close()
  cleanup?.()
})

describe(`a ${ITEMS.toLocaleString('en')}-item library`, () => {
  it('opens at the latest schema with its data intact', () => {
    expect(ctx.library.schemaVersion).toBe(LATEST_SCHEMA_VERSION)
    expect((ctx.library.db.prepare('SELECT count(*) AS n FROM items').get() as { n: number }).n).toBe(ITEMS)
    expect(ctx.library.db.pragma('quick_check', { simple: true })).toBe('ok')
    const wrong = ctx.library.db
      .prepare(
        `SELECT count(*) AS n FROM items i JOIN media md ON md.sha256 = i.sha256
         LEFT JOIN labels h ON h.item_id = i.id AND h.source = 'human' LEFT JOIN labels m ON m.item_id = i.id AND m.source = 'model'
         LEFT JOIN splits s ON s.item_id = i.id
         WHERE i.label_class_id IS NOT coalesce(h.class_id, m.class_id) OR i.split IS NOT s.split OR i.file_bytes IS NOT md.bytes
           OR i.label_source IS NOT CASE WHEN h.class_id IS NOT NULL THEN 'human' WHEN m.class_id IS NOT NULL THEN 'model' ELSE 'none' END`
      )
      .get() as { n: number }
    expect(wrong.n).toBe(0)
  })

  it('answers every grid, stats and gallery call correctly, through indexes', async () => {
    const cases = [...mainQueries(seeded), ...curationQueries(seeded)]
    const lines: string[] = []
    let slowest = 0
    for (const [what, method, input] of cases) {
      // Wall time, and this process's CPU time (SQLite runs on this thread), which a loaded
      // machine inflates less.
      const t0 = performance.now()
      const c0 = process.cpuUsage()
      const timed = await dispatch(method, input)
      const c = process.cpuUsage(c0)
      const ms = performance.now() - t0
      slowest = Math.max(slowest, ms)
      lines.push(`${what}: ${ms.toFixed(0)} ms (cpu ${((c.user + c.system) / 1000).toFixed(0)} ms)`)
      expect(timed, what).toMatchObject({ ok: true })
      let result: { ok: boolean; value?: unknown } | undefined
      const plans = await plansOf(ctx.library.db, async () => (result = await dispatch(method, input)))
      expect(result, what).toMatchObject({ ok: true })
      expect(bareScans(plans), what).toEqual([])
      // Paged lists and stats read in index order: no sort of the dataset.
      if (method !== 'gallery.list') expect(plans.flatMap((p) => p.plan).filter((l) => /TEMP B-TREE FOR ORDER BY/.test(l)), what).toEqual([])
      if (method !== 'gallery.list') expect(scansOf(plans, ['i', 'h', 'm', 's', 'f', 'md', 'items', 'labels', 'splits', 'item_flags']), what).toEqual([])
      else if (Object.keys(input).some((k) => k !== 'sort')) expect(scansOf(plans, ['g', 'gallery_outputs']), what).toEqual([])
    }
    console.log(`${lines.join('\n')}\nslowest: ${slowest.toFixed(0)} ms`)
  })

  it('counts add up at this size', async () => {
    const d = seeded.datasetId
    const call = async <T>(method: string, input: unknown): Promise<T> => {
      const r = await dispatch(method, input)
      if (!r.ok) throw new Error(r.error.message)
      return r.value as T
    }
    // seedLibrary: the first half labelled, class i % 10, every third of those by a model; split by i % 4.
    expect((await call<{ total: number }>('items.list', { dataset: d, limit: 1 })).total).toBe(ITEMS)
    expect((await call<{ total: number }>('items.list', { dataset: d, classId: seeded.classIds[3], limit: 1 })).total).toBe(ITEMS / 2 / 10)
    expect((await call<{ total: number }>('items.list', { dataset: d, classId: 'none', limit: 1 })).total).toBe(ITEMS / 2)
    expect((await call<{ total: number }>('items.list', { dataset: d, split: 'none', limit: 1 })).total).toBe(ITEMS / 4)
    const stats = await call<{ total: number; splits: Record<string, number>; labelSources: Record<string, number> }>('datasets.stats', { ref: d })
    expect(stats.total).toBe(ITEMS)
    expect(stats.splits).toEqual({ train: ITEMS / 4, val: ITEMS / 4, test: ITEMS / 4, none: ITEMS / 4 })
    expect(stats.labelSources.none).toBe(ITEMS / 2)
    const last = await call<{ items: { name: string }[]; total: number }>('items.list', { dataset: d, sort: 'name', desc: true, limit: 3, offset: ITEMS - 3 })
    expect(last.items.map((i) => i.name)).toEqual(['img-0000002.png', 'img-0000001.png', 'img-0000000.png'])
    expect((await call<{ total: number }>('gallery.list', { limit: 1 })).total).toBe(GALLERY)
  })
})
