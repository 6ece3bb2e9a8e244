// Finds the files an import will read, and what their place says about them.
// Folder import: files in a subfolder take the subfolder's name as their class
// (folder-per-class); with splits from folders, top folders named train/val/test
// set the split and the class folders sit below them. Files at the root are
// unlabelled. CSV import: `path,label[,split]` rows, paths relative to the CSV.
// Walks in sorted order so that an interrupted import's checkpoint (an index into
// this list) names the same file when it resumes.

import { readFile, readdir, realpath, stat } from 'node:fs/promises'
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path'

export type SplitName = 'train' | 'val' | 'test'
export const SPLIT_NAMES: readonly SplitName[] = ['train', 'val', 'test']

export interface ScanEntry {
  /** Absolute path. */
  path: string
  /** Path relative to the import root, '/'-separated, as shown to the user. */
  name: string
  label: string | null
  split: SplitName | null
}

export interface ImportIssue {
  path: string
  reason: string
}

export interface ScanResult {
  entries: ScanEntry[]
  errors: ImportIssue[]
}

export interface ScanOptions {
  splitFromFolders?: boolean
}

const SPLIT_ALIASES: Record<string, SplitName> = { train: 'train', training: 'train', val: 'val', valid: 'val', validation: 'val', test: 'test', testing: 'test' }

/** Hidden files and OS litter are not images anyone meant to import. */
const skipName = (name: string): boolean => name.startsWith('.') || name === 'Thumbs.db' || name === 'desktop.ini' || name === '__MACOSX'

/** A pipe, socket or device (also behind a link): reading it could block or never end. */
export const NOT_REGULAR = 'is not a regular file (a pipe, socket or device); it was not read'

export function describeFsError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code
  switch (code) {
    case 'ELOOP':
      return 'is a symbolic link loop'
    case 'EACCES':
    case 'EPERM':
      return 'cannot be read (permission denied)'
    case 'ENOENT':
      return 'does not exist (a broken link, or it was removed during the import)'
    case 'EISDIR':
      return 'is a folder, not a file'
    default:
      return `cannot be read (${e instanceof Error ? e.message : String(e)})`
  }
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

export async function scanFolder(root: string, options: ScanOptions = {}): Promise<ScanResult> {
  const absRoot = resolve(root)
  const entries: ScanEntry[] = []
  const errors: ImportIssue[] = []
  const rootStat = await stat(absRoot)
  if (!rootStat.isDirectory()) throw new Error(`${absRoot} is not a folder.`)
  const visited = new Set<string>()

  const walk = async (dir: string): Promise<void> => {
    let real: string
    try {
      real = await realpath(dir)
    } catch (e) {
      errors.push({ path: dir, reason: describeFsError(e) })
      return
    }
    // A link back to a folder we are inside (or already walked) would never end.
    if (visited.has(real)) {
      errors.push({ path: dir, reason: 'is a symbolic link loop (it leads back to a folder already imported)' })
      return
    }
    visited.add(real)
    let names: string[]
    try {
      names = (await readdir(dir)).sort(cmp)
    } catch (e) {
      errors.push({ path: dir, reason: describeFsError(e) })
      return
    }
    for (const n of names) {
      if (skipName(n)) continue
      const p = join(dir, n)
      let st
      try {
        st = await stat(p) // follows links: a loop gives ELOOP
      } catch (e) {
        errors.push({ path: p, reason: describeFsError(e) })
        continue
      }
      if (st.isDirectory()) await walk(p)
      else if (st.isFile()) entries.push(placeEntry(absRoot, p, options))
      else errors.push({ path: p, reason: NOT_REGULAR })
    }
  }
  await walk(absRoot)
  return { entries, errors }
}

function placeEntry(root: string, path: string, options: ScanOptions): ScanEntry {
  const parts = relative(root, path).split(sep)
  const name = parts.join('/')
  let folders = parts.slice(0, -1)
  let split: SplitName | null = null
  if (options.splitFromFolders && folders.length > 0) {
    const s = SPLIT_ALIASES[folders[0]!.toLowerCase()]
    if (s) {
      split = s
      folders = folders.slice(1)
    }
  }
  return { path, name, label: folders[0] ?? null, split }
}

/** Splits one CSV line (RFC 4180 quotes; "" inside quotes is a quote). */
export function parseCsvLine(line: string): string[] {
  const out: string[] = []
  let cur = ''
  let quoted = false
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"'
        i++
      } else if (ch === '"') quoted = false
      else cur += ch
    } else if (ch === '"') quoted = true
    else if (ch === ',') {
      out.push(cur)
      cur = ''
    } else cur += ch
  }
  out.push(cur)
  return out.map((s) => s.trim())
}

/**
 * Splits CSV text into records, keeping newlines that sit inside quotes. `unclosed`: the last
 * record opens a quote that never closes (it swallowed the rest of the file).
 */
function csvRecords(text: string): { records: string[]; unclosed: boolean } {
  const records: string[] = []
  let cur = ''
  let quoted = false
  for (const ch of text.replace(/^\uFEFF/, '')) {
    if (ch === '"') quoted = !quoted
    if (!quoted && (ch === '\n' || ch === '\r')) {
      if (cur.trim() !== '') records.push(cur)
      cur = ''
    } else cur += ch
  }
  if (cur.trim() !== '') records.push(cur)
  return { records, unclosed: quoted }
}

export async function scanCsv(csvPath: string): Promise<ScanResult> {
  const abs = resolve(csvPath)
  const base = dirname(abs)
  const text = await readFile(abs, 'utf8')
  const entries: ScanEntry[] = []
  const errors: ImportIssue[] = []
  const { records, unclosed } = csvRecords(text)
  if (unclosed) {
    errors.push({ path: `${basename(abs)}:${records.length}`, reason: 'opens a quote that is never closed; it and the rows after it were not imported' })
    records.pop()
  }
  records.forEach((record, i) => {
    const cols = parseCsvLine(record)
    if (i === 0 && cols[0]?.toLowerCase() === 'path') return // header
    const [p, label, splitText] = cols
    if (!p) {
      errors.push({ path: `${basename(abs)}:${i + 1}`, reason: 'has no path in its first column' })
      return
    }
    let split: SplitName | null = null
    if (splitText) {
      const s = SPLIT_ALIASES[splitText.toLowerCase()]
      if (!s) {
        errors.push({ path: `${basename(abs)}:${i + 1}`, reason: `has split "${splitText}"; use train, val or test` })
        return
      }
      split = s
    }
    const path = isAbsolute(p) ? p : resolve(base, p)
    entries.push({ path, name: p.replace(/\\/g, '/'), label: label ? label : null, split })
  })
  // A CSV can name anything, /dev/zero or a pipe included: those are refused here, never read.
  // (Missing files and folders are reported by the import with their own reasons.)
  const special = new Set<ScanEntry>()
  for (let i = 0; i < entries.length; i += 64) {
    await Promise.all(
      entries.slice(i, i + 64).map(async (e) => {
        const st = await stat(e.path).catch(() => null)
        if (st && !st.isFile() && !st.isDirectory()) special.add(e)
      })
    )
  }
  for (const e of special) errors.push({ path: e.name, reason: NOT_REGULAR })
  return { entries: special.size ? entries.filter((e) => !special.has(e)) : entries, errors }
}
