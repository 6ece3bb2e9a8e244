// Generic ONNX image models through the CLI: a classifier (NCHW, labels, preprocessor_config.json
// normalisation) and a feature extractor (NHWC, no labels), both graphs written by the test with
// the graph builder so the expected outputs are known in closed form; refusals with sentences;
// export -> import keeps the graph bytes, labels and preprocessing.

import { readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { type ModelDetail, type ModelTryResult } from '../../src/shared/contract'
import { runMain as run } from '../helpers/run-main'
import { createContext } from '../../src/main/context'
import { storeBytes } from '../../src/main/library/media'
import { Graph, matmul, reduceMean, reshape, toOnnx } from '../../src/main/ml/graph'
import { Prng } from '../../src/main/ml/sample/prng'
import { tempDir } from '../unit/library/tmp'
import { ROOT } from './helpers'

const CLS = path.resolve(ROOT, '..', 'shared', 'fixtures', 'imagegpt-tiny-cls')
const LM = path.resolve(ROOT, '..', 'shared', 'fixtures', 'imagegpt-tiny-lm')

const COLOUR = [200, 40, 90] as const

/** logits[c] = 10 * mean over the 16 pixels of channel c (NCHW [N, 3, 4, 4] input). */
function classifierOnnx(): Uint8Array {
  const g = new Graph('tiny-classifier')
  const x = g.input('pixel_values', 'float32', ['N', 3, 4, 4])
  const w = new Float32Array(48 * 3)
  for (let c = 0; c < 3; c++) for (let i = 0; i < 16; i++) w[(c * 16 + i) * 3 + c] = 10 / 16
  g.output(matmul(reshape(x, ['N', 48]), g.tensor(w, [48, 3])), 'logits')
  return toOnnx(g)
}

/** embedding = [mean of channel 0, mean of channel 2] (NHWC [batch, 4, 4, 3] input). */
function featureOnnx(): Uint8Array {
  const g = new Graph('tiny-features')
  const x = g.input('image', 'float32', ['batch', 4, 4, 3])
  const w = new Float32Array(48 * 2)
  for (let i = 0; i < 16; i++) {
    w[(i * 3 + 0) * 2 + 0] = 1 / 16
    w[(i * 3 + 2) * 2 + 1] = 1 / 16
  }
  g.output(matmul(reshape(x, ['batch', 48]), g.tensor(w, [48, 2])), 'embeddings')
  return toOnnx(g)
}

function softmax(x: number[]): number[] {
  const m = Math.max(...x)
  const e = x.map((v) => Math.exp(v - m))
  const s = e.reduce((a, b) => a + b, 0)
  return e.map((v) => v / s)
}

describe('ONNX image models: import, try, export', () => {
  let tmp: { dir: string; cleanup: () => void }
  let lib: string
  let image: string
  const T = (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => run(['--library', lib, ...args])
  const models = (): string[] => readdirSync(path.join(lib, 'models'))

  beforeAll(async () => {
    tmp = tempDir('tessera-onnx-')
    lib = path.join(tmp.dir, 'lib')
    image = path.join(tmp.dir, 'colour.png')
    await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: COLOUR[0], g: COLOUR[1], b: COLOUR[2] } } })
      .png()
      .toFile(image)
  })
  afterAll(() => tmp.cleanup())

  it('a classifier folder: labels and normalisation from its files, top classes as computed by hand, export -> import keeps everything', async () => {
    const folder = path.join(tmp.dir, 'rgb-classifier')
    mkdirSync(folder)
    writeFileSync(path.join(folder, 'model.onnx'), classifierOnnx())
    writeFileSync(path.join(folder, 'labels.json'), JSON.stringify(['red', 'green', 'blue']))
    const pre = { do_resize: true, size: { height: 4, width: 4 }, do_normalize: true, image_mean: [0.5, 0.5, 0.5], image_std: [0.25, 0.25, 0.25] }
    writeFileSync(path.join(folder, 'preprocessor_config.json'), JSON.stringify(pre))

    const imp = await T('--json', 'model', 'import', folder)
    expect(imp.code, imp.stderr).toBe(0)
    const m = JSON.parse(imp.stdout) as ModelDetail
    expect(m).toMatchObject({ name: 'rgb-classifier', architecture: 'onnx-classifier', kind: 'onnx (classify)', classes: ['red', 'green', 'blue'], config: null })
    expect(m.onnx).toMatchObject({
      task: 'classifier',
      input: { name: 'pixel_values', layout: 'nchw', height: 4, width: 4, dynamicBatch: true },
      output: { name: 'logits', dim: 3 },
      preprocess: { crop: false, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] }
    })
    expect(m.onnx!.inputs).toEqual([{ name: 'pixel_values', type: 'float32', shape: ['N', 3, 4, 4] }])
    expect((await T('model', 'show', m.id)).stdout).toMatch(/input "pixel_values" NCHW 4x4 \(any batch\), output "logits" of 3/)

    const expected = softmax(COLOUR.map((x) => 10 * ((x / 255 - 0.5) / 0.25)))
    const tryIt = async (ref: string): Promise<ModelTryResult> => {
      const r = await T('--json', 'model', 'try', ref, image, '--top', '3')
      expect(r.code, r.stderr).toBe(0)
      return JSON.parse(r.stdout) as ModelTryResult
    }
    const t = await tryIt(m.id)
    expect(t.top.map((x) => x.label)).toEqual(['red', 'blue', 'green'])
    for (const x of t.top) expect(x.probability).toBeCloseTo(expected[['red', 'green', 'blue'].indexOf(x.label)]!, 5)
    expect(t.bitsPerToken).toBeNull()
    expect(t.inputPng).toMatch(/^data:image\/png;base64,/)

    const out = path.join(tmp.dir, 'exported-classifier')
    const ex = await T('--json', 'model', 'export', m.id, '--format', 'onnx', '--out', out)
    expect(ex.code, ex.stderr).toBe(0)
    expect((JSON.parse(ex.stdout) as { files: string[] }).files).toEqual(['labels.json', 'model.onnx', 'preprocess.json'])
    expect(readFileSync(path.join(out, 'model.onnx')).equals(readFileSync(path.join(folder, 'model.onnx')))).toBe(true)
    expect(JSON.parse(readFileSync(path.join(out, 'labels.json'), 'utf8'))).toEqual(['red', 'green', 'blue'])
    const again = JSON.parse((await T('--json', 'model', 'import', out, '--name', 'round trip')).stdout) as ModelDetail
    expect(again.weightsSha256).toBe(m.weightsSha256)
    expect(again.onnx!.preprocess).toEqual(m.onnx!.preprocess)
    expect((await tryIt('round trip')).top).toEqual(t.top)

    // ImageGPT-only operations say so
    const score = await T('model', 'score', '--model', m.id, image)
    expect(score.code).toBe(1)
    expect(score.stderr).toMatch(/is an imported ONNX model; only ImageGPT models can score/)
    const hf = await T('model', 'export', m.id, '--format', 'hf', '--out', path.join(tmp.dir, 'nope'))
    expect(hf.code).toBe(1)
  })

  it('a feature extractor file (NHWC, size from the graph, no normalisation) gives its embedding', async () => {
    const file = path.join(tmp.dir, 'features.onnx')
    writeFileSync(file, featureOnnx())
    const imp = await T('--json', 'model', 'import', file)
    expect(imp.code, imp.stderr).toBe(0)
    const m = JSON.parse(imp.stdout) as ModelDetail
    expect(m).toMatchObject({ name: 'features', architecture: 'onnx-feature-extractor', classes: [] })
    expect(m.onnx).toMatchObject({ task: 'features', input: { layout: 'nhwc', height: 4, width: 4 }, output: { name: 'embeddings', dim: 2 } })
    const t = JSON.parse((await T('--json', 'model', 'try', m.id, image)).stdout) as ModelTryResult
    expect(t.top).toEqual([])
    expect(t.embedding![0]).toBeCloseTo(COLOUR[0] / 255, 5)
    expect(t.embedding![1]).toBeCloseTo(COLOUR[2] / 255, 5)
    // the import dialog's overrides: mean/std
    const imp2 = await T('--json', 'model', 'import', file, '--name', 'features normalised', '--mean', '0.5,0.5,0.5', '--std', '0.5,0.5,0.5')
    const t2 = JSON.parse((await T('--json', 'model', 'try', (JSON.parse(imp2.stdout) as ModelDetail).id, image)).stdout) as ModelTryResult
    expect(t2.embedding![0]).toBeCloseTo((COLOUR[0] / 255 - 0.5) / 0.5, 5)
  })

  it('refuses models that are not image models, with the reason, leaving nothing behind', async () => {
    const before = models()
    const refuse = async (name: string, bytes: Uint8Array | string, extra: string[] = []): Promise<string> => {
      const file = path.join(tmp.dir, name)
      writeFileSync(file, bytes)
      const r = await T('model', 'import', file, ...extra)
      expect(r.code).toBe(1)
      expect(models()).toEqual(before)
      return r.stderr
    }
    const tokens = new Graph('text')
    const ids = tokens.input('input_ids', 'int64', ['N', 16])
    tokens.output(reshape(ids, ['N', 16]), 'out')
    expect(await refuse('text.onnx', toOnnx(tokens))).toMatch(/input "input_ids" is int64 \[N, 16\], not an image tensor; Tessera needs float32 \[N, 3, H, W\] or \[N, H, W, 3\]/)
    expect(await refuse('garbage.onnx', 'this is not a protobuf at all')).toMatch(/garbage\.onnx is not an ONNX model/)
    const labels = path.join(tmp.dir, 'two.txt')
    writeFileSync(labels, 'cat\ndog\n')
    expect(await refuse('mismatch.onnx', classifierOnnx(), ['--labels', labels])).toMatch(/output "logits" has 3 values per image but the label file names 2 classes/)
    const dyn = new Graph('dynamic')
    const x = dyn.input('x', 'float32', ['N', 3, 'H', 'W'])
    dyn.output(reshape(x, ['N', -1]), 'y')
    expect(await refuse('dynamic.onnx', toOnnx(dyn))).toMatch(/has no fixed image size and no preprocessor_config\.json says one/)
  })

  it('an ImageGPT classifier exported as ONNX runs on plain pixels and reproduces the reference class probabilities', async () => {
    const m = JSON.parse((await T('--json', 'model', 'import', CLS, '--name', 'igpt cls')).stdout) as ModelDetail
    const out = path.join(tmp.dir, 'igpt-cls-onnx')
    const ex = await T('--json', 'model', 'export', m.id, '--format', 'onnx', '--out', out)
    expect(ex.code, ex.stderr).toBe(0)
    expect((JSON.parse(ex.stdout) as { files: string[] }).files).toEqual(['labels.json', 'model.onnx', 'preprocess.json'])
    // back in through the generic ONNX importer: an image classifier like any other
    const imp = await T('--json', 'model', 'import', out, '--name', 'igpt cls as onnx')
    expect(imp.code, imp.stderr).toBe(0)
    const o = JSON.parse(imp.stdout) as ModelDetail
    expect(o).toMatchObject({ architecture: 'onnx-classifier', classes: ['class_0', 'class_1', 'class_2'] })
    expect(o.onnx!.inputs).toEqual([{ name: 'pixel_values', type: 'float32', shape: ['N', 3, 8, 8] }])
    const ref = JSON.parse(readFileSync(path.join(CLS, 'reference.json'), 'utf8')) as { images: { file: string; class_probs: number[] }[] }
    for (const [i, img] of ref.images.entries()) {
      const t = JSON.parse((await T('--json', 'model', 'try', o.id, path.join(CLS, 'images', `img${i}.png`), '--top', '3')).stdout) as ModelTryResult
      for (const { label, probability } of t.top) expect(Math.abs(probability - img.class_probs[Number(label.slice(6))]!), `${img.file} ${label}`).toBeLessThan(1e-4)
    }
    // a model without a classifier head has nothing to export as ONNX
    const lm = JSON.parse((await T('--json', 'model', 'import', LM, '--name', 'igpt lm')).stdout) as ModelDetail
    const no = await T('model', 'export', lm.id, '--format', 'onnx', '--out', path.join(tmp.dir, 'lm-onnx'))
    expect(no.code).toBe(1)
    expect(no.stderr).toMatch(/has no classifier head; ONNX export is for classifiers/)
  })

  it('a linear probe on an imported ONNX feature extractor: a classifier in one graph, based on the backbone, test split held out', async () => {
    // backbone: the mean of each channel, NCHW [N, 3, 4, 4] -> [N, 3]
    const g = new Graph('channel-means')
    const x = g.input('pixel_values', 'float32', ['N', 3, 4, 4])
    g.output(reduceMean(reshape(x, ['N', 3, 16]), [2]), 'embedding')
    const file = path.join(tmp.dir, 'channel-means.onnx')
    writeFileSync(file, toOnnx(g))
    const backbone = JSON.parse((await T('--json', 'model', 'import', file)).stdout) as ModelDetail
    expect(backbone.architecture).toBe('onnx-feature-extractor')

    // a dataset of noisy red / green / blue images, two of each held out as test
    const rng = new Prng(5)
    const noisy = async (c: number): Promise<Buffer> => {
      const px = Buffer.alloc(8 * 8 * 3)
      for (let i = 0; i < 64; i++) for (let ch = 0; ch < 3; ch++) px[i * 3 + ch] = Math.round((ch === c ? 190 : 60) + (rng.next() - 0.5) * 80)
      return sharp(px, { raw: { width: 8, height: 8, channels: 3 } }).png().toBuffer()
    }
    const probes: Record<string, string> = {}
    const ctx = createContext({ libraryDir: lib, host: 'cli' })
    try {
      const ds = ctx.repos.datasets.create({ name: 'colours', classes: ['red', 'green', 'blue'] })
      for (const [c, cls] of ds.classes.entries()) {
        for (let i = 0; i < 10; i++) {
          const png = await noisy(c)
          const media = storeBytes(ctx.library, png, { ext: 'png', mime: 'image/png', width: 8, height: 8 })
          const { item } = ctx.repos.items.add(ds.id, media.sha256, { originalName: `${cls.name}-${i}.png` })
          ctx.repos.items.setLabels([item.id], cls.id, 'human')
          if (i >= 8) ctx.repos.items.setSplit([item.id], 'test')
          if (i === 9) writeFileSync((probes[cls.name] = path.join(tmp.dir, `probe-${cls.name}.png`)), png)
        }
      }
      // one class only: refused
      const lonely = ctx.repos.datasets.create({ name: 'lonely', classes: ['a', 'b'] })
      const media = storeBytes(ctx.library, await noisy(0), { ext: 'png', mime: 'image/png' })
      ctx.repos.items.setLabels([ctx.repos.items.add(lonely.id, media.sha256).item.id], lonely.classes[0]!.id, 'human')
    } finally {
      await ctx.close()
    }

    const r = await T('--json', 'model', 'probe', backbone.id, '--dataset', 'colours', '--name', 'colour probe')
    expect(r.code, r.stderr).toBe(0)
    const { model, metrics } = JSON.parse(r.stdout) as { model: ModelDetail; metrics: Record<string, number> }
    expect(model).toMatchObject({ name: 'colour probe', source: 'trained', parentId: backbone.id, architecture: 'onnx-classifier', classes: ['red', 'green', 'blue'] })
    expect(metrics).toMatchObject({ trainImages: 24, testImages: 6, skippedImages: 0, trainAccuracy: 1, testAccuracy: 1 })
    const shown = JSON.parse((await T('--json', 'model', 'show', backbone.id)).stdout) as ModelDetail
    expect(shown.children).toEqual([{ id: model.id, name: 'colour probe' }])
    expect((JSON.parse((await T('--json', 'model', 'show', model.id)).stdout) as ModelDetail).lineage).toMatchObject({
      baseModel: { id: backbone.id },
      datasetSnapshot: { name: 'colours', classes: ['red', 'green', 'blue'] },
      training: { objective: 'probe' }
    })
    // the merged graph classifies the held-out images on its own
    for (const name of ['red', 'green', 'blue']) {
      const t = JSON.parse((await T('--json', 'model', 'try', model.id, probes[name]!)).stdout) as ModelTryResult
      expect(t.top[0]!.label).toBe(name)
    }
    const lonely = await T('model', 'probe', backbone.id, '--dataset', 'lonely')
    expect(lonely.code).toBe(1)
    expect(lonely.stderr).toMatch(/needs labelled images \(outside the test split\) of at least two classes for a probe; it has 1 in 1 class/)
    const igpt = await T('model', 'probe', 'igpt cls', '--dataset', 'colours')
    expect(igpt.code).toBe(1)
    expect(igpt.stderr).toMatch(/is not an imported ONNX model/)
  })
})
