// Stratified, seeded train/val/test assignment. Only items without a split are
// assigned; items already in a split (above all the test split) never move, so a
// second run cannot leak test items into training.

import type Database from 'better-sqlite3'
import { type SplitName } from '../../shared/datasets-contract'

/** mulberry32: a small seeded PRNG, enough for shuffling. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function shuffle<T>(xs: T[], rand: () => number): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1))
    ;[xs[i], xs[j]] = [xs[j]!, xs[i]!]
  }
  return xs
}

export interface Ratios {
  train: number
  val: number
  test: number
}

/** How many of n go to each split: rounded, with test and val taken first and train the rest. */
export function splitSizes(n: number, r: Ratios): Record<SplitName, number> {
  const test = Math.min(n, Math.round(n * r.test))
  const val = Math.min(n - test, Math.round(n * r.val))
  return { train: n - test - val, val, test }
}

/** Assigns splits to the dataset's unsplit items, per class; returns how many were assigned. */
export function assignSplits(db: Database.Database, datasetId: string, ratios: Ratios, seed = 0): number {
  const rows = db
    .prepare(
      `SELECT i.id AS id, coalesce(h.class_id, m.class_id, '') AS class_id FROM items i
       LEFT JOIN labels h ON h.item_id = i.id AND h.source = 'human'
       LEFT JOIN labels m ON m.item_id = i.id AND m.source = 'model'
       WHERE i.dataset_id = ? AND NOT EXISTS (SELECT 1 FROM splits s WHERE s.item_id = i.id)
       ORDER BY i.id`
    )
    .all(datasetId) as { id: string; class_id: string }[]
  const strata = new Map<string, string[]>()
  for (const r of rows) strata.set(r.class_id, [...(strata.get(r.class_id) ?? []), r.id])
  const rand = seededRandom(seed)
  const insert = db.prepare('INSERT INTO splits (item_id, split) VALUES (?, ?)')
  db.transaction(() => {
    for (const key of [...strata.keys()].sort()) {
      const ids = shuffle(strata.get(key)!, rand)
      const size = splitSizes(ids.length, ratios)
      ids.forEach((id, i) => insert.run(id, i < size.test ? 'test' : i < size.test + size.val ? 'val' : 'train'))
    }
  }).immediate()
  return rows.length
}
