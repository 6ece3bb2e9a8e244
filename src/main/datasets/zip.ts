// A small zip writer: entries stored or deflated (node:zlib raw deflate), CRC-32 of our own,
// written one entry at a time to a file (the archive is never held in memory). No ZIP64: every
// size and offset must fit 32 bits and there are at most 65,535 entries; anything larger is
// refused with a sentence instead of writing a broken archive. Names are UTF-8 (flag bit 11).

import { type FileHandle, open, rm } from 'node:fs/promises'
import { promisify } from 'node:util'
import { deflateRaw } from 'node:zlib'
import { ZIP_MAX_BYTES, ZIP_MAX_ENTRIES } from '../../shared/snapshots-contract'

const deflate = promisify(deflateRaw)

const CRC_TABLE = (() => {
  const t = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    t[n] = c >>> 0
  }
  return t
})()

/** CRC-32 (IEEE 802.3, as zip and PNG use it). */
export function crc32(data: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8)
  return ~c >>> 0
}

export class ZipLimitError extends Error {}

/** Bytes an archive of these entries needs at most (data stored, headers, directory). */
export function zipSizeBound(entries: { name: string; bytes: number }[]): number {
  let total = 22
  for (const e of entries) total += e.bytes + 30 + 46 + 2 * Buffer.byteLength(e.name)
  return total
}

/** Throws ZipLimitError when entries this big or this many would need ZIP64. */
export function checkZipLimits(entries: { name: string; bytes: number }[]): void {
  if (entries.length > ZIP_MAX_ENTRIES)
    throw new ZipLimitError(`A zip without ZIP64 holds at most ${ZIP_MAX_ENTRIES.toLocaleString('en')} files and this export has ${entries.length.toLocaleString('en')}; export as a folder or CSV instead.`)
  const bound = zipSizeBound(entries)
  if (bound > ZIP_MAX_BYTES)
    throw new ZipLimitError(`This export needs about ${(bound / 2 ** 30).toFixed(1)} GiB but a zip without ZIP64 holds at most 4 GiB; export as a folder or CSV instead.`)
}

interface CentralEntry {
  name: Buffer
  method: number
  crc: number
  compressed: number
  size: number
  offset: number
}

function dosDateTime(d: Date): { time: number; date: number } {
  const year = Math.max(1980, d.getFullYear())
  return {
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | Math.floor(d.getSeconds() / 2),
    date: ((year - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate()
  }
}

export class ZipWriter {
  private offset = 0
  private readonly entries: CentralEntry[] = []
  private readonly names = new Set<string>()
  private readonly stamp: { time: number; date: number }

  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    when: Date
  ) {
    this.stamp = dosDateTime(when)
  }

  /** Creates the archive file; refuses (EEXIST) to replace one that exists. */
  static async create(path: string, when = new Date()): Promise<ZipWriter> {
    return new ZipWriter(path, await open(path, 'wx'), when)
  }

  get bytesWritten(): number {
    return this.offset
  }

  private async write(buf: Buffer): Promise<void> {
    let done = 0
    while (done < buf.length) done += (await this.fh.write(buf, done, buf.length - done, null)).bytesWritten
    this.offset += buf.length
  }

  /**
   * Adds one file. `compress`: deflate it, kept only when smaller (already-compressed images are
   * stored as they are). Names use '/' and must be unique and relative.
   */
  async add(name: string, data: Uint8Array, compress = false): Promise<void> {
    if (name === '' || name.startsWith('/') || name.split('/').includes('..')) throw new Error(`Bad zip entry name "${name}"`)
    if (this.names.has(name)) throw new Error(`The zip already has an entry "${name}"`)
    if (this.entries.length >= ZIP_MAX_ENTRIES) throw new ZipLimitError(`A zip without ZIP64 holds at most ${ZIP_MAX_ENTRIES} files.`)
    const nameBuf = Buffer.from(name, 'utf8')
    const raw = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
    let body = raw
    let method = 0
    if (compress) {
      const z = await deflate(raw, { level: 6 })
      if (z.length < raw.length) {
        body = z
        method = 8
      }
    }
    const crc = crc32(raw)
    const end = this.offset + 30 + nameBuf.length + body.length
    if (raw.length >= ZIP_MAX_BYTES || end + 46 * (this.entries.length + 1) + 22 > ZIP_MAX_BYTES)
      throw new ZipLimitError('The zip would pass 4 GiB, the limit without ZIP64; export as a folder or CSV instead.')
    const h = Buffer.alloc(30)
    h.writeUInt32LE(0x04034b50, 0)
    h.writeUInt16LE(method === 8 ? 20 : 10, 4) // version needed
    h.writeUInt16LE(0x0800, 6) // UTF-8 names
    h.writeUInt16LE(method, 8)
    h.writeUInt16LE(this.stamp.time, 10)
    h.writeUInt16LE(this.stamp.date, 12)
    h.writeUInt32LE(crc, 14)
    h.writeUInt32LE(body.length, 18)
    h.writeUInt32LE(raw.length, 22)
    h.writeUInt16LE(nameBuf.length, 26)
    h.writeUInt16LE(0, 28)
    const offset = this.offset
    await this.write(Buffer.concat([h, nameBuf]))
    await this.write(body)
    this.entries.push({ name: nameBuf, method, crc, compressed: body.length, size: raw.length, offset })
    this.names.add(name)
  }

  /** Writes the central directory and closes the file. */
  async close(): Promise<void> {
    const start = this.offset
    for (const e of this.entries) {
      const c = Buffer.alloc(46)
      c.writeUInt32LE(0x02014b50, 0)
      c.writeUInt16LE((3 << 8) | 20, 4) // made by: Unix, 2.0
      c.writeUInt16LE(e.method === 8 ? 20 : 10, 6)
      c.writeUInt16LE(0x0800, 8)
      c.writeUInt16LE(e.method, 10)
      c.writeUInt16LE(this.stamp.time, 12)
      c.writeUInt16LE(this.stamp.date, 14)
      c.writeUInt32LE(e.crc, 16)
      c.writeUInt32LE(e.compressed, 20)
      c.writeUInt32LE(e.size, 24)
      c.writeUInt16LE(e.name.length, 28)
      // extra 0, comment 0, disk 0, internal attrs 0
      c.writeUInt32LE((0o100644 << 16) >>> 0, 38) // external attrs: a regular file, rw-r--r--
      c.writeUInt32LE(e.offset, 42)
      await this.write(Buffer.concat([c, e.name]))
    }
    const size = this.offset - start
    const end = Buffer.alloc(22)
    end.writeUInt32LE(0x06054b50, 0)
    end.writeUInt16LE(this.entries.length, 8)
    end.writeUInt16LE(this.entries.length, 10)
    end.writeUInt32LE(size, 12)
    end.writeUInt32LE(start, 16)
    await this.write(end)
    await this.fh.close()
  }

  /** Closes and removes a half-written archive. */
  async abort(): Promise<void> {
    await this.fh.close().catch(() => undefined)
    await rm(this.path, { force: true })
  }
}
