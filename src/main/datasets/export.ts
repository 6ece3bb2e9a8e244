// Export a dataset (as it is now, or as a snapshot froze it) in one of three formats, never
// overwriting anything:
// - folder: an ImageFolder tree <folder>/<split>/<class>/<file> when the dataset has splits, else
//   <folder>/<class>/<file>; unlabelled items under "_unlabelled", unsplit under "_unsplit". A
//   file already at a target is left alone and reported.
// - csv: <folder>/labels.csv (`path,label,split`, RFC 4180 quoting) and the images flat in
//   <folder>/images/; names already taken on disk get a number, so nothing is skipped. The CSV
//   imports back as it is.
// - zip: one archive (<folder>.zip given, or <folder>/<dataset>.zip) with the ImageFolder tree
//   and a labels.csv naming every file in it; an existing archive name gets a number. Archives
//   that would need ZIP64 (over 4 GiB or 65,535 files) are refused before anything is written.
// Two items with the same file name in one folder get the hash's first digits appended.

import { existsSync } from 'node:fs'
import { mkdir, readFile, rm } from 'node:fs/promises'
import { basename, dirname, extname, join, resolve } from 'node:path'
import type Database from 'better-sqlite3'
import { type ExportResult, type ImportIssue } from '../../shared/datasets-contract'
import { type ExportFormat } from '../../shared/snapshots-contract'
import { AppError, DiskFullError, isDiskFull } from '../errors'
import { copyNewFile, publishNewFile, tempBeside, writeNewFile } from '../files'
import { type Library } from '../library/library'
import { mediaFilePath } from '../library/media'
import { type SnapshotRow } from './snapshots'
import { ZipLimitError, ZipWriter, checkZipLimits } from './zip'

/** A class or file name made safe as one path segment on every OS. */
export function safeSegment(name: string): string {
  // eslint-disable-next-line no-control-regex
  const s = name.replace(/[\u0000-\u001f<>:"/\\|?*]/g, '_').replace(/[. ]+$/, '').trim()
  return s === '' || s === '.' || s === '..' ? '_' : s
}

export interface ExportRow {
  name: string
  sha256: string
  /** The media row's path (library-relative or referenced); null when the file is not in the library. */
  path: string | null
  bytes: number
  className: string | null
  split: string | null
}

/** The dataset's items now (ordered by name), or a snapshot's rows with their files. */
export function exportRows(db: Database.Database, datasetId: string, snapshot?: SnapshotRow[]): ExportRow[] {
  if (!snapshot)
    return db
      .prepare(
        `SELECT i.original_name AS name, i.sha256 AS sha256, md.path AS path, md.bytes AS bytes, c.name AS className, s.split AS split
         FROM items i JOIN media md ON md.sha256 = i.sha256
         LEFT JOIN labels h ON h.item_id = i.id AND h.source = 'human'
         LEFT JOIN classes c ON c.id = h.class_id
         LEFT JOIN splits s ON s.item_id = i.id
         WHERE i.dataset_id = ? ORDER BY i.original_name, i.id`
      )
      .all(datasetId) as ExportRow[]
  const media = db.prepare('SELECT path, bytes FROM media WHERE sha256 = ?')
  return [...snapshot]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.itemId < b.itemId ? -1 : 1))
    .map((r) => {
      const m = media.get(r.sha256) as { path: string; bytes: number } | undefined
      return { name: r.name, sha256: r.sha256, path: m?.path ?? null, bytes: m?.bytes ?? 0, className: r.className, split: r.split }
    })
}

/** Per-item relative paths ('/'-separated), unique within the export. */
function layout(rows: ExportRow[], shape: 'tree' | 'flat'): string[] {
  const withSplits = rows.some((r) => r.split)
  const taken = new Set<string>()
  return rows.map((r) => {
    const dir = shape === 'flat' ? ['images'] : [...(withSplits ? [r.split ?? '_unsplit'] : []), r.className ? safeSegment(r.className) : '_unlabelled']
    let file = safeSegment(basename(r.name.replace(/\\/g, '/')))
    if (extname(file) === '' && r.path) file += extname(r.path)
    let rel = [...dir, file].join('/')
    if (taken.has(rel.toLowerCase())) {
      const ext = extname(file)
      rel = [...dir, `${file.slice(0, file.length - ext.length)}-${r.sha256.slice(0, 8)}${ext}`].join('/')
    }
    taken.add(rel.toLowerCase())
    return rel
  })
}

/** `path` if nothing is there, else `name-2.ext`, `name-3.ext`, ... */
export function freeName(path: string): string {
  if (!existsSync(path)) return path
  const ext = extname(path)
  const stem = path.slice(0, path.length - ext.length)
  for (let k = 2; ; k++) {
    const p = `${stem}-${k}${ext}`
    if (!existsSync(p)) return p
  }
}

const csvField = (s: string): string => (/[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s)
export const csvLine = (cols: string[]): string => cols.map(csvField).join(',') + '\n'

export interface ExportOptions {
  format: ExportFormat
  /** Folder (folder, csv, zip) or a .zip file path (zip). */
  out: string
  datasetName: string
  rows: ExportRow[]
}

/** Copies to a new file (never replacing one); a copy that fails or is killed part-way leaves no partial file under the name. */
const copyNew = (src: string, target: string): Promise<void> => copyNewFile(src, target)

/**
 * What one export wrote, so a full disk can take it all back: an export is whole or absent.
 * Folders are recorded only where this export created them.
 */
class Written {
  private readonly files: string[] = []
  private readonly dirs: string[] = []
  file(path: string): void {
    this.files.push(path)
  }
  async mkdir(dir: string): Promise<void> {
    const first = await mkdir(dir, { recursive: true })
    if (first) this.dirs.push(first)
  }
  async undo(): Promise<void> {
    for (const f of this.files.reverse()) await rm(f, { force: true })
    for (const d of this.dirs.reverse()) await rm(d, { recursive: true, force: true })
  }
  /** A full disk stops the export and removes what it wrote; other errors pass through. */
  async check(e: unknown, what: string): Promise<void> {
    if (!isDiskFull(e)) return
    await this.undo()
    throw new DiskFullError(what, (e as NodeJS.ErrnoException).path)
  }
}

export async function exportDataset(library: Library, opts: ExportOptions): Promise<ExportResult> {
  const { rows } = opts
  const skipped: ImportIssue[] = []
  const written = new Written()
  const what = `exporting "${opts.datasetName}"`
  const source = (r: ExportRow): string | null => {
    if (r.path === null) {
      skipped.push({ path: r.name, reason: 'is not in the library any more; it was not exported' })
      return null
    }
    return mediaFilePath(library, r.path)
  }

  if (opts.format === 'zip') {
    const target = opts.out.toLowerCase().endsWith('.zip') ? resolve(opts.out) : join(resolve(opts.out), `${safeSegment(opts.datasetName)}.zip`)
    const rels = layout(rows, 'tree')
    try {
      checkZipLimits([...rows.map((r, i) => ({ name: rels[i]!, bytes: r.bytes })), { name: 'labels.csv', bytes: 64 * rows.length + 32 }])
    } catch (e) {
      if (e instanceof ZipLimitError) throw new AppError('UNSUPPORTED', e.message, 'format')
      throw e
    }
    await written.mkdir(dirname(target))
    const file = freeName(target)
    // Written under a hidden temp name and put in place when whole: a kill never leaves half an archive.
    const tmp = tempBeside(file)
    const zip = await ZipWriter.create(tmp)
    let files = 0
    try {
      let csv = csvLine(['path', 'label', 'split'])
      for (let i = 0; i < rows.length; i++) {
        const r = rows[i]!
        const src = source(r)
        if (!src) continue
        let data: Buffer
        try {
          data = await readFile(src)
        } catch (e) {
          skipped.push({ path: r.name, reason: `could not be read (${(e as Error).message})` })
          continue
        }
        await zip.add(rels[i]!, data, false)
        csv += csvLine([rels[i]!, r.className ?? '', r.split ?? ''])
        files++
      }
      await zip.add('labels.csv', Buffer.from(csv, 'utf8'), true)
      await zip.close()
      await publishNewFile(tmp, file)
    } catch (e) {
      await zip.abort()
      await written.check(e, what)
      if (e instanceof ZipLimitError) throw new AppError('UNSUPPORTED', e.message, 'format')
      throw e
    }
    return { format: 'zip', folder: dirname(file), file, files, skipped }
  }

  const root = resolve(opts.out)
  if (opts.format === 'csv') {
    await written.mkdir(join(root, 'images'))
    const rels = layout(rows, 'flat')
    let csv = csvLine(['path', 'label', 'split'])
    let files = 0
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!
      const src = source(r)
      if (!src) continue
      // A name already on disk gets a number; the CSV names whatever was written.
      let target = freeName(join(root, ...rels[i]!.split('/')))
      for (;;) {
        try {
          await copyNew(src, target)
          written.file(target)
          break
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code
          if (code === 'EEXIST') {
            target = freeName(target)
            continue
          }
          await written.check(e, what)
          skipped.push({ path: r.name, reason: `could not be copied (${(e as Error).message})` })
          target = ''
          break
        }
      }
      if (!target) continue
      csv += csvLine([`images/${basename(target)}`, r.className ?? '', r.split ?? ''])
      files++
    }
    const file = freeName(join(root, 'labels.csv'))
    try {
      await writeNewFile(file, csv)
    } catch (e) {
      await written.check(e, what)
      throw e
    }
    return { format: 'csv', folder: root, file, files, skipped }
  }

  const rels = layout(rows, 'tree')
  let files = 0
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!
    const src = source(r)
    if (!src) continue
    const target = join(root, ...rels[i]!.split('/'))
    await written.mkdir(dirname(target))
    try {
      await copyNew(src, target)
      written.file(target)
      files++
    } catch (e) {
      await written.check(e, what)
      const code = (e as NodeJS.ErrnoException).code
      skipped.push({ path: target, reason: code === 'EEXIST' ? 'already exists; it was not overwritten' : `could not be written (${(e as Error).message})` })
    }
  }
  return { format: 'folder', folder: root, file: null, files, skipped }
}
