import { readFileSync } from 'node:fs'
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

import { describe, expect, it } from 'vitest'

import { importHfImageGpt } from '../../../../src/main/ml/interop/hf-imagegpt'
import { parseTorchCheckpoint } from '../../../../src/main/ml/interop/torch-checkpoint'
import { LM_DIR } from '../pixelgpt/fixtures'

// torch/*.bin were written by `python3 torch/make-torch-fixtures.py <tiny-lm fixture> torch`, which reproduces torch.save's zip
// layout and pickle (persistent storage ids, _rebuild_tensor_v2) with the Python standard library.
const TORCH = path.join(__dirname, 'torch')

describe('PyTorch checkpoints (pytorch_model.bin)', () => {
  it('imports a Hugging Face folder that has only pytorch_model.bin, bit-exactly equal to the safetensors import', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'pt-'))
    await cp(LM_DIR, dir, { recursive: true })
    await rm(path.join(dir, 'model.safetensors'))
    await cp(path.join(TORCH, 'lm', 'pytorch_model.bin'), path.join(dir, 'pytorch_model.bin'))
    const fromTorch = await importHfImageGpt(dir)
    const fromSt = await importHfImageGpt(LM_DIR)
    expect(fromTorch.ignored.sort()).toEqual(['transformer.h.0.attn.bias', 'transformer.h.1.attn.bias'])
    expect([...fromTorch.model.weights.keys()].sort()).toEqual([...fromSt.model.weights.keys()].sort())
    for (const [k, t] of fromSt.model.weights) {
      const u = fromTorch.model.weights.get(k)!
      expect(u.shape).toEqual(t.shape)
      expect(Buffer.from(u.data.buffer).equals(Buffer.from(t.data.buffer))).toBe(true)
    }
  })

  it('reads half precision, strided views, shared storages and parameters', async () => {
    const st = parseTorchCheckpoint(await readFile(path.join(TORCH, 'edge.bin')))
    const a = Array.from({ length: 12 }, (_, i) => i / 8) // storage 0: arange(12) / 8 as 3x4
    expect(st.tensors.get('transposed')?.shape).toEqual([4, 3])
    expect([...st.tensors.get('transposed')!.data]).toEqual([0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11].map((i) => a[i]))
    expect([...st.tensors.get('tail')!.data]).toEqual(a.slice(8, 12))
    expect([...st.tensors.get('param')!.data]).toEqual(a.slice(2, 4))
    expect([...st.tensors.get('half')!.data]).toEqual([1, -2, 0.333251953125, 65504])
    expect(st.dtypes.get('half')).toBe('F16')
  })

  it('refuses truncated and foreign files with a sentence', async () => {
    const bytes = await readFile(path.join(TORCH, 'lm', 'pytorch_model.bin'))
    expect(() => parseTorchCheckpoint(bytes.subarray(0, bytes.length - 5000), 'pytorch_model.bin')).toThrow(/pytorch_model\.bin is not a PyTorch zip checkpoint \(no zip directory found/)
    expect(() => parseTorchCheckpoint(Buffer.from('plain text'), 'x.bin')).toThrow(/x\.bin is not a PyTorch zip checkpoint/)
    // A pickle that calls anything but the torch rebuild functions is refused, not executed.
    expect(() => parseTorchCheckpoint(readFileSync(path.join(TORCH, 'evil.bin')), 'evil.bin')).toThrow(/evil\.bin holds a pickle Tessera cannot read safely \(call of (posix|os)\.system\)/)
  })
})
