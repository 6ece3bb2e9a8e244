import { mkdtemp } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

import { describe, expect, it } from 'vitest'

import { exportHfImageGpt, importHfImageGpt } from '../../../../src/main/ml/interop/hf-imagegpt'
import { readSafetensors } from '../../../../src/main/ml/interop/safetensors'
import { buildPixelGptTrainStep } from '../../../../src/main/ml/pixelgpt/train'
import { lmBatch, PixelGptRunner } from '../../../../src/main/ml/pixelgpt/runner'
import { type PixelGptModel, seqLen, sosToken } from '../../../../src/main/ml/pixelgpt/model'
import { defaultRuntime, type HostTensor, Trainer } from '../../../../src/main/ml/runtime'
import { LM_DIR, lmReference } from './fixtures'

describe('ImageGPT training step', () => {
  it('one plain SGD step (lr 0.1) on the 4 fixture images reproduces sgd_step_lr0.1.safetensors, and exports it', async () => {
    const ref = lmReference()
    const { model } = await importHfImageGpt(LM_DIR)
    const c = model.config
    const spec = buildPixelGptTrainStep(c, { kind: 'lm' }, { optimizer: { kind: 'sgd' } })
    const init: Record<string, HostTensor> = {}
    for (const [k, t] of model.weights) init[k] = { dtype: 'float32', dims: t.shape, data: t.data }
    const trainer = await Trainer.create(defaultRuntime(), spec, init)
    const T = seqLen(c)
    const { ids, targets } = lmBatch(ref.images.map((i) => i.tokens), T, sosToken(c))
    const res = await trainer.step({ ids: { dtype: 'int64', dims: [4, T], data: ids }, targets: { dtype: 'int64', dims: [4, T], data: targets } }, ref.sgd_step.lr)
    expect(Math.abs(res.metrics.loss! - ref.sgd_step.loss_before) / ref.sgd_step.loss_before).toBeLessThan(1e-4)
    if (res.metrics.grad_norm !== undefined) expect(Math.abs(res.metrics.grad_norm - ref.sgd_step.grad_norm) / ref.sgd_step.grad_norm).toBeLessThan(1e-3)

    const after = trainer.params()
    const expected = (await readSafetensors(path.join(LM_DIR, ref.sgd_step.file))).tensors
    expect(Object.keys(after).sort()).toEqual([...expected.keys()].sort())
    let worst = 0
    let moved = 0
    for (const [name, t] of expected) {
      const got = after[name]!.data as Float32Array
      const before = model.weights.get(name)!.data
      for (let i = 0; i < t.data.length; i++) {
        worst = Math.max(worst, Math.abs(got[i]! - t.data[i]!))
        moved = Math.max(moved, Math.abs(t.data[i]! - before[i]!))
      }
    }
    expect(moved).toBeGreaterThan(1e-3) // the step really changes the weights
    expect(worst).toBeLessThan(1e-4)

    // Export the trained model and read it back as a Hugging Face folder.
    const trained: PixelGptModel = { ...model, weights: new Map([...model.weights].map(([k, t]) => [k, { shape: t.shape, data: after[k]!.data as Float32Array }])) }
    const out = await mkdtemp(path.join(os.tmpdir(), 'sgd-'))
    await exportHfImageGpt(trained, out)
    const exported = (await readSafetensors(path.join(out, 'model.safetensors'))).tensors
    for (const [name, t] of expected) {
      const e = exported.get(name)!.data
      for (let i = 0; i < t.data.length; i++) expect(Math.abs(e[i]! - t.data[i]!)).toBeLessThan(1e-4)
    }
    // And the trained model scores the images better than before.
    const nllBefore = await new PixelGptRunner(model).nll(ref.images.map((i) => i.tokens))
    const nllAfter = await new PixelGptRunner(trained).nll(ref.images.map((i) => i.tokens))
    expect(nllAfter.reduce((a, b) => a + b)).toBeLessThan(nllBefore.reduce((a, b) => a + b))
  })

  it('a classifier step lowers the classification loss', async () => {
    const { model } = await importHfImageGpt(LM_DIR.replace('imagegpt-tiny-lm', 'imagegpt-tiny-cls'))
    const c = model.config
    const spec = buildPixelGptTrainStep(c, { kind: 'classifier', labels: 3 }, { optimizer: { kind: 'adamw' } })
    const init: Record<string, HostTensor> = {}
    for (const name of spec.params.map((p) => p.name)) {
      const t = model.weights.get(name)!
      init[name] = { dtype: 'float32', dims: t.shape, data: t.data }
    }
    const trainer = await Trainer.create(defaultRuntime(), spec, init)
    const images = lmReference().images.map((i) => i.tokens)
    const ids = BigInt64Array.from(images.flat().map(BigInt))
    const labels = BigInt64Array.from([0n, 1n, 2n, 0n])
    const losses: number[] = []
    for (let s = 0; s < 5; s++) {
      const r = await trainer.step({ ids: { dtype: 'int64', dims: [4, 64], data: ids }, labels: { dtype: 'int64', dims: [4], data: labels } }, 1e-3)
      losses.push(r.metrics.loss!)
    }
    expect(losses[4]!).toBeLessThan(losses[0]!)
  })
})
