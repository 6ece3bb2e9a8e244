// Copying or moving a classified file into <root>/<label>/ without ever overwriting, and undoing
// a run's moves. A name already taken gets a numbered suffix (`cat.png` -> `cat-1.png`). The
// no-overwrite guarantee does not rely on a check before the write: copies are made with
// COPYFILE_EXCL and moves with link() (which fails on an existing name) before the source is
// unlinked, so a file that appears at the destination in between is still never replaced.
// Before a file is touched its size, mtime and content hash are compared with what was
// classified: a file changed or gone since it was read is reported and left alone.

import { createHash } from 'node:crypto'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { copyNewFile } from '../files'

export type PlaceResult = { status: 'done'; dest: string } | { status: 'skipped'; reason: string }

export interface SourceState {
  size: number | null
  mtimeMs: number | null
  sha256: string | null
}

/** A folder name for a label: path separators and characters Windows refuses replaced. */
export function labelFolder(label: string): string {
  let s = ''
  for (const ch of label) s += ch.charCodeAt(0) < 32 || '\\/:*?"<>|'.includes(ch) ? '_' : ch
  s = s.replace(/^\.+$/, '_').trim()
  return s || '_'
}

export function numbered(dest: string, n: number): string {
  if (n === 0) return dest
  const ext = path.extname(dest)
  const base = dest.slice(0, dest.length - ext.length)
  return `${base}-${n}${ext}`
}

async function sha256(file: string): Promise<string> {
  return createHash('sha256')
    .update(await fs.readFile(file))
    .digest('hex')
}

/** Why a file no longer matches what was read, or null when it still does. */
export async function changedSince(file: string, was: SourceState): Promise<string | null> {
  let st
  try {
    st = await fs.stat(file)
  } catch {
    return 'vanished since it was classified'
  }
  if (was.size !== null && st.size !== was.size) return 'changed since it was classified (size differs)'
  if (was.mtimeMs !== null && Math.abs(st.mtimeMs - was.mtimeMs) > 1) return 'changed since it was classified (modified time differs)'
  if (was.sha256 !== null && (await sha256(file)) !== was.sha256) return 'changed since it was classified (content differs)'
  return null
}

const exists = async (p: string): Promise<boolean> =>
  fs.lstat(p).then(
    () => true,
    () => false
  )

/**
 * The first free name for `file` in `dir`, skipping names already planned for other files of the
 * same batch (`reserved`), so two files of one name never share a planned destination. The
 * real write re-checks atomically.
 */
export async function freeName(dir: string, name: string, reserved?: Set<string>): Promise<string> {
  for (let n = 0; ; n++) {
    const p = numbered(path.join(dir, name), n)
    if (reserved?.has(p)) continue
    if (!(await exists(p))) {
      reserved?.add(p)
      return p
    }
  }
}

async function moveExclusive(src: string, dest: string): Promise<void> {
  try {
    await fs.link(src, dest)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'EEXIST') throw e
    // Another device or a file system without hard links: copy without overwriting (never a
    // partial file under the destination's name), then remove.
    await copyNewFile(src, dest, { keepTimes: true })
  }
  await fs.unlink(src)
}

/**
 * Copies or moves `src` into `dir` under its own name or the next free numbered one. `preferred`
 * (a name recorded before a crash) is tried first so a resumed move lands where it was planned.
 */
export async function placeFile(src: string, dir: string, mode: 'copy' | 'move', was: SourceState): Promise<PlaceResult> {
  const why = await changedSince(src, was)
  if (why) return { status: 'skipped', reason: why }
  await fs.mkdir(dir, { recursive: true })
  const name = path.basename(src)
  for (let n = 0; n < 100_000; n++) {
    const dest = numbered(path.join(dir, name), n)
    try {
      if (mode === 'copy') await copyNewFile(src, dest, { keepTimes: true })
      else await moveExclusive(src, dest)
      return { status: 'done', dest }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue
      return { status: 'skipped', reason: `could not be ${mode === 'copy' ? 'copied' : 'moved'} (${(e as Error).message})` }
    }
  }
  return { status: 'skipped', reason: 'no free name in the destination folder' }
}

/**
 * Settles a copy/move that a crash interrupted. Moves go link -> unlink, so: source and dest both
 * there and the dest matches -> the unlink is missing (finish it); only the dest -> done; only the
 * source -> not done (the caller places it again). Returns the final state.
 */
export async function settlePending(src: string, dest: string | null, mode: 'copy' | 'move', was: SourceState): Promise<'done' | 'redo'> {
  if (!dest) return 'redo'
  const destOk = (await exists(dest)) && (await changedSince(dest, { ...was, mtimeMs: null })) === null
  const srcThere = await exists(src)
  if (destOk && (mode === 'copy' || !srcThere)) return 'done'
  if (destOk && srcThere && mode === 'move') {
    await fs.unlink(src)
    return 'done'
  }
  return 'redo'
}

/** Puts a moved file back (never over an existing file); removes an unchanged copy. */
export async function undoOne(src: string, dest: string, mode: 'copy' | 'move', was: SourceState): Promise<{ ok: true } | { ok: false; reason: string }> {
  const why = await changedSince(dest, { ...was, mtimeMs: null })
  if (why) return { ok: false, reason: `${dest} ${why.replace('since it was classified', 'since it was placed')}` }
  if (mode === 'copy') {
    await fs.unlink(dest)
    return { ok: true }
  }
  if (await exists(src)) return { ok: false, reason: `${src} exists again; the moved file stays at ${dest}` }
  await fs.mkdir(path.dirname(src), { recursive: true })
  try {
    await moveExclusive(dest, src)
  } catch (e) {
    return { ok: false, reason: `could not move ${dest} back (${(e as Error).message})` }
  }
  return { ok: true }
}

/** Removes the class folders a run created under `root` when undo left them empty. */
export async function removeEmptyDirs(dirs: Iterable<string>): Promise<void> {
  for (const d of dirs) await fs.rmdir(d).catch(() => undefined)
}
