import type Database from 'better-sqlite3'
import { type ModelSummary } from '../../shared/contract'
import { ConflictError, NotFoundError } from '../errors'

interface ModelRow {
  id: string
  name: string
  kind: string
  source: ModelSummary['source']
  path: string
  config: string
  created_at: string
  parent_id: string | null
}

/** A model row with what only the back end needs: its folder and its stored config JSON. */
export interface ModelRecord extends ModelSummary {
  /** Folder relative to the library root (models/<id>). */
  path: string
  config: unknown
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [])

/** The row as the contract shows it; `config` is the row's parsed config JSON (its classes are in it). */
const summaryOf = (r: ModelRow, config: unknown): ModelSummary => {
  const c = config && typeof config === 'object' ? (config as { classes?: unknown; conditionClasses?: unknown }) : {}
  return {
    id: r.id,
    name: r.name,
    kind: r.kind,
    source: r.source,
    createdAt: r.created_at,
    parentId: r.parent_id,
    classes: strings(c.classes),
    conditionClasses: strings(c.conditionClasses)
  }
}

const toSummary = (r: ModelRow): ModelSummary => summaryOf(r, JSON.parse(r.config) as unknown)

const toRecord = (r: ModelRow): ModelRecord => {
  const config = JSON.parse(r.config) as unknown
  return { ...summaryOf(r, config), path: r.path, config }
}

export interface NewModel {
  id: string
  name: string
  kind: string
  source: ModelSummary['source']
  path: string
  config: unknown
  parentId?: string | null
  createdAt?: string
}

/** Model rows; the model package itself lives in the folder named by `path`. */
export class ModelsRepo {
  constructor(private readonly db: Database.Database) {}

  list(): ModelSummary[] {
    return (this.db.prepare('SELECT * FROM models ORDER BY created_at DESC, name').all() as ModelRow[]).map(toSummary)
  }

  private row(ref: string): ModelRow | undefined {
    return (this.db.prepare('SELECT * FROM models WHERE id = ?').get(ref) ?? this.db.prepare('SELECT * FROM models WHERE name = ?').get(ref)) as
      | ModelRow
      | undefined
  }

  find(ref: string): ModelSummary | undefined {
    const row = this.row(ref)
    return row ? toSummary(row) : undefined
  }

  get(ref: string): ModelSummary {
    const m = this.find(ref)
    if (!m) throw new NotFoundError(`No model with id or name "${ref}".`)
    return m
  }

  /** The row with its folder and config, by id or unique name. */
  record(ref: string): ModelRecord {
    const row = this.row(ref)
    if (!row) throw new NotFoundError(`No model with id or name "${ref}".`)
    return toRecord(row)
  }

  nameTaken(name: string): boolean {
    return this.db.prepare('SELECT 1 FROM models WHERE name = ?').get(name) !== undefined
  }

  /** `base`, or `base (2)`, `base (3)` … whichever is free (names are unique, case-insensitively). */
  freeName(base: string): string {
    if (!this.nameTaken(base)) return base
    for (let i = 2; ; i++) if (!this.nameTaken(`${base} (${i})`)) return `${base} (${i})`
  }

  insert(m: NewModel): ModelRecord {
    if (this.nameTaken(m.name)) throw new ConflictError(`A model named "${m.name}" already exists.`, 'name')
    this.db
      .prepare('INSERT INTO models (id, name, kind, source, path, config, parent_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(m.id, m.name, m.kind, m.source, m.path, JSON.stringify(m.config), m.parentId ?? null, m.createdAt ?? new Date().toISOString())
    return this.record(m.id)
  }

  rename(ref: string, name: string): ModelRecord {
    const m = this.record(ref)
    if (this.db.prepare('SELECT 1 FROM models WHERE name = ? AND id != ?').get(name, m.id) !== undefined) {
      throw new ConflictError(`A model named "${name}" already exists.`, 'name')
    }
    this.db.prepare('UPDATE models SET name = ? WHERE id = ?').run(name, m.id)
    return this.record(m.id)
  }

  /** Models whose base is `id` (fine-tunes). */
  children(id: string): { id: string; name: string }[] {
    return this.db.prepare('SELECT id, name FROM models WHERE parent_id = ? ORDER BY created_at, name').all(id) as { id: string; name: string }[]
  }

  /** Rows that name this model and keep living without it (their link becomes null). */
  usage(id: string): { trainingRuns: number; labels: number; outputs: number } {
    const count = (sql: string): number => (this.db.prepare(sql).get(id, id) as { n: number }).n
    return {
      trainingRuns: count('SELECT count(*) AS n FROM training_runs WHERE base_model_id = ? OR model_id = ?'),
      labels: count('SELECT count(*) AS n FROM labels WHERE model_id = ? OR model_id = ?'),
      outputs: count('SELECT count(*) AS n FROM gallery_outputs WHERE model_id = ? OR model_id = ?')
    }
  }

  delete(id: string): void {
    this.db.prepare('DELETE FROM models WHERE id = ?').run(id)
  }
}
