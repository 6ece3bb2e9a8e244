// The one module that owns onnxruntime-node: execution-provider choice with fallback to CPU,
// session options, a session cache keyed by model hash, and tensor conversion. Everything
// else in Tessera runs graphs through here. `run` blocks the calling thread (the binding runs
// synchronously inside a setImmediate), so heavy work belongs in the ML worker thread.

import { availableParallelism } from 'node:os'
import * as ort from 'onnxruntime-node'
import { type DType, type Graph } from '../graph/graph'
import { modelHash, toOnnx } from '../graph/serialize'

export type ProviderName = 'cpu' | 'cuda' | 'dml' | 'coreml' | 'webgpu'
export type OptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all'

export interface RuntimeOptions {
  /** Providers to try in order; CPU is always the last resort. Default: ['cpu']. */
  providers?: readonly ProviderName[]
  /** Threads inside one op; default: every core the machine offers. */
  intraOpThreads?: number
  /** Threads across independent ops (parallel execution mode only); default 1. */
  interOpThreads?: number
  optimizationLevel?: OptimizationLevel
  /** How many sessions to keep (least recently used are disposed); default 16. */
  cacheSize?: number
}

/** What actually runs, for the UI and logs. */
export interface ProviderReport {
  requested: ProviderName[]
  /** Backends this onnxruntime-node build reports (name, bundled). */
  available: { name: string; bundled: boolean }[]
  /** The provider the last created session uses. */
  active: ProviderName
  /** Providers that were tried and failed, with the reason. */
  fallbacks: { provider: ProviderName; reason: string }[]
  intraOpThreads: number
  ortVersion: string
}

/** A tensor as plain data (what crosses worker and IPC boundaries). */
export interface HostTensor {
  dtype: DType
  dims: number[]
  data: Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Uint16Array
}

export type Feed = ort.Tensor | HostTensor

const ORT_EP: Record<ProviderName, string> = { cpu: 'cpu', cuda: 'cuda', dml: 'dml', coreml: 'coreml', webgpu: 'webgpu' }

const ORT_TYPE: Record<DType, ort.Tensor.Type> = {
  float32: 'float32',
  float64: 'float64',
  float16: 'float16',
  int32: 'int32',
  int64: 'int64',
  bool: 'bool',
  uint8: 'uint8'
}

/** Wrap host data as an ORT tensor (no copy: ORT reads the same buffer). */
export function toOrt(t: Feed): ort.Tensor {
  if (t instanceof ort.Tensor) return t
  const h = t as HostTensor
  return new ort.Tensor(ORT_TYPE[h.dtype], h.data as never, h.dims)
}

/** An ORT tensor as host data (no copy). */
export function fromOrt(t: ort.Tensor): HostTensor {
  const dtype = (Object.entries(ORT_TYPE).find(([, v]) => v === t.type)?.[0] ?? 'float32') as DType
  return { dtype, dims: [...t.dims], data: t.data as HostTensor['data'] }
}

export function hostTensor(dtype: DType, dims: readonly number[], values: ArrayLike<number> | HostTensor['data']): HostTensor {
  const n = dims.reduce((p, q) => p * q, 1)
  let data: HostTensor['data']
  if (ArrayBuffer.isView(values)) data = values as HostTensor['data']
  else if (dtype === 'float32') data = Float32Array.from(values)
  else if (dtype === 'float64') data = Float64Array.from(values)
  else if (dtype === 'int32') data = Int32Array.from(values)
  else if (dtype === 'int64') data = BigInt64Array.from(Array.from(values, (v) => BigInt(Math.trunc(v))))
  else if (dtype === 'bool' || dtype === 'uint8') data = Uint8Array.from(values)
  else throw new Error(`hostTensor: cannot build ${dtype} from numbers`)
  if (data.length !== n) throw new Error(`hostTensor: ${data.length} values do not fill [${dims.join(', ')}]`)
  return { dtype, dims: [...dims], data }
}

/**
 * What inference code needs of a loaded graph, wherever it runs: a CompiledSession in this
 * thread, or a WorkerSession (worker-client.ts) whose graph lives in the ML worker.
 */
export interface HostSession {
  readonly inputNames: readonly string[]
  readonly outputNames: readonly string[]
  runHost(feeds: Record<string, HostTensor>, fetches?: readonly string[]): Promise<Record<string, HostTensor>>
}

/** A compiled graph: an ORT session plus its names. */
export class CompiledSession implements HostSession {
  private pins = 0

  constructor(
    readonly session: ort.InferenceSession,
    readonly hash: string,
    readonly provider: ProviderName
  ) {}

  /** Keep this session out of cache eviction while something (a Trainer) holds it. */
  pin(): void {
    this.pins++
  }

  unpin(): void {
    this.pins = Math.max(0, this.pins - 1)
  }

  get pinned(): boolean {
    return this.pins > 0
  }

  get inputNames(): readonly string[] {
    return this.session.inputNames
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames
  }

  /**
   * Run with `feeds`; `fetches` optionally names the outputs wanted, or maps output names to
   * preallocated tensors that ORT writes into (no allocation, no copy on the way out).
   */
  async run(feeds: Record<string, Feed>, fetches?: readonly string[] | Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
    const f: Record<string, ort.Tensor> = {}
    for (const [k, v] of Object.entries(feeds)) f[k] = toOrt(v)
    const missing = this.session.inputNames.filter((n) => !(n in f))
    if (missing.length) throw new Error(`run: missing inputs ${missing.join(', ')}`)
    const res = fetches === undefined ? await this.session.run(f) : await this.session.run(f, fetches as never)
    return res as Record<string, ort.Tensor>
  }

  /** Run and return plain host tensors. */
  async runHost(feeds: Record<string, Feed>, fetches?: readonly string[]): Promise<Record<string, HostTensor>> {
    const res = await this.run(feeds, fetches)
    const out: Record<string, HostTensor> = {}
    for (const [k, v] of Object.entries(res)) out[k] = fromOrt(v)
    return out
  }

  async dispose(): Promise<void> {
    await this.session.release()
  }
}

/** Owns ORT sessions for one thread. */
export class Runtime {
  private readonly cache = new Map<string, Promise<CompiledSession>>()
  private readonly fallbacks: ProviderReport['fallbacks'] = []
  private active: ProviderName = 'cpu'
  readonly providers: ProviderName[]
  readonly intraOpThreads: number

  constructor(readonly options: RuntimeOptions = {}) {
    const p = [...(options.providers ?? ['cpu'])]
    if (!p.includes('cpu')) p.push('cpu')
    this.providers = p
    this.intraOpThreads = options.intraOpThreads ?? Math.max(1, availableParallelism())
  }

  private sessionOptions(provider: ProviderName): ort.InferenceSession.SessionOptions {
    return {
      executionProviders: provider === 'cpu' ? ['cpu'] : [ORT_EP[provider], 'cpu'],
      graphOptimizationLevel: this.options.optimizationLevel ?? 'all',
      intraOpNumThreads: this.intraOpThreads,
      interOpNumThreads: this.options.interOpThreads ?? 1,
      executionMode: 'sequential',
      enableCpuMemArena: true,
      enableMemPattern: true
    }
  }

  /** A session for ONNX bytes, cached by their hash; providers are tried in order. */
  async load(bytes: Uint8Array): Promise<CompiledSession> {
    const hash = modelHash(bytes)
    const hit = this.cache.get(hash)
    if (hit) {
      this.cache.delete(hash)
      this.cache.set(hash, hit)
      return hit
    }
    const created = this.create(bytes, hash)
    this.cache.set(hash, created)
    created.catch(() => this.cache.delete(hash))
    await this.evict()
    return created
  }

  /** The session loaded (and not evicted) under `hash`, if any. */
  cached(hash: string): Promise<CompiledSession> | undefined {
    return this.cache.get(hash)
  }

  /** Serialise `g` and load it. */
  async compile(g: Graph): Promise<CompiledSession> {
    return this.load(toOnnx(g))
  }

  private async create(bytes: Uint8Array, hash: string): Promise<CompiledSession> {
    let lastError: unknown
    const listed = new Set(ort.listSupportedBackends().map((b) => b.name))
    for (const provider of this.providers) {
      if (this.fallbacks.some((f) => f.provider === provider)) continue
      // onnxruntime-common silently drops providers its backend does not list (and the session
      // then runs on CPU), so check first to report truthfully.
      if (!listed.has(ORT_EP[provider])) {
        this.fallbacks.push({ provider, reason: `not available in this onnxruntime-node build (it offers ${[...listed].join(', ')})` })
        continue
      }
      try {
        const opts = this.sessionOptions(provider)
        // A provider whose libraries are missing logs an error before we fall back; keep it quiet.
        if (provider !== 'cpu') opts.logSeverityLevel = 4
        const s = await ort.InferenceSession.create(bytes, opts)
        this.active = provider
        return new CompiledSession(s, hash, provider)
      } catch (e) {
        lastError = e
        if (provider === 'cpu') break
        this.fallbacks.push({ provider, reason: e instanceof Error ? e.message : String(e) })
      }
    }
    throw lastError instanceof Error ? lastError : new Error(String(lastError))
  }

  /** Dispose least recently used sessions beyond the cache size, sparing pinned ones. */
  private async evict(): Promise<void> {
    const max = this.options.cacheSize ?? 16
    for (const [k, v] of [...this.cache.entries()]) {
      if (this.cache.size <= max) break
      const s = await v.catch(() => undefined)
      if (s?.pinned) continue
      this.cache.delete(k)
      await s?.dispose()
    }
  }

  report(): ProviderReport {
    return {
      requested: [...this.providers],
      available: ort.listSupportedBackends(),
      active: this.active,
      fallbacks: [...this.fallbacks],
      intraOpThreads: this.intraOpThreads,
      ortVersion: ort.env.versions.common
    }
  }

  async dispose(): Promise<void> {
    const all = [...this.cache.values()]
    this.cache.clear()
    for (const s of all) await (await s).dispose()
  }
}

let shared: Runtime | undefined

/** The thread's default runtime (CPU unless configured first with `configureRuntime`). */
export function defaultRuntime(): Runtime {
  shared ??= new Runtime()
  return shared
}

export function configureRuntime(options: RuntimeOptions): Runtime {
  shared = new Runtime(options)
  return shared
}

/** Build, load (cached) and run `g` once; outputs as host tensors. */
export async function runGraph(g: Graph, feeds: Record<string, Feed>, runtime: Runtime = defaultRuntime()): Promise<Record<string, HostTensor>> {
  const s = await runtime.compile(g)
  return s.runHost(feeds)
}
