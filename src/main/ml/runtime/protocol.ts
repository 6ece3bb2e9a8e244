// Messages between the main thread and the ML worker (src/main/ml/worker.ts). Plain data
// only: tensors cross as HostTensor, with their buffers transferred, not copied.

import { type GenerateEvent, type GenerateWork } from '../../gallery/worker-generate'
import { type StepSpec } from '../graph/optim'
import { type ForwardOptions } from '../pixelgpt/graphs'
import { type PixelGptModel } from '../pixelgpt/model'
import { type GenerateOptions, type RowProgress } from '../sample/generate'
import { type HostTensor, type ProviderReport, type RuntimeOptions } from './session'

export type WorkerRequest =
  | { id: number; type: 'configure'; options: RuntimeOptions }
  | { id: number; type: 'load'; model: Uint8Array }
  | { id: number; type: 'run'; hash: string; feeds: Record<string, HostTensor>; fetches?: string[] }
  | { id: number; type: 'report' }
  | { id: number; type: 'dispose' }
  /** A Trainer in the worker for a step graph (bytes of buildTrainStep's graph, its spec, initial weights). */
  | { id: number; type: 'trainer.create'; model: Uint8Array; spec: StepSpec; init: Record<string, HostTensor> }
  | { id: number; type: 'trainer.step'; trainer: number; batch: Record<string, HostTensor>; lr: number }
  /** Parameters and optimizer state (copies) and the step count, e.g. for a checkpoint. */
  | { id: number; type: 'trainer.read'; trainer: number }
  | { id: number; type: 'trainer.restore'; trainer: number; values: Record<string, HostTensor>; steps: number }
  | { id: number; type: 'trainer.dispose'; trainer: number }
  /** Generate images (gallery/worker-generate.ts); 'generate.event' messages with the same id stream back before the reply. */
  | { id: number; type: 'generate.run'; work: GenerateWork }
  /** Stop the generate.run or model.generate with id `target` after its current step; finished batches stay sent. */
  | { id: number; type: 'generate.cancel'; target: number }
  /** Keep an ImageGPT model (weights copied in once) under `key` for model.forward / model.generate. */
  | { id: number; type: 'model.put'; key: string; model: PixelGptModel }
  /** A forward variant of the model under `key` on a (B, T) batch of ids; graphs are built and compiled in the worker. */
  | { id: number; type: 'model.forward'; key: string; opts: ForwardOptions; ids: BigInt64Array; batch: number; extra: Record<string, HostTensor> }
  /** generateImages with the model under `key`; with `rows`, 'model.row' messages with the same id stream back first. */
  | { id: number; type: 'model.generate'; key: string; opts: WorkerGenerateOptions; rows: boolean }
  | { id: number; type: 'model.drop'; key: string }

/** GenerateOptions without what cannot cross threads (the row callback and the signal travel as messages). */
export type WorkerGenerateOptions = Omit<GenerateOptions, 'onRow' | 'signal'>

export type WorkerReply =
  | { id: number; ok: true; type: 'load'; hash: string; inputNames: string[]; outputNames: string[] }
  | { id: number; ok: true; type: 'run'; outputs: Record<string, HostTensor> }
  | { id: number; ok: true; type: 'report'; report: ProviderReport }
  | { id: number; ok: true; type: 'configure' | 'dispose' | 'trainer.restore' | 'trainer.dispose' }
  | { id: number; ok: true; type: 'trainer.create'; trainer: number }
  | { id: number; ok: true; type: 'trainer.step'; metrics: Record<string, number>; step: number }
  | { id: number; ok: true; type: 'trainer.read'; params: Record<string, HostTensor>; state: Record<string, HostTensor>; steps: number }
  | { id: number; ok: true; type: 'generate.run'; completed: boolean }
  | { id: number; ok: true; type: 'generate.cancel' }
  /** Not a reply: a row or finished batch of the generate.run with this id. */
  | { id: number; ok: true; type: 'generate.event'; event: GenerateEvent }
  | { id: number; ok: true; type: 'model.put' | 'model.drop' }
  | { id: number; ok: true; type: 'model.forward'; outputs: Record<string, HostTensor> }
  | { id: number; ok: true; type: 'model.generate'; images: Int32Array[] }
  /** Not a reply: a finished row of the model.generate with this id. */
  | { id: number; ok: true; type: 'model.row'; row: RowProgress }
  /**
   * `name`: the error's class where the main thread rebuilds it (RangeError: a validation
   * sentence; GenerationCancelled); 'MissingModel' when a key or hash is not (or no longer) loaded.
   */
  | { id: number; ok: false; error: string; name?: string }

/** The error a worker reply stands for, as the class the main thread's callers test for. */
export class MissingModelError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'MissingModel'
  }
}


/** The ArrayBuffers under a set of tensors (for postMessage transfer lists). */
export function buffersOf(ts: Record<string, HostTensor>): ArrayBuffer[] {
  const seen = new Set<ArrayBuffer>()
  for (const t of Object.values(ts)) {
    const b = t.data.buffer
    if (b instanceof ArrayBuffer) seen.add(b)
  }
  return [...seen]
}
