// A full disk during import and export: the write that hits ENOSPC is reported as a
// sentence, and nothing half-written is left (no partial media or thumbnail in the library,
// no partial export). The disk is simulated at the fs seam: node:fs/promises is wrapped so
// that writes under one folder get a byte budget, and the write that passes it writes what
// fits and then fails with ENOSPC, as a real full disk does. SQLite writes are not limited.

import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import type * as FsPromises from 'node:fs/promises'
import sharp from 'sharp'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { type AppContext, createContext } from '../../src/main/context'
import { createDispatcher, type Dispatch } from '../../src/main/host/dispatch'
import { createServices } from '../../src/main/services'
import { tempDir } from '../unit/library/tmp'

const disk = vi.hoisted(() => ({ root: '', budget: Number.POSITIVE_INFINITY, hits: 0 }))

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof FsPromises>()
  const limited = (p: unknown): boolean => disk.root !== '' && typeof p === 'string' && p.startsWith(disk.root)
  const enospc = (p: string): NodeJS.ErrnoException =>
    Object.assign(new Error(`ENOSPC: no space left on device, write '${p}'`), { code: 'ENOSPC', errno: -28, syscall: 'write', path: p })
  /** Takes n bytes from the budget; returns how many fit. */
  const take = (n: number): number => {
    const fit = Math.min(n, disk.budget)
    disk.budget -= fit
    return fit
  }
  const writeFile: typeof real.writeFile = async (file, data, options) => {
    if (!limited(file) || typeof data !== 'string' && !(data instanceof Uint8Array)) return real.writeFile(file, data, options)
    const buf = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength)
    const fit = take(buf.length)
    await real.writeFile(file, buf.subarray(0, fit), options)
    if (fit < buf.length) {
      disk.hits++
      throw enospc(file as string)
    }
  }
  const copyFile: typeof real.copyFile = async (src, dest, mode) => {
    if (!limited(dest)) return real.copyFile(src, dest, mode)
    const data = await real.readFile(src)
    const fit = take(data.length)
    await real.writeFile(dest, data.subarray(0, fit), { flag: mode && mode & real.constants.COPYFILE_EXCL ? 'wx' : 'w' })
    if (fit < data.length) {
      disk.hits++
      throw enospc(dest as string)
    }
  }
  const open: typeof real.open = async (file, flags, mode) => {
    const fh = await real.open(file, flags, mode)
    if (!limited(file)) return fh
    const write = fh.write.bind(fh) as (buf: Buffer, offset: number, length: number, position: number | null) => Promise<{ bytesWritten: number; buffer: Buffer }>
    return new Proxy(fh, {
      get(target, prop) {
        if (prop === 'write')
          return async (buf: Buffer, offset = 0, length = buf.length - offset, position: number | null = null) => {
            const fit = take(length)
            if (fit === 0 && length > 0) {
              disk.hits++
              throw enospc(file as string)
            }
            return write(buf, offset, fit, position)
          }
        const v = Reflect.get(target, prop, target) as unknown
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v
      }
    })
  }
  return { ...real, writeFile, copyFile, open, default: { ...real, writeFile, copyFile, open } }
})

let ctx: AppContext
let dispatch: Dispatch
let cleanup: () => void
let dir: string
let src: string

/** Every file under `root`, relative, sorted. */
function filesUnder(root: string): string[] {
  if (!existsSync(root)) return []
  const out: string[] = []
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name)
      if (e.isDirectory()) walk(p)
      else out.push(relative(root, p))
    }
  }
  walk(root)
  return out.sort()
}

async function call<T>(method: string, input: unknown): Promise<T> {
  const r = await dispatch(method, input)
  if (!r.ok) throw Object.assign(new Error(r.error.message), { code: r.error.code })
  return r.value as T
}

beforeEach(async () => {
  const t = tempDir()
  dir = t.dir
  cleanup = t.cleanup
  src = join(dir, 'src')
  for (const cls of ['cat', 'dog']) {
    mkdirSync(join(src, cls), { recursive: true })
    for (let i = 0; i < 6; i++) {
      const raw = Buffer.alloc(48 * 48 * 3)
      for (let j = 0; j < raw.length; j++) raw[j] = (j * (7 + i) + (cls === 'cat' ? 31 : 97) * (i + 1)) & 255
      await sharp(raw, { raw: { width: 48, height: 48, channels: 3 } }).png().toFile(join(src, cls, `${cls}-${i}.png`))
    }
  }
  ctx = createContext({ libraryDir: join(dir, 'lib'), host: 'cli' })
  dispatch = createDispatcher(createServices(ctx))
})
afterEach(async () => {
  disk.root = ''
  disk.budget = Number.POSITIVE_INFINITY
  disk.hits = 0
  await ctx?.close()
  cleanup?.()
})

/** The library holds only whole files: media named by their hash, thumbnails that decode, no temporary files. */
async function expectLibraryWhole(): Promise<void> {
  const lib = ctx.library.paths
  const media = filesUnder(lib.media)
  for (const f of media) {
    expect(f, 'temporary file left').not.toMatch(/\.tmp$/)
    const sha = /([0-9a-f]{64})\.\w+$/.exec(f)?.[1]
    expect(sha, f).toBeDefined()
    expect(createHash('sha256').update(readFileSync(join(lib.media, f))).digest('hex'), `partial media file ${f}`).toBe(sha)
  }
  for (const f of filesUnder(lib.thumbs)) {
    expect(f).not.toMatch(/\.tmp$/)
    await expect(sharp(join(lib.thumbs, f)).raw().toBuffer(), `partial thumbnail ${f}`).resolves.toBeInstanceOf(Buffer)
  }
  // Every recorded file is there, whole.
  const rows = ctx.library.db.prepare('SELECT path, bytes, thumb_path FROM media').all() as { path: string; bytes: number; thumb_path: string | null }[]
  for (const r of rows) {
    expect(statSync(ctx.library.resolveInside(r.path)).size).toBe(r.bytes)
    if (r.thumb_path) expect(existsSync(ctx.library.resolveInside(r.thumb_path))).toBe(true)
  }
  expect(ctx.library.db.pragma('integrity_check', { simple: true })).toBe('ok')
}

describe('disk full during import', () => {
  it('fails the job with a sentence, leaves no partial file, and a later import adds each file exactly once', async () => {
    disk.root = ctx.library.paths.root
    disk.budget = 12_000 // a few images and thumbnails fit
    const job = await call<{ id: string }>('datasets.import', { name: 'Pets', source: src })
    ctx.jobs.start()
    const final = await ctx.jobs.wait(job.id)
    expect(disk.hits).toBeGreaterThan(0)
    expect(final.state).toBe('failed')
    expect(final.error).toMatch(/The disk is full: importing into "Pets" stopped while writing .*lib/)
    expect(final.error).toMatch(/free some space/)
    await expectLibraryWhole()
    const dataset = await call<{ id: string }>('datasets.get', { ref: 'Pets' })
    const before = await call<{ total: number }>('items.list', { dataset: dataset.id })
    expect(before.total).toBeLessThan(12)

    // Space again: the same import carries on; nothing is lost or doubled.
    disk.budget = Number.POSITIVE_INFINITY
    const again = ctx.jobs.enqueue('datasets.import', { datasetId: dataset.id, source: src })
    expect((await ctx.jobs.wait(again.id)).state).toBe('done')
    const after = await call<{ total: number; items: { name: string; className: string | null }[] }>('items.list', { dataset: dataset.id, limit: 100 })
    expect(after.total).toBe(12)
    expect(new Set(after.items.map((i) => i.name)).size).toBe(12)
    expect(after.items.every((i) => i.className === (i.name.startsWith('cat') ? 'cat' : 'dog'))).toBe(true)
    await expectLibraryWhole()
  })
})

describe('disk full during export', () => {
  let datasetId: string
  const halfTheImages = (): number => Math.floor((ctx.library.db.prepare('SELECT sum(bytes) AS n FROM media').get() as { n: number }).n / 2)
  beforeEach(async () => {
    const job = await call<{ id: string }>('datasets.import', { name: 'Pets', source: src })
    ctx.jobs.start()
    expect((await ctx.jobs.wait(job.id)).state).toBe('done')
    datasetId = (await call<{ id: string }>('datasets.get', { ref: 'Pets' })).id
  })

  for (const format of ['folder', 'csv', 'zip'] as const) {
    it(`${format}: reported as a sentence, and nothing of the export is left`, async () => {
      const out = join(dir, 'exports', 'pets')
      mkdirSync(join(dir, 'exports'), { recursive: true })
      disk.root = join(dir, 'exports')
      disk.budget = halfTheImages() // some files fit, then the disk is full
      const r = await dispatch('datasets.export', { ref: datasetId, folder: out, format })
      expect(disk.hits, JSON.stringify(r)).toBeGreaterThan(0)
      expect(r).toMatchObject({ ok: false, error: { code: 'UNSUPPORTED' } })
      expect(!r.ok && r.error.message).toMatch(/The disk is full: exporting "Pets" stopped while writing .*exports/)
      expect(filesUnder(join(dir, 'exports'))).toEqual([])
      expect(readdirSync(join(dir, 'exports'))).toEqual([])

      // With space, the same export is whole.
      disk.budget = Number.POSITIVE_INFINITY
      const ok = await call<{ files: number; skipped: unknown[] }>('datasets.export', { ref: datasetId, folder: out, format })
      expect(ok.files).toBe(12)
      expect(ok.skipped).toEqual([])
    })
  }

  it('a folder that already held files keeps them; only what the export wrote goes', async () => {
    const out = join(dir, 'exports', 'pets')
    mkdirSync(join(out, 'cat'), { recursive: true })
    const mine = join(out, 'cat', 'mine.txt')
    await import('node:fs/promises').then((fs) => fs.writeFile(mine, 'keep me'))
    disk.root = join(dir, 'exports')
    disk.budget = halfTheImages()
    const r = await dispatch('datasets.export', { ref: datasetId, folder: out, format: 'folder' })
    expect(r.ok).toBe(false)
    expect(filesUnder(join(dir, 'exports'))).toEqual([join('pets', 'cat', 'mine.txt')])
    expect(readFileSync(mine, 'utf8')).toBe('keep me')
  })
})
