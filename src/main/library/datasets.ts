// Datasets and their classes. Names are unique without regard to case; every
// function that takes a `ref` accepts an id or a name.

import type Database from 'better-sqlite3'
import { type ClassInfo, type Dataset } from '../../shared/contract'
import { ConflictError, NotFoundError } from '../errors'
import { newId, nowIso } from './util'

interface DatasetRow {
  id: string
  name: string
  description: string
  created_at: string
  updated_at: string
  item_count: number
  labelled_count: number
}

// A fixed palette so that class colours are stable and distinct for the first dozen classes.
export const CLASS_COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf', '#393b79', '#637939']

export class DatasetsRepo {
  constructor(private readonly db: Database.Database) {}

  private select(where: string): Database.Statement {
    return this.db.prepare(`
      SELECT d.*,
        (SELECT count(*) FROM items i WHERE i.dataset_id = d.id) AS item_count,
        (SELECT count(*) FROM items i WHERE i.dataset_id = d.id AND i.label_source = 'human') AS labelled_count
      FROM datasets d ${where}`)
  }

  private classes(datasetId: string): ClassInfo[] {
    return this.db
      .prepare('SELECT id, name, color, position FROM classes WHERE dataset_id = ? ORDER BY position')
      .all(datasetId) as ClassInfo[]
  }

  private toDataset(r: DatasetRow): Dataset {
    return {
      id: r.id,
      name: r.name,
      description: r.description,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      itemCount: r.item_count,
      labelledCount: r.labelled_count,
      classes: this.classes(r.id)
    }
  }

  list(): Dataset[] {
    return (this.select('ORDER BY d.name').all() as DatasetRow[]).map((r) => this.toDataset(r))
  }

  /** By id first, then by name (case-insensitive). */
  find(ref: string): Dataset | undefined {
    const row = (this.select('WHERE d.id = ?').get(ref) ?? this.select('WHERE d.name = ?').get(ref)) as DatasetRow | undefined
    return row ? this.toDataset(row) : undefined
  }

  get(ref: string): Dataset {
    const d = this.find(ref)
    if (!d) throw new NotFoundError(`No dataset with id or name "${ref}".`)
    return d
  }

  private assertNameFree(name: string, exceptId?: string): void {
    const row = this.db.prepare('SELECT id FROM datasets WHERE name = ?').get(name) as { id: string } | undefined
    if (row && row.id !== exceptId) throw new ConflictError(`A dataset named "${name}" already exists.`, 'name')
  }

  create(input: { name: string; description?: string | undefined; classes?: string[] | undefined }): Dataset {
    const id = newId()
    const now = nowIso()
    const classes = input.classes ?? []
    const seen = new Set<string>()
    classes.forEach((c, i) => {
      const key = c.toLowerCase()
      if (seen.has(key)) throw new ConflictError(`Class "${c}" is listed twice.`, `classes.${i}`)
      seen.add(key)
    })
    this.db.transaction(() => {
      this.assertNameFree(input.name)
      this.db
        .prepare('INSERT INTO datasets (id, name, description, created_at, updated_at) VALUES (?, ?, ?, ?, ?)')
        .run(id, input.name, input.description ?? '', now, now)
      const insert = this.db.prepare('INSERT INTO classes (id, dataset_id, name, color, position) VALUES (?, ?, ?, ?, ?)')
      classes.forEach((c, i) => insert.run(newId(), id, c, CLASS_COLORS[i % CLASS_COLORS.length], i))
    }).immediate()
    return this.get(id)
  }

  rename(ref: string, name: string): Dataset {
    const d = this.get(ref)
    this.db.transaction(() => {
      this.assertNameFree(name, d.id)
      this.db.prepare('UPDATE datasets SET name = ?, updated_at = ? WHERE id = ?').run(name, nowIso(), d.id)
    }).immediate()
    return this.get(d.id)
  }

  delete(ref: string): { id: string } {
    const d = this.get(ref)
    // Items, classes, labels and splits go by ON DELETE CASCADE; media files stay
    // (other datasets or gallery outputs may share them).
    this.db.prepare('DELETE FROM datasets WHERE id = ?').run(d.id)
    return { id: d.id }
  }
}
