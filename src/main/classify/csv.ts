// The CSV of a run: `path,label,confidence,top_k,status,error`, one row per file. While the run
// goes rows are appended as they are produced; at the end (and when a run resumes) the file is
// rewritten whole from the library, in the order files were met, through a temporary file and
// a rename, so a reader never sees half a file.

import { promises as fs } from 'node:fs'
import path from 'node:path'

import { type ClassifyRow, type TopClass } from '../../shared/classify-contract'

export const CSV_HEADER = 'path,label,confidence,top_k,status,error'

export function csvField(v: string): string {
  return /[",\r\n]/.test(v) || /^\s|\s$/.test(v) ? `"${v.replace(/"/g, '""')}"` : v
}

export function topKText(top: readonly TopClass[]): string {
  return top.map((t) => `${t.label}:${t.probability.toFixed(4)}`).join(';')
}

export function csvLine(r: Pick<ClassifyRow, 'path' | 'label' | 'corrected' | 'confidence' | 'topK' | 'status' | 'error'>): string {
  return [
    csvField(r.path),
    csvField(r.corrected ?? r.label ?? ''),
    r.confidence === null ? '' : r.confidence.toFixed(6),
    csvField(topKText(r.topK)),
    r.status,
    csvField(r.error ?? '')
  ].join(',')
}

/** Splits one CSV record (as written above) back into fields; for tests and tools. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let f = ''
  let q = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (q) {
      if (c === '"' && text[i + 1] === '"') {
        f += '"'
        i++
      } else if (c === '"') q = false
      else f += c
    } else if (c === '"') q = true
    else if (c === ',') {
      row.push(f)
      f = ''
    } else if (c === '\n') {
      row.push(f)
      rows.push(row)
      row = []
      f = ''
    } else if (c !== '\r') f += c
  }
  if (f || row.length) {
    row.push(f)
    rows.push(row)
  }
  return rows
}

export async function writeCsv(out: string, rows: Iterable<ClassifyRow>): Promise<void> {
  await fs.mkdir(path.dirname(out), { recursive: true })
  const tmp = `${out}.${process.pid}.tmp`
  const fh = await fs.open(tmp, 'w')
  try {
    let buf = CSV_HEADER + '\n'
    for (const r of rows) {
      buf += csvLine(r) + '\n'
      if (buf.length > 1 << 16) {
        await fh.write(buf)
        buf = ''
      }
    }
    await fh.write(buf)
  } finally {
    await fh.close()
  }
  await fs.rename(tmp, out)
}

export async function appendCsv(out: string, rows: readonly ClassifyRow[]): Promise<void> {
  if (!rows.length) return
  await fs.appendFile(out, rows.map(csvLine).join('\n') + '\n')
}
