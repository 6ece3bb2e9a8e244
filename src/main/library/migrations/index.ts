// The ordered list of migrations. Add a new numbered module and append it here;
// never edit a migration that has shipped.

import type Database from 'better-sqlite3'
import { NewerSchemaError } from '../../errors'
import { migration001 } from './001_initial'
import { migration002 } from './002_dataset_media'
import { migration003 } from './003_gallery'
import { migration004 } from './004_labelling'
import { migration005 } from './005_classify'
import { migration006 } from './006_snapshots'
import { migration007 } from './007_curation'
import { migration008 } from './008_indexes'
import { migration009 } from './009_item_facts'
import { type Migration } from './types'

export const migrations: readonly Migration[] = [migration001, migration002, migration003, migration004, migration005, migration006, migration007, migration008, migration009]
export const LATEST_SCHEMA_VERSION = migrations.length

migrations.forEach((m, i) => {
  if (m.version !== i + 1) throw new Error(`Migration ${m.name} has version ${m.version}, expected ${i + 1}`)
})

/**
 * Brings the database up to `target` (default: latest). Each migration runs in its
 * own transaction that also sets `PRAGMA user_version`, so a crash leaves the
 * database at a whole version. A database newer than this code is refused.
 */
export function migrate(db: Database.Database, dbPath: string, target = LATEST_SCHEMA_VERSION): number {
  const current = db.pragma('user_version', { simple: true }) as number
  if (current > LATEST_SCHEMA_VERSION) throw new NewerSchemaError(current, LATEST_SCHEMA_VERSION, dbPath)
  for (const m of migrations) {
    if (m.version <= current || m.version > target) continue
    db.transaction(() => {
      m.up(db)
      db.pragma(`user_version = ${m.version}`)
    }).immediate()
  }
  return db.pragma('user_version', { simple: true }) as number
}
