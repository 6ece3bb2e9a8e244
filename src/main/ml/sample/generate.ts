// Image generation: token by token, batched, with a KV cache (or naive full recomputation, for
// comparison and as a reference), class conditioning, completion of a given image's top rows,
// a progress callback per finished row and AbortSignal cancellation.
//
// The KV cache lives in preallocated Float32Arrays per layer (keys transposed, (B, H, hd, S);
// values (B, H, S, hd)) that are fed to the decode-step graph without copying; each step returns
// only the new key and value of every layer (B * C floats each), which are written in place.
// Capacity S grows through powers of two, so early steps do not attend over empty slots.

import { cacheCapacities } from '../pixelgpt/graphs'
import { type PixelGptModel, classToken, hasLmHead, seqLen, sosToken } from '../pixelgpt/model'
import { type PixelGptRunner } from '../pixelgpt/runner'
import { type Feed, toOrt } from '../runtime'
import { type SamplingParams, imagePrng, sampleToken, validateSampling } from './sampler'

export class GenerationCancelled extends Error {
  readonly code = 'CANCELLED' as const
  constructor() {
    super('Generation was cancelled.')
    this.name = 'GenerationCancelled'
  }
}

export interface RowProgress {
  /** Index of the first image of this batch among all images. */
  batchStart: number
  /** Row just finished (0-based) and the number of rows. */
  row: number
  rows: number
  /** The batch's images so far (rows after `row` are not yet generated). */
  images: Int32Array[]
  /** Tokens finished over the whole request, and the total. */
  done: number
  total: number
}

export interface GenerateOptions extends SamplingParams {
  count: number
  seed: number
  /** PRNG stream of the first image (default 0): image i uses stream indexOffset + i, so image 5 of a request can be made alone. */
  indexOffset?: number
  /** Condition on this class (index into model.conditionClasses). */
  classIndex?: number
  /** Keep the top `keepRows` rows of `tokens` (one image for all, or one per image) and generate the rest. */
  complete?: { tokens: ArrayLike<number> | ArrayLike<number>[]; keepRows: number }
  /**
   * Images per batch. Default: as many as keep the KV cache within 512 MB, at most 16
   * (16 for a 4-layer width-512 32x32 model, 5 for imagegpt-small). Images do not depend on
   * the batching: each has its own PRNG.
   */
  batchSize?: number
  /** 'kv' (default): KV-cache decoding. 'recompute': the full prefix every step, as a graph without past would. */
  mode?: 'kv' | 'recompute'
  onRow?: (p: RowProgress) => void
  signal?: AbortSignal
}

export async function generateImages(runner: PixelGptRunner, opts: GenerateOptions): Promise<Int32Array[]> {
  const model = runner.model
  if (!hasLmHead(model)) throw new Error('This model has no lm_head, so it cannot generate images.')
  validateSampling(opts)
  if (!Number.isInteger(opts.count) || opts.count < 1) throw new RangeError(`Count must be a positive whole number, got ${opts.count}.`)
  const c = model.config
  const T = seqLen(c)
  const start = opts.classIndex === undefined ? sosToken(c) : classToken(c, opts.classIndex)
  const prefixes = prefixTokens(model, opts)
  const batchSize = Math.max(1, Math.floor(opts.batchSize ?? defaultBatchSize(model)))
  const out: Int32Array[] = []
  const progress = { done: 0, total: opts.count * T }
  for (let b0 = 0; b0 < opts.count; b0 += batchSize) {
    const n = Math.min(batchSize, opts.count - b0)
    const rngs = Array.from({ length: n }, (_, i) => imagePrng(opts.seed, (opts.indexOffset ?? 0) + b0 + i))
    const images = Array.from({ length: n }, () => new Int32Array(T))
    const forced = (i: number, pos: number): number | undefined => {
      const p = prefixes?.[(b0 + i) % prefixes.length]
      return p && pos < p.length ? (p[pos] as number) : undefined
    }
    const choose = (logits: Float32Array, pos: number): void => {
      const K = c.paletteSize
      for (let i = 0; i < n; i++) images[i]![pos] = forced(i, pos) ?? sampleToken(logits.subarray(i * K, i * K + K), opts, rngs[i]!)
      progress.done += n
      if ((pos + 1) % c.side === 0) {
        opts.onRow?.({ batchStart: b0, row: (pos + 1) / c.side - 1, rows: c.side, images, done: progress.done, total: progress.total })
      }
    }
    if (opts.mode === 'recompute') await recomputeBatch(runner, images, start, choose, opts.signal)
    else await kvBatch(runner, images, start, choose, opts.signal)
    out.push(...images)
  }
  return out
}

/** KV cache bytes per image at full length: keys and values of every layer, float32. */
export function cacheBytesPerImage(model: PixelGptModel): number {
  const c = model.config
  return c.layers * 2 * seqLen(c) * c.width * 4
}

export function defaultBatchSize(model: PixelGptModel, budgetBytes = 512 * 2 ** 20): number {
  return Math.max(1, Math.min(16, Math.floor(budgetBytes / cacheBytesPerImage(model))))
}

function prefixTokens(model: PixelGptModel, opts: GenerateOptions): Int32Array[] | undefined {
  if (!opts.complete) return undefined
  const c = model.config
  const { keepRows } = opts.complete
  if (!Number.isInteger(keepRows) || keepRows < 0 || keepRows > c.side) throw new RangeError(`Rows to keep must be a whole number from 0 to ${c.side}, got ${keepRows}.`)
  const raw = opts.complete.tokens
  const list = typeof (raw as ArrayLike<number>[])[0] === 'number' ? [raw as ArrayLike<number>] : (raw as ArrayLike<number>[])
  return list.map((img) => {
    if (img.length < keepRows * c.side) throw new RangeError(`The image to complete has ${img.length} tokens; keeping ${keepRows} rows needs ${keepRows * c.side}.`)
    const p = Int32Array.from({ length: keepRows * c.side }, (_, i) => img[i] as number)
    for (const t of p) if (t < 0 || t >= c.paletteSize) throw new RangeError(`Token ${t} of the image to complete is not a palette index.`)
    return p
  })
}

function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new GenerationCancelled()
}

type Choose = (logits: Float32Array, pos: number) => void

async function kvBatch(runner: PixelGptRunner, images: Int32Array[], start: number, choose: Choose, signal?: AbortSignal): Promise<void> {
  const T = seqLen(runner.model.config)
  const dec = new KvDecoder(runner, images.length)
  const ids = new Int32Array(images.length)
  for (let t = 0; t < T; t++) {
    checkAbort(signal)
    for (let i = 0; i < images.length; i++) ids[i] = t === 0 ? start : (images[i]![t - 1] as number)
    choose(await dec.step(ids), t)
  }
}

/**
 * KV-cache decoding state for a batch of B sequences: `step(ids)` feeds the token at the next
 * position of every sequence and returns the logits (B, K) for the position after it.
 */
export class KvDecoder {
  /** Position of the next token to feed. */
  position = 0
  private capacity = 0
  private keys: Float32Array[] = []
  private values: Float32Array[] = []
  private feeds: Record<string, Feed> | undefined
  private readonly ids: BigInt64Array
  private readonly pos = new BigInt64Array(1)

  constructor(
    readonly runner: PixelGptRunner,
    readonly batch: number
  ) {
    this.ids = new BigInt64Array(batch)
  }

  async step(ids: ArrayLike<number>): Promise<Float32Array> {
    const c = this.runner.model.config
    const B = this.batch
    const H = c.heads
    const hd = c.width / H
    const T = seqLen(c)
    const t = this.position
    if (t >= T) throw new RangeError(`The sequence is full (${T} tokens).`)
    if (ids.length !== B) throw new RangeError(`Expected ${B} tokens, one per sequence, got ${ids.length}.`)
    const need = cacheCapacities(c).find((s) => s > t) as number
    if (need !== this.capacity || !this.feeds) {
      const S0 = this.capacity
      this.keys = S0 ? this.keys.map((k) => growKeys(k, B * H * hd, S0, need)) : Array.from({ length: c.layers }, () => new Float32Array(B * H * hd * need))
      this.values = S0 ? this.values.map((v) => growValues(v, B * H, S0, need, hd)) : Array.from({ length: c.layers }, () => new Float32Array(B * H * need * hd))
      this.capacity = need
      const { params } = await this.runner.decodeGraph(need)
      // Wrapped once per capacity: ORT reads these buffers on every run, so writing ids, pos and
      // the cache entries in place is all a step needs.
      const feeds: Record<string, Feed> = {
        ids: toOrt({ dtype: 'int64', dims: [B, 1], data: this.ids }),
        pos: toOrt({ dtype: 'int64', dims: [1], data: this.pos }),
        ...this.runner.weightFeeds(params)
      }
      for (let l = 0; l < c.layers; l++) {
        feeds[`past_k_${l}`] = toOrt({ dtype: 'float32', dims: [B, H, hd, need], data: this.keys[l]! })
        feeds[`past_v_${l}`] = toOrt({ dtype: 'float32', dims: [B, H, need, hd], data: this.values[l]! })
      }
      this.feeds = feeds
    }
    const S = this.capacity
    const feeds = this.feeds
    for (let i = 0; i < B; i++) this.ids[i] = BigInt(ids[i] as number)
    this.pos[0] = BigInt(t)
    const { session } = await this.runner.decodeGraph(S)
    const out = await session.runHost(feeds)
    if (t + 1 < T) {
      // Write this position's keys and values in place (B * C floats per layer and kind).
      for (let l = 0; l < c.layers; l++) {
        const kNew = out[`k_${l}`]!.data as Float32Array
        const vNew = out[`v_${l}`]!.data as Float32Array
        const K = this.keys[l]!
        const V = this.values[l]!
        for (let r = 0; r < B * H; r++) {
          for (let d = 0; d < hd; d++) {
            K[(r * hd + d) * S + t] = kNew[r * hd + d]!
            V[(r * S + t) * hd + d] = vNew[r * hd + d]!
          }
        }
      }
    }
    this.position++
    return out.logits!.data as Float32Array
  }

  /** Bytes held by the cache now. */
  cacheBytes(): number {
    return [...this.keys, ...this.values].reduce((a, x) => a + x.byteLength, 0)
  }
}

/** Keys (rows, S0) -> (rows, S1): each row of S0 positions copied into a wider row. */
function growKeys(k: Float32Array, rows: number, s0: number, s1: number): Float32Array {
  const out = new Float32Array(rows * s1)
  for (let r = 0; r < rows; r++) out.set(k.subarray(r * s0, r * s0 + s0), r * s1)
  return out
}

/** Values (rows, S0, hd) -> (rows, S1, hd). */
function growValues(v: Float32Array, rows: number, s0: number, s1: number, hd: number): Float32Array {
  const out = new Float32Array(rows * s1 * hd)
  for (let r = 0; r < rows; r++) out.set(v.subarray(r * s0 * hd, (r + 1) * s0 * hd), r * s1 * hd)
  return out
}

async function recomputeBatch(runner: PixelGptRunner, images: Int32Array[], start: number, choose: Choose, signal?: AbortSignal): Promise<void> {
  const c = runner.model.config
  const B = images.length
  const T = seqLen(c)
  const K = c.paletteSize
  const last = new Float32Array(B * K)
  for (let t = 0; t < T; t++) {
    checkAbort(signal)
    const L = t + 1
    const ids = new BigInt64Array(B * L)
    for (let i = 0; i < B; i++) {
      ids[i * L] = BigInt(start)
      for (let j = 1; j < L; j++) ids[i * L + j] = BigInt(images[i]![j - 1] as number)
    }
    const out = await runner.runForward({ seq: 'T', logits: true }, ids, B)
    const logits = out.logits!.data as Float32Array // (B, L, K)
    for (let i = 0; i < B; i++) last.set(logits.subarray((i * L + t) * K, (i * L + t + 1) * K), i * K)
    choose(last, t)
  }
}
