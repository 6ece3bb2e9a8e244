import type Database from 'better-sqlite3'

/** One schema step. `up` runs inside a transaction; it must not commit or change pragmas. */
export interface Migration {
  version: number
  name: string
  up(db: Database.Database): void
}
