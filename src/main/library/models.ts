import type Database from 'better-sqlite3'
import { type ModelSummary } from '../../shared/contract'
import { NotFoundError } from '../errors'

interface ModelRow {
  id: string
  name: string
  kind: string
  source: ModelSummary['source']
  created_at: string
  parent_id: string | null
}

const toSummary = (r: ModelRow): ModelSummary => ({
  id: r.id,
  name: r.name,
  kind: r.kind,
  source: r.source,
  createdAt: r.created_at,
  parentId: r.parent_id
})

/** Model rows; the model package itself lives in the folder named by `path`. */
export class ModelsRepo {
  constructor(private readonly db: Database.Database) {}

  list(): ModelSummary[] {
    return (this.db.prepare('SELECT * FROM models ORDER BY created_at DESC, name').all() as ModelRow[]).map(toSummary)
  }

  find(ref: string): ModelSummary | undefined {
    const row = (this.db.prepare('SELECT * FROM models WHERE id = ?').get(ref) ??
      this.db.prepare('SELECT * FROM models WHERE name = ?').get(ref)) as ModelRow | undefined
    return row ? toSummary(row) : undefined
  }

  get(ref: string): ModelSummary {
    const m = this.find(ref)
    if (!m) throw new NotFoundError(`No model with id or name "${ref}".`)
    return m
  }
}
