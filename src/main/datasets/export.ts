// Export as an ImageFolder tree: <folder>/<split>/<class>/<file> when the dataset has
// splits, else <folder>/<class>/<file>; unlabelled items under "_unlabelled". Never
// overwrites: a file already at a target is left alone and reported; two items with
// the same file name in one class folder get the hash's first digits appended.

import { constants } from 'node:fs'
import { copyFile, mkdir } from 'node:fs/promises'
import { basename, extname, join, resolve } from 'node:path'
import type Database from 'better-sqlite3'
import { type ExportResult, type ImportIssue } from '../../shared/datasets-contract'
import { type Library } from '../library/library'
import { mediaFilePath } from '../library/media'

/** A class or file name made safe as one path segment on every OS. */
export function safeSegment(name: string): string {
  // eslint-disable-next-line no-control-regex
  const s = name.replace(/[\u0000-\u001f<>:"/\\|?*]/g, '_').replace(/[. ]+$/, '').trim()
  return s === '' || s === '.' || s === '..' ? '_' : s
}

export async function exportImageFolder(library: Library, db: Database.Database, datasetId: string, folder: string): Promise<ExportResult> {
  const root = resolve(folder)
  const rows = db
    .prepare(
      `SELECT i.original_name AS name, i.sha256 AS sha256, md.path AS path, c.name AS class_name, s.split AS split
       FROM items i JOIN media md ON md.sha256 = i.sha256
       LEFT JOIN labels h ON h.item_id = i.id AND h.source = 'human'
       LEFT JOIN classes c ON c.id = h.class_id
       LEFT JOIN splits s ON s.item_id = i.id
       WHERE i.dataset_id = ? ORDER BY i.original_name, i.id`
    )
    .all(datasetId) as { name: string; sha256: string; path: string; class_name: string | null; split: string | null }[]
  const withSplits = rows.some((r) => r.split)
  const taken = new Set<string>()
  const skipped: ImportIssue[] = []
  let files = 0
  for (const r of rows) {
    const dir = join(root, ...(withSplits ? [r.split ?? '_unsplit'] : []), r.class_name ? safeSegment(r.class_name) : '_unlabelled')
    let file = safeSegment(basename(r.name.replace(/\\/g, '/')))
    if (extname(file) === '') file += extname(r.path)
    let target = join(dir, file)
    if (taken.has(target)) {
      const ext = extname(file)
      target = join(dir, `${file.slice(0, file.length - ext.length)}-${r.sha256.slice(0, 8)}${ext}`)
    }
    taken.add(target)
    const src = mediaFilePath(library, r.path)
    await mkdir(dir, { recursive: true })
    try {
      await copyFile(src, target, constants.COPYFILE_EXCL)
      files++
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code
      skipped.push({ path: target, reason: code === 'EEXIST' ? 'already exists; it was not overwritten' : `could not be written (${(e as Error).message})` })
    }
  }
  return { folder: root, files, skipped }
}
