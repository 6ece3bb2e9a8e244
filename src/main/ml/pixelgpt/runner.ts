// Runs the ImageGPT graphs for one model: scoring (NLL), logits, features, class probabilities,
// generation. `PixelGptInference` is what callers use; where the graphs run is its backend:
// `PixelGptRunner` runs them in this thread (sessions built once per graph variant and kept,
// weights fed as inputs without copying), `WorkerPixelGptRunner` (worker-runner.ts) in the ML
// worker thread, where the same PixelGptRunner holds the weights once under a key. Inputs are
// built and outputs post-processed here in both cases, so the numbers are the same.

import { type BuiltGraph, buildDecodeStep, buildForward, type ForwardOptions } from './graphs'
import { type PixelGptModel, seqLen, sosToken, hasClassifier, hasLmHead } from './model'
import { type CompiledSession, type Feed, type HostTensor, type Runtime, defaultRuntime, toOrt } from '../runtime/session'
import { type GenerateOptions, generateImages } from '../sample/generate'

export interface LoadedGraph {
  session: CompiledSession
  params: string[]
}

export interface RunnerOptions {
  /** Bake the weights into the decode-step graphs as initializers (lets ORT prepack them). */
  bakeDecodeWeights?: boolean
}

/** One model's inference, whichever thread its graphs run on. */
export abstract class PixelGptInference {
  /** 'thread': ORT runs block this thread; 'worker': they run in the ML worker. */
  abstract readonly where: 'thread' | 'worker'

  constructor(readonly model: PixelGptModel) {}

  /** Runs a forward variant on a (B, T) batch of ids. */
  abstract runForward(opts: ForwardOptions, ids: BigInt64Array, batch: number, extra?: Record<string, HostTensor>): Promise<Record<string, HostTensor>>

  /** Generates images (ml/sample/generate.ts) with this model. */
  abstract generate(opts: GenerateOptions): Promise<Int32Array[]>

  /** Releases what the backend holds for this model (compiled graphs, weights in the worker). */
  abstract dispose(): Promise<void>

  /**
   * Mean next-token negative log-likelihood (nats per token) of each image under the model:
   * input [start, t1 .. t_{T-1}], targets [t1 .. tT]; start is SOS unless a class token is given.
   */
  async nll(images: readonly ArrayLike<number>[], startToken: number | ArrayLike<number> = sosToken(this.model.config)): Promise<number[]> {
    requireLm(this.model)
    const T = seqLen(this.model.config)
    const { ids, targets } = lmBatch(images, T, startToken)
    const out = await this.runForward({ loss: true }, ids, images.length, { targets: { dtype: 'int64', dims: [images.length, T], data: targets } })
    return Array.from(out.nll?.data as Float32Array)
  }

  /** lm_head logits (B, T, K) for [start, t1 .. t_{T-1}]. */
  async logits(images: readonly ArrayLike<number>[], startToken = sosToken(this.model.config)): Promise<HostTensor> {
    requireLm(this.model)
    const { ids } = lmBatch(images, seqLen(this.model.config), startToken)
    return (await this.runForward({ logits: true }, ids, images.length)).logits as HostTensor
  }

  /** Classifier probabilities (B, N) for plain pixel tokens, as the Hugging Face classifier sees them. */
  async classProbabilities(images: readonly ArrayLike<number>[]): Promise<number[][]> {
    if (!hasClassifier(this.model)) throw new Error('This model has no classifier head.')
    const T = seqLen(this.model.config)
    const ids = pixelBatch(images, T)
    const N = this.model.classes.length
    const out = await this.runForward({ classLabels: N }, ids, images.length, {})
    const logits = out.class_logits?.data as Float32Array
    return images.map((_, b) => softmaxRow(logits.subarray(b * N, b * N + N)))
  }

  /** Pooled features (B, C) from layer `layer` (1..L) of the plain pixel tokens. */
  async features(images: readonly ArrayLike<number>[], layer = this.model.config.layers): Promise<Float32Array[]> {
    const T = seqLen(this.model.config)
    const C = this.model.config.width
    const out = await this.runForward({ featureLayers: [layer] }, pixelBatch(images, T), images.length, {})
    const f = out[`features_${layer}`]?.data as Float32Array
    return images.map((_, b) => f.slice(b * C, b * C + C))
  }
}

/** The in-thread backend: ORT sessions of this thread's runtime; what the ML worker itself uses. */
export class PixelGptRunner extends PixelGptInference {
  readonly where = 'thread' as const
  private readonly graphs = new Map<string, Promise<LoadedGraph>>()
  /** Weights wrapped once as ORT tensors over the model's arrays (no copy, no per-run wrapping). */
  private readonly feeds: Record<string, Feed> = {}

  constructor(
    model: PixelGptModel,
    readonly runtime: Runtime = defaultRuntime(),
    readonly options: RunnerOptions = {}
  ) {
    super(model)
    for (const [name, t] of model.weights) this.feeds[name] = toOrt({ dtype: 'float32', dims: t.shape, data: t.data })
  }

  /** A compiled graph variant, built on first use; its session is pinned in the runtime's cache until `dispose`. */
  graph(key: string, build: () => BuiltGraph): Promise<LoadedGraph> {
    let hit = this.graphs.get(key)
    if (!hit) {
      hit = (async () => {
        const built = build()
        const session = await this.runtime.compile(built.graph)
        session.pin()
        return { session, params: built.params }
      })()
      hit.catch(() => this.graphs.delete(key))
      this.graphs.set(key, hit)
    }
    return hit
  }

  /** The weight feeds a graph needs. */
  weightFeeds(params: readonly string[]): Record<string, Feed> {
    const out: Record<string, Feed> = {}
    for (const name of params) {
      const f = this.feeds[name]
      if (!f) throw new Error(`The model has no weight "${name}".`)
      out[name] = f
    }
    return out
  }

  forwardGraph(opts: ForwardOptions): Promise<LoadedGraph> {
    return this.graph(`forward:${JSON.stringify(opts)}`, () => buildForward(this.model.config, opts))
  }

  decodeGraph(capacity: number): Promise<LoadedGraph> {
    const bake = this.options.bakeDecodeWeights === true
    return this.graph(`decode:${capacity}:${bake}`, () => buildDecodeStep(this.model.config, capacity, bake ? this.model.weights : undefined))
  }

  async runForward(opts: ForwardOptions, ids: BigInt64Array, batch: number, extra: Record<string, HostTensor> = {}): Promise<Record<string, HostTensor>> {
    const { session, params } = await this.forwardGraph(opts)
    const T = ids.length / batch
    return session.runHost({ ids: { dtype: 'int64', dims: [batch, T], data: ids }, ...extra, ...this.weightFeeds(params) })
  }

  generate(opts: GenerateOptions): Promise<Int32Array[]> {
    return generateImages(this, opts)
  }

  /** Unpins this runner's sessions (the runtime's cache may then evict them); the runner must not be used after. */
  async dispose(): Promise<void> {
    const all = [...this.graphs.values()]
    this.graphs.clear()
    for (const g of all) (await g.catch(() => undefined))?.session.unpin()
  }
}

function requireLm(m: PixelGptModel): void {
  if (!hasLmHead(m)) throw new Error('This model has no lm_head, so it cannot score or generate images.')
}

function checkTokens(img: ArrayLike<number>, T: number, K: number): void {
  if (img.length !== T) throw new RangeError(`An image has ${img.length} tokens; the model needs ${T}.`)
  for (let i = 0; i < T; i++) {
    const t = img[i] as number
    if (!Number.isInteger(t) || t < 0 || t >= K) throw new RangeError(`Token ${t} at position ${i} is not a palette index (0..${K - 1}).`)
  }
}

/**
 * [start, t1 .. t_{T-1}] and [t1 .. tT] as int64. `startToken` is SOS, a class token, or one
 * start token per image (class-conditioned training on a mixed batch).
 */
export function lmBatch(images: readonly ArrayLike<number>[], T: number, startToken: number | ArrayLike<number>): { ids: BigInt64Array; targets: BigInt64Array } {
  const ids = new BigInt64Array(images.length * T)
  const targets = new BigInt64Array(images.length * T)
  images.forEach((img, b) => {
    if (img.length !== T) throw new RangeError(`An image has ${img.length} tokens; the model needs ${T}.`)
    ids[b * T] = BigInt(typeof startToken === 'number' ? startToken : (startToken[b] as number))
    for (let i = 0; i < T; i++) {
      const t = BigInt(img[i] as number)
      targets[b * T + i] = t
      if (i + 1 < T) ids[b * T + i + 1] = t
    }
  })
  return { ids, targets }
}

export function pixelBatch(images: readonly ArrayLike<number>[], T: number): BigInt64Array {
  const ids = new BigInt64Array(images.length * T)
  images.forEach((img, b) => {
    checkTokens(img, T, Number.MAX_SAFE_INTEGER)
    for (let i = 0; i < T; i++) ids[b * T + i] = BigInt(img[i] as number)
  })
  return ids
}

export function softmaxRow(x: ArrayLike<number>): number[] {
  let m = -Infinity
  for (let i = 0; i < x.length; i++) m = Math.max(m, x[i] as number)
  const e = Array.from({ length: x.length }, (_, i) => Math.exp((x[i] as number) - m))
  const s = e.reduce((a, b) => a + b, 0)
  return e.map((v) => v / s)
}
