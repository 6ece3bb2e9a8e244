// Export formats: a CSV export imports back to the same items, labels and splits; a zip holds
// the ImageFolder tree and a labels.csv, passes `unzip -t` (where installed) and parses by its
// central directory to the library's exact bytes; nothing is ever overwritten (numbered names);
// archives that would need ZIP64 are refused before anything is written.

import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { inflateRawSync } from 'node:zlib'
import { afterEach, describe, expect, it } from 'vitest'
import { checkZipLimits, crc32, ZipLimitError, ZipWriter } from '../../../src/main/datasets/zip'
import { setupServices } from '../../helpers/services'
import { picture } from './images'

let cleanups: (() => void | Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.reverse()) await c()
  cleanups = []
})

/** Entries of a zip read through its end record and central directory (as unzip does), with their bytes. */
function readZip(buf: Buffer): Map<string, Buffer> {
  const eocd = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]))
  expect(eocd).toBe(buf.length - 22)
  const count = buf.readUInt16LE(eocd + 10)
  let p = buf.readUInt32LE(eocd + 16)
  expect(p + buf.readUInt32LE(eocd + 12)).toBe(eocd)
  const out = new Map<string, Buffer>()
  for (let i = 0; i < count; i++) {
    expect(buf.readUInt32LE(p)).toBe(0x02014b50)
    const method = buf.readUInt16LE(p + 10)
    const crc = buf.readUInt32LE(p + 16)
    const csize = buf.readUInt32LE(p + 20)
    const size = buf.readUInt32LE(p + 24)
    const nlen = buf.readUInt16LE(p + 28)
    const elen = buf.readUInt16LE(p + 30)
    const clen = buf.readUInt16LE(p + 32)
    const off = buf.readUInt32LE(p + 42)
    const name = buf.subarray(p + 46, p + 46 + nlen).toString('utf8')
    expect(buf.readUInt32LE(off)).toBe(0x04034b50)
    const start = off + 30 + buf.readUInt16LE(off + 26) + buf.readUInt16LE(off + 28)
    const raw = buf.subarray(start, start + csize)
    const data = method === 8 ? inflateRawSync(raw) : Buffer.from(raw)
    expect(data.length).toBe(size)
    expect(crcBitwise(data)).toBe(crc)
    out.set(name, data)
    p += 46 + nlen + elen + clen
  }
  return out
}

/** An independent bit-by-bit CRC-32 to check the table-driven one. */
function crcBitwise(d: Uint8Array): number {
  let c = 0xffffffff
  for (const b of d) {
    c ^= b
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1
  }
  return (c ^ 0xffffffff) >>> 0
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')
const hasUnzip = (() => {
  try {
    execFileSync('unzip', ['-v'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})()

async function dataset(s: ReturnType<typeof setupServices>): Promise<void> {
  const files: [string, number][] = [
    ['train/cat/a.png', 1],
    ['train/cat/b, "q".png', 2],
    ['train/dog/a.png', 3], // same file name as a cat: flat CSV names must not collide
    ['val/dog/ü 猫.png', 4],
    ['test/cat/c.png', 5]
  ]
  for (const [rel, seed] of files) {
    mkdirSync(join(s.src, rel, '..'), { recursive: true })
    writeFileSync(join(s.src, rel), await picture(seed, 'png', [40, 30]))
  }
  writeFileSync(join(s.src, 'loose.png'), await picture(6, 'png', [40, 30]))
  const job = await s.call('datasets.import', { name: 'Mixed', source: s.src, splitFromFolders: true })
  expect((await s.ctx.jobs.wait(job.id)).state).toBe('done')
}

const facts = async (s: ReturnType<typeof setupServices>, ref: string) =>
  (await s.call('items.list', { dataset: ref, limit: 100 })).items.map((i) => [i.sha256, i.className, i.split]).sort()

describe('export formats', () => {
  it('csv: labels.csv + images/ imports back to the same items, labels and splits; a second export gets numbered names', async () => {
    const s = setupServices(cleanups)
    await dataset(s)
    const out = join(s.dir, 'csv-out')
    const r = await s.call('datasets.export', { ref: 'Mixed', folder: out, format: 'csv' })
    expect(r).toMatchObject({ format: 'csv', folder: out, file: join(out, 'labels.csv'), files: 6, skipped: [] })
    expect(readdirSync(join(out, 'images')).length).toBe(6)
    const job = await s.call('datasets.import', { name: 'Back', source: r.file! })
    const done = await s.ctx.jobs.wait(job.id)
    expect(done.state, done.error ?? '').toBe('done')
    expect(await facts(s, 'Back')).toEqual(await facts(s, 'Mixed'))

    const again = await s.call('datasets.export', { ref: 'Mixed', folder: out, format: 'csv' })
    expect(again.file).toBe(join(out, 'labels-2.csv'))
    expect(again.files).toBe(6)
    expect(readdirSync(join(out, 'images')).length).toBe(12)
    // The first export's files are untouched: its CSV still imports to the same set.
    const j3 = await s.call('datasets.import', { name: 'Again', source: again.file! })
    expect((await s.ctx.jobs.wait(j3.id)).state).toBe('done')
    expect(await facts(s, 'Again')).toEqual(await facts(s, 'Mixed'))
  })

  it('zip: the ImageFolder tree and labels.csv, byte-exact, readable by unzip; never replaces an archive', async () => {
    const s = setupServices(cleanups)
    await dataset(s)
    const target = join(s.dir, 'z', 'mixed.zip')
    const r = await s.call('datasets.export', { ref: 'Mixed', folder: target, format: 'zip' })
    expect(r).toMatchObject({ format: 'zip', file: target, files: 6, skipped: [] })
    const entries = readZip(readFileSync(target))
    expect([...entries.keys()].sort()).toEqual(
      ['_unsplit/_unlabelled/loose.png', 'labels.csv', 'test/cat/c.png', 'train/cat/a.png', 'train/cat/b, _q_.png', 'train/dog/a.png', 'val/dog/ü 猫.png'].sort()
    )
    const items = (await s.call('items.list', { dataset: 'Mixed', limit: 100 })).items
    const byHash = new Map(items.map((i) => [i.sha256, i]))
    for (const [name, data] of entries) if (name !== 'labels.csv') expect(byHash.has(sha(data)), name).toBe(true)
    const csv = entries.get('labels.csv')!.toString('utf8').trim().split('\n')
    expect(csv[0]).toBe('path,label,split')
    expect(csv).toContain('"train/cat/b, _q_.png",cat,train')
    expect(csv).toContain('_unsplit/_unlabelled/loose.png,,')
    if (hasUnzip) {
      const t = execFileSync('unzip', ['-t', target], { encoding: 'utf8' })
      expect(t).toMatch(/No errors detected/)
      // Unpacked, its labels.csv imports back to the same items, labels and splits.
      const dir = join(s.dir, 'unzipped')
      execFileSync('unzip', ['-q', target, '-d', dir])
      const j = await s.call('datasets.import', { name: 'FromZip', source: join(dir, 'labels.csv') })
      expect((await s.ctx.jobs.wait(j.id)).state).toBe('done')
      expect(await facts(s, 'FromZip')).toEqual(await facts(s, 'Mixed'))
    }
    // A second export into the same folder (no .zip name): <dataset>.zip, then numbered.
    const r2 = await s.call('datasets.export', { ref: 'Mixed', folder: join(s.dir, 'z'), format: 'zip' })
    expect(r2.file).toBe(join(s.dir, 'z', 'Mixed.zip'))
    const r3 = await s.call('datasets.export', { ref: 'Mixed', folder: target, format: 'zip' })
    expect(r3.file).toBe(join(s.dir, 'z', 'mixed-2.zip'))
    expect(readZip(readFileSync(target)).size).toBe(7) // the first archive is untouched
  })

  it('folder export still never overwrites (skipped list); zip limits are refused before writing', async () => {
    const s = setupServices(cleanups)
    await dataset(s)
    const out = join(s.dir, 'tree')
    expect((await s.call('datasets.export', { ref: 'Mixed', folder: out })).files).toBe(6)
    const again = await s.call('datasets.export', { ref: 'Mixed', folder: out, format: 'folder' })
    expect(again.files).toBe(0)
    expect(again.skipped).toHaveLength(6)
    expect(again.skipped[0]!.reason).toBe('already exists; it was not overwritten')

    expect(() => checkZipLimits([{ name: 'big.bin', bytes: 4 * 2 ** 30 }])).toThrow(ZipLimitError)
    expect(() => checkZipLimits([{ name: 'big.bin', bytes: 4 * 2 ** 30 }])).toThrow(/at most 4 GiB/)
    expect(() => checkZipLimits(Array.from({ length: 70_000 }, (_, i) => ({ name: `f${i}`, bytes: 1 })))).toThrow(/at most 65,535 files/)
    expect(() => checkZipLimits([{ name: 'ok.png', bytes: 1000 }])).not.toThrow()
  })

  it('the zip writer: store and deflate, CRC-32 check values, refuses duplicate and unsafe names and an existing file', async () => {
    const s = setupServices(cleanups)
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926)
    expect(crc32(Buffer.alloc(0))).toBe(0)
    const file = join(s.dir, 'w.zip')
    const z = await ZipWriter.create(file)
    const text = Buffer.from('hello '.repeat(1000))
    const noise = createHash('sha512').update('x').digest()
    await z.add('a/text.txt', text, true)
    await z.add('noise.bin', noise, true) // incompressible: stored
    await expect(z.add('a/text.txt', text)).rejects.toThrow(/already has an entry/)
    await expect(z.add('../evil', text)).rejects.toThrow(/Bad zip entry name/)
    await z.close()
    const buf = readFileSync(file)
    expect(buf.length).toBeLessThan(text.length) // the text was deflated
    const e = readZip(buf)
    expect(e.get('a/text.txt')!.equals(text)).toBe(true)
    expect(e.get('noise.bin')!.equals(noise)).toBe(true)
    await expect(ZipWriter.create(file)).rejects.toThrow(/EEXIST/)
    expect(existsSync(file)).toBe(true)
  })
})
