// Records the SQL (and its arguments) a piece of real code runs on a database, then asks
// SQLite how it runs each statement (EXPLAIN QUERY PLAN), so tests can check that the
// queries behind the grid, stats and gallery use indexes instead of scanning tables.

import type Database from 'better-sqlite3'

export interface PlannedStatement {
  sql: string
  plan: string[]
}

/** Runs `fn`, recording every statement it executes on `db`; returns each with its plan. */
export async function plansOf(db: Database.Database, fn: () => unknown): Promise<PlannedStatement[]> {
  const recorded: { sql: string; args: unknown[] }[] = []
  const original = db.prepare
  const prepare = original.bind(db)
  db.prepare = ((sql: string) => {
    const st = prepare(sql)
    return new Proxy(st, {
      get(target, prop) {
        const v = Reflect.get(target, prop, target) as unknown
        if (typeof v !== 'function') return v
        if (prop === 'all' || prop === 'get' || prop === 'run' || prop === 'iterate')
          return (...args: unknown[]) => {
            recorded.push({ sql, args })
            return (v as (...a: unknown[]) => unknown).apply(target, args)
          }
        return (v as (...a: unknown[]) => unknown).bind(target)
      }
    })
  }) as typeof db.prepare
  try {
    await fn()
  } finally {
    db.prepare = original
  }
  return recorded.map(({ sql, args }) => ({
    sql: sql.replace(/\s+/g, ' ').trim(),
    plan: (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...(args as unknown[])) as { detail: string }[]).map((r) => r.detail)
  }))
}

/** Plan lines that read a whole table or a whole index of one of `aliases` (SCAN, not SEARCH). */
export function scansOf(statements: PlannedStatement[], aliases: string[]): string[] {
  const names = aliases.join('|')
  const re = new RegExp(`^SCAN (${names})\\b`)
  return statements.flatMap((s) => s.plan.filter((l) => re.test(l)).map((l) => `${l}  <-  ${s.sql.slice(0, 160)}`))
}

/** Plan lines that scan a table without any index at all. */
export function bareScans(statements: PlannedStatement[]): string[] {
  return statements.flatMap((s) => s.plan.filter((l) => /^SCAN (?!json_each)\S+$/.test(l)).map((l) => `${l}  <-  ${s.sql.slice(0, 160)}`))
}

/** The grid's, stats' and gallery's calls, with every items filter and sort: [what, method, input]. */
export function mainQueries(s: { datasetId: string; classIds: string[] }, extra: { collectionId?: string; jobId?: string } = {}): [string, string, Record<string, unknown>][] {
  const d = s.datasetId
  const out: [string, string, Record<string, unknown>][] = []
  const filters: [string, Record<string, unknown>][] = [
    ['all', {}],
    ['class', { classId: s.classIds[3] }],
    ['unlabelled', { classId: 'none' }],
    ['split val', { split: 'val' }],
    ['no split', { split: 'none' }],
    ['human labels', { labelSource: 'human' }],
    ['model labels', { labelSource: 'model' }],
    ['no label', { labelSource: 'none' }],
    ['flag', { flag: 'near-duplicate' }],
    ['class + split', { classId: s.classIds[1], split: 'train' }]
  ]
  for (const [name, f] of filters)
    for (const sort of ['name', 'date', 'size'])
      for (const desc of [false, true]) out.push([`items.list ${name}, ${sort}${desc ? ' desc' : ''}`, 'items.list', { dataset: d, ...f, sort, desc, limit: 200, offset: 400 }])
  out.push(['datasets.stats', 'datasets.stats', { ref: d }])
  for (const sort of ['newest', 'oldest', 'rating']) out.push([`gallery.list ${sort}`, 'gallery.list', { sort }])
  out.push(['gallery.list class', 'gallery.list', { className: 'CLASS3' }])
  out.push(['gallery.list no class', 'gallery.list', { className: 'any' }])
  out.push(['gallery.list starred', 'gallery.list', { starred: true }])
  out.push(['gallery.list rating >= 4', 'gallery.list', { minRating: 4, sort: 'rating' }])
  out.push(['gallery.list seed', 'gallery.list', { seed: 42 }])
  out.push(['gallery.list dates', 'gallery.list', { from: '2026-01-01T00:10:00Z', to: '2026-01-01T00:20:00Z' }])
  if (extra.collectionId) out.push(['gallery.list collection', 'gallery.list', { collectionId: extra.collectionId }])
  if (extra.jobId) out.push(['gallery.list job', 'gallery.list', { jobId: extra.jobId }])
  return out
}

/** items.list in each curation sort (a finished curation run needed), alone and with filters. */
export function curationQueries(s: { datasetId: string; classIds: string[] }): [string, string, Record<string, unknown>][] {
  const out: [string, string, Record<string, unknown>][] = []
  const filters: [string, Record<string, unknown>][] = [
    ['all', {}],
    ['class', { classId: s.classIds[3] }],
    ['no split', { split: 'none' }],
    ['model labels', { labelSource: 'model' }]
  ]
  for (const [name, f] of filters)
    for (const sort of ['selfConfidence', 'bitsPerToken', 'featureOutlier'])
      for (const desc of [false, true]) out.push([`items.list ${name}, ${sort}${desc ? ' desc' : ''}`, 'items.list', { dataset: s.datasetId, ...f, sort, desc, limit: 200, offset: 400 }])
  return out
}
