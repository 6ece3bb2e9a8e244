// Where a training run's ORT work happens: in this thread (the CLI, tests) or in an ML worker
// thread (the Electron main process and any long-lived host, so neither training steps nor
// evaluation forwards block its event loop). Both run the same graphs with the same Trainer.

import { type Graph } from '../graph'
import { type StepGraph } from '../graph/optim'
import { toOnnx } from '../graph/serialize'
import { AccumulatingTrainer, type HostTensor, type Runtime, Trainer } from '../runtime'
import { spawnMlWorker } from '../runtime/worker-client'

/** What a step runner must do; Trainer (in process) and WorkerTrainer (ML worker) both fit. */
export interface StepRunner {
  step(batch: Record<string, HostTensor>, lr: number): Promise<{ metrics: Record<string, number>; step: number }>
  read(): Promise<{ params: Record<string, HostTensor>; state: Record<string, HostTensor>; steps: number }>
  restore(values: Record<string, HostTensor>, steps: number): Promise<void>
  dispose(): Promise<void>
}

/** Gradient accumulation over micro-batches (AccumulatingTrainer). */
export interface AccumulatingRunner {
  accumulate(batch: Record<string, HostTensor>): Promise<Record<string, number>>
  step(lr: number): Promise<{ metrics: Record<string, number>; step: number }>
  read(): Promise<{ params: Record<string, HostTensor>; state: Record<string, HostTensor>; steps: number }>
  restore(values: Record<string, HostTensor>, steps: number): Promise<void>
  dispose(): Promise<void>
}

export type RunGraph = (feeds: Record<string, HostTensor>) => Promise<Record<string, HostTensor>>

export interface Compute {
  where: 'thread' | 'worker'
  trainer(step: StepGraph, init: Record<string, HostTensor>): Promise<StepRunner>
  /** Micro-batched steps; only in this thread (the worker protocol has no accumulating trainer yet). */
  accumulating?(grad: StepGraph, apply: StepGraph, init: Record<string, HostTensor>): Promise<AccumulatingRunner>
  /** Compiles (once per graph) and returns a function that runs it. */
  graph(g: Graph): Promise<RunGraph>
  close(): Promise<void>
}

export function threadCompute(runtime: Runtime): Compute {
  return {
    where: 'thread',
    async trainer(step, init) {
      const t = await Trainer.create(runtime, step, init)
      return {
        step: (batch, lr) => t.step(batch, lr),
        read: async () => ({ params: t.params(), state: t.state(), steps: t.steps }),
        restore: async (values, steps) => t.restore(values, steps),
        dispose: async () => t.release()
      }
    },
    async accumulating(grad, apply, init) {
      const t = await AccumulatingTrainer.create(runtime, grad, apply, init)
      return {
        accumulate: (batch) => t.accumulate(batch),
        step: (lr) => t.step(lr),
        read: async () => ({ params: t.apply.params(), state: t.apply.state(), steps: t.apply.steps }),
        restore: async (values, steps) => t.apply.restore(values, steps),
        dispose: async () => t.apply.release()
      }
    },
    async graph(g) {
      const s = await runtime.compile(g)
      return (feeds) => s.runHost(feeds)
    },
    close: async () => undefined
  }
}

/** A worker of its own for one run; closed when the run ends. */
export function workerCompute(): Compute {
  const client = spawnMlWorker()
  return {
    where: 'worker',
    trainer: (step, init) => client.createTrainer(step, init),
    async graph(g) {
      const { hash } = await client.load(toOnnx(g))
      return (feeds) => client.run(hash, feeds)
    },
    close: () => client.close()
  }
}

/** Worker in Electron (or when TESSERA_TRAIN_COMPUTE=worker), this thread otherwise. */
export function defaultComputeKind(): 'thread' | 'worker' {
  const env = process.env.TESSERA_TRAIN_COMPUTE
  if (env === 'worker' || env === 'thread') return env
  return process.versions.electron ? 'worker' : 'thread'
}
