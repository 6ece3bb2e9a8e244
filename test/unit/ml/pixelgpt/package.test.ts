import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

import { describe, expect, it } from 'vitest'

import { importHfImageGpt } from '../../../../src/main/ml/interop/hf-imagegpt'
import { initPixelGpt } from '../../../../src/main/ml/pixelgpt/model'
import { readModelPackage, writeModelPackage } from '../../../../src/main/ml/pixelgpt/package'
import { CLS_DIR, LM_DIR } from './fixtures'

describe('model package', () => {
  it('writes and reads back bit-exactly, atomically, with metadata', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'pkg-'))
    for (const dir of [LM_DIR, CLS_DIR]) {
      const { model } = await importHfImageGpt(dir)
      const target = path.join(root, path.basename(dir))
      await writeModelPackage(target, model, { source: dir, metrics: { nll: 1.5 } })
      expect((await readdir(root)).filter((n) => n.startsWith('.'))).toEqual([])
      const back = await readModelPackage(target)
      expect(back.meta).toEqual({ source: dir, metrics: { nll: 1.5 } })
      expect(back.model.config).toEqual(model.config)
      expect(back.model.classes).toEqual(model.classes)
      expect(Buffer.from(back.model.palette.buffer).equals(Buffer.from(model.palette.buffer))).toBe(true)
      for (const [k, t] of model.weights) expect(Buffer.from(back.model.weights.get(k)!.data.buffer).equals(Buffer.from(t.data.buffer))).toBe(true)
      // The weights file is the same bytes as the Hugging Face one (same names, same layout).
      expect((await readFile(path.join(target, 'weights.safetensors'))).equals(await readFile(path.join(dir, 'model.safetensors')))).toBe(true)
    }
    // Overwriting an existing package replaces it.
    const m = initPixelGpt({ side: 8, paletteSize: 16, width: 32, layers: 2, heads: 4, innerWidth: 128, eps: 1e-5, numClasses: 2 }, { seed: 4 })
    await writeModelPackage(path.join(root, 'imagegpt-tiny-lm'), m, { step: 2 })
    const again = await readModelPackage(path.join(root, 'imagegpt-tiny-lm'))
    expect(again.model.config.numClasses).toBe(2)
    expect(again.meta).toEqual({ step: 2 })
    expect((await readdir(path.join(root, 'imagegpt-tiny-lm'))).sort()).toEqual(['model.json', 'weights.safetensors'])
  })

  it('refuses folders that are not packages, newer versions and inconsistent weights', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'pkg-'))
    await expect(readModelPackage(root)).rejects.toThrow(/is not a Tessera model folder: it has no readable model\.json/)
    const { model } = await importHfImageGpt(LM_DIR)
    const dir = path.join(root, 'm')
    await writeModelPackage(dir, model)
    const json = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8')) as Record<string, unknown>
    await writeFile(path.join(dir, 'model.json'), JSON.stringify({ ...json, version: 99 }))
    await expect(readModelPackage(dir)).rejects.toThrow(/format version 99, newer than this Tessera reads/)
    await writeFile(path.join(dir, 'model.json'), JSON.stringify({ ...json, config: { ...(json.config as object), width: 64 } }))
    await expect(readModelPackage(dir)).rejects.toThrow(/is inconsistent: Tensor "transformer\.wte\.weight" has shape \[17, 32\]; the config needs \[17, 64\]/)
    await writeFile(path.join(dir, 'model.json'), JSON.stringify(json))
    const w = await readFile(path.join(dir, 'weights.safetensors'))
    await writeFile(path.join(dir, 'weights.safetensors'), w.subarray(0, w.length - 8))
    await expect(readModelPackage(dir)).rejects.toThrow(/weights\.safetensors is truncated/)
  })
})
