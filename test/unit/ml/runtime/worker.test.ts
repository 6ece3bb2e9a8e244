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
