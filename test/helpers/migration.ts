// Shared pieces of the schema migration tests.

import type Database from 'better-sqlite3'

/** The EXPLAIN QUERY PLAN details of `sql`, joined with ' | '. */
export const queryPlan = (db: Database.Database, sql: string, ...params: unknown[]): string =>
  (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail).join(' | ')
