// The issue-4 acceptance through the CLI: `tessera model import` of the shared fixtures, `model
// score` against the reference NLL, `generate --greedy` against the reference greedy tokens
// (the PNG read back and re-tokenized with the palette), export -> import bit-exact, seeded
// generation reproducible, and bad inputs refused with a sentence and nothing left behind.
// main() runs in this process (stdout/stderr captured), as in test/unit/cli.

import { createHash } from 'node:crypto'
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, truncateSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { type ModelDetail, type ModelScore, type ModelSummary } from '../../src/shared/contract'
import { runMain as run } from '../helpers/run-main'
import { exportHfImageGpt } from '../../src/main/ml/interop/hf-imagegpt'
import { paletteTokenize, readPngText } from '../../src/main/ml/palette/palette'
import { classToken, initPixelGpt } from '../../src/main/ml/pixelgpt/model'
import { PixelGptRunner } from '../../src/main/ml/pixelgpt/runner'
import { argmax } from '../../src/main/ml/sample/sampler'
import { tempDir } from '../unit/library/tmp'
import { ROOT } from './helpers'

const FIXTURES = path.resolve(ROOT, '..', 'shared', 'fixtures')
const LM = path.join(FIXTURES, 'imagegpt-tiny-lm')
const CLS = path.join(FIXTURES, 'imagegpt-tiny-cls')

interface LmReference {
  images: { file: string; tokens: number[]; nll_nats_per_token: number; bits_per_token: number }[]
  greedy_tokens: number[]
}
const ref = JSON.parse(readFileSync(path.join(LM, 'reference.json'), 'utf8')) as LmReference
const images = [0, 1, 2, 3].map((i) => path.join(LM, 'images', `img${i}.png`))

/** Tensor name -> its raw bytes in a safetensors file (read independently of our reader). */
function rawTensors(file: string): Map<string, { dtype: string; shape: number[]; bytes: Buffer }> {
  const buf = readFileSync(file)
  const n = Number(buf.readBigUInt64LE(0))
  const header = JSON.parse(buf.toString('utf8', 8, 8 + n)) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>
  const out = new Map<string, { dtype: string; shape: number[]; bytes: Buffer }>()
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue
    out.set(name, { dtype: t.dtype, shape: t.shape, bytes: buf.subarray(8 + n + t.data_offsets[0], 8 + n + t.data_offsets[1]) })
  }
  return out
}

async function pngTokens(file: string, palette: number[][]): Promise<Int32Array> {
  const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true })
  expect(info.channels).toBe(3)
  return paletteTokenize(new Uint8Array(data), Float32Array.from(palette.flat()))
}

async function pngPixels(file: string): Promise<Buffer> {
  return sharp(file).raw().toBuffer()
}

describe('tessera model / generate on the shared ImageGPT fixtures', () => {
  let tmp: { dir: string; cleanup: () => void }
  let lib: string
  let lm: ModelDetail
  let cls: ModelDetail
  const T = (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => run(['--library', lib, ...args])

  beforeAll(async () => {
    tmp = tempDir('tessera-cli-model-')
    lib = path.join(tmp.dir, 'lib')
    const a = await T('--json', 'model', 'import', LM)
    expect(a.code, a.stderr).toBe(0)
    lm = JSON.parse(a.stdout) as ModelDetail
    const b = await T('--json', 'model', 'import', CLS, '--name', 'Tiny classifier')
    expect(b.code, b.stderr).toBe(0)
    cls = JSON.parse(b.stdout) as ModelDetail
  })
  afterAll(() => tmp.cleanup())

  it('imports both architectures into model packages listed in the library', async () => {
    expect(lm.name).toBe('imagegpt-tiny-lm')
    expect(lm.architecture).toBe('ImageGPTForCausalImageModeling')
    expect(lm.generative).toBe(true)
    expect(lm.config).toEqual({ side: 8, paletteSize: 16, width: 32, layers: 2, heads: 4, innerWidth: 128, eps: 1e-5, numClasses: 0 })
    expect(lm.palette).toHaveLength(16)
    expect(cls.architecture).toBe('ImageGPTForImageClassification')
    expect(cls.generative).toBe(false)
    expect(cls.classes).toEqual(['class_0', 'class_1', 'class_2'])
    for (const m of [lm, cls]) {
      const dir = path.join(lib, 'models', m.id)
      expect(readdirSync(dir).sort()).toEqual(['model.json', 'weights.safetensors'])
      expect(createHash('sha256').update(readFileSync(path.join(dir, 'weights.safetensors'))).digest('hex')).toBe(m.weightsSha256)
    }
    const list = await T('--json', 'model', 'list')
    expect((JSON.parse(list.stdout) as ModelSummary[]).map((m) => m.name).sort()).toEqual(['Tiny classifier', 'imagegpt-tiny-lm'])
    // by name, case-insensitively, and by id
    const show = await T('--json', 'model', 'show', 'tiny CLASSIFIER')
    expect((JSON.parse(show.stdout) as ModelDetail).id).toBe(cls.id)
    expect((JSON.parse((await T('--json', 'model', 'show', lm.id)).stdout) as ModelDetail).name).toBe(lm.name)
    // importing the same folder again gets a free name
    const again = await T('--json', 'model', 'import', LM)
    const second = JSON.parse(again.stdout) as ModelDetail
    expect(second.name).toBe('imagegpt-tiny-lm (2)')
    expect((await T('model', 'remove', second.id)).code).toBe(0)
    expect(existsSync(path.join(lib, 'models', second.id))).toBe(false)
    // an explicit name that is taken is refused
    const taken = await T('model', 'import', LM, '--name', 'IMAGEGPT-tiny-lm')
    expect(taken.code).toBe(1)
    expect(taken.stderr).toMatch(/already exists/)
  })

  it('model score prints the reference NLL and bits per token, one JSON line per image; a bad image gets an error line', async () => {
    const bad = path.join(tmp.dir, 'not-an-image.png')
    writeFileSync(bad, 'this is text, not a PNG')
    const r = await T('model', 'score', '--model', 'imagegpt-tiny-lm', images[0]!, bad, ...images.slice(1))
    expect(r.code).toBe(1) // one image failed
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as ModelScore)
    expect(lines.map((l) => l.file)).toEqual([images[0], bad, ...images.slice(1)])
    const badLine = lines[1] as { file: string; error: string }
    expect(badLine.error).toMatch(/not-an-image\.png could not be read as an image/)
    const good = lines.filter((l): l is Extract<ModelScore, { bitsPerToken: number }> => 'bitsPerToken' in l)
    expect(good).toHaveLength(4)
    good.forEach((s, i) => {
      const e = ref.images[i]!
      expect(Math.abs(s.nllNatsPerToken - e.nll_nats_per_token) / e.nll_nats_per_token).toBeLessThan(1e-4)
      expect(Math.abs(s.bitsPerToken - e.bits_per_token) / e.bits_per_token).toBeLessThan(1e-4)
    })
    // --json: one array document
    const j = await T('--json', 'model', 'score', '--model', lm.id, ...images)
    expect(j.code).toBe(0)
    expect((JSON.parse(j.stdout) as ModelScore[]).length).toBe(4)
    // a classifier has no lm_head to score with
    const c = await T('model', 'score', '--model', cls.id, images[0]!)
    expect(c.code).toBe(1)
    expect(c.stderr).toMatch(/without an lm_head/)
  })

  it('generate --greedy --count 1 reproduces the reference greedy tokens, with the recipe in the PNG', async () => {
    const out = path.join(tmp.dir, 'greedy')
    const r = await T('--json', 'generate', '--model', 'imagegpt-tiny-lm', '--greedy', '--count', '1', '--seed', '5', '--out', out)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toMatch(/row 8\/8 \(64\/64 tokens\)/)
    const { files } = JSON.parse(r.stdout) as { files: string[] }
    expect(files).toHaveLength(1)
    expect(Array.from(await pngTokens(files[0]!, lm.palette))).toEqual(ref.greedy_tokens)
    const recipe = JSON.parse(readPngText(readFileSync(files[0]!)).tessera!) as Record<string, unknown>
    expect(recipe).toMatchObject({
      model: { id: lm.id, name: lm.name, weightsSha256: lm.weightsSha256 },
      seed: 5,
      index: 0,
      count: 1,
      greedy: true,
      class: null,
      keepRows: 0,
      complete: null
    })
    // the same command again never overwrites the first file
    const again = JSON.parse((await T('--json', 'generate', '--model', lm.id, '--greedy', '--seed', '5', '--out', out)).stdout) as { files: string[] }
    expect(again.files[0]).not.toBe(files[0])
    expect(readdirSync(out)).toHaveLength(2)
  })

  it('the same seed gives identical pixels; another seed gives other images', async () => {
    const gen = async (seed: string, out: string): Promise<Buffer[]> => {
      const r = await T('--json', 'generate', '--model', lm.id, '--count', '3', '--seed', seed, '--temperature', '1.5', '--top-p', '0.95', '--out', path.join(tmp.dir, out))
      expect(r.code, r.stderr).toBe(0)
      const { files } = JSON.parse(r.stdout) as { files: string[] }
      expect(files).toHaveLength(3)
      const recipe = JSON.parse(readPngText(readFileSync(files[2]!)).tessera!) as Record<string, unknown>
      expect(recipe).toMatchObject({ index: 2, seed: Number(seed), greedy: false, temperature: 1.5, topK: 0, topP: 0.95 })
      return Promise.all(files.map(pngPixels))
    }
    const a = await gen('1234', 'a')
    const b = await gen('1234', 'b')
    const c = await gen('99', 'c')
    a.forEach((px, i) => expect(px.equals(b[i]!)).toBe(true))
    expect(a.some((px, i) => !px.equals(c[i]!))).toBe(true)
    expect(a[0]!.equals(a[1]!) && a[1]!.equals(a[2]!)).toBe(false)
  })

  it('completion keeps the top rows of the given image', async () => {
    const r = await T('--json', 'generate', '--model', lm.id, '--complete', images[1]!, '--keep-rows', '3', '--seed', '1', '--out', path.join(tmp.dir, 'complete'))
    expect(r.code, r.stderr).toBe(0)
    const tokens = await pngTokens((JSON.parse(r.stdout) as { files: string[] }).files[0]!, lm.palette)
    expect(Array.from(tokens.subarray(0, 24))).toEqual(ref.images[1]!.tokens.slice(0, 24))
    const bad = await T('generate', '--model', lm.id, '--complete', path.join(tmp.dir, 'missing.png'), '--out', path.join(tmp.dir, 'complete'))
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/missing\.png could not be read as an image/)
    const rows = await T('generate', '--model', lm.id, '--complete', images[1]!, '--keep-rows', '9', '--out', path.join(tmp.dir, 'complete'))
    expect(rows.code).toBe(2)
    expect(rows.stderr).toMatch(/--keep-rows must be a whole number from 0 to 8/)
  })

  it('export -> import round-trips bit-exactly, and export never overwrites', async () => {
    for (const [m, src] of [
      [lm, LM],
      [cls, CLS]
    ] as const) {
      const out = path.join(tmp.dir, `export-${m.id}`)
      const r = await T('--json', 'model', 'export', m.name, '--format', 'hf', '--out', out)
      expect(r.code, r.stderr).toBe(0)
      expect((JSON.parse(r.stdout) as { files: string[] }).files).toEqual(['config.json', 'model.safetensors', 'preprocessor_config.json'])
      // every tensor of the original file, byte for byte, under the same name, dtype and shape
      const orig = rawTensors(path.join(src, 'model.safetensors'))
      const back = rawTensors(path.join(out, 'model.safetensors'))
      expect([...back.keys()].sort()).toEqual([...orig.keys()].sort())
      for (const [name, t] of orig) {
        const u = back.get(name)!
        expect(u.dtype).toBe(t.dtype)
        expect(u.shape).toEqual(t.shape)
        expect(u.bytes.equals(t.bytes), name).toBe(true)
      }
      const clusters = (p: string): unknown => (JSON.parse(readFileSync(path.join(p, 'preprocessor_config.json'), 'utf8')) as { clusters: unknown }).clusters
      expect(clusters(out)).toEqual(clusters(src))
      // and back in: the same weights file and palette as the first import
      const again = JSON.parse((await T('--json', 'model', 'import', out, '--name', `${m.name} again`)).stdout) as ModelDetail
      expect(again.weightsSha256).toBe(m.weightsSha256)
      expect(again.palette).toEqual(m.palette)
      expect(again.classes).toEqual(m.classes)
      expect(again.config).toEqual(m.config)
      // a second export to the same folder is refused and leaves it as it was
      const before = readFileSync(path.join(out, 'model.safetensors'))
      const twice = await T('model', 'export', m.id, '--out', out)
      expect(twice.code).toBe(1)
      expect(twice.stderr).toMatch(/already exists and is not empty; export never overwrites/)
      expect(readFileSync(path.join(out, 'model.safetensors')).equals(before)).toBe(true)
    }
  })

  describe('bad model folders are refused with a sentence, and nothing is left behind', () => {
    const broken = async (name: string, damage: (dir: string) => void): Promise<string> => {
      const dir = path.join(tmp.dir, 'broken', name)
      mkdirSync(path.dirname(dir), { recursive: true })
      cpSync(LM, dir, { recursive: true })
      damage(dir)
      const before = readdirSync(path.join(lib, 'models')).sort()
      const count = (JSON.parse((await T('--json', 'model', 'list')).stdout) as unknown[]).length
      const r = await T('model', 'import', dir)
      expect(r.code).toBe(1)
      expect(readdirSync(path.join(lib, 'models')).sort()).toEqual(before)
      expect((JSON.parse((await T('--json', 'model', 'list')).stdout) as unknown[]).length).toBe(count)
      return r.stderr
    }

    it('a truncated safetensors file', async () => {
      const err = await broken('truncated', (d) => truncateSync(path.join(d, 'model.safetensors'), 60_000))
      expect(err).toMatch(/Cannot import .*truncated/)
      expect(err).toMatch(/model\.safetensors/)
    })

    it('a config of another architecture', async () => {
      const err = await broken('gpt2', (d) => {
        const cfg = JSON.parse(readFileSync(path.join(d, 'config.json'), 'utf8')) as Record<string, unknown>
        writeFileSync(path.join(d, 'config.json'), JSON.stringify({ ...cfg, architectures: ['GPT2LMHeadModel'], model_type: 'gpt2' }))
      })
      expect(err).toMatch(/config\.json describes GPT2LMHeadModel, not an ImageGPT model/)
    })

    it('clusters of the wrong shape', async () => {
      const err = await broken('clusters', (d) => {
        const pre = JSON.parse(readFileSync(path.join(d, 'preprocessor_config.json'), 'utf8')) as { clusters: number[][] }
        writeFileSync(path.join(d, 'preprocessor_config.json'), JSON.stringify({ ...pre, clusters: pre.clusters.map((c) => c.slice(0, 2)) }))
      })
      expect(err).toMatch(/clusters of shape \[16, 2\]; they must be \[16, 3\]/)
    })

    it('a folder that does not exist', async () => {
      const r = await T('model', 'import', path.join(tmp.dir, 'nowhere'))
      expect(r.code).toBe(1)
      expect(r.stderr).toMatch(/There is no file or folder .*nowhere to import/)
    })
  })

  it('a model package damaged on disk is refused with the reason when it is used', async () => {
    const r = await T('--json', 'model', 'import', LM, '--name', 'to damage')
    const m = JSON.parse(r.stdout) as ModelDetail
    truncateSync(path.join(lib, 'models', m.id, 'weights.safetensors'), 100)
    const s = await T('model', 'score', '--model', 'to damage', images[0]!)
    expect(s.code).toBe(1)
    expect(s.stderr).toMatch(/Model "to damage" cannot be loaded: .*truncated/)
  })

  it('class-conditioned generation follows the class token (greedy: each token is the argmax after the class start)', async () => {
    const model = initPixelGpt({ side: 4, paletteSize: 8, width: 16, layers: 1, heads: 2, innerWidth: 32, eps: 1e-5, numClasses: 2 }, { seed: 3, conditionClasses: ['cats', 'dogs'] })
    const folder = path.join(tmp.dir, 'conditioned')
    await exportHfImageGpt(model, folder)
    const imp = await T('--json', 'model', 'import', folder)
    expect(imp.code, imp.stderr).toBe(0)
    const m = JSON.parse(imp.stdout) as ModelDetail
    expect(m.conditionClasses).toEqual(['cats', 'dogs'])
    const runner = new PixelGptRunner(model)
    for (const [name, index] of [
      ['dogs', 1],
      ['CATS', 0]
    ] as const) {
      const r = await T('--json', 'generate', '--model', m.id, '--greedy', '--class', name, '--out', path.join(tmp.dir, `cond-${index}`))
      expect(r.code, r.stderr).toBe(0)
      const file = (JSON.parse(r.stdout) as { files: string[] }).files[0]!
      expect((JSON.parse(readPngText(readFileSync(file)).tessera!) as { class: string }).class).toBe(model.conditionClasses[index])
      const tokens = Array.from(await pngTokens(file, m.palette))
      // full-sequence logits with the class token at the start: greedy decoding must agree at every position
      const logits = (await runner.logits([tokens], classToken(model.config, index))).data as Float32Array
      tokens.forEach((t, pos) => expect(argmax(logits.subarray(pos * 8, pos * 8 + 8)), `position ${pos}`).toBe(t))
    }
    const unknown = await T('generate', '--model', m.id, '--class', 'birds', '--out', path.join(tmp.dir, 'cond-x'))
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toMatch(/no conditioning class "birds"; it knows cats, dogs/)
  })

  it('model try: top classes of a classifier; bits and a completion from a generative model', async () => {
    const c = await T('--json', 'model', 'try', cls.id, path.join(CLS, 'images', 'img0.png'), '--top', '2')
    expect(c.code, c.stderr).toBe(0)
    const tc = JSON.parse(c.stdout) as { top: { label: string; probability: number }[]; bitsPerToken: null; completionPng: null }
    expect(tc.top).toHaveLength(2)
    expect(tc.top[0]!.probability).toBeGreaterThanOrEqual(tc.top[1]!.probability)
    expect(tc.bitsPerToken).toBeNull()
    const clsRef = JSON.parse(readFileSync(path.join(CLS, 'reference.json'), 'utf8')) as { images: { class_probs: number[] }[] }
    const probs = clsRef.images[0]!.class_probs
    const best = probs.indexOf(Math.max(...probs))
    expect(tc.top[0]!.label).toBe(`class_${best}`)
    expect(Math.abs(tc.top[0]!.probability - probs[best]!)).toBeLessThan(1e-4)

    const png = path.join(tmp.dir, 'try.png')
    const g = await T('--json', 'model', 'try', lm.id, images[2]!, '--out', png)
    expect(g.code, g.stderr).toBe(0)
    const tg = JSON.parse(g.stdout) as { bitsPerToken: number; top: unknown[] }
    expect(Math.abs(tg.bitsPerToken - ref.images[2]!.bits_per_token) / ref.images[2]!.bits_per_token).toBeLessThan(1e-4)
    expect(tg.top).toEqual([])
    const tokens = await pngTokens(png, lm.palette)
    expect(Array.from(tokens.subarray(0, 32))).toEqual(ref.images[2]!.tokens.slice(0, 32))
  })

  it('remove says what depends on a model first, and removes it with --force', async () => {
    const base = JSON.parse((await T('--json', 'model', 'import', LM, '--name', 'base')).stdout) as ModelDetail
    // A fine-tune as training will register it: a package whose row names its base.
    const { createContext } = await import('../../src/main/context')
    const ctx = createContext({ libraryDir: lib, host: 'cli' })
    let childId: string
    try {
      const { model } = await ctx.models.load(base.id)
      childId = (await ctx.models.add(model, { name: 'base, fine-tuned', source: 'trained', parentId: base.id, meta: { baseModel: base.id } })).id
    } finally {
      await ctx.close()
    }
    const shown = JSON.parse((await T('--json', 'model', 'show', 'base')).stdout) as ModelDetail
    expect(shown.children).toEqual([{ id: childId, name: 'base, fine-tuned' }])
    const refused = await T('model', 'remove', 'base')
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/"base" is the base of 1 fine-tuned model \(base, fine-tuned\)/)
    expect(existsSync(path.join(lib, 'models', base.id))).toBe(true)
    const forced = await T('--json', 'model', 'remove', 'base', '--force')
    expect(forced.code).toBe(0)
    expect(JSON.parse(forced.stdout)).toEqual({ id: base.id, orphaned: [{ id: childId, name: 'base, fine-tuned' }], usage: { trainingRuns: 0, labels: 0, outputs: 0 } })
    expect(existsSync(path.join(lib, 'models', base.id))).toBe(false)
    expect((JSON.parse((await T('--json', 'model', 'show', childId)).stdout) as ModelDetail).parentId).toBeNull()
    const gone = await T('model', 'show', 'base')
    expect(gone.code).toBe(1)
    expect(gone.stderr).toMatch(/No model with id or name "base"/)
  })
})
