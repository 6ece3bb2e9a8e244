// The files a classify run meets: every folder walked recursively in a fixed order (names
// sorted by code point), files kept when their extension is in the filter. Symbolic links to
// files are followed; links to folders are not (they would let a loop run forever), and a link
// that cannot be resolved (a loop, a dangling target) is met as an entry with the reason, so the
// run reports it as an error row. The walk is a generator: memory stays flat however big the tree.

import { type Dirent, promises as fs } from 'node:fs'
import path from 'node:path'

export const DEFAULT_EXTENSIONS = ['png', 'jpg', 'jpeg', 'webp', 'gif', 'bmp', 'tif', 'tiff', 'avif', 'heic', 'heif']

export interface ScanEntry {
  path: string
  /** Set when the entry cannot be read as a file; the run records it as an error row. */
  error?: string
}

export interface ScanOptions {
  recursive?: boolean
  /** Lower-case extensions without the dot; default DEFAULT_EXTENSIONS. An empty list keeps every file. */
  extensions?: readonly string[]
  /** Folders (absolute) not to enter, e.g. the destination root when it lies inside a source folder. */
  exclude?: readonly string[]
}

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

export function normalizeExtensions(exts: readonly string[] | undefined): Set<string> | null {
  const list = (exts ?? DEFAULT_EXTENSIONS).map((e) => e.trim().toLowerCase().replace(/^\*?\./, '')).filter(Boolean)
  return list.length ? new Set(list) : null
}

function wanted(name: string, exts: Set<string> | null): boolean {
  if (!exts) return true
  const ext = path.extname(name).slice(1).toLowerCase()
  return exts.has(ext)
}

function errText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code
  if (code === 'ELOOP') return 'is a symbolic link that loops back on itself'
  if (code === 'ENOENT') return 'is a symbolic link to something that does not exist'
  if (code === 'EACCES' || code === 'EPERM') return 'cannot be read (permission denied)'
  return e instanceof Error ? e.message : String(e)
}

/** Every file of the folders, in a fixed order; each path once even if folders overlap. */
export async function* walkFiles(folders: readonly string[], opts: ScanOptions = {}): AsyncGenerator<ScanEntry> {
  const exts = normalizeExtensions(opts.extensions)
  const recursive = opts.recursive !== false
  const exclude = new Set((opts.exclude ?? []).map((p) => path.resolve(p)))
  const roots = [...new Set(folders.map((f) => path.resolve(f)))]
  const inside = (child: string, parent: string): boolean => {
    const rel = path.relative(parent, child)
    return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel)
  }
  // With recursion a folder inside another listed folder is walked as part of it, once.
  const walkRoots = recursive ? roots.filter((r) => !roots.some((o) => inside(r, o))) : roots
  for (const root of walkRoots) yield* walkDir(root, exts, recursive, exclude, new Set())
}

const NOT_REGULAR = 'is not a regular file (a pipe, socket or device); it was not read'

async function* walkDir(dir: string, exts: Set<string> | null, recursive: boolean, exclude: Set<string>, roots: Set<string>): AsyncGenerator<ScanEntry> {
  let entries: Dirent[]
  try {
    entries = await fs.readdir(dir, { withFileTypes: true })
  } catch (e) {
    yield { path: dir, error: `folder ${errText(e)}` }
    return
  }
  entries.sort((a, b) => byCodePoint(a.name, b.name))
  for (const d of entries) {
    const p = path.join(dir, d.name)
    if (d.isDirectory()) {
      if (!recursive || exclude.has(p)) continue
      // A source folder nested in another is walked once.
      if (roots.has(p)) continue
      yield* walkDir(p, exts, recursive, exclude, roots)
    } else if (d.isFile()) {
      if (wanted(d.name, exts)) yield { path: p }
    } else if (d.isSymbolicLink()) {
      try {
        const st = await fs.stat(p)
        if (st.isFile()) {
          if (wanted(d.name, exts)) yield { path: p }
        } else if (st.isDirectory()) {
          if (recursive) yield { path: p, error: 'is a symbolic link to a folder; links to folders are not followed (they can loop)' }
        } else if (wanted(d.name, exts)) yield { path: p, error: NOT_REGULAR }
      } catch (e) {
        yield { path: p, error: errText(e) }
      }
    } else if (wanted(d.name, exts)) yield { path: p, error: NOT_REGULAR } // a pipe, socket or device: never read (it may never end)
  }
}

/** How many entries a walk will yield (a first, cheap pass for the progress total). */
export async function countFiles(folders: readonly string[], opts: ScanOptions = {}): Promise<number> {
  let n = 0
  for await (const _ of walkFiles(folders, opts)) n++
  return n
}
