// The first-run sample library on the real shipped resources: first start imports the built-in
// models and the sample dataset, a second start imports nothing, and a reset adds back only
// what was removed (labels the user changed stay).

import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { type AppContext, createContext } from '../../../src/main/context'
import { createDispatcher } from '../../../src/main/host/dispatch'
import { createServices } from '../../../src/main/services'
import { builtinModelNames, defaultSampleSources, SAMPLE_DATASET_NAME, seedOnFirstStart } from '../../../src/main/samples'

const src = defaultSampleSources()
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

// The shipped sample count, counted from the files themselves.
const shipped = ['train', 'val', 'test'].reduce(
  (n, split) => n + readdirSync(join(src.datasetDir, split)).reduce((m, cls) => m + readdirSync(join(src.datasetDir, split, cls)).length, 0),
  0
)

describe('sample library', () => {
  it('ships built-in models and a few hundred labelled samples', () => {
    expect(builtinModelNames(src)).toContain('tessera-digits')
    expect(shipped).toBe(300)
  })

  it('first start imports both; second start imports nothing; reset re-imports only what is missing', async () => {
    const first = openLibrary()
    const seeded = await seedOnFirstStart(first.ctx, src)
    expect(seeded?.modelsImported).toEqual(builtinModelNames(src))
    expect(seeded?.datasetJob).not.toBeNull()
    const job = await first.ctx.jobs.wait(seeded!.datasetJob!.id)
    expect(job.state).toBe('done')

    const api = createServices(first.ctx)
    const models = first.ctx.models.list()
    expect(models.map((m) => [m.name, m.source])).toEqual([['tessera-digits', 'builtin']])
    const digits = await first.ctx.models.get('tessera-digits')
    expect(digits.conditionClasses).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'])
    // The pretraining run record travels with the built-in model (loss curve for the card).
    const training = digits.lineage.training as { curve: { step: number; loss: number }[] }
    expect(training.curve.length).toBeGreaterThan(10)
    expect(training.curve.at(-1)!.step).toBe(3000)

    const dataset = first.ctx.repos.datasets.get(SAMPLE_DATASET_NAME)
    expect(dataset.itemCount).toBe(shipped)
    expect(dataset.labelledCount).toBe(shipped)
    expect(dataset.classes.map((c) => c.name).sort()).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'])
    const tests = await api['items.list']({ dataset: SAMPLE_DATASET_NAME, split: 'test', limit: 1000 })
    expect(tests.total).toBe(50)

    const status = await api['samples.status']({})
    expect(status.models).toEqual([{ name: 'tessera-digits', present: true, modelId: digits.id }])
    expect(status.dataset).toMatchObject({ present: true, items: shipped, shipped })
    expect(status.seededAt).not.toBeNull()
    await close(first.ctx)

    // Second start: the library was seeded, nothing more is imported.
    const second = openLibrary(first.dir)
    expect(await seedOnFirstStart(second.ctx, src)).toBeNull()
    expect(second.ctx.models.list()).toHaveLength(1)
    expect(second.ctx.repos.datasets.list()).toHaveLength(1)

    // The user renames the model, relabels one sample and removes three; then resets.
    const api2 = createServices(second.ctx)
    await api2['models.rename']({ ref: 'tessera-digits', name: 'my digits' })
    const page = await api2['items.list']({ dataset: SAMPLE_DATASET_NAME, limit: 4 })
    const [keep, ...gone] = page.items
    const seven = second.ctx.repos.datasets.get(SAMPLE_DATASET_NAME).classes.find((c) => c.name === '7')!
    const relabel = keep!.classId === seven.id ? second.ctx.repos.datasets.get(SAMPLE_DATASET_NAME).classes.find((c) => c.name === '1')! : seven
    await api2['items.setLabel']({ ids: [keep!.id], classId: relabel.id })
    await api2['items.remove']({ ids: gone.map((i) => i.id) })
    expect(second.ctx.repos.datasets.get(SAMPLE_DATASET_NAME).itemCount).toBe(shipped - 3)

    const reset = await api2['samples.reset']({})
    expect(reset.modelsImported).toEqual([]) // the renamed built-in still counts
    const again = await second.ctx.jobs.wait(reset.datasetJob!.id)
    expect(again.state).toBe('done')
    expect(second.ctx.repos.datasets.get(SAMPLE_DATASET_NAME).itemCount).toBe(shipped)
    const kept = await api2['items.get']({ id: keep!.id })
    expect(kept.classId).toBe(relabel.id)
    expect(second.ctx.models.list().map((m) => m.name)).toEqual(['my digits'])

    // Removing the model and resetting brings it back; nothing is missing, so no import job.
    await api2['models.remove']({ ref: 'my digits', force: true })
    const back = await api2['samples.reset']({})
    expect(back.modelsImported).toEqual(['tessera-digits'])
    expect(back.datasetJob).toBeNull()
  }, 120_000)

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
    const png = readdirSync(join(src.datasetDir, 'test', '3'))[0]!
    const bytes = (await import('node:fs')).readFileSync(join(src.datasetDir, 'test', '3', png))
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
