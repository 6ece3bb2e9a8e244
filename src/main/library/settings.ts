import type Database from 'better-sqlite3'
import { type Settings } from '../../shared/contract'

export const DEFAULT_SETTINGS: Settings = { theme: 'system', executionProvider: 'auto' }

/** Settings as JSON values under their key; unknown keys in the table are ignored. */
export class SettingsRepo {
  constructor(private readonly db: Database.Database) {}

  get(): Settings {
    const rows = this.db.prepare('SELECT key, value FROM settings').all() as { key: string; value: string }[]
    const out: Settings = { ...DEFAULT_SETTINGS }
    for (const r of rows) if (r.key in out) (out as unknown as Record<string, unknown>)[r.key] = JSON.parse(r.value)
    return out
  }

  set(patch: Partial<Settings>): Settings {
    const upsert = this.db.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value')
    this.db.transaction(() => {
      for (const [k, v] of Object.entries(patch)) if (v !== undefined) upsert.run(k, JSON.stringify(v))
    }).immediate()
    return this.get()
  }
}
