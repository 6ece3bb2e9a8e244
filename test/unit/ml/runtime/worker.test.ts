import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { add, Graph, matmul, toOnnx } from '../../../../src/main/ml/graph'
import { hostTensor, MlWorkerClient } from '../../../../src/main/ml/runtime'

describe('ML worker thread', () => {
  it('loads and runs a graph off the main thread, and reports errors', async () => {
    const client = MlWorkerClient.fromSource(resolve(__dirname, '../../../../src/main/ml/worker.ts'))
    try {
      await client.configure({ intraOpThreads: 1 })
      const g = new Graph()
      const x = g.input('x', 'float32', ['B', 2])
      g.output(add(matmul(x, g.param('w', [2, 2])), 1), 'y')
      const m = await client.load(toOnnx(g))
      expect(m.inputNames).toEqual(['x', 'w'])
      const out = await client.run(m.hash, { x: hostTensor('float32', [1, 2], [1, 2]), w: hostTensor('float32', [2, 2], [1, 0, 0, 3]) }, { transfer: true })
      expect(Array.from(out.y!.data as Float32Array)).toEqual([2, 7])
      expect((await client.report()).active).toBe('cpu')
      await expect(client.run(m.hash, { x: hostTensor('float32', [1, 2], [1, 2]) })).rejects.toThrow(/missing inputs w/)
      await expect(client.run('nope', {})).rejects.toThrow(/no model loaded/)
    } finally {
      await client.close()
    }
  })
})

describe('training in the ML worker', () => {
  it('runs AdamW steps in the worker, bit-identical to the same Trainer on this thread', async () => {
    const { buildTrainStep, reduceMean, sub, mul: mulOp } = await import('../../../../src/main/ml/graph')
    const { Runtime, Trainer } = await import('../../../../src/main/ml/runtime')
    const forward = (g: Graph) => {
      const x = g.input('x', 'float32', [4, 3])
      const y = g.input('y', 'float32', [4, 1])
      const e = sub(matmul(x, g.param('w', [3, 1])), y)
      return { loss: reduceMean(mulOp(e, e)) }
    }
    const opts = { optimizer: { kind: 'adamw' as const, weightDecay: 0.1 }, clipNorm: 1 }
    const init = () => ({ w: hostTensor('float32', [3, 1], [0.1, -0.2, 0.3]) })
    const batch = () => ({ x: hostTensor('float32', [4, 3], [1, 2, 3, -1, 0.5, 2, 0, 1, -2, 3, 1, 1]), y: hostTensor('float32', [4, 1], [1, 0, -1, 2]) })
    const rt = new Runtime({ intraOpThreads: 1 })
    const local = await Trainer.create(rt, buildTrainStep(forward, opts), init())
    const client = MlWorkerClient.fromSource(resolve(__dirname, '../../../../src/main/ml/worker.ts'))
    try {
      await client.configure({ intraOpThreads: 1 })
      const remote = await client.createTrainer(buildTrainStep(forward, opts), init())
      for (let i = 0; i < 3; i++) {
        const a = await local.step(batch(), 0.05)
        const b = await remote.step(batch(), 0.05, { transfer: true })
        expect(b.metrics).toEqual(a.metrics)
        expect(b.step).toBe(i + 1)
      }
      const read = await remote.read()
      expect(read.steps).toBe(3)
      expect(Array.from(read.params.w!.data as Float32Array)).toEqual(Array.from(local.params().w!.data as Float32Array))
      expect(Object.keys(read.state).sort()).toEqual(['adam_m.w', 'adam_v.w'])
      await remote.restore({ w: hostTensor('float32', [3, 1], [0, 0, 0]) }, 10)
      expect((await remote.read()).steps).toBe(10)
      await remote.dispose()
      await expect(remote.step(batch(), 0.05)).rejects.toThrow(/no trainer/)
    } finally {
      await client.close()
      await rt.dispose()
    }
  })
})
