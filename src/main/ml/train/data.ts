// The training data pipeline: a dataset's items with their labels and splits, palette tokens
// cached on disk per (image content, palette, side) so epochs never decode again, seeded
// batches that are a pure function of (seed, step) (so the data position and the RNG state of a
// checkpoint are just the step), token-space augmentation and class-balanced sampling.
//
// Streaming: only the item list (ids, hashes, labels) sits in memory; a batch reads its items'
// token files (side*side uint16 each) when it is built.

import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type Database from 'better-sqlite3'
import { AppError } from '../../errors'
import { assignSplits } from '../../datasets/splits'
import { type Library } from '../../library/library'
import { MediaRepo, mediaFilePath } from '../../library/media'
import type { ResampleKernel } from '../../imaging/decode'
import { imageTokens } from '../palette/palette'
import { Prng } from '../sample/prng'

export type SplitName = 'train' | 'val' | 'test'

export interface TrainItem {
  id: string
  sha256: string
  name: string
  /** Index into the dataset's class list, -1 when unlabelled. */
  label: number
  split: SplitName
}

export interface DatasetView {
  datasetId: string
  datasetName: string
  /** Class names, in the dataset's order. */
  classes: string[]
  items: TrainItem[]
  /** sha256 over the sorted (item, content, label, split) rows: the snapshot a run trained on. */
  snapshotHash: string
  /** How many unsplit items were given a stratified seeded split for this run. */
  newlySplit: number
}

/**
 * The dataset's items with human labels and splits. Unsplit items get a stratified, seeded
 * 80/10/10 split first (persisted; items already in a split never move, so test stays test).
 */
export function loadDatasetView(db: Database.Database, datasetRef: string, seed: number): DatasetView {
  const ds = db.prepare('SELECT id, name FROM datasets WHERE id = ? OR name = ? COLLATE NOCASE ORDER BY id = ? DESC LIMIT 1').get(datasetRef, datasetRef, datasetRef) as
    | { id: string; name: string }
    | undefined
  if (!ds) throw new AppError('NOT_FOUND', `No dataset with id or name "${datasetRef}".`)
  const classes = (db.prepare('SELECT id, name FROM classes WHERE dataset_id = ? ORDER BY position').all(ds.id) as { id: string; name: string }[])
  const count = (db.prepare('SELECT count(*) AS n FROM items WHERE dataset_id = ?').get(ds.id) as { n: number }).n
  if (count === 0) throw new AppError('VALIDATION', `Dataset "${ds.name}" has no items to train on; import images into it first.`)
  const newlySplit = assignSplits(db, ds.id, { train: 0.8, val: 0.1, test: 0.1 }, seed)
  const rows = db
    .prepare(
      `SELECT i.id AS id, i.sha256 AS sha256, i.original_name AS name, h.class_id AS class_id, s.split AS split
       FROM items i
       LEFT JOIN labels h ON h.item_id = i.id AND h.source = 'human'
       LEFT JOIN splits s ON s.item_id = i.id
       WHERE i.dataset_id = ? ORDER BY i.id`
    )
    .all(ds.id) as { id: string; sha256: string; name: string; class_id: string | null; split: SplitName | null }[]
  const classIndex = new Map(classes.map((c, i) => [c.id, i]))
  const hash = createHash('sha256')
  const items: TrainItem[] = rows.map((r) => {
    const label = r.class_id !== null ? (classIndex.get(r.class_id) ?? -1) : -1
    const split = r.split ?? 'train'
    hash.update(`${r.id}\t${r.sha256}\t${label >= 0 ? classes[label]!.name : ''}\t${split}\n`)
    return { id: r.id, sha256: r.sha256, name: r.name, label, split }
  })
  return { datasetId: ds.id, datasetName: ds.name, classes: classes.map((c) => c.name), items, snapshotHash: hash.digest('hex'), newlySplit }
}

const MAGIC = 0x4b4f5454 // 'TTOK'

/**
 * Key of a palette + side + resample kernel: tokens made with it are stored under
 * cache/tokens/<key>/. The default 'linear' kernel adds nothing to the key (caches made before
 * kernels existed stay valid).
 */
export function tokenCacheKey(palette: Float32Array, side: number, kernel: ResampleKernel = 'linear'): string {
  const h = createHash('sha256')
  h.update(Buffer.from(palette.buffer, palette.byteOffset, palette.byteLength))
  h.update(`:${side}`)
  if (kernel !== 'linear') h.update(`:${kernel}`)
  return h.digest('hex').slice(0, 16)
}

/**
 * Palette tokens of dataset images, cached as files: a 12-byte header (magic, palette size,
 * side) and side*side uint16 tokens. A header that does not match the model is refused with a
 * clear message rather than read as wrong tokens.
 */
export class TokenCache {
  readonly dir: string
  private readonly media: MediaRepo

  constructor(
    private readonly library: Library,
    readonly palette: Float32Array,
    readonly side: number,
    readonly kernel: ResampleKernel = 'linear'
  ) {
    this.dir = join(library.paths.root, 'cache', 'tokens', tokenCacheKey(palette, side, kernel))
    this.media = new MediaRepo(library.db)
  }

  get paletteSize(): number {
    return this.palette.length / 3
  }

  fileOf(sha256: string): string {
    return join(this.dir, sha256.slice(0, 2), `${sha256}.tok`)
  }

  /** Tokens of an item, from the cache; undefined when not cached yet. */
  read(item: Pick<TrainItem, 'sha256' | 'name'>): Uint16Array | undefined {
    let buf: Buffer
    try {
      buf = readFileSync(this.fileOf(item.sha256))
    } catch {
      return undefined
    }
    const T = this.side * this.side
    const magic = buf.length >= 12 ? buf.readUInt32LE(0) : 0
    const k = buf.length >= 12 ? buf.readUInt32LE(4) : 0
    const side = buf.length >= 12 ? buf.readUInt32LE(8) : 0
    if (magic !== MAGIC) throw new AppError('INTERNAL', `The cached tokens of "${item.name}" (${this.fileOf(item.sha256)}) are damaged; delete that file to re-tokenize.`)
    if (k !== this.paletteSize || side !== this.side) {
      throw new AppError(
        'VALIDATION',
        `The cached tokens of "${item.name}" were made with a ${k}-colour palette at ${side}x${side}, but this model has a ${this.paletteSize}-colour palette at ${this.side}x${this.side}; delete ${this.dir} to re-tokenize.`
      )
    }
    if (buf.length !== 12 + 2 * T) throw new AppError('INTERNAL', `The cached tokens of "${item.name}" (${this.fileOf(item.sha256)}) are damaged; delete that file to re-tokenize.`)
    const out = new Uint16Array(T)
    for (let i = 0; i < T; i++) {
      const t = buf.readUInt16LE(12 + 2 * i)
      if (t >= k) throw new AppError('VALIDATION', `The cached tokens of "${item.name}" hold token ${t}, outside the ${k}-colour palette; delete ${this.dir} to re-tokenize.`)
      out[i] = t
    }
    return out
  }

  write(sha256: string, tokens: ArrayLike<number>): void {
    const T = this.side * this.side
    const buf = Buffer.alloc(12 + 2 * T)
    buf.writeUInt32LE(MAGIC, 0)
    buf.writeUInt32LE(this.paletteSize, 4)
    buf.writeUInt32LE(this.side, 8)
    for (let i = 0; i < T; i++) buf.writeUInt16LE(tokens[i] as number, 12 + 2 * i)
    const file = this.fileOf(sha256)
    mkdirSync(dirname(file), { recursive: true })
    const tmp = `${file}.${process.pid}.tmp`
    writeFileSync(tmp, buf)
    renameSync(tmp, file)
  }

  /**
   * Tokenizes every item not cached yet. Unreadable images are collected and reported together
   * in one message naming each (the run cannot be honest about its data otherwise).
   */
  async ensure(items: readonly TrainItem[], onProgress?: (done: number, total: number) => void, signal?: AbortSignal): Promise<number> {
    const bad: string[] = []
    let made = 0
    for (let i = 0; i < items.length; i++) {
      signal?.throwIfAborted()
      const it = items[i]!
      if (this.read(it)) continue
      const row = this.media.get(it.sha256)
      if (!row) {
        bad.push(`${it.name}: its file is missing from the library`)
        continue
      }
      try {
        const tokens = await imageTokens(mediaFilePath(this.library, row.path), this.palette, this.side, { label: it.name, kernel: this.kernel })
        this.write(it.sha256, tokens)
        made++
      } catch (err) {
        bad.push(`${it.name}: ${(err as Error).message}`)
      }
      onProgress?.(i + 1, items.length)
    }
    if (bad.length) {
      throw new AppError('VALIDATION', `${bad.length} image${bad.length === 1 ? '' : 's'} of the dataset cannot be read, so training stops; fix or remove ${bad.length === 1 ? 'it' : 'them'}: ${bad.join('; ')}`)
    }
    return made
  }

  /** Tokens of a cached item (ensure() first). */
  get(item: TrainItem): Uint16Array {
    const t = this.read(item)
    if (!t) throw new AppError('INTERNAL', `Tokens of "${item.name}" are not cached.`)
    return t
  }
}

export interface AugmentOptions {
  /** Mirror left-right with probability 1/2. */
  flip: boolean
  /** Shift by up to this many pixels in x and y (edge pixels repeat). 0 = none. */
  shift: number
}

/** Token-space augmentation of one side x side image, in place through a scratch copy. */
export function augmentTokens(tokens: Uint16Array | Int32Array, side: number, o: AugmentOptions, rng: Prng): void {
  const flip = o.flip && rng.next() < 0.5
  const dx = o.shift > 0 ? rng.int(2 * o.shift + 1) - o.shift : 0
  const dy = o.shift > 0 ? rng.int(2 * o.shift + 1) - o.shift : 0
  if (!flip && dx === 0 && dy === 0) return
  const src = tokens.slice()
  const clamp = (v: number): number => (v < 0 ? 0 : v >= side ? side - 1 : v)
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      let sx = clamp(x - dx)
      const sy = clamp(y - dy)
      if (flip) sx = side - 1 - sx
      tokens[y * side + x] = src[sy * side + sx] as number
    }
  }
}

/** A seeded permutation of 0..n-1 for one epoch. */
export function permutation(n: number, seed: number, epoch: number): Int32Array {
  const rng = new Prng(seed * 7919 + epoch * 104729 + 17)
  const p = new Int32Array(n)
  for (let i = 0; i < n; i++) p[i] = i
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1)
    const t = p[i] as number
    p[i] = p[j] as number
    p[j] = t
  }
  return p
}

/**
 * Which train items make the batch of `step` (indices into `items`): epochs of seeded
 * permutations, or with `balanced` a class drawn uniformly and then an item of it. A pure
 * function of (seed, step), so a checkpoint's data position is its step.
 */
export class BatchPlan {
  private perm: { epoch: number; p: Int32Array } | null = null
  private readonly byClass: number[][]

  constructor(
    readonly count: number,
    readonly batchSize: number,
    readonly seed: number,
    readonly labels: readonly number[],
    readonly balanced: boolean
  ) {
    const m = new Map<number, number[]>()
    labels.forEach((l, i) => m.set(l, [...(m.get(l) ?? []), i]))
    this.byClass = [...m.keys()].sort((a, b) => a - b).map((k) => m.get(k)!)
  }

  indices(step: number): number[] {
    const out: number[] = []
    if (this.balanced && this.byClass.length > 1) {
      const rng = new Prng(this.seed * 31337 + step)
      for (let b = 0; b < this.batchSize; b++) {
        const cls = this.byClass[rng.int(this.byClass.length)]!
        out.push(cls[rng.int(cls.length)]!)
      }
      return out
    }
    for (let b = 0; b < this.batchSize; b++) {
      const k = step * this.batchSize + b
      const epoch = Math.floor(k / this.count)
      if (!this.perm || this.perm.epoch !== epoch) this.perm = { epoch, p: permutation(this.count, this.seed, epoch) }
      out.push(this.perm.p[k % this.count] as number)
    }
    return out
  }
}
