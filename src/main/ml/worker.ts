// The ML worker thread: runs ONNX graphs through the runtime so that a blocking ORT `run`
// never stalls the main process. Protocol in runtime/protocol.ts; the client is
// runtime/worker-client.ts. Sessions are cached by model hash inside this thread; ImageGPT
// models put here (model.put) are kept under their key as in-thread PixelGptRunners.

import { parentPort } from 'node:worker_threads'
import { resetGenerateCache, runGenerateWork } from '../gallery/worker-generate'
import { PixelGptRunner } from './pixelgpt/runner'
import { buffersOf, MissingModelError, type WorkerReply, type WorkerRequest } from './runtime/protocol'
import { type CompiledSession, Runtime } from './runtime/session'
import { Trainer } from './runtime/trainer'
import { GenerationCancelled, type RowProgress } from './sample/generate'

if (!parentPort) throw new Error('src/main/ml/worker.ts must run in a worker thread')
const port = parentPort

let runtime = new Runtime()
/** Models put by the main thread, least recently used first; a dropped one is put again on demand. */
const models = new Map<string, PixelGptRunner>()
const MAX_MODELS = 4
const trainers = new Map<number, Trainer>()
let nextTrainer = 1
const generating = new Map<number, AbortController>()

function modelOf(key: string): PixelGptRunner {
  const r = models.get(key)
  if (!r) throw new MissingModelError(`no model ${key} in the ML worker`)
  models.delete(key)
  models.set(key, r)
  return r
}

async function clearModels(): Promise<void> {
  const all = [...models.values()]
  models.clear()
  for (const r of all) await r.dispose()
}

async function sessionOf(hash: string): Promise<CompiledSession> {
  const s = await runtime.cached(hash)?.catch(() => undefined)
  if (!s) throw new MissingModelError(`no model loaded with hash ${hash}`)
  return s
}

function trainerOf(id: number): Trainer {
  const t = trainers.get(id)
  if (!t) throw new Error(`no trainer ${id} in the ML worker`)
  return t
}

async function handle(req: WorkerRequest): Promise<WorkerReply> {
  switch (req.type) {
    case 'configure':
      await clearModels()
      await runtime.dispose()
      runtime = new Runtime(req.options)
      resetGenerateCache()
      return { id: req.id, ok: true, type: 'configure' }
    case 'load': {
      const s = await runtime.load(req.model)
      return { id: req.id, ok: true, type: 'load', hash: s.hash, inputNames: [...s.inputNames], outputNames: [...s.outputNames] }
    }
    case 'run': {
      const s = await sessionOf(req.hash)
      return { id: req.id, ok: true, type: 'run', outputs: await s.runHost(req.feeds, req.fetches) }
    }
    case 'report':
      return { id: req.id, ok: true, type: 'report', report: runtime.report() }
    case 'dispose':
      await clearModels()
      await runtime.dispose()
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
    case 'model.put': {
      await models.get(req.key)?.dispose()
      models.delete(req.key)
      models.set(req.key, new PixelGptRunner(req.model, runtime))
      while (models.size > MAX_MODELS) {
        const [k, r] = models.entries().next().value as [string, PixelGptRunner]
        models.delete(k)
        await r.dispose()
      }
      return { id: req.id, ok: true, type: 'model.put' }
    }
    case 'model.drop': {
      const r = models.get(req.key)
      models.delete(req.key)
      await r?.dispose()
      return { id: req.id, ok: true, type: 'model.drop' }
    }
    case 'model.forward': {
      const outputs = await modelOf(req.key).runForward(req.opts, req.ids, req.batch, req.extra)
      return { id: req.id, ok: true, type: 'model.forward', outputs }
    }
    case 'model.generate': {
      const runner = modelOf(req.key)
      const abort = new AbortController()
      generating.set(req.id, abort)
      try {
        const onRow = req.rows ? (row: RowProgress) => port.postMessage({ id: req.id, ok: true, type: 'model.row', row } satisfies WorkerReply) : undefined
        const images = await runner.generate({ ...req.opts, ...(onRow ? { onRow } : {}), signal: abort.signal })
        return { id: req.id, ok: true, type: 'model.generate', images }
      } finally {
        generating.delete(req.id)
      }
    }
  }
}

/** The class name the main thread rebuilds an error as (see WorkerReply). */
function errorName(e: unknown): string | undefined {
  if (e instanceof MissingModelError) return 'MissingModel'
  if (e instanceof GenerationCancelled) return 'GenerationCancelled'
  if (e instanceof RangeError) return 'RangeError'
  return undefined
}

function transferables(r: WorkerReply): ArrayBuffer[] {
  if (!r.ok) return []
  if (r.type === 'run' || r.type === 'model.forward') return buffersOf(r.outputs)
  if (r.type === 'model.generate') return r.images.map((i) => i.buffer as ArrayBuffer)
  if (r.type === 'trainer.read') return [...buffersOf(r.params), ...buffersOf(r.state)]
  return []
}

port.on('message', (req: WorkerRequest) => {
  handle(req).then(
    (reply) => port.postMessage(reply, transferables(reply)),
    (e: unknown) => {
      const name = errorName(e)
      port.postMessage({ id: req.id, ok: false, error: e instanceof Error ? e.message : String(e), ...(name ? { name } : {}) } satisfies WorkerReply)
    }
  )
})
