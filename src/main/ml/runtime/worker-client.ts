// Main-thread side of the ML worker: a promise API over postMessage. Requests are answered
// in order by the worker; each has an id so replies can be matched regardless. The worker
// keeps the process alive only while a request is pending, and a worker that died (an
// uncaught error, out of memory, terminated) fails every pending and later request with the
// reason instead of leaving them waiting.

import { createRequire } from 'node:module'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { Worker, type WorkerOptions } from 'node:worker_threads'
import { type GenerateEvent, type GenerateWork } from '../../gallery/worker-generate'
import { type StepGraph, stepSpec } from '../graph/optim'
import { toOnnx } from '../graph/serialize'
import { type ForwardOptions } from '../pixelgpt/graphs'
import { type PixelGptModel } from '../pixelgpt/model'
import { GenerationCancelled, type RowProgress } from '../sample/generate'
import { buffersOf, MissingModelError, type WorkerGenerateOptions, type WorkerReply, type WorkerRequest } from './protocol'
import { type HostSession, type HostTensor, type ProviderReport, type RuntimeOptions } from './session'

/** Stack of the ML worker thread, in MB (the main thread's is 8 MB on Linux). */
export const ML_WORKER_STACK_MB = 64

type Pending = { resolve: (r: WorkerReply) => void; reject: (e: Error) => void; type?: WorkerRequest['type'] }
type Body<T> = T extends unknown ? Omit<T, 'id'> : never

function replyError(r: { error: string; name?: string }): Error {
  if (r.name === 'MissingModel') return new MissingModelError(r.error)
  if (r.name === 'GenerationCancelled') return new GenerationCancelled()
  if (r.name === 'RangeError') return new RangeError(r.error)
  return new Error(r.error)
}

export class MlWorkerClient {
  private readonly worker: Worker
  private readonly pending = new Map<number, Pending>()
  /** Listeners for messages streamed before a request's reply (generate.event, model.row). */
  private readonly streams = new Map<number, (r: WorkerReply) => void>()
  private nextId = 1
  /** Why the worker is gone, once it is. */
  private dead: Error | null = null

  /** `path`: the built worker (out/main/mlWorker.js); for the TypeScript source use `fromSource`. */
  constructor(path: string | URL, options: WorkerOptions = {}) {
    // A worker thread's stack is 4 MB by default; ONNX Runtime's graph passes recurse over the
    // graph (a deep forward overflowed it: a segfault of the whole process, not an error).
    this.worker = new Worker(path, { ...options, resourceLimits: { stackSizeMb: ML_WORKER_STACK_MB, ...options.resourceLimits } })
    this.worker.unref()
    this.worker.on('message', (r: WorkerReply) => {
      if (r.ok && (r.type === 'generate.event' || r.type === 'model.row')) {
        this.streams.get(r.id)?.(r)
        return
      }
      const p = this.pending.get(r.id)
      if (!p) return
      this.pending.delete(r.id)
      if (this.pending.size === 0) this.worker.unref()
      if (r.ok) p.resolve(r)
      else p.reject(replyError(r))
    })
    this.worker.on('error', (e) => this.fail(new Error(`The ML worker failed: ${e.message}`)))
    this.worker.on('exit', (code) => this.fail(new Error(`The ML worker exited (code ${code}).`)))
  }

  /** False once the worker has exited or failed; every request then fails at once. */
  get alive(): boolean {
    return this.dead === null
  }

  /** The kinds of the requests sent and not yet answered, oldest first (what the worker is busy with). */
  inFlight(): WorkerRequest['type'][] {
    return [...this.pending.values()].map((p) => p.type as WorkerRequest['type'])
  }

  /**
   * A worker running the TypeScript source (src/main/ml/worker.ts) through tsx, for tests and
   * scripts. (`execArgv: ['--import', 'tsx']` does not reach a worker's entry file on Node 20,
   * so the entry is required after registering tsx's CommonJS hook.)
   */
  static fromSource(tsPath: string): MlWorkerClient {
    // tsx resolved from the source's own folder: an eval worker would resolve it from the working directory.
    const tsx = createRequire(tsPath).resolve('tsx/cjs')
    return new MlWorkerClient(`require(${JSON.stringify(tsx)}); require(${JSON.stringify(tsPath)})`, { eval: true })
  }

  private fail(e: Error): void {
    this.dead ??= e
    for (const p of this.pending.values()) p.reject(e)
    this.pending.clear()
  }

  private send(id: number, msg: WorkerRequest, transfer: ArrayBuffer[], pending: Pending): void {
    if (this.dead) {
      pending.reject(this.dead)
      return
    }
    if (this.pending.size === 0) this.worker.ref()
    this.pending.set(id, { ...pending, type: msg.type })
    try {
      this.worker.postMessage(msg, transfer)
    } catch (e) {
      this.pending.delete(id)
      if (this.pending.size === 0) this.worker.unref()
      pending.reject(e instanceof Error ? e : new Error(String(e)))
    }
  }

  private request(body: Body<WorkerRequest>, transfer: ArrayBuffer[] = []): Promise<WorkerReply> {
    const id = this.nextId++
    return new Promise((resolve, reject) => this.send(id, { ...body, id } as WorkerRequest, transfer, { resolve, reject }))
  }

  /** A request whose streamed messages (same id) go to `onStream` until its reply. */
  private async streaming(body: Body<WorkerRequest>, onStream: (r: WorkerReply) => void, signal?: AbortSignal): Promise<WorkerReply> {
    const id = this.nextId++
    this.streams.set(id, onStream)
    const cancel = (): void => void this.request({ type: 'generate.cancel', target: id }).catch(() => undefined)
    signal?.addEventListener('abort', cancel)
    try {
      return await new Promise<WorkerReply>((resolve, reject) => {
        this.send(id, { ...body, id } as WorkerRequest, [], { resolve, reject })
        if (signal?.aborted) cancel()
      })
    } finally {
      this.streams.delete(id)
      signal?.removeEventListener('abort', cancel)
    }
  }

  async configure(options: RuntimeOptions): Promise<void> {
    await this.request({ type: 'configure', options })
  }

  /** Load ONNX bytes; returns the hash to run it by. */
  async load(model: Uint8Array): Promise<{ hash: string; inputNames: string[]; outputNames: string[] }> {
    const r = await this.request({ type: 'load', model })
    if (!r.ok || r.type !== 'load') throw new Error('unexpected reply to load')
    return { hash: r.hash, inputNames: r.inputNames, outputNames: r.outputNames }
  }

  /** Run a loaded model. With `transfer`, the feeds' buffers move to the worker (unusable here after). */
  async run(hash: string, feeds: Record<string, HostTensor>, opts: { fetches?: string[]; transfer?: boolean } = {}): Promise<Record<string, HostTensor>> {
    const body: Body<WorkerRequest> = opts.fetches ? { type: 'run', hash, feeds, fetches: opts.fetches } : { type: 'run', hash, feeds }
    const r = await this.request(body, opts.transfer ? buffersOf(feeds) : [])
    if (!r.ok || r.type !== 'run') throw new Error('unexpected reply to run')
    return r.outputs
  }

  /** A Trainer for `step` inside the worker; returns its handle. */
  async createTrainer(step: StepGraph, init: Record<string, HostTensor>): Promise<WorkerTrainer> {
    const r = await this.request({ type: 'trainer.create', model: toOnnx(step.graph), spec: stepSpec(step), init })
    if (!r.ok || r.type !== 'trainer.create') throw new Error('unexpected reply to trainer.create')
    return new WorkerTrainer(this, r.trainer)
  }

  /** @internal used by WorkerTrainer */
  async call(body: Body<WorkerRequest>, transfer: ArrayBuffer[] = []): Promise<WorkerReply> {
    return this.request(body, transfer)
  }

  /**
   * Generates in the worker; `onEvent` gets rows and finished batches as they come. Aborting
   * `signal` stops it after the current step; resolves true when every image was made.
   */
  async generate(work: GenerateWork, onEvent: (e: GenerateEvent) => void, signal?: AbortSignal): Promise<boolean> {
    const r = await this.streaming({ type: 'generate.run', work }, (m) => m.ok && m.type === 'generate.event' && onEvent(m.event), signal)
    if (!r.ok || r.type !== 'generate.run') throw new Error('unexpected reply to generate.run')
    return r.completed
  }

  /** Keeps `model` in the worker under `key` (its weights are copied there once). */
  async putModel(key: string, model: PixelGptModel): Promise<void> {
    await this.request({ type: 'model.put', key, model })
  }

  async dropModel(key: string): Promise<void> {
    await this.request({ type: 'model.drop', key })
  }

  /** A forward variant of the model under `key` (`ids` and `extra` are copied; the outputs come back transferred). */
  async forward(key: string, opts: ForwardOptions, ids: BigInt64Array, batch: number, extra: Record<string, HostTensor> = {}): Promise<Record<string, HostTensor>> {
    const r = await this.request({ type: 'model.forward', key, opts, ids, batch, extra })
    if (!r.ok || r.type !== 'model.forward') throw new Error('unexpected reply to model.forward')
    return r.outputs
  }

  /** generateImages with the model under `key`, in the worker; rows stream to `onRow`, `signal` stops it. */
  async generateWith(key: string, opts: WorkerGenerateOptions, onRow?: (p: RowProgress) => void, signal?: AbortSignal): Promise<Int32Array[]> {
    const r = await this.streaming({ type: 'model.generate', key, opts, rows: onRow !== undefined }, (m) => m.ok && m.type === 'model.row' && onRow?.(m.row), signal)
    if (!r.ok || r.type !== 'model.generate') throw new Error('unexpected reply to model.generate')
    return r.images
  }

  /** ONNX bytes loaded in the worker, as a session this thread runs through the worker. */
  async session(model: Uint8Array): Promise<WorkerSession> {
    const { hash, inputNames, outputNames } = await this.load(model)
    return new WorkerSession(this, hash, inputNames, outputNames, model)
  }

  async report(): Promise<ProviderReport> {
    const r = await this.request({ type: 'report' })
    if (!r.ok || r.type !== 'report') throw new Error('unexpected reply to report')
    return r.report
  }

  async close(): Promise<void> {
    await this.request({ type: 'dispose' }).catch(() => undefined)
    await this.worker.terminate()
  }
}

/**
 * A graph loaded in the ML worker, run from this thread (the HostSession surface of a
 * CompiledSession). Should the worker's session cache have let it go, it is loaded again.
 */
export class WorkerSession implements HostSession {
  constructor(
    private readonly client: MlWorkerClient,
    private hash: string,
    readonly inputNames: string[],
    readonly outputNames: string[],
    private readonly bytes: Uint8Array
  ) {}

  async runHost(feeds: Record<string, HostTensor>, fetches?: readonly string[]): Promise<Record<string, HostTensor>> {
    const opts = fetches ? { fetches: [...fetches] } : {}
    try {
      return await this.client.run(this.hash, feeds, opts)
    } catch (e) {
      if (!(e instanceof MissingModelError)) throw e
      this.hash = (await this.client.load(this.bytes)).hash
      return this.client.run(this.hash, feeds, opts)
    }
  }
}

/**
 * A new ML worker: $TESSERA_ML_WORKER (a built .js, or a .ts run through tsx), the built
 * mlWorker.js beside the bundle, or the TypeScript source (tests, scripts run with tsx).
 */
export function spawnMlWorker(): MlWorkerClient {
  const env = process.env.TESSERA_ML_WORKER
  if (env) return env.endsWith('.ts') ? MlWorkerClient.fromSource(path.resolve(env)) : new MlWorkerClient(env)
  for (const p of [path.join(__dirname, 'mlWorker.js'), path.join(__dirname, '..', 'mlWorker.js')]) if (existsSync(p)) return new MlWorkerClient(p)
  const src = path.join(__dirname, '..', 'worker.ts')
  if (existsSync(src)) return MlWorkerClient.fromSource(src)
  throw new Error('The ML worker (mlWorker.js) is missing: build the studio with `npm run build`.')
}

/** A Trainer living in the ML worker (see runtime/trainer.ts); parameters never leave it unless read. */
export class WorkerTrainer {
  constructor(
    private readonly client: MlWorkerClient,
    readonly id: number
  ) {}

  /** One optimizer step; with `transfer` the batch's buffers move to the worker (unusable here after). */
  async step(batch: Record<string, HostTensor>, lr: number, opts: { transfer?: boolean } = {}): Promise<{ metrics: Record<string, number>; step: number }> {
    const r = await this.client.call({ type: 'trainer.step', trainer: this.id, batch, lr }, opts.transfer ? buffersOf(batch) : [])
    if (!r.ok || r.type !== 'trainer.step') throw new Error('unexpected reply to trainer.step')
    return { metrics: r.metrics, step: r.step }
  }

  async read(): Promise<{ params: Record<string, HostTensor>; state: Record<string, HostTensor>; steps: number }> {
    const r = await this.client.call({ type: 'trainer.read', trainer: this.id })
    if (!r.ok || r.type !== 'trainer.read') throw new Error('unexpected reply to trainer.read')
    return { params: r.params, state: r.state, steps: r.steps }
  }

  async restore(values: Record<string, HostTensor>, steps: number): Promise<void> {
    await this.client.call({ type: 'trainer.restore', trainer: this.id, values, steps })
  }

  async dispose(): Promise<void> {
    await this.client.call({ type: 'trainer.dispose', trainer: this.id })
  }
}
