// The ML worker thread: runs ONNX graphs through the runtime so that a blocking ORT `run`
// never stalls the main process. Protocol in runtime/protocol.ts; the client is
// runtime/worker-client.ts. Sessions are cached by model hash inside this thread.

import { parentPort } from 'node:worker_threads'
import { resetGenerateCache, runGenerateWork } from '../gallery/worker-generate'
import { buffersOf, type WorkerReply, type WorkerRequest } from './runtime/protocol'
import { type CompiledSession, Runtime } from './runtime/session'
import { Trainer } from './runtime/trainer'

if (!parentPort) throw new Error('src/main/ml/worker.ts must run in a worker thread')
const port = parentPort

let runtime = new Runtime()
const sessions = new Map<string, CompiledSession>()
const trainers = new Map<number, Trainer>()
let nextTrainer = 1
const generating = new Map<number, AbortController>()

function trainerOf(id: number): Trainer {
  const t = trainers.get(id)
  if (!t) throw new Error(`no trainer ${id} in the ML worker`)
  return t
}

async function handle(req: WorkerRequest): Promise<WorkerReply> {
  switch (req.type) {
    case 'configure':
      await runtime.dispose()
      sessions.clear()
      runtime = new Runtime(req.options)
      resetGenerateCache()
      return { id: req.id, ok: true, type: 'configure' }
    case 'load': {
      const s = await runtime.load(req.model)
      sessions.set(s.hash, s)
      return { id: req.id, ok: true, type: 'load', hash: s.hash, inputNames: [...s.inputNames], outputNames: [...s.outputNames] }
    }
    case 'run': {
      const s = sessions.get(req.hash)
      if (!s) throw new Error(`no model loaded with hash ${req.hash}`)
      return { id: req.id, ok: true, type: 'run', outputs: await s.runHost(req.feeds, req.fetches) }
    }
    case 'report':
      return { id: req.id, ok: true, type: 'report', report: runtime.report() }
    case 'dispose':
      await runtime.dispose()
      sessions.clear()
      trainers.clear()
      return { id: req.id, ok: true, type: 'dispose' }
    case 'trainer.create': {
      const t = Trainer.fromSession(await runtime.load(req.model), req.spec, req.init)
      const id = nextTrainer++
      trainers.set(id, t)
      return { id: req.id, ok: true, type: 'trainer.create', trainer: id }
    }
    case 'trainer.step': {
      const r = await trainerOf(req.trainer).step(req.batch, req.lr)
      return { id: req.id, ok: true, type: 'trainer.step', metrics: r.metrics, step: r.step }
    }
    case 'trainer.read': {
      const t = trainerOf(req.trainer)
      return { id: req.id, ok: true, type: 'trainer.read', params: t.params(), state: t.state(), steps: t.steps }
    }
    case 'trainer.restore':
      trainerOf(req.trainer).restore(req.values, req.steps)
      return { id: req.id, ok: true, type: 'trainer.restore' }
    case 'trainer.dispose':
      trainerOf(req.trainer).release()
      trainers.delete(req.trainer)
      return { id: req.id, ok: true, type: 'trainer.dispose' }
    case 'generate.run': {
      const abort = new AbortController()
      generating.set(req.id, abort)
      try {
        const completed = await runGenerateWork(
          runtime,
          req.work,
          (event) => port.postMessage({ id: req.id, ok: true, type: 'generate.event', event } satisfies WorkerReply),
          abort.signal
        )
        return { id: req.id, ok: true, type: 'generate.run', completed }
      } finally {
        generating.delete(req.id)
      }
    }
    case 'generate.cancel':
      generating.get(req.target)?.abort()
      return { id: req.id, ok: true, type: 'generate.cancel' }
  }
}

function transferables(r: WorkerReply): ArrayBuffer[] {
  if (!r.ok) return []
  if (r.type === 'run') return buffersOf(r.outputs)
  if (r.type === 'trainer.read') return [...buffersOf(r.params), ...buffersOf(r.state)]
  return []
}

port.on('message', (req: WorkerRequest) => {
  handle(req).then(
    (reply) => port.postMessage(reply, transferables(reply)),
    (e: unknown) => port.postMessage({ id: req.id, ok: false, error: e instanceof Error ? e.message : String(e) } satisfies WorkerReply)
  )
})
