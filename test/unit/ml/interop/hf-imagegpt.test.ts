import { readFileSync } from 'node:fs'
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

import { describe, expect, it } from 'vitest'

import { exportHfImageGpt, importHfImageGpt } from '../../../../src/main/ml/interop/hf-imagegpt'
import { readSafetensors, serializeSafetensors, writeSafetensors } from '../../../../src/main/ml/interop/safetensors'
import { initPixelGpt, type PixelGptModel } from '../../../../src/main/ml/pixelgpt/model'
import { CLS_DIR, LM_DIR } from '../pixelgpt/fixtures'

async function tmp(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'hf-'))
}

function expectSameModel(a: PixelGptModel, b: PixelGptModel): void {
  expect(b.config).toEqual(a.config)
  expect(b.classes).toEqual(a.classes)
  expect(b.conditionClasses).toEqual(a.conditionClasses)
  expect(Buffer.from(b.palette.buffer).equals(Buffer.from(a.palette.buffer))).toBe(true)
  expect([...b.weights.keys()].sort()).toEqual([...a.weights.keys()].sort())
  for (const [k, t] of a.weights) {
    const u = b.weights.get(k)!
    expect(u.shape).toEqual(t.shape)
    expect(Buffer.from(u.data.buffer, u.data.byteOffset, u.data.byteLength).equals(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength))).toBe(true)
  }
}

describe('Hugging Face ImageGPT import and export', () => {
  it('imports the causal fixture', async () => {
    const { model, architecture, ignored } = await importHfImageGpt(LM_DIR)
    expect(architecture).toBe('ImageGPTForCausalImageModeling')
    expect(ignored).toEqual([])
    expect(model.config).toEqual({ side: 8, paletteSize: 16, width: 32, layers: 2, heads: 4, innerWidth: 128, eps: 1e-5, numClasses: 0 })
    expect(model.classes).toEqual([])
    const pre = JSON.parse(readFileSync(path.join(LM_DIR, 'preprocessor_config.json'), 'utf8')) as { clusters: number[][] }
    expect(model.palette[3 * 5 + 1]).toBe(Math.fround(pre.clusters[5]![1]!))
    expect(model.weights.get('lm_head.weight')?.shape).toEqual([16, 32])
  })

  it('imports the classifier fixture with its labels', async () => {
    const { model, architecture } = await importHfImageGpt(CLS_DIR)
    expect(architecture).toBe('ImageGPTForImageClassification')
    expect(model.classes).toEqual(['class_0', 'class_1', 'class_2'])
    expect(model.weights.has('lm_head.weight')).toBe(false)
    expect(model.weights.get('score.weight')?.shape).toEqual([3, 32])
  })

  it('export then import is bit-exact, and the exported weights file equals the original', async () => {
    for (const dir of [LM_DIR, CLS_DIR]) {
      const { model } = await importHfImageGpt(dir)
      const out = await tmp()
      await exportHfImageGpt(model, out)
      const again = await importHfImageGpt(out)
      expectSameModel(model, again.model)
      await expect(exportHfImageGpt(model, out)).rejects.toThrow(/already has config\.json; export writes into a new or empty folder/)
      const orig = await readFile(path.join(dir, 'model.safetensors'))
      expect(Buffer.compare(await readFile(path.join(out, 'model.safetensors')), orig)).toBe(0)
      const cfgA = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>
      const cfgB = JSON.parse(readFileSync(path.join(out, 'config.json'), 'utf8')) as Record<string, unknown>
      for (const k of ['architectures', 'vocab_size', 'n_positions', 'n_embd', 'n_layer', 'n_head', 'n_inner', 'layer_norm_epsilon', 'id2label']) {
        expect(cfgB[k], k).toEqual(cfgA[k])
      }
    }
  })

  it('round-trips a class-conditioned model with both heads', async () => {
    const model = initPixelGpt(
      { side: 4, paletteSize: 5, width: 8, layers: 1, heads: 2, innerWidth: 24, eps: 1e-5, numClasses: 2 },
      { seed: 3, classes: ['cat', 'dog', 'eel'], conditionClasses: ['red', 'blue'] }
    )
    const out = await tmp()
    await exportHfImageGpt(model, out)
    const cfg = JSON.parse(readFileSync(path.join(out, 'config.json'), 'utf8')) as Record<string, unknown>
    expect(cfg.vocab_size).toBe(8)
    // Hugging Face sizes lm_head as vocab_size - 1 rows.
    expect((await readSafetensors(path.join(out, 'model.safetensors'))).tensors.get('lm_head.weight')?.shape).toEqual([7, 8])
    expectSameModel(model, (await importHfImageGpt(out)).model)
  })

  it('ignores the attention-mask buffers of old checkpoints, whatever their dtype', async () => {
    const out = await tmp()
    await cp(LM_DIR, out, { recursive: true })
    const st = await readSafetensors(path.join(LM_DIR, 'model.safetensors'))
    st.tensors.set('transformer.h.1.attn.masked_bias', { shape: [], data: new Float32Array([-1e4]) })
    // Append a uint8 causal-mask buffer by hand (our writer only writes F32).
    const bytes = serializeSafetensors(st.tensors)
    const n = Number(bytes.readBigUInt64LE(0))
    const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Record<string, unknown>
    const dataLen = bytes.length - 8 - n
    header['transformer.h.0.attn.bias'] = { dtype: 'U8', shape: [1, 1, 64, 64], data_offsets: [dataLen, dataLen + 4096] }
    const h = Buffer.from(JSON.stringify(header))
    const len = Buffer.alloc(8)
    len.writeBigUInt64LE(BigInt(h.length))
    await writeFile(path.join(out, 'model.safetensors'), Buffer.concat([len, h, bytes.subarray(8 + n), Buffer.alloc(4096, 1)]))
    const { model, ignored } = await importHfImageGpt(out)
    expect(ignored.sort()).toEqual(['transformer.h.0.attn.bias', 'transformer.h.1.attn.masked_bias'])
    expect(model.weights.size).toBe(24)
    // Other tensors in an unreadable dtype are still refused.
    header['transformer.h.0.attn.c_attn.bias'] = { dtype: 'I32', shape: [96], data_offsets: [0, 384] }
    const h2 = Buffer.from(JSON.stringify(header))
    len.writeBigUInt64LE(BigInt(h2.length))
    await writeFile(path.join(out, 'model.safetensors'), Buffer.concat([len, h2, bytes.subarray(8 + n), Buffer.alloc(4096, 1)]))
    await expect(importHfImageGpt(out)).rejects.toThrow(/stores tensor "transformer\.h\.0\.attn\.c_attn\.bias" as I32/)
  })

  it('refuses other architectures, wrong-shape clusters, truncated weights and missing tensors', async () => {
    const gpt2 = await tmp()
    await cp(LM_DIR, gpt2, { recursive: true })
    const cfg = JSON.parse(readFileSync(path.join(LM_DIR, 'config.json'), 'utf8')) as Record<string, unknown>
    await writeFile(path.join(gpt2, 'config.json'), JSON.stringify({ ...cfg, architectures: ['GPT2LMHeadModel'], model_type: 'gpt2' }))
    await expect(importHfImageGpt(gpt2)).rejects.toThrow(/config\.json describes GPT2LMHeadModel, not an ImageGPT model/)

    const clusters = await tmp()
    await cp(LM_DIR, clusters, { recursive: true })
    const pre = JSON.parse(readFileSync(path.join(LM_DIR, 'preprocessor_config.json'), 'utf8')) as { clusters: number[][] }
    await writeFile(path.join(clusters, 'preprocessor_config.json'), JSON.stringify({ ...pre, clusters: pre.clusters.slice(0, 15) }))
    await expect(importHfImageGpt(clusters)).rejects.toThrow(/clusters of shape \[15, 3\]; they must be \[16, 3\]/)
    await writeFile(path.join(clusters, 'preprocessor_config.json'), JSON.stringify({ ...pre, clusters: pre.clusters.map((c) => [...c, 0]) }))
    await expect(importHfImageGpt(clusters)).rejects.toThrow(/clusters of shape \[16, 4\]/)

    const truncated = await tmp()
    await cp(LM_DIR, truncated, { recursive: true })
    const bytes = await readFile(path.join(LM_DIR, 'model.safetensors'))
    await writeFile(path.join(truncated, 'model.safetensors'), bytes.subarray(0, bytes.length - 1))
    await expect(importHfImageGpt(truncated)).rejects.toThrow(/model\.safetensors is truncated/)

    const missing = await tmp()
    await cp(LM_DIR, missing, { recursive: true })
    const st = await readSafetensors(path.join(LM_DIR, 'model.safetensors'))
    st.tensors.delete('transformer.h.1.mlp.c_fc.bias')
    await writeSafetensors(path.join(missing, 'model.safetensors'), st.tensors)
    await expect(importHfImageGpt(missing)).rejects.toThrow(/lacks tensor "transformer\.h\.1\.mlp\.c_fc\.bias"/)

    await expect(importHfImageGpt(path.join(os.tmpdir(), 'no-such-folder-xyz'))).rejects.toThrow(/no readable config\.json/)
  })
})
