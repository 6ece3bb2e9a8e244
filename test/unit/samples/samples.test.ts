// The first-run sample library on the real shipped resources: first start imports the built-in
// models and both sample datasets (MNIST digits, Noto emoji), a second start imports nothing, and
// a reset adds back only what was removed (labels the user changed stay; a deleted sample dataset
// comes back without touching the other).

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { type AppContext, createContext } from '../../../src/main/context'
import { createDispatcher } from '../../../src/main/host/dispatch'
import { createServices } from '../../../src/main/services'
import { builtinModelNames, defaultSampleSources, SAMPLE_DATASETS, sampleDatasetDir, seedOnFirstStart } from '../../../src/main/samples'

const src = defaultSampleSources()
const [MNIST, EMOJI] = SAMPLE_DATASETS as [(typeof SAMPLE_DATASETS)[number], (typeof SAMPLE_DATASETS)[number]]
const MNIST_DIR = sampleDatasetDir(src, MNIST)
const EMOJI_DIR = sampleDatasetDir(src, EMOJI)
const EMOJI_CATEGORIES = ['Activities', 'Animals & Nature', 'Flags', 'Food & Drink', 'Objects', 'People & Body', 'Smileys & Emotion', 'Symbols', 'Travel & Places']
const dirs: string[] = []
const open: AppContext[] = []

function openLibrary(dir?: string): { ctx: AppContext; dir: string } {
  const d = dir ?? mkdtempSync(join(tmpdir(), 'tessera-samples-'))
  if (!dir) dirs.push(d)
  const ctx = createContext({ libraryDir: d, host: 'browser', startJobs: true })
  open.push(ctx)
  return { ctx, dir: d }
}

async function close(ctx: AppContext): Promise<void> {
  open.splice(open.indexOf(ctx), 1)
  await ctx.close()
}

afterEach(async () => {
  for (const c of open.splice(0)) await c.close()
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

// The shipped files, counted from the folders themselves: split -> class -> count.
function shippedLayout(root: string): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {}
  for (const split of readdirSync(root).sort()) {
    out[split] = {}
    for (const cls of readdirSync(join(root, split)).sort()) out[split]![cls] = readdirSync(join(root, split, cls)).filter((f) => f.endsWith('.png')).length
  }
  return out
}
const total = (layout: Record<string, Record<string, number>>): number => Object.values(layout).reduce((n, c) => n + Object.values(c).reduce((m, k) => m + k, 0), 0)
const mnistShipped = total(shippedLayout(MNIST_DIR))
const emojiShipped = total(shippedLayout(EMOJI_DIR))

describe('sample library', () => {
  it('ships built-in models and two labelled sample datasets of a few hundred images', () => {
    expect(builtinModelNames(src)).toContain('tessera-digits')
    expect(SAMPLE_DATASETS.map((d) => d.name)).toEqual(['Sample: MNIST digits', 'Sample: Noto emoji'])
    expect(mnistShipped).toBe(300)
    // 20 emoji in each of the 9 categories: 14 train / 3 val / 3 test.
    const emoji = shippedLayout(EMOJI_DIR)
    expect(Object.keys(emoji)).toEqual(['test', 'train', 'val'])
    for (const [split, n] of [
      ['train', 14],
      ['val', 3],
      ['test', 3]
    ] as const)
      expect(emoji[split]).toEqual(Object.fromEntries(EMOJI_CATEGORIES.map((c) => [c, n])))
    expect(emojiShipped).toBe(180)
  })

  it('first start imports all; second start imports nothing; reset re-imports only what is missing', async () => {
    const first = openLibrary()
    const seeded = await seedOnFirstStart(first.ctx, src)
    expect(seeded?.modelsImported).toEqual(builtinModelNames(src))
    expect(seeded?.datasetJobs.map((j) => j.dataset)).toEqual([MNIST.name, EMOJI.name])
    for (const { job } of seeded!.datasetJobs) expect((await first.ctx.jobs.wait(job.id)).state).toBe('done')

    const api = createServices(first.ctx)
    const models = first.ctx.models.list()
    expect(models.map((m) => [m.name, m.source]).sort()).toEqual(builtinModelNames(src).map((n) => [n, 'builtin']))
    const digits = await first.ctx.models.get('tessera-digits')
    expect(digits.conditionClasses).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'])
    // The pretraining run record travels with the built-in model (loss curve for the card).
    const training = digits.lineage.training as { curve: { step: number; loss: number }[]; start: { steps: number }; extensions: { fromStep: number; steps: number; peakLr: number | null }[] }
    expect(training.curve.length).toBeGreaterThan(10)
    const summary = JSON.parse(readFileSync(join(src.modelsDir, 'tessera-digits', 'pretrain-summary.json'), 'utf8')) as { steps: number }
    expect(training.curve.at(-1)!.step).toBe(summary.steps)
    // Its warm restart is part of the record, so the steps add up to the summary's.
    expect(training.extensions).toEqual([{ fromStep: training.start.steps, steps: summary.steps - training.start.steps, peakLr: 0.001 }])

    const mnist = first.ctx.repos.datasets.get(MNIST.name)
    expect(mnist.itemCount).toBe(mnistShipped)
    expect(mnist.labelledCount).toBe(mnistShipped)
    expect(mnist.description).toMatch(/MNIST.*CC BY-SA 3\.0/)
    expect(mnist.classes.map((c) => c.name).sort()).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'])
    expect((await api['items.list']({ dataset: MNIST.name, split: 'test', limit: 1000 })).total).toBe(50)

    const emoji = first.ctx.repos.datasets.get(EMOJI.name)
    expect(emoji.itemCount).toBe(emojiShipped)
    expect(emoji.labelledCount).toBe(emojiShipped)
    expect(emoji.description).toMatch(/Noto Emoji by Google, Apache License 2\.0/)
    expect(emoji.classes.map((c) => c.name).sort()).toEqual(EMOJI_CATEGORIES)
    for (const [split, n] of [
      ['train', 126],
      ['val', 27],
      ['test', 27]
    ] as const)
      expect((await api['items.list']({ dataset: EMOJI.name, split, limit: 1000 })).total).toBe(n)
    const emojiItem = (await api['items.list']({ dataset: EMOJI.name, split: 'test', limit: 1 })).items[0]!
    expect(await api['items.get']({ id: emojiItem.id })).toMatchObject({ width: 64, height: 64 })

    const status = await api['samples.status']({})
    expect(status.models).toContainEqual({ name: 'tessera-digits', present: true, modelId: digits.id })
    expect(status.models.every((m) => m.present)).toBe(true)
    expect(status.datasets).toEqual([
      { name: MNIST.name, present: true, datasetId: mnist.id, items: mnistShipped, shipped: mnistShipped },
      { name: EMOJI.name, present: true, datasetId: emoji.id, items: emojiShipped, shipped: emojiShipped }
    ])
    expect(status.seededAt).not.toBeNull()
    await close(first.ctx)

    // Second start: the library was seeded, nothing more is imported.
    const second = openLibrary(first.dir)
    expect(await seedOnFirstStart(second.ctx, src)).toBeNull()
    expect(second.ctx.models.list()).toHaveLength(builtinModelNames(src).length)
    expect(second.ctx.repos.datasets.list().map((d) => d.name).sort()).toEqual([MNIST.name, EMOJI.name])
    expect(second.ctx.jobs.list().filter((j) => j.state === 'queued' || j.state === 'running')).toEqual([])

    // The user renames the model, relabels one sample digit and removes three; then resets.
    const api2 = createServices(second.ctx)
    await api2['models.rename']({ ref: 'tessera-digits', name: 'my digits' })
    const page = await api2['items.list']({ dataset: MNIST.name, limit: 4 })
    const [keep, ...gone] = page.items
    const seven = second.ctx.repos.datasets.get(MNIST.name).classes.find((c) => c.name === '7')!
    const relabel = keep!.classId === seven.id ? second.ctx.repos.datasets.get(MNIST.name).classes.find((c) => c.name === '1')! : seven
    await api2['items.setLabel']({ ids: [keep!.id], classId: relabel.id })
    await api2['items.remove']({ ids: gone.map((i) => i.id) })
    expect(second.ctx.repos.datasets.get(MNIST.name).itemCount).toBe(mnistShipped - 3)

    const reset = await api2['samples.reset']({})
    expect(reset.modelsImported).toEqual([]) // the renamed built-in still counts
    expect(reset.datasetJobs.map((j) => j.dataset)).toEqual([MNIST.name]) // the emoji are all there
    expect((await second.ctx.jobs.wait(reset.datasetJobs[0]!.job.id)).state).toBe('done')
    expect(second.ctx.repos.datasets.get(MNIST.name).itemCount).toBe(mnistShipped)
    const kept = await api2['items.get']({ id: keep!.id })
    expect(kept.classId).toBe(relabel.id)
    expect(second.ctx.models.list().map((m) => m.name)).toContain('my digits')

    // The user deletes the whole emoji dataset: a reset creates and fills it again, and only it.
    await api2['datasets.delete']({ ref: EMOJI.name })
    expect((await api2['samples.status']({})).datasets.map((d) => [d.name, d.present])).toEqual([
      [MNIST.name, true],
      [EMOJI.name, false]
    ])
    const mnistBefore = second.ctx.repos.datasets.get(MNIST.name)
    const again = await api2['samples.reset']({})
    expect(again.modelsImported).toEqual([])
    expect(again.datasetJobs.map((j) => j.dataset)).toEqual([EMOJI.name])
    expect((await second.ctx.jobs.wait(again.datasetJobs[0]!.job.id)).state).toBe('done')
    const emojiBack = second.ctx.repos.datasets.get(EMOJI.name)
    expect(emojiBack.id).not.toBe(emoji.id)
    expect(emojiBack.itemCount).toBe(emojiShipped)
    expect(emojiBack.classes.map((c) => c.name).sort()).toEqual(EMOJI_CATEGORIES)
    const mnistAfter = second.ctx.repos.datasets.get(MNIST.name)
    expect([mnistAfter.id, mnistAfter.itemCount]).toEqual([mnistBefore.id, mnistShipped])
    expect((await api2['items.get']({ id: keep!.id })).classId).toBe(relabel.id)

    // Removing the model and resetting brings it back; nothing else is missing, so no import job.
    await api2['models.remove']({ ref: 'my digits', force: true })
    const back = await api2['samples.reset']({})
    expect(back.modelsImported).toEqual(['tessera-digits'])
    expect(back.datasetJobs).toEqual([])
  }, 180_000)

  it('a library that already holds data is not seeded', async () => {
    const { ctx } = openLibrary()
    ctx.repos.datasets.create({ name: 'mine' })
    expect(await seedOnFirstStart(ctx, src)).toBeNull()
    expect(ctx.models.list()).toHaveLength(0)
  })

  it('models.tryImage takes base64 bytes and refuses non-images with a sentence naming the file', async () => {
    const { ctx } = openLibrary()
    await seedOnFirstStart(ctx, src)
    const api = createServices(ctx)
    const png = readdirSync(join(MNIST_DIR, 'test', '3'))[0]!
    const bytes = (await import('node:fs')).readFileSync(join(MNIST_DIR, 'test', '3', png))
    const r = await api['models.tryImage']({ ref: 'tessera-digits', data: bytes.toString('base64'), name: png })
    expect(r.file).toBe(png)
    expect(r.bitsPerToken).toBeGreaterThan(0)
    expect(r.bitsPerToken).toBeLessThan(4) // 16 grey levels: at most 4 bits; a real digit is far below
    expect(r.completionPng).toMatch(/^data:image\/png;base64,/)
    await expect(api['models.tryImage']({ ref: 'tessera-digits', data: Buffer.from('not an image').toString('base64'), name: 'notes.txt' })).rejects.toThrow(/notes\.txt/)
    // Through the dispatcher (as the window and browser host call it): over 8 MB and non-base64 are refused before any work.
    const dispatch = createDispatcher(api, { log: () => undefined })
    const big = await dispatch('models.tryImage', { ref: 'tessera-digits', data: 'A'.repeat(12_000_000) })
    expect(big.ok ? null : big.error.code).toBe('VALIDATION')
    expect(big.ok ? '' : big.error.message).toMatch(/at most 8 MB/)
    const junk = await dispatch('models.tryImage', { ref: 'tessera-digits', data: 'not base64!' })
    expect(junk.ok ? null : junk.error.code).toBe('VALIDATION')
  }, 120_000)
})
