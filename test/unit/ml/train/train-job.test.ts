// The train job end to end in process (context, registry, job runner): a linear probe on a
// tiny model pretrained here beats chance clearly and is saved as a classifier whose own
// forward gives the probe's predictions; classify / joint / class-conditional generative runs
// finish with metrics and lineage; bad inputs fail with clear messages.

import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type Job, type TrainRunInfo } from '../../../../src/shared/contract'
import { createDispatcher } from '../../../../src/main/host/dispatch'
import { createServices } from '../../../../src/main/services'
import { type AppContext, createContext } from '../../../../src/main/context'
import { MediaRepo } from '../../../../src/main/library/media'
import { type PixelGptModel } from '../../../../src/main/ml/pixelgpt/model'
import { type TrainResult } from '../../../../src/main/ml/train/job'
import { TokenCache } from '../../../../src/main/ml/train/data'
import { type TrainRequest } from '../../../../src/main/ml/train/plan'
import { enqueueTraining } from '../../../../src/main/ml/train/service'
import { tempDir } from '../../library/tmp'
import { addDataset, CLASSES, palette16, pretrainTiny, synthItems, synthTokens, tokensPng } from './synth'

let cleanup: (() => void) | undefined
let ctx: AppContext | undefined
afterEach(async () => {
  await ctx?.close()
  ctx = undefined
  cleanup?.()
})

const palette = palette16()
let base: PixelGptModel
beforeAll(async () => {
  base = await pretrainTiny(40, palette)
}, 60_000)

async function setup(): Promise<AppContext> {
  const t = tempDir()
  cleanup = t.cleanup
  ctx = createContext({ libraryDir: t.dir, host: 'cli' })
  await ctx.models.add(base, { name: 'tiny', source: 'imported' })
  return ctx
}

async function run(c: AppContext, req: TrainRequest): Promise<Job> {
  const { jobId } = enqueueTraining(c, req)
  c.jobs.start()
  return c.jobs.wait(jobId)
}

describe('train job', () => {
  it('a linear probe beats chance clearly, and the saved model predicts what the probe measured', async () => {
    const c = await setup()
    addDataset(c.library, 'shapes', CLASSES, await synthItems(15, palette))
    const job = await run(c, { dataset: 'shapes', base: 'tiny', objective: 'probe', layer: 1, seed: 3 })
    expect(job.state, job.error ?? '').toBe('done')
    const r = job.result as TrainResult
    expect(r.plan.objective).toBe('probe')
    expect(r.metrics.split).toBe('test')
    const cls = r.metrics.classification!
    const testCount = (c.library.db.prepare("SELECT count(*) AS n FROM splits WHERE split = 'test'").get() as { n: number }).n
    expect(cls.count).toBe(testCount)
    expect(testCount).toBeGreaterThanOrEqual(6)
    expect(cls.accuracy).toBeGreaterThanOrEqual(0.77) // chance is 1/3
    expect(cls.confusion.flat().reduce((a, b) => a + b, 0)).toBe(testCount)
    expect(cls.ece).toBeGreaterThanOrEqual(0)

    // The saved model: truncated to the probed layer, a score head over the dataset's classes.
    const { model, runner } = await c.models.load(r.modelId)
    expect(model.config.layers).toBe(1)
    expect(model.classes).toEqual(CLASSES)
    const tokens = [0, 1, 2].flatMap((k) => [12, 13, 14].map((i) => synthTokens(k, i)))
    const probs = await runner.classProbabilities(tokens)
    let right = 0
    probs.forEach((p, i) => (right += p.indexOf(Math.max(...p)) === Math.floor(i / 3) ? 1 : 0))
    expect(right / 9).toBeCloseTo(cls.accuracy, 5)
    const rec = c.repos.runs.get(r.runId)
    expect(rec.state).toBe('done')
    expect(rec.modelId).toBe(r.modelId)
    expect(String(rec.metrics.reason)).toMatch(/probe/)
  }, 120_000)

  it('a fine-tune starts its new head from a linear probe of the pooled features (LP-FT), not from noise', async () => {
    const c = await setup()
    addDataset(c.library, 'shapes', CLASSES, await synthItems(15, palette))
    // One step at a negligible learning rate: the test accuracy is the warm-started head's own.
    const job = await run(c, { dataset: 'shapes', base: 'tiny', objective: 'classify', steps: 1, batchSize: 4, lr: 1e-9, evalEvery: 1, seed: 3 })
    expect(job.state, job.error ?? '').toBe('done')
    const r = job.result as TrainResult
    expect(r.metrics.classification!.accuracy).toBeGreaterThanOrEqual(0.77) // a random 0.02-scale head sits near chance (1/3)
    const { model } = await c.models.load(r.modelId)
    const w = model.weights.get('score.weight')!.data
    expect(Math.max(...Array.from(w, Math.abs))).toBeGreaterThan(0.1) // larger than the N(0, 0.02) init
  }, 120_000)

  it('classify and joint fine-tunes finish with per-class metrics; generative on a labelled set becomes class-conditional', async () => {
    const c = await setup()
    addDataset(c.library, 'shapes', CLASSES, await synthItems(5, palette))
    for (const objective of ['classify', 'joint'] as const) {
      const job = await run(c, { dataset: 'shapes', base: 'tiny', objective, steps: 4, batchSize: 4, evalEvery: 2 })
      expect(job.state, job.error ?? '').toBe('done')
      const r = job.result as TrainResult
      expect(r.metrics.classification!.perClass.map((p) => p.name)).toEqual(CLASSES)
      expect(r.metrics.classification!.confusion).toHaveLength(3)
      const { model } = await c.models.load(r.modelId)
      expect(model.classes).toEqual(CLASSES)
      expect(model.weights.has('lm_head.weight')).toBe(true)
      // The joint objective trains generation too, so its test metrics include bits per token
      // (the base is unconditional: SOS starts only).
      if (objective === 'joint') {
        expect(r.metrics.bitsPerToken).toBeGreaterThan(0)
        expect(r.metrics.bitsPerTokenUnconditional).toBeUndefined()
      } else expect(r.metrics.bitsPerToken).toBeUndefined()
    }
    const job = await run(c, { dataset: 'shapes', base: 'tiny', objective: 'generative', steps: 3, batchSize: 4 })
    expect(job.state, job.error ?? '').toBe('done')
    const r = job.result as TrainResult
    expect(r.plan.conditional).toBe(true)
    expect(r.metrics.bitsPerToken).toBeGreaterThan(0)
    expect(r.metrics.bitsPerTokenUnconditional).toBeGreaterThan(0)
    const { model } = await c.models.load(r.modelId)
    expect(model.conditionClasses).toEqual(CLASSES)
    expect(model.config.numClasses).toBe(3)

    // A joint fine-tune of that class-conditional model trains its conditioning rows too (its
    // generative half starts sequences with the item's class token) and keeps them. Four steps of
    // eight over the train items (epoch order) reach every class; no SOS starts.
    const jc = await run(c, { dataset: 'shapes', base: r.modelId, objective: 'joint', steps: 4, batchSize: 8, lr: 1e-2, patience: 0, uncondRate: 0, name: 'joint-of-conditional' })
    expect(jc.state, jc.error ?? '').toBe('done')
    // Its bits per token: with the class-token starts it trained, and with SOS.
    expect((jc.result as TrainResult).metrics.bitsPerToken).toBeGreaterThan(0)
    expect((jc.result as TrainResult).metrics.bitsPerTokenUnconditional).toBeGreaterThan(0)
    const tuned = (await c.models.load((jc.result as TrainResult).modelId)).model
    expect(tuned.conditionClasses).toEqual(CLASSES)
    const K = model.config.paletteSize
    const C = model.config.width
    const rowDelta = (row: number): number => {
      const a = model.weights.get('transformer.wte.weight')!.data.subarray(row * C, row * C + C)
      const b = tuned.weights.get('transformer.wte.weight')!.data.subarray(row * C, row * C + C)
      return Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i]!)))
    }
    for (let k = 0; k < 3; k++) expect(rowDelta(K + 1 + k)).toBeGreaterThan(1e-4)

    // Through the contract: three runs, newest first, each with its history and test metrics.
    const dispatch = createDispatcher(createServices(c))
    const listed = await dispatch('train.runs', {})
    expect(listed.ok).toBe(true)
    const runs = (listed as { ok: true; value: TrainRunInfo[] }).value
    expect(runs.map((x) => x.objective).sort()).toEqual(['classify', 'generative', 'joint', 'joint'])
    for (const x of runs) {
      expect(x.state).toBe('done')
      expect(x.history.length).toBeGreaterThan(0)
      expect(x.test).not.toBeNull()
      expect(x.reason).toMatch(/^Training /)
    }
    const bad = await dispatch('train.start', { dataset: 'shapes', base: 'tiny', objective: 'nonsense' } as never)
    expect(bad.ok).toBe(false)
  }, 120_000)

  it('runs in an ML worker thread (as in the Electron main process) with the same result as in this thread', async () => {
    const c = await setup()
    addDataset(c.library, 'shapes', CLASSES, await synthItems(5, palette))
    const req: TrainRequest = { dataset: 'shapes', base: 'tiny', objective: 'joint', steps: 3, batchSize: 4, evalEvery: 2, seed: 2 }
    const results: TrainResult[] = []
    for (const where of ['worker', 'thread']) {
      process.env.TESSERA_TRAIN_COMPUTE = where
      try {
        const job = await run(c, { ...req, name: `joint-${where}` })
        expect(job.state, job.error ?? '').toBe('done')
        results.push(job.result as TrainResult)
      } finally {
        delete process.env.TESSERA_TRAIN_COMPUTE
      }
    }
    const [a, b] = await Promise.all(results.map(async (r) => (await c.models.load(r.modelId)).model.weights))
    let worst = 0
    for (const [k, t] of a!) t.data.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - b!.get(k)!.data[i]!))))
    expect(results.map((r) => c.repos.runs.get(r.runId).metrics.compute)).toEqual(['worker', 'thread'])
    expect(worst).toBeLessThan(1e-5)
    expect(results[0]!.metrics.classification!.accuracy).toBeCloseTo(results[1]!.metrics.classification!.accuracy, 9)
  }, 120_000)

  it('a paused run resumes from the checkpoint it saved on pause and ends like an uninterrupted one', async () => {
    const c = await setup()
    addDataset(c.library, 'shapes', CLASSES, await synthItems(5, palette))
    const req: TrainRequest = { dataset: 'shapes', base: 'tiny', objective: 'generative', steps: 120, batchSize: 4, seed: 5 }
    const { jobId, runId } = enqueueTraining(c, { ...req, name: 'paused' })
    let paused = false
    const off = c.bus.on('job.progress', (p) => {
      if (p.jobId === jobId && p.phase === 'training' && p.done >= 5 && !paused) {
        paused = true
        c.jobs.pause(jobId)
      }
    })
    c.jobs.start()
    const first = await c.jobs.wait(jobId)
    off()
    expect(first.state).toBe('paused')
    const at = (c.library.db.prepare('SELECT checkpoint FROM jobs WHERE id = ?').get(jobId) as { checkpoint: string }).checkpoint
    const step = (JSON.parse(at) as { step: number }).step
    expect(step).toBeGreaterThanOrEqual(5)
    expect(step).toBeLessThan(120)
    c.jobs.resume(jobId)
    const done = await c.jobs.wait(jobId)
    expect(done.state, done.error ?? '').toBe('done')
    expect(c.repos.runs.get(runId).state).toBe('done')
    const straight = await run(c, { ...req, name: 'straight' })
    expect(straight.state).toBe('done')
    const wa = (await c.models.load((done.result as TrainResult).modelId)).model.weights
    const wb = (await c.models.load((straight.result as TrainResult).modelId)).model.weights
    let worst = 0
    for (const [k, t] of wa) t.data.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - wb.get(k)!.data[i]!))))
    expect(worst).toBeLessThanOrEqual(1e-6)
  }, 120_000)

  it('big batches accumulate over unequal micro-batches to the same step as one batch', async () => {
    const c = await setup()
    addDataset(c.library, 'shapes', CLASSES, await synthItems(5, palette))
    for (const [objective, optimizer] of [['generative', 'sgd'], ['joint', 'adamw']] as const) {
      const req: TrainRequest = { dataset: 'shapes', base: 'tiny', objective, optimizer, steps: 2, batchSize: 10, seed: 1, patience: 0, lr: optimizer === 'sgd' ? 0.1 : 1e-3 }
      const one = await run(c, { ...req, microBatch: 64, name: `${objective}-one` })
      const parts = await run(c, { ...req, microBatch: 4, name: `${objective}-parts` })
      expect(one.state, one.error ?? '').toBe('done')
      expect(parts.state, parts.error ?? '').toBe('done')
      const base = (await c.models.load('tiny')).model.weights
      const wa = (await c.models.load((one.result as TrainResult).modelId)).model.weights
      const wb = (await c.models.load((parts.result as TrainResult).modelId)).model.weights
      let worst = 0
      let moved = 0
      for (const [k, t] of wa)
        t.data.forEach((v, i) => {
          worst = Math.max(worst, Math.abs(v - wb.get(k)!.data[i]!))
          const b = base.get(k)?.data[i]
          if (b !== undefined) moved = Math.max(moved, Math.abs(v - b))
        })
      expect(moved).toBeGreaterThan(1e-3)
      // SGD is linear in the gradient: float rounding only. AdamW's first steps are nearly
      // lr * sign(g), so rounding in tiny gradient entries shows more; still far below a step.
      expect(worst).toBeLessThan(optimizer === 'sgd' ? 1e-6 : 1e-4)
    }
  }, 120_000)

  it('refuses bad input with clear messages', async () => {
    const c = await setup()
    c.repos.datasets.create({ name: 'empty' })
    let job = await run(c, { dataset: 'empty', base: 'tiny', objective: 'auto' })
    expect(job.state).toBe('failed')
    expect(job.error).toMatch(/Dataset "empty" has no items to train on/)

    const one = await synthItems(4, palette)
    addDataset(c.library, 'one', ['hstripes'], one.filter((i) => i.cls === 0))
    job = await run(c, { dataset: 'one', base: 'tiny', objective: 'classify', steps: 2 })
    expect(job.state).toBe('failed')
    expect(job.error).toMatch(/needs at least two classes.*only one class/)

    // Tokens cached for another palette under this palette's key (e.g. a damaged cache).
    const items = await synthItems(2, palette, 50)
    const dsId = addDataset(c.library, 'cached', CLASSES, items)
    const cache = new TokenCache(c.library, palette, 8)
    const first = c.repos.items.list(dsId)[0]!
    mkdirSync(dirname(cache.fileOf(first.sha256)), { recursive: true })
    const buf = Buffer.alloc(12 + 128)
    buf.writeUInt32LE(0x4b4f5454, 0)
    buf.writeUInt32LE(8, 4)
    buf.writeUInt32LE(8, 8)
    writeFileSync(cache.fileOf(first.sha256), buf)
    job = await run(c, { dataset: 'cached', base: 'tiny', objective: 'generative', steps: 1 })
    expect(job.state).toBe('failed')
    expect(job.error).toMatch(/made with a 8-colour palette at 8x8, but this model has a 16-colour palette/)

    // An image whose file is damaged after import.
    // (a solid colour-15 image: no other test image has that content, so no cached tokens exist for it)
    const bad = [...(await synthItems(1, palette, 80)), { cls: 1, split: 'train' as const, png: await tokensPng(new Int32Array(64).fill(15), palette), name: 'solid.png' }]
    const badId = addDataset(c.library, 'broken', CLASSES, bad)
    const victim = c.repos.items.list(badId).find((i) => i.originalName === 'solid.png')!
    writeFileSync(c.library.resolveInside(new MediaRepo(c.library.db).get(victim.sha256)!.path), 'not a png')
    job = await run(c, { dataset: 'broken', base: 'tiny', objective: 'generative', steps: 1 })
    expect(job.state).toBe('failed')
    expect(job.error).toMatch(/1 image of the dataset cannot be read.*solid\.png/)
  }, 120_000)
})
