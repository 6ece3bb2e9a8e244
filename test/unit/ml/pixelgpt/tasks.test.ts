import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

import { describe, expect, it } from 'vitest'

import { importHfImageGpt } from '../../../../src/main/ml/interop/hf-imagegpt'
import { imageTokens, readPngText } from '../../../../src/main/ml/palette/palette'
import { PixelGptRunner } from '../../../../src/main/ml/pixelgpt/runner'
import { generateToFolder, scoreImageFiles } from '../../../../src/main/ml/pixelgpt/tasks'
import { LM_DIR, lmReference } from './fixtures'

describe('file tasks', () => {
  it('scores the fixture images with the reference NLL and reports an unreadable file without failing', async () => {
    const ref = lmReference()
    const runner = new PixelGptRunner((await importHfImageGpt(LM_DIR)).model)
    const dir = await mkdtemp(path.join(os.tmpdir(), 'score-'))
    const bad = path.join(dir, 'broken.png')
    await writeFile(bad, 'this is not a png')
    const files = [...ref.images.slice(0, 2).map((i) => path.join(LM_DIR, i.file)), bad, ...ref.images.slice(2).map((i) => path.join(LM_DIR, i.file))]
    const res = await scoreImageFiles(runner, files, { batchSize: 3 })
    expect(res.map((r) => r.file)).toEqual(files)
    expect(res[2]).toEqual({ file: bad, error: expect.stringMatching(/^broken\.png could not be read as an image/) })
    const good = res.filter((r) => 'bitsPerToken' in r)
    ref.images.forEach((img, i) => {
      const r = good[i] as { bitsPerToken: number; nllNatsPerToken: number }
      expect(Math.abs(r.nllNatsPerToken - img.nll_nats_per_token) / img.nll_nats_per_token).toBeLessThan(1e-4)
      expect(Math.abs(r.bitsPerToken - img.bits_per_token) / img.bits_per_token).toBeLessThan(1e-4)
    })
  })

  it('writes greedy PNGs that decode to greedy_tokens and carry their parameters, never overwriting', async () => {
    const ref = lmReference()
    const { model } = await importHfImageGpt(LM_DIR)
    const runner = new PixelGptRunner(model)
    const outDir = await mkdtemp(path.join(os.tmpdir(), 'gen-'))
    const files = await generateToFolder(runner, { count: 2, seed: 5, greedy: true, outDir, describe: { model: 'tiny' } })
    expect(files.map((f) => path.basename(f))).toEqual(['tessera-5-000.png', 'tessera-5-001.png'])
    for (const f of files) expect([...(await imageTokens(f, model.palette, 8))]).toEqual(ref.greedy_tokens)
    expect(JSON.parse(readPngText(await readFile(files[0]!)).tessera!)).toEqual({ model: 'tiny', seed: 5, index: 0, greedy: true, temperature: 1, topK: 0, topP: 1, class: null, keepRows: 0 })
    const again = await generateToFolder(runner, { count: 1, seed: 5, greedy: true, outDir })
    expect(path.basename(again[0]!)).toBe('tessera-5-000-1.png')
  })
})
