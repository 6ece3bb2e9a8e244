// Messages between the main thread and the ML worker (src/main/ml/worker.ts). Plain data
// only: tensors cross as HostTensor, with their buffers transferred, not copied.

import { type GenerateEvent, type GenerateWork } from '../../gallery/worker-generate'
import { type StepSpec } from '../graph/optim'
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
  /** Stop the generate.run with id `target` after its current step; finished batches stay sent. */
  | { id: number; type: 'generate.cancel'; target: number }

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
  | { id: number; ok: false; error: string }

/** The ArrayBuffers under a set of tensors (for postMessage transfer lists). */
export function buffersOf(ts: Record<string, HostTensor>): ArrayBuffer[] {
  const seen = new Set<ArrayBuffer>()
  for (const t of Object.values(ts)) {
    const b = t.data.buffer
    if (b instanceof ArrayBuffer) seen.add(b)
  }
  return [...seen]
}
