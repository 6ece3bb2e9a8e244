// The bad-input corpus (test/fixtures/bad-input) through the real paths: a folder import, a batch
// classify, CSV imports and model imports. Every bad entry gets its own specific reason, every
// good one goes through, the batch always finishes, and a refused model leaves nothing behind.

import { readdirSync } from 'node:fs'
import { basename, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ClassifyRow } from '../../src/shared/classify-contract'
import { type ImportResult, type Job } from '../../src/shared/contract'
import { Graph, matmul, reshape, toOnnx } from '../../src/main/ml/graph'
import { setupServices } from '../helpers/services'
import { OK, writeCsvCorpus, writeImageCorpus, writeModelCorpus, type ImageCorpus } from '../fixtures/bad-input/corpus'
import { ROOT } from './helpers'

const CLS = join(ROOT, '..', 'shared', 'fixtures', 'imagegpt-tiny-cls')

const cleanups: (() => void | Promise<void>)[] = []
let s: ReturnType<typeof setupServices>
let corpus: ImageCorpus

beforeAll(async () => {
  s = setupServices(cleanups)
  corpus = await writeImageCorpus(join(s.dir, 'corpus'))
  for (const why of corpus.skipped) console.warn(`bad-input corpus: skipped ${why}`)
}, 60_000)
afterAll(async () => {
  for (const c of cleanups.reverse()) await c()
})

async function importJob(name: string, source: string): Promise<ImportResult> {
  const job = await s.call('datasets.import', { name, source })
  const final: Job = await s.ctx.jobs.wait(job.id)
  expect(final.state, final.error ?? '').toBe('done')
  return final.result as ImportResult
}

describe('bad-input corpus', () => {
  it('folder import: each bad file listed with its own reason, every good one imported', async () => {
    const result = await importJob('Corpus', corpus.dir)
    const reasons = new Map(result.errors.map((e) => [e.path.replace(corpus.dir + '/', ''), e.reason]))
    for (const [name, expect_] of corpus.entries) {
      if (expect_ === OK) expect(reasons.get(name), name).toBeUndefined()
      else expect(reasons.get(name), name).toMatch(expect_)
    }
    const bad = [...corpus.entries].filter(([, e]) => e !== OK).map(([n]) => n)
    expect([...reasons.keys()].sort()).toEqual(bad.sort())
    const page = await s.call('items.list', { dataset: 'Corpus', limit: 500 })
    const good = [...corpus.entries].filter(([, e]) => e === OK).map(([n]) => n)
    expect(page.items.map((i) => i.name).sort()).toEqual(good.sort())
    // Odd formats keep their real size (the first frame of an animation).
    const byName = new Map(page.items.map((i) => [i.name, i]))
    expect(byName.get('animated.gif')).toMatchObject({ width: 20, height: 16 })
    expect(byName.get('animated.webp')).toMatchObject({ width: 20, height: 16 })
    expect(byName.get('cmyk.jpg')).toMatchObject({ width: 16, height: 12 })
    expect(byName.get('tall-1x4000.png')).toMatchObject({ width: 1, height: 4000 })
  }, 120_000)

  it('batch classify: a result row per image file, the bad ones with their reason, the run finishes', async () => {
    await s.call('models.import', { path: CLS, name: 'cls' })
    const { runId } = await s.call('classify.start', { folders: [corpus.dir], model: 'cls' })
    const final = await s.ctx.jobs.wait(runId)
    expect(final.state, final.error ?? '').toBe('done')
    const { rows } = await s.call('classify.results', { runId, limit: 1000 })
    const byPath = new Map<string, ClassifyRow>(rows.map((r) => [r.path.replace(corpus.dir + '/', ''), r]))
    for (const [name, e] of corpus.entries) {
      if (name.endsWith('.svg')) continue // not an image extension classify looks at
      const row = byPath.get(name)
      expect(row, name).toBeDefined()
      if (e === OK) expect(row!.status, `${name}: ${row!.error}`).toBe('ok')
      else {
        expect(row!.status, name).toBe('error')
        expect(row!.error, name).toBeTruthy()
      }
    }
    expect(byPath.get('zero.png')!.error).toMatch(/empty|0 bytes|could not be read/)
    expect(byPath.get('bomb-20000x20000.png')!.error).toMatch(/20000x20000 pixels, more than the limit/)
    expect(byPath.get('dev-zero.png')!.error).toMatch(/not a regular file/)
    expect(byPath.get('loop.png')!.error).toMatch(/loop|too many symbolic links/i)
  }, 120_000)

  it('malformed CSVs: BOM, CRLF, missing and extra columns, quoting, ../ paths, devices; specific reasons, good rows imported', async () => {
    const cases = await writeCsvCorpus(join(s.dir, 'csv'))
    for (const c of cases) {
      const result = await importJob(`csv ${basename(c.file)}`, c.file)
      const reasons = new Map(result.errors.map((e) => [e.path, e.reason]))
      for (const [path, re] of c.errors) expect(reasons.get(path), `${basename(c.file)} ${path}: ${JSON.stringify(result.errors)}`).toMatch(re)
      const page = await s.call('items.list', { dataset: `csv ${basename(c.file)}`, limit: 100 })
      expect(page.items.map((i) => i.name).sort(), basename(c.file)).toEqual([...c.imported].sort())
    }
  }, 120_000)

  it('corrupt safetensors and ONNX files: refused with the reason, nothing left in the library', async () => {
    const g = new Graph('tiny-classifier')
    const x = g.input('pixel_values', 'float32', ['N', 3, 4, 4])
    g.output(matmul(reshape(x, ['N', 48]), g.tensor(new Float32Array(48 * 3).fill(0.01), [48, 3])), 'logits')
    const cases = writeModelCorpus(join(s.dir, 'models'), CLS, toOnnx(g))
    const before = await s.call('models.list', {})
    const folders = (): string[] => readdirSync(s.ctx.library.paths.models).sort()
    const onDisk = folders()
    for (const c of cases) {
      const r = await s.dispatch('models.import', { path: c.path, name: `bad ${basename(c.path)}` })
      expect(r.ok, c.path).toBe(false)
      if (r.ok) continue
      expect(r.error.code, `${c.path}: ${r.error.message}`).not.toBe('INTERNAL')
      expect(r.error.message, c.path).toMatch(c.reason)
    }
    expect(await s.call('models.list', {})).toEqual(before)
    expect(folders()).toEqual(onDisk)
  }, 120_000)
})
