// One image file into the library: read, hash, check it decodes, store it
// content-addressed (or keep it where it is), make a thumbnail (JPEG, or WebP with alpha) and the
// perceptual hashes. A file that cannot be used throws IngestError with a reason
// the import's error list shows; nothing here stops a batch.

import { createHash, randomBytes } from 'node:crypto'
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import sharp from 'sharp'
import { type Library } from '../library/library'
import type Database from 'better-sqlite3'
import { type MediaRow, isReferencedPath } from '../library/media'
import { nowIso } from '../library/util'
import { perceptualHashes } from './phash'
import { describeFsError } from './scan'

export class IngestError extends Error {}

export const THUMB_SIDE = 256
export const MAX_PIXELS = 100_000_000

/** Raster formats sharp reads that we accept, with their extension and MIME type. */
const FORMATS: Record<string, { ext: string; mime: string }> = {
  jpeg: { ext: 'jpg', mime: 'image/jpeg' },
  png: { ext: 'png', mime: 'image/png' },
  webp: { ext: 'webp', mime: 'image/webp' },
  gif: { ext: 'gif', mime: 'image/gif' },
  tiff: { ext: 'tif', mime: 'image/tiff' },
  avif: { ext: 'avif', mime: 'image/avif' },
  heif: { ext: 'heic', mime: 'image/heif' }
}

export interface Ingested {
  sha256: string
  bytes: number
  format: string
  width: number
  height: number
  /** False when the same content was already in the library. */
  stored: boolean
  /**
   * Writes the media, thumbnail and hash rows; the caller runs it inside its batch
   * transaction (the files are already in place). Returns whether a new file was stored.
   */
  record: () => boolean
}

const cleanReason = (e: unknown): string => (e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ').trim().replace(/\.$/, '')

// Folders known to exist (media/ab, thumbs/ab: 256 of each), so a batch does not ask again per file.
const madeDirs = new Set<string>()

async function writeInPlace(abs: string, data: Uint8Array): Promise<void> {
  const dir = dirname(abs)
  if (!madeDirs.has(dir)) {
    await mkdir(dir, { recursive: true })
    madeDirs.add(dir)
  }
  try {
    await writeFile(abs, data)
  } catch (e) {
    // No half-written thumbnail stays (a full disk, say); its row is never recorded either.
    await rm(abs, { force: true })
    throw e
  }
}

/** Temp file beside the target, then rename: a reader never sees half a file. Off the main thread. */
async function writeAtomic(abs: string, data: Uint8Array): Promise<void> {
  const dir = dirname(abs)
  if (!madeDirs.has(dir)) {
    await mkdir(dir, { recursive: true })
    madeDirs.add(dir)
  }
  const tmp = `${abs}.${randomBytes(6).toString('hex')}.tmp`
  try {
    await writeFile(tmp, data, { flag: 'wx' })
    await rename(tmp, abs)
  } catch (e) {
    await rm(tmp, { force: true })
    throw e
  }
}

/**
 * Decodes far enough to know the file is whole; returns the facts and the thumbnail. Exported for
 * bench:import, which times it alone: the sharp work every imported file needs.
 */
export async function examine(data: Buffer): Promise<{ format: string; width: number; height: number; thumb: Buffer; thumbExt: 'jpg' | 'webp'; hashes: { dhash: string; phash: string } }> {
  let meta
  try {
    meta = await sharp(data, { limitInputPixels: false }).metadata()
  } catch (e) {
    throw new IngestError(`is not an image this studio can read (${cleanReason(e)})`)
  }
  let format = meta.format as string
  if (format === 'heif' && meta.compression === 'av1') format = 'avif'
  if (!FORMATS[format]) throw new IngestError(`is a ${format} file; import JPEG, PNG, WebP, GIF, TIFF or AVIF images`)
  const w = meta.width
  const h = meta.height
  if (!w || !h) throw new IngestError('has no image dimensions')
  if (w * h > MAX_PIXELS) throw new IngestError(`is ${w}x${h} pixels, more than the limit of ${MAX_PIXELS} pixels`)
  const orientation = meta.orientation ?? 1
  const swapped = orientation >= 5
  let small
  try {
    // One decode (first frame of a GIF/animated WebP; JPEGs shrunk on load), shrunk for thumbnail
    // and hashes. Auto-orientation only when the EXIF asks for it: the rotate step costs about
    // as much as the decode itself even when it has nothing to do.
    const img = sharp(data, { limitInputPixels: MAX_PIXELS, failOn: 'warning', pages: 1 })
    small = await (orientation > 1 ? img.rotate() : img)
      // Bilinear: after JPEG shrink-on-load the last step is a small reduction, where it looks
      // the same as lanczos3 and costs about a third less of the whole thumbnail.
      .resize(THUMB_SIDE, THUMB_SIDE, { fit: 'inside', withoutEnlargement: true, kernel: 'linear' })
      .raw()
      .toBuffer({ resolveWithObject: true })
  } catch (e) {
    throw new IngestError(`could not be decoded; it may be truncated or damaged (${cleanReason(e)})`)
  }
  const raw = { width: small.info.width, height: small.info.height, channels: small.info.channels }
  const hashes = perceptualHashes({ data: small.data, ...raw })
  // Opaque images get a JPEG thumbnail: libjpeg-turbo encodes a 256 px thumbnail in about half
  // the time of the fastest WebP (effort 0), at about the same size. Images with an alpha channel
  // keep WebP, which keeps the transparency.
  const alpha = raw.channels === 2 || raw.channels === 4
  const thumb = alpha ? await sharp(small.data, { raw }).webp({ quality: 80, effort: 0 }).toBuffer() : await sharp(small.data, { raw }).jpeg({ quality: 82 }).toBuffer()
  return { format, width: swapped ? h : w, height: swapped ? w : h, thumb, thumbExt: alpha ? 'webp' : 'jpg', hashes }
}

interface Statements {
  media: Database.Statement
  info: Database.Statement
  put: Database.Statement
  adopt: Database.Statement
  thumb: Database.Statement
  putInfo: Database.Statement
}
// Prepared once per database: an import runs these for every file.
const statements = new WeakMap<Database.Database, Statements>()
function statementsOf(db: Database.Database): Statements {
  let s = statements.get(db)
  if (!s) {
    s = {
      media: db.prepare('SELECT * FROM media WHERE sha256 = ?'),
      info: db.prepare('SELECT format FROM media_info WHERE sha256 = ?'),
      put: db.prepare(
        `INSERT INTO media (sha256, path, mime, bytes, width, height, thumb_path, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (sha256) DO NOTHING`
      ),
      adopt: db.prepare('UPDATE media SET path = ? WHERE sha256 = ?'),
      thumb: db.prepare('UPDATE media SET thumb_path = ? WHERE sha256 = ?'),
      putInfo: db.prepare(
        `INSERT INTO media_info (sha256, format, dhash, phash) VALUES (?, ?, ?, ?)
         ON CONFLICT (sha256) DO UPDATE SET format = excluded.format, dhash = excluded.dhash, phash = excluded.phash`
      )
    }
    statements.set(db, s)
  }
  return s
}

export async function ingestFile(library: Library, path: string, options: { reference?: boolean } = {}): Promise<Ingested> {
  let data: Buffer
  try {
    data = await readFile(path)
  } catch (e) {
    throw new IngestError(describeFsError(e))
  }
  if (data.length === 0) throw new IngestError('is empty (0 bytes)')
  const sha256 = createHash('sha256').update(data).digest('hex')
  const st = statementsOf(library.db)
  const known = st.media.get(sha256) as MediaRow | undefined
  const info = st.info.get(sha256) as { format: string } | undefined
  // Bytes known only as a referenced file outside the library, imported now as a copy: store
  // the copy and point the row at it, so this dataset does not depend on the other's source.
  const adopt = !!known && isReferencedPath(known.path) && !options.reference
  if (known && !adopt && known.thumb_path && info && known.width && known.height) {
    return { sha256, bytes: known.bytes, format: info.format, width: known.width, height: known.height, stored: false, record: () => false }
  }
  const facts = await examine(data)
  const f = FORMATS[facts.format]!
  const thumbRel = `thumbs/${sha256.slice(0, 2)}/${sha256}.${facts.thumbExt}`
  // A thumbnail is derived data: written in place (one write instead of write + rename);
  // its row is only recorded after the write finished, and a rerun rewrites it.
  await writeInPlace(library.resolveInside(thumbRel), facts.thumb)
  const rel = options.reference ? path : `media/${sha256.slice(0, 2)}/${sha256}.${f.ext}`
  // The same layout as storeBytes (media/ab/<sha256>.<ext>), written without blocking the loop.
  // Two files with the same bytes in one batch both write it: same content, same name, harmless.
  if ((!known || adopt) && !options.reference) await writeAtomic(library.resolveInside(rel), data)
  const record = (): boolean => {
    const isNew = st.put.run(sha256, rel, f.mime, data.length, facts.width, facts.height, thumbRel, nowIso()).changes > 0
    if (!isNew) {
      if (adopt) st.adopt.run(rel, sha256)
      st.thumb.run(thumbRel, sha256)
    }
    st.putInfo.run(sha256, facts.format, facts.hashes.dhash, facts.hashes.phash)
    return (isNew || adopt) && !options.reference
  }
  return { sha256, bytes: data.length, format: facts.format, width: facts.width, height: facts.height, stored: (!known || adopt) && !options.reference, record }
}
