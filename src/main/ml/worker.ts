// The ML worker thread: runs ONNX graphs through the runtime so that a blocking ORT `run`
// never stalls the main process. Protocol in runtime/protocol.ts; the client is
// runtime/worker-client.ts. Sessions are cached by model hash inside this thread.

import { parentPort } from 'node:worker_threads'
import { buffersOf, type WorkerReply, type WorkerRequest } from './runtime/protocol'
import { type CompiledSession, Runtime } from './runtime/session'

if (!parentPort) throw new Error('src/main/ml/worker.ts must run in a worker thread')
const port = parentPort

let runtime = new Runtime()
const sessions = new Map<string, CompiledSession>()

async function handle(req: WorkerRequest): Promise<WorkerReply> {
  switch (req.type) {
    case 'configure':
      await runtime.dispose()
      sessions.clear()
      runtime = new Runtime(req.options)
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
      return { id: req.id, ok: true, type: 'dispose' }
  }
}

port.on('message', (req: WorkerRequest) => {
  handle(req).then(
    (reply) => port.postMessage(reply, reply.ok && reply.type === 'run' ? buffersOf(reply.outputs) : []),
    (e: unknown) => port.postMessage({ id: req.id, ok: false, error: e instanceof Error ? e.message : String(e) } satisfies WorkerReply)
  )
})
