import * as ort from 'onnxruntime-node'
import { describe, expect, it } from 'vitest'
import { add, Graph } from '../../../../src/main/ml/graph'
import { hostTensor, type ProviderName, Runtime } from '../../../../src/main/ml/runtime'

describe('execution-provider choice', () => {
  it('falls back to CPU from a provider this build lacks, and says so', async () => {
    const listed = new Set(ort.listSupportedBackends().map((b) => b.name))
    const missing = (['dml', 'coreml'] as ProviderName[]).find((p) => !listed.has(p))
    if (!missing) return // a build with both (none today) leaves nothing to fall back from
    const rt = new Runtime({ providers: [missing], intraOpThreads: 1 })
    const g = new Graph()
    g.output(add(g.input('x', 'float32', [2]), 1), 'y')
    const s = await rt.compile(g)
    expect(s.provider).toBe('cpu')
    const out = await s.runHost({ x: hostTensor('float32', [2], [1, 2]) })
    expect(Array.from(out.y!.data as Float32Array)).toEqual([2, 3])
    const r = rt.report()
    expect(r.requested).toEqual([missing, 'cpu'])
    expect(r.active).toBe('cpu')
    expect(r.fallbacks[0]?.provider).toBe(missing)
    expect(r.fallbacks[0]?.reason).toMatch(/not available/)
    await rt.dispose()
  })
})

describe('session cache', () => {
  it('evicts least recently used sessions but spares pinned ones', async () => {
    const rt = new Runtime({ intraOpThreads: 1, cacheSize: 2 })
    const build = (k: number): Graph => {
      const g = new Graph()
      g.output(add(g.input('x', 'float32', [1]), k), 'y')
      return g
    }
    const s0 = await rt.compile(build(0))
    s0.pin()
    const s1 = await rt.compile(build(1))
    await rt.compile(build(2))
    await rt.compile(build(3))
    // s0 is pinned: still cached and runnable; s1 was evicted, so compiling it again makes a new one.
    expect(await rt.compile(build(0))).toBe(s0)
    expect(Array.from((await s0.runHost({ x: hostTensor('float32', [1], [1]) })).y!.data as Float32Array)).toEqual([1])
    expect(await rt.compile(build(1))).not.toBe(s1)
    s0.unpin()
    await rt.dispose()
  })
})
