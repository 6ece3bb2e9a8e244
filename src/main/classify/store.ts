// classify_runs / classify_files (migration 005): one row per run, one per file it met.
// (run_id, path) is the primary key, so a file has at most one result in a run, whatever
// crashes and resumes happen in between.

import type Database from 'better-sqlite3'

import { type ClassifyParams, type ClassifyResultsQuery, type ClassifyRow, type ClassifyRunCounts, type TopClass } from '../../shared/classify-contract'
import { NotFoundError } from '../errors'
import { nowIso, parseJson } from '../library/util'

interface FileDbRow {
  seq: number
  path: string
  status: 'ok' | 'error'
  label: string | null
  top_label: string | null
  confidence: number | null
  top_k: string | null
  error: string | null
  size: number | null
  mtime_ms: number | null
  sha256: string | null
  action: string | null
  dest: string | null
  action_status: string | null
  action_note: string | null
  corrected: string | null
}

export interface RunDbRow {
  id: string
  model_id: string | null
  model_name: string
  params: string
  labels: string
  created_at: string
  undone_at: string | null
}

export interface NewFileResult {
  path: string
  status: 'ok' | 'error'
  label?: string | null
  topLabel?: string | null
  confidence?: number | null
  topK?: TopClass[] | null
  error?: string | null
  size?: number | null
  mtimeMs?: number | null
  sha256?: string | null
  action?: string | null
  dest?: string | null
  actionStatus?: string | null
  actionNote?: string | null
}

export function toRow(r: FileDbRow): ClassifyRow {
  return {
    seq: r.seq,
    path: r.path,
    status: r.status,
    label: r.label,
    topLabel: r.top_label,
    confidence: r.confidence,
    topK: r.top_k ? parseJson<TopClass[]>(r.top_k, []) : [],
    error: r.error,
    action: r.action,
    dest: r.dest,
    actionStatus: r.action_status,
    actionNote: r.action_note,
    corrected: r.corrected,
    sha256: r.sha256,
    size: r.size,
    mtimeMs: r.mtime_ms
  }
}

export class ClassifyRepo {
  constructor(private readonly db: Database.Database) {}

  createRun(id: string, params: ClassifyParams, model: { id: string | null; name: string }, labels: string[]): void {
    this.db
      .prepare('INSERT OR IGNORE INTO classify_runs (id, model_id, model_name, params, labels, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(id, model.id, model.name, JSON.stringify(params), JSON.stringify(labels), nowIso())
  }

  setLabels(id: string, labels: string[]): void {
    this.db.prepare('UPDATE classify_runs SET labels = ? WHERE id = ?').run(JSON.stringify(labels), id)
  }

  run(id: string): RunDbRow {
    const r = this.db.prepare('SELECT * FROM classify_runs WHERE id = ?').get(id) as RunDbRow | undefined
    if (!r) throw new NotFoundError(`No classify run ${id}.`)
    return r
  }

  runs(limit = 200): RunDbRow[] {
    return this.db.prepare('SELECT * FROM classify_runs ORDER BY created_at DESC, rowid DESC LIMIT ?').all(limit) as RunDbRow[]
  }

  has(runId: string, path: string): boolean {
    return this.db.prepare('SELECT 1 FROM classify_files WHERE run_id = ? AND path = ?').get(runId, path) !== undefined
  }

  nextSeq(runId: string): number {
    const r = this.db.prepare('SELECT max(seq) AS m FROM classify_files WHERE run_id = ?').get(runId) as { m: number | null }
    return (r.m ?? -1) + 1
  }

  /** Inserts results in one transaction; a path already there keeps its first result. Returns the rows inserted. */
  insert(runId: string, rows: readonly NewFileResult[]): number {
    const stmt = this.db.prepare(
      `INSERT OR IGNORE INTO classify_files (run_id, seq, path, status, label, top_label, confidence, top_k, error, size, mtime_ms, sha256, action, dest, action_status, action_note)
       VALUES (@run, @seq, @path, @status, @label, @top_label, @confidence, @top_k, @error, @size, @mtime_ms, @sha256, @action, @dest, @action_status, @action_note)`
    )
    return this.db.transaction(() => {
      let seq = this.nextSeq(runId)
      let n = 0
      for (const r of rows) {
        const info = stmt.run({
          run: runId,
          seq,
          path: r.path,
          status: r.status,
          label: r.label ?? null,
          top_label: r.topLabel ?? null,
          confidence: r.confidence ?? null,
          top_k: r.topK ? JSON.stringify(r.topK) : null,
          error: r.error ?? null,
          size: r.size ?? null,
          mtime_ms: r.mtimeMs ?? null,
          sha256: r.sha256 ?? null,
          action: r.action ?? null,
          dest: r.dest ?? null,
          action_status: r.actionStatus ?? null,
          action_note: r.actionNote ?? null
        })
        if (info.changes) {
          seq++
          n++
        }
      }
      return n
    })()
  }

  setAction(runId: string, path: string, status: string, dest: string | null, note: string | null = null): void {
    this.db.prepare('UPDATE classify_files SET action_status = ?, dest = ?, action_note = ? WHERE run_id = ? AND path = ?').run(status, dest, note, runId, path)
  }

  /** Rows whose copy/move was started but not recorded as finished (a crash in between). */
  pending(runId: string): ClassifyRow[] {
    return (this.db.prepare("SELECT * FROM classify_files WHERE run_id = ? AND action_status = 'pending' ORDER BY seq").all(runId) as FileDbRow[]).map(toRow)
  }

  /** Rows in the order the run met them, a page at a time (export, undo, CSV). */
  *iterate(runId: string, pageSize = 1000): Generator<ClassifyRow> {
    let after = -1
    for (;;) {
      const page = this.db.prepare('SELECT * FROM classify_files WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?').all(runId, after, pageSize) as FileDbRow[]
      if (!page.length) return
      for (const r of page) yield toRow(r)
      after = page[page.length - 1]!.seq
    }
  }

  counts(runId: string): ClassifyRunCounts {
    const rows = this.db
      .prepare('SELECT status, label, count(*) AS n FROM classify_files WHERE run_id = ? GROUP BY status, label')
      .all(runId) as { status: string; label: string | null; n: number }[]
    const c: ClassifyRunCounts = { files: 0, ok: 0, error: 0, unsure: 0, byLabel: {} }
    for (const r of rows) {
      c.files += r.n
      if (r.status === 'error') c.error += r.n
      else {
        c.ok += r.n
        if (r.label === 'unsure') c.unsure += r.n
        if (r.label !== null) c.byLabel[r.label] = (c.byLabel[r.label] ?? 0) + r.n
      }
    }
    return c
  }

  /** Destinations of the run's copies/moves (or planned ones): folder -> files. */
  plan(runId: string): Record<string, number> {
    const rows = this.db
      .prepare("SELECT dest FROM classify_files WHERE run_id = ? AND dest IS NOT NULL AND action_status IN ('planned', 'done', 'pending')")
      .all(runId) as { dest: string }[]
    const out: Record<string, number> = {}
    for (const r of rows) {
      const folder = r.dest.slice(0, Math.max(r.dest.lastIndexOf('/'), r.dest.lastIndexOf('\\')))
      out[folder] = (out[folder] ?? 0) + 1
    }
    return out
  }

  query(q: ClassifyResultsQuery): { total: number; rows: ClassifyRow[] } {
    const where = ['run_id = @run']
    const args: Record<string, unknown> = { run: q.runId }
    if (q.label !== undefined) {
      where.push('coalesce(corrected, label) = @label')
      args.label = q.label
    }
    if (q.minConfidence !== undefined) {
      where.push('confidence >= @min')
      args.min = q.minConfidence
    }
    if (q.maxConfidence !== undefined) {
      where.push('confidence <= @max')
      args.max = q.maxConfidence
    }
    if (q.errorsOnly) where.push("status = 'error'")
    if (q.search) {
      where.push("path LIKE @search ESCAPE '\\'")
      args.search = `%${q.search.replace(/[\\%_]/g, (m) => `\\${m}`)}%`
    }
    const w = where.join(' AND ')
    const col = q.sort === 'confidence' ? 'confidence' : q.sort === 'label' ? 'coalesce(corrected, label)' : q.sort === 'status' ? 'status' : 'seq'
    const dir = q.desc ? 'DESC' : 'ASC'
    const total = (this.db.prepare(`SELECT count(*) AS n FROM classify_files WHERE ${w}`).get(args) as { n: number }).n
    const rows = this.db
      .prepare(`SELECT * FROM classify_files WHERE ${w} ORDER BY ${col} ${dir} NULLS LAST, seq ${dir} LIMIT @limit OFFSET @offset`)
      .all({ ...args, limit: q.limit ?? 200, offset: q.offset ?? 0 }) as FileDbRow[]
    return { total, rows: rows.map(toRow) }
  }

  correct(runId: string, paths: readonly string[], label: string | null): number {
    const stmt = this.db.prepare('UPDATE classify_files SET corrected = ? WHERE run_id = ? AND path = ?')
    return this.db.transaction(() => paths.reduce((n, p) => n + stmt.run(label, runId, p).changes, 0))()
  }

  rowsByPath(runId: string, paths: readonly string[]): ClassifyRow[] {
    const stmt = this.db.prepare('SELECT * FROM classify_files WHERE run_id = ? AND path = ?')
    return paths.map((p) => stmt.get(runId, p) as FileDbRow | undefined).filter((r): r is FileDbRow => !!r).map(toRow)
  }

  markUndone(runId: string): void {
    this.db.prepare('UPDATE classify_runs SET undone_at = ? WHERE id = ?').run(nowIso(), runId)
  }
}
