// Writes Hugging Face folders exported by Tessera, with Tessera's own logits and class
// probabilities for them, for check.py to load in Python transformers and compare.
// Not a vitest test (Python transformers is not on the CI machine); run by hand:
//   npx tsx test/integration/models-hf-python/make-exports.ts <outDir>
//   python3 test/integration/models-hf-python/check.py <outDir>

import { promises as fs } from 'node:fs'
import path from 'node:path'

import { createContext } from '../../../src/main/context'
import { exportHfImageGpt } from '../../../src/main/ml/interop/hf-imagegpt'
import { initPixelGpt } from '../../../src/main/ml/pixelgpt/model'
import { PixelGptRunner } from '../../../src/main/ml/pixelgpt/runner'
import { ROOT } from '../helpers'

const FIX = path.resolve(ROOT, '..', 'shared', 'fixtures')

async function main(): Promise<void> {
  const out = path.resolve(process.argv[2] ?? '.hfcheck')
  await fs.rm(out, { recursive: true, force: true })
  await fs.mkdir(out, { recursive: true })
  const ctx = createContext({ libraryDir: path.join(out, 'library'), host: 'cli' })
  const expected: Record<string, unknown> = {}
  try {
    // 1, 2: the fixtures imported into a library and exported again.
    for (const name of ['imagegpt-tiny-lm', 'imagegpt-tiny-cls']) {
      const m = await ctx.models.importHf(path.join(FIX, name))
      const folder = path.join(out, name)
      await ctx.models.exportHf(m.id, folder)
      const { model, runner } = await ctx.models.load(m.id)
      const files = [0, 1, 2, 3].map((i) => path.join(FIX, name, 'images', `img${i}.png`))
      const images = await Promise.all(files.map((f) => ctx.models.tokenize(model, f)))
      // the images travel with the folders, for the Python image processor
      await fs.mkdir(path.join(out, `${name}-images`))
      for (const f of files) await fs.copyFile(f, path.join(out, `${name}-images`, path.basename(f)))
      expected[name] = {
        images: files.map((f) => path.basename(f)),
        tokens: images.map((t) => Array.from(t)),
        logits: model.weights.has('lm_head.weight') ? Array.from((await runner.logits(images)).data as Float32Array) : null,
        classProbs: model.classes.length ? await runner.classProbabilities(images) : null
      }
    }
    // 3: a class-conditioned model with both heads (Tessera's extension), exported directly.
    const cond = initPixelGpt({ side: 4, paletteSize: 8, width: 16, layers: 2, heads: 2, innerWidth: 48, eps: 1e-5, numClasses: 3 }, {
      seed: 11,
      conditionClasses: ['cats', 'dogs', 'birds'],
      classes: ['a', 'b']
    })
    await exportHfImageGpt(cond, path.join(out, 'conditioned'))
    const runner = new PixelGptRunner(cond)
    const seqs = [Array.from({ length: 16 }, (_, i) => (i * 5) % 8), Array.from({ length: 16 }, (_, i) => (i * 3 + 1) % 8)]
    expected.conditioned = {
      tokens: seqs,
      starts: [8, 9, 10, 11],
      logitsByStart: await Promise.all([8, 9, 10, 11].map(async (s) => Array.from((await runner.logits(seqs, s)).data as Float32Array))),
      classProbs: await runner.classProbabilities(seqs)
    }
  } finally {
    await ctx.close()
  }
  await fs.rm(path.join(out, 'library'), { recursive: true, force: true })
  await fs.writeFile(path.join(out, 'expected.json'), JSON.stringify(expected))
  console.log(`wrote ${out}`)
}

void main()
