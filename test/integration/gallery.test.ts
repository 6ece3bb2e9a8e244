// Generation jobs and the gallery through the contract, on the shared tiny ImageGPT fixture:
// the job samples in the ML worker thread and streams preview frames; outputs land in the
// library with their recipe in SQLite and in the PNG tEXt chunk; the same recipe and seed give
// identical pixels (also one image alone, by its index); delete removes the file and the row;
// stars, ratings, collections and "send new outputs to" survive closing and reopening the host.

import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { type AppContext, createContext } from '../../src/main/context'
import { type Dispatch, createDispatcher } from '../../src/main/host/dispatch'
import { exportHfImageGpt } from '../../src/main/ml/interop/hf-imagegpt'
import { imageTokens, tokensToRgb } from '../../src/main/ml/palette/palette'
import { classToken, initPixelGpt } from '../../src/main/ml/pixelgpt/model'
import { PixelGptRunner } from '../../src/main/ml/pixelgpt/runner'
import { createServices } from '../../src/main/services'
import { type GalleryItem, type GeneratePreview, type Job, type MethodName, type MethodResult } from '../../src/shared/contract'
import { ROOT } from './helpers'

const FIXTURE = path.resolve(ROOT, '..', 'shared', 'fixtures', 'imagegpt-tiny-lm')

let dir: string
let ctx: AppContext
let dispatch: Dispatch

function open(): void {
  ctx = createContext({ libraryDir: dir, host: 'cli', startJobs: true })
  dispatch = createDispatcher(createServices(ctx))
}

async function call<M extends MethodName>(method: M, input: unknown): Promise<MethodResult<M>> {
  const r = await dispatch(method, input)
  if (!r.ok) throw new Error(`${method}: ${r.error.code} ${r.error.message}`)
  return r.value as MethodResult<M>
}

async function finished(job: Job): Promise<Job> {
  for (;;) {
    const j = ctx.jobs.get(job.id)
    if (['done', 'failed', 'cancelled'].includes(j.state)) return j
    await new Promise((r) => setTimeout(r, 20))
  }
}

async function pixels(item: GalleryItem): Promise<Buffer> {
  const media = ctx.gallery.store.mediaOf(item.id)
  return sharp(ctx.library.resolveInside(media.path)).raw().toBuffer()
}

let modelId: string

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'tessera-gallery-'))
  open()
  modelId = (await call('models.import', { path: FIXTURE, name: 'tiny' })).id
}, 60_000)

afterAll(async () => {
  await ctx?.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('generate jobs and the gallery', () => {
  let first: GalleryItem[] = []

  it('generates in the worker with preview frames and saves every image with its recipe', async () => {
    const frames: GeneratePreview[] = []
    const off = ctx.bus.on('generate.preview', (f) => frames.push(f))
    const job = await call('generate.start', { model: 'tiny', count: 6, batchSize: 2, seed: 1234, temperature: 0.9, topK: 8 })
    expect((job.params as { seed: number }).seed).toBe(1234)
    const done = await finished(job)
    off()
    expect(done.state).toBe('done')
    const page = await call('gallery.list', { jobId: job.id, sort: 'oldest' })
    expect(page.total).toBe(6)
    first = page.items
    expect(first.map((i) => i.index)).toEqual([0, 1, 2, 3, 4, 5])
    for (const item of first) {
      expect(item.modelId).toBe(modelId)
      expect(item.seed).toBe(1234)
      expect(item.recipe).toMatchObject({ seed: 1234, temperature: 0.9, topK: 8, topP: 1, class: null, model: { id: modelId, name: 'tiny' }, batchSize: 2, count: 6 })
      expect(item.recipe.model.weightsSha256).toMatch(/^[0-9a-f]{64}$/)
      expect(item.bitsPerToken).toBeGreaterThan(0)
      expect(item.bitsPerToken).toBeLessThan(8)
      expect(item.width).toBe(8)
    }
    // Frames: at least one per batch (the finished one), each with the batch's images as PNGs.
    expect(frames.length).toBeGreaterThanOrEqual(6)
    expect(frames.every((f) => f.jobId === job.id && f.rows === 8 && f.images.length === 2 && f.images[0]!.startsWith('data:image/png;base64,'))).toBe(true)
    expect(frames.at(-1)).toMatchObject({ batchStart: 4, rowsDone: 8, finished: 6 })
    // A mid-image frame carries only the rows sampled so far: the rest is drawn black.
    const mid = frames.find((f) => f.rowsDone === 1)!
    const midPx = await sharp(Buffer.from(mid.images[0]!.split(',')[1]!, 'base64')).raw().toBuffer()
    expect([...midPx.subarray(8 * 3)].every((v) => v === 0)).toBe(true)
    // Every batch shows its first row before it is finished.
    for (const b of [0, 2, 4]) expect(frames.some((f) => f.batchStart === b && f.rowsDone < 8)).toBe(true)
  }, 60_000)

  it('the same recipe and seed give identical pixels, also for one image alone by its index', async () => {
    const job = await call('generate.start', { model: 'tiny', count: 6, batchSize: 4, seed: 1234, temperature: 0.9, topK: 8 })
    expect((await finished(job)).state).toBe('done')
    const again = (await call('gallery.list', { jobId: job.id, sort: 'oldest' })).items
    for (let i = 0; i < 6; i++) expect((await pixels(again[i]!)).equals(await pixels(first[i]!))).toBe(true)
    // Identical PNG bytes would be stored once; the recipe differs (batch size), so these are new files.
    // Image 3 alone (recall of one image):
    const one = await call('generate.start', { model: 'tiny', count: 1, seed: 1234, firstIndex: 3, temperature: 0.9, topK: 8 })
    expect((await finished(one)).state).toBe('done')
    const [alone] = (await call('gallery.list', { jobId: one.id })).items
    expect(alone!.index).toBe(3)
    expect((await pixels(alone!)).equals(await pixels(first[3]!))).toBe(true)
    // A different seed gives different images.
    const other = await call('generate.start', { model: 'tiny', count: 1, seed: 99, temperature: 0.9, topK: 8 })
    expect((await finished(other)).state).toBe('done')
    const [o] = (await call('gallery.list', { jobId: other.id })).items
    expect((await pixels(o!)).equals(await pixels(first[0]!))).toBe(false)
  }, 60_000)

  it('the recipe in the PNG round-trips through readRecipe (path and dragged-in bytes)', async () => {
    const item = first[2]!
    const file = ctx.library.resolveInside(ctx.gallery.store.mediaOf(item.id).path)
    expect(await call('gallery.readRecipe', { path: file })).toEqual(item.recipe)
    const b64 = readFileSync(file).toString('base64')
    expect(await call('gallery.readRecipe', { pngBase64: b64 })).toEqual(item.recipe)
    const out = mkdtempSync(path.join(tmpdir(), 'tessera-gallery-export-'))
    const { files } = await call('gallery.export', { ids: [item.id], out })
    expect(files.map((f) => path.basename(f))).toEqual(['tiny-1234-002.png'])
    expect(await call('gallery.readRecipe', { path: files[0]! })).toEqual(item.recipe)
    // Exporting again never overwrites.
    const again = await call('gallery.export', { ids: [item.id], out })
    expect(path.basename(again.files[0]!)).toBe('tiny-1234-002-1.png')
    rmSync(out, { recursive: true, force: true })
    const noRecipe = await sharp({ create: { width: 2, height: 2, channels: 3, background: '#000' } }).png().toBuffer()
    const r = await dispatch('gallery.readRecipe', { pngBase64: noRecipe.toString('base64') })
    expect(r.ok).toBe(false)
  })

  it('filters and searches', async () => {
    expect((await call('gallery.list', { seed: 1234 })).total).toBe(13)
    expect((await call('gallery.list', { q: 'seed:99' })).total).toBe(1)
    expect((await call('gallery.list', { q: 'seed:9' })).total).toBe(0)
    expect((await call('gallery.list', { q: '123' })).total).toBe(13)
    expect((await call('gallery.list', { q: 'tiny topk:8' })).total).toBe(14)
    expect((await call('gallery.list', { params: { batchSize: 2 } })).total).toBe(6)
    expect((await call('gallery.list', { params: { index: 3 } })).total).toBe(3)
    expect((await call('gallery.list', { modelId })).total).toBe(14)
    expect((await call('gallery.list', { className: 'any' })).total).toBe(14)
    const sorted = (await call('gallery.list', { sort: 'bits' })).items.map((i) => i.bitsPerToken!)
    expect(sorted).toEqual([...sorted].sort((a, b) => a - b))
    expect(await call('gallery.facets', {})).toEqual({ models: [{ id: modelId, name: 'tiny', count: 14 }], classes: [] })
  })

  it('delete removes the file and the row', async () => {
    const item = first[5]!
    const file = ctx.library.resolveInside(ctx.gallery.store.mediaOf(item.id).path)
    expect(existsSync(file)).toBe(true)
    expect(await call('gallery.delete', { ids: [item.id] })).toEqual({ removed: 1, filesRemoved: 1 })
    expect(existsSync(file)).toBe(false)
    expect((await dispatch('gallery.get', { id: item.id })).ok).toBe(false)
    expect(ctx.library.db.prepare('SELECT count(*) AS n FROM media WHERE sha256 = ?').get(item.sha256)).toEqual({ n: 0 })
  })

  it('stars, ratings, collections and send-to persist across a restart', async () => {
    const [a, b, c] = first
    await call('gallery.star', { ids: [a!.id], starred: true })
    await call('gallery.rate', { ids: [b!.id], rating: 4 })
    const boards = await call('gallery.createCollection', { name: 'Keepers' })
    await call('gallery.addToCollection', { collectionId: boards.id, ids: [a!.id, c!.id] })
    await call('gallery.setSendTo', { collectionId: boards.id })
    await ctx.close()
    open()
    expect((await call('gallery.list', { starred: true })).items.map((i) => i.id)).toEqual([a!.id])
    expect((await call('gallery.list', { minRating: 4 })).items.map((i) => i.id)).toEqual([b!.id])
    expect((await call('gallery.get', { id: b!.id })).rating).toBe(4)
    const cols = await call('gallery.collections', {})
    expect(cols).toMatchObject({ sendTo: boards.id, collections: [{ id: boards.id, name: 'Keepers', count: 2 }] })
    expect(new Set((await call('gallery.list', { collectionId: boards.id })).items.map((i) => i.id))).toEqual(new Set([a!.id, c!.id]))
    // New outputs go to the send-to collection.
    const job = await call('generate.start', { model: 'tiny', count: 2, seed: 5 })
    expect((await finished(job)).state).toBe('done')
    expect((await call('gallery.list', { collectionId: boards.id })).total).toBe(4)
  }, 60_000)

  it('cancel keeps the finished batches', async () => {
    const job = await call('generate.start', { model: 'tiny', count: 400, batchSize: 1, seed: 7 })
    // Cancel once the first image is saved.
    for (;;) {
      if ((await call('gallery.list', { jobId: job.id })).total >= 1) break
      await new Promise((r) => setTimeout(r, 10))
    }
    await call('jobs.cancel', { id: job.id })
    const end = await finished(job)
    expect(end.state).toBe('cancelled')
    const kept = (await call('gallery.list', { jobId: job.id })).total
    expect(kept).toBeGreaterThanOrEqual(1)
    expect(kept).toBeLessThan(400)
    // Every kept image is whole and on disk.
    for (const item of (await call('gallery.list', { jobId: job.id })).items) {
      expect(readdirSync(path.dirname(ctx.library.resolveInside(ctx.gallery.store.mediaOf(item.id).path))).length).toBeGreaterThan(0)
    }
  }, 60_000)

  it('refuses bad requests with sentences', async () => {
    const noClass = await dispatch('generate.start', { model: 'tiny', className: 'cat' })
    expect(noClass.ok ? '' : noClass.error.message).toMatch(/not trained with class conditioning/)
    const noModel = await dispatch('generate.start', { model: 'nope' })
    expect(noModel.ok ? '' : noModel.error.code).toBe('NOT_FOUND')
    const keep = await dispatch('generate.start', { model: 'tiny', complete: { path: path.join(FIXTURE, 'images', 'img0.png'), keepRows: 9 } })
    expect(keep.ok ? '' : keep.error.code).toBe('VALIDATION')
  })

  it('class-conditioned outputs: class recorded, scored (bits under the class start, classifier confidence), added to a dataset labelled', async () => {
    const model = initPixelGpt(
      { side: 4, paletteSize: 8, width: 16, layers: 1, heads: 2, innerWidth: 32, eps: 1e-5, numClasses: 2 },
      { seed: 3, lmHead: true, classes: ['cats', 'dogs'], conditionClasses: ['cats', 'dogs'] }
    )
    const folder = mkdtempSync(path.join(tmpdir(), 'tessera-gallery-cond-'))
    rmSync(folder, { recursive: true })
    await exportHfImageGpt(model, folder)
    const imported = await call('models.import', { path: folder, name: 'both heads' })
    expect(imported).toMatchObject({ generative: true, classes: ['cats', 'dogs'], conditionClasses: ['cats', 'dogs'] })
    const job = await call('generate.start', { model: 'both heads', count: 3, seed: 21, className: 'DOGS' })
    expect((await finished(job)).state).toBe('done')
    const items = (await call('gallery.list', { jobId: job.id, sort: 'oldest' })).items
    expect((await call('gallery.list', { className: 'dogs' })).total).toBe(3)
    // Scores checked against the model run here, in this thread, on the saved pixels' tokens.
    const runner = new PixelGptRunner(model)
    const palette = Float32Array.from(imported.palette.flat())
    for (const item of items) {
      expect(item.className).toBe('dogs')
      const tokens = await imageTokens(ctx.library.resolveInside(ctx.gallery.store.mediaOf(item.id).path), palette, 4)
      const [nll] = await runner.nll([tokens], classToken(model.config, 1))
      expect(item.bitsPerToken).toBeCloseTo(nll! / Math.LN2, 4)
      const [probs] = await runner.classProbabilities([tokens])
      expect(item.classConfidence).toBeCloseTo(probs![1]!, 4)
    }
    // Back to data: labelled with their class, flagged generated, in train.
    const ds = await call('datasets.create', { name: 'Pets', classes: ['cats'] })
    expect(await call('gallery.addToDataset', { ids: items.map((i) => i.id), dataset: 'Pets' })).toEqual({ added: 3, already: 0, labelled: 3 })
    expect(await call('gallery.addToDataset', { ids: [items[0]!.id], dataset: 'Pets' })).toEqual({ added: 0, already: 1, labelled: 1 })
    const page = await call('items.list', { dataset: ds.id, flag: 'generated' })
    expect(page.total).toBe(3)
    expect(page.items.every((i) => i.className === 'dogs' && i.split === 'train' && i.flags.includes('generated'))).toBe(true)
    expect((await call('datasets.get', { ref: 'Pets' })).classes.map((c) => c.name)).toEqual(['cats', 'dogs'])
    // Unlabelled, no split:
    const other = await call('datasets.create', { name: 'Unlabelled pets' })
    await call('gallery.addToDataset', { ids: [items[1]!.id], dataset: other.id, labelled: false, split: 'none' })
    const [one] = (await call('items.list', { dataset: other.id })).items
    expect(one).toMatchObject({ className: null, split: null, flags: ['generated'] })
    // A file used by a dataset item stays when its gallery row is deleted.
    const file = ctx.library.resolveInside(ctx.gallery.store.mediaOf(items[1]!.id).path)
    expect(await call('gallery.delete', { ids: [items[1]!.id] })).toEqual({ removed: 1, filesRemoved: 0 })
    expect(existsSync(file)).toBe(true)
    rmSync(folder, { recursive: true, force: true })
  }, 60_000)

  it('completes an image: kept rows equal the source, the source is recorded by hash', async () => {
    const src = path.join(FIXTURE, 'images', 'img0.png')
    const job = await call('generate.start', { model: 'tiny', count: 2, seed: 3, complete: { path: src, keepRows: 4 } })
    expect((await finished(job)).state).toBe('done')
    const items = (await call('gallery.list', { jobId: job.id })).items
    // The kept rows are the source's palette tokens (reference.json, computed independently), drawn in palette colours.
    const ref = JSON.parse(readFileSync(path.join(FIXTURE, 'reference.json'), 'utf8')) as { images: { tokens: number[] }[] }
    const palette = Float32Array.from((await call('models.get', { ref: 'tiny' })).palette.flat())
    const srcPx = Buffer.from(tokensToRgb(ref.images[0]!.tokens, palette))
    for (const item of items) {
      expect(item.recipe.complete).toMatchObject({ file: src, keepRows: 4 })
      expect(item.sourceSha256).toMatch(/^[0-9a-f]{64}$/)
      const px = await pixels(item)
      expect(px.subarray(0, 4 * 8 * 3).equals(srcPx.subarray(0, 4 * 8 * 3))).toBe(true)
    }
  }, 60_000)
})
