// Main-thread side of the ML worker: a promise API over postMessage. Requests are answered
// in order by the worker; each has an id so replies can be matched regardless.

import { Worker, type WorkerOptions } from 'node:worker_threads'
import { type GenerateEvent, type GenerateWork } from '../../gallery/worker-generate'
import { type StepGraph, stepSpec } from '../graph/optim'
import { toOnnx } from '../graph/serialize'
import { buffersOf, type WorkerReply, type WorkerRequest } from './protocol'
import { type HostTensor, type ProviderReport, type RuntimeOptions } from './session'

type Pending = { resolve: (r: WorkerReply) => void; reject: (e: Error) => void }
type Body<T> = T extends unknown ? Omit<T, 'id'> : never

export class MlWorkerClient {
  private readonly worker: Worker
  private readonly pending = new Map<number, Pending>()
  /** Listeners for messages streamed before a request's reply (generate.event). */
  private readonly streams = new Map<number, (e: GenerateEvent) => void>()
  private nextId = 1

  /** `path`: the built worker (out/main/mlWorker.js); for the TypeScript source use `fromSource`. */
  constructor(path: string | URL, options: WorkerOptions = {}) {
    this.worker = new Worker(path, options)
    this.worker.on('message', (r: WorkerReply) => {
      if (r.ok && r.type === 'generate.event') {
        this.streams.get(r.id)?.(r.event)
        return
      }
      const p = this.pending.get(r.id)
      if (!p) return
      this.pending.delete(r.id)
      if (r.ok) p.resolve(r)
      else p.reject(new Error(r.error))
    })
    this.worker.on('error', (e) => this.failAll(e))
    this.worker.on('exit', (code) => this.failAll(new Error(`ML worker exited with code ${code}`)))
  }

  /**
   * A worker running the TypeScript source (src/main/ml/worker.ts) through tsx, for tests and
   * scripts. (`execArgv: ['--import', 'tsx']` does not reach a worker's entry file on Node 20,
   * so the entry is required after registering tsx's CommonJS hook.)
   */
  static fromSource(tsPath: string): MlWorkerClient {
    return new MlWorkerClient(`require('tsx/cjs'); require(${JSON.stringify(tsPath)})`, { eval: true })
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e)
    this.pending.clear()
  }

  private request(body: Body<WorkerRequest>, transfer: ArrayBuffer[] = []): Promise<WorkerReply> {
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      this.worker.postMessage({ ...body, id } as WorkerRequest, transfer)
    })
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
    const id = this.nextId++
    this.streams.set(id, onEvent)
    const cancel = (): void => void this.request({ type: 'generate.cancel', target: id }).catch(() => undefined)
    signal?.addEventListener('abort', cancel)
    try {
      const r = await new Promise<WorkerReply>((resolve, reject) => {
        this.pending.set(id, { resolve, reject })
        this.worker.postMessage({ type: 'generate.run', work, id } satisfies WorkerRequest)
        if (signal?.aborted) cancel()
      })
      if (!r.ok || r.type !== 'generate.run') throw new Error('unexpected reply to generate.run')
      return r.completed
    } finally {
      this.streams.delete(id)
      signal?.removeEventListener('abort', cancel)
    }
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
