// The ML-worker backend of PixelGptInference: the model's weights are put into the worker once
// under a key (model.put) and every forward or generation refers to that key, so a run sends
// only its token ids and gets back only its outputs; graphs are built and compiled in the
// worker, where a blocking ORT run stalls nothing the user sees. Should the worker have let the
// model go (it keeps the few most recent), the weights are put again and the call retried.

import { type ForwardOptions } from './graphs'
import { type PixelGptModel } from './model'
import { PixelGptInference } from './runner'
import { MissingModelError } from '../runtime/protocol'
import { type HostTensor } from '../runtime/session'
import { type MlWorkerClient } from '../runtime/worker-client'
import { type GenerateOptions } from '../sample/generate'

export class WorkerPixelGptRunner extends PixelGptInference {
  readonly where = 'worker' as const
  private put: Promise<void> | null = null

  constructor(
    model: PixelGptModel,
    readonly client: MlWorkerClient,
    /** Names the weights in the worker: one key per model and weights version. */
    readonly key: string
  ) {
    super(model)
  }

  /** Puts the weights into the worker (once; again after the worker let them go). */
  ready(): Promise<void> {
    if (!this.put) {
      this.put = this.client.putModel(this.key, this.model)
      this.put.catch(() => (this.put = null))
    }
    return this.put
  }

  private async withModel<T>(call: () => Promise<T>): Promise<T> {
    await this.ready()
    try {
      return await call()
    } catch (e) {
      if (!(e instanceof MissingModelError)) throw e
      this.put = null
      await this.ready()
      return call()
    }
  }

  /** The ids and `extra` are copied to the worker (B x T integers: small next to the run), so a retry can send them again. */
  runForward(opts: ForwardOptions, ids: BigInt64Array, batch: number, extra: Record<string, HostTensor> = {}): Promise<Record<string, HostTensor>> {
    return this.withModel(() => this.client.forward(this.key, opts, ids, batch, extra))
  }

  generate(opts: GenerateOptions): Promise<Int32Array[]> {
    const { onRow, signal, ...rest } = opts
    return this.withModel(() => this.client.generateWith(this.key, rest, onRow, signal))
  }

  async dispose(): Promise<void> {
    const was = this.put
    this.put = null
    if (was && this.client.alive) await this.client.dropModel(this.key).catch(() => undefined)
  }
}
