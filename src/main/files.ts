// Writing files the user sees (exports, class folders, generated PNGs) so that a crash or a kill
// at any moment never leaves a partial file under the final name, and an existing file is never
// replaced: the bytes go to a hidden temp file beside the target, which is then hard-linked into
// place (link fails with EEXIST when the name is taken, atomically) and the temp name removed.
// On a file system without hard links the temp file is renamed into place after a check that the
// name is free (not atomic against a concurrent writer, still never partial).

import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs/promises'
import path from 'node:path'

/** The hidden temp name beside `target` that a write goes through. */
export const tempBeside = (target: string): string => path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tessera-tmp`)

const exists = (p: string): Promise<boolean> =>
  fs.lstat(p).then(
    () => true,
    () => false
  )

function eexist(target: string): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(`EEXIST: file already exists, '${target}'`)
  e.code = 'EEXIST'
  e.path = target
  return e
}

/** Puts a finished temp file at `target` unless that name is taken (then EEXIST). Removes `tmp` either way. */
export async function publishNewFile(tmp: string, target: string): Promise<void> {
  try {
    try {
      await fs.link(tmp, target)
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code
      if (code === 'EEXIST') throw e
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EOPNOTSUPP' && code !== 'EMLINK') throw e
      if (await exists(target)) throw eexist(target)
      await fs.rename(tmp, target)
    }
  } finally {
    await fs.rm(tmp, { force: true })
  }
}

/** Writes `data` as a new file at `target`; EEXIST when a file is already there. */
export async function writeNewFile(target: string, data: string | Uint8Array): Promise<void> {
  if (await exists(target)) throw eexist(target)
  const tmp = tempBeside(target)
  try {
    await fs.writeFile(tmp, data, { flag: 'wx' })
  } catch (e) {
    await fs.rm(tmp, { force: true })
    throw e
  }
  await publishNewFile(tmp, target)
}

/** Copies `src` to a new file at `target` (with its times when `keepTimes`); EEXIST when taken. */
export async function copyNewFile(src: string, target: string, opts: { keepTimes?: boolean } = {}): Promise<void> {
  if (await exists(target)) throw eexist(target)
  const tmp = tempBeside(target)
  try {
    await fs.copyFile(src, tmp, fs.constants.COPYFILE_EXCL)
    if (opts.keepTimes) {
      const st = await fs.stat(src)
      await fs.utimes(tmp, st.atime, st.mtime)
    }
  } catch (e) {
    await fs.rm(tmp, { force: true })
    throw e
  }
  await publishNewFile(tmp, target)
}

/** Replaces (or creates) `target` with `data` in one step: temp file beside it, then rename. */
export async function replaceFile(target: string, data: string | Uint8Array): Promise<void> {
  const tmp = tempBeside(target)
  try {
    await fs.writeFile(tmp, data, { flag: 'wx' })
    await fs.rename(tmp, target)
  } catch (e) {
    await fs.rm(tmp, { force: true })
    throw e
  }
}
