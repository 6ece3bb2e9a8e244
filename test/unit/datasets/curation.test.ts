// Pause/resume of an import from its checkpoint, cancellation, seeded stratified
// splits that never move test items, near-duplicate groups with planted copies
// (none on a clean set), removal of reviewed copies, and export without overwriting.

import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { splitSizes } from '../../../src/main/datasets/splits'
import { type ImportResult } from '../../../src/shared/contract'
import { setupServices } from '../../helpers/services'
import { picture } from './images'

let cleanups: (() => void | Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.reverse()) await c()
  cleanups = []
})

const setup = () => setupServices(cleanups)

async function writePictures(dir: string, files: [string, Buffer | Promise<Buffer>][]): Promise<void> {
  for (const [rel, data] of files) {
    mkdirSync(join(dir, rel, '..'), { recursive: true })
    writeFileSync(join(dir, rel), await data)
  }
}

async function importFolder(s: ReturnType<typeof setup>, name: string, source: string): Promise<ImportResult> {
  const job = await s.call('datasets.import', { name, source })
  const final = await s.ctx.jobs.wait(job.id)
  expect(final.state, final.error ?? '').toBe('done')
  return final.result as ImportResult
}

describe('import job control', () => {
  it('pauses at a checkpoint and resumes where it stopped; a cancelled import stops', async () => {
    const s = setup()
    await writePictures(s.src, Array.from({ length: 12 }, (_, i) => [`c${i % 2}/p${String(i).padStart(2, '0')}.png`, picture(200 + i)] as [string, Promise<Buffer>]))
    const d = s.ctx.repos.datasets.create({ name: 'Resumable' })
    const job = s.ctx.jobs.enqueue('datasets.import', { datasetId: d.id, source: s.src, chunkSize: 2 })
    const off = s.ctx.bus.on('job.progress', (p) => {
      if (p.jobId === job.id && p.phase === 'importing' && p.done >= 4) s.ctx.jobs.pause(job.id)
    })
    const paused = await s.ctx.jobs.wait(job.id)
    off()
    expect(paused.state).toBe('paused')
    const atPause = s.ctx.repos.items.count(d.id)
    expect(atPause).toBeGreaterThanOrEqual(4)
    expect(atPause).toBeLessThan(12)
    s.ctx.jobs.resume(job.id)
    const done = await s.ctx.jobs.wait(job.id)
    expect(done.state).toBe('done')
    const r = done.result as ImportResult
    expect(r.resumedFrom).toBe(atPause)
    expect(r.imported).toBe(12)
    expect(s.ctx.repos.items.count(d.id)).toBe(12)

    const d2 = s.ctx.repos.datasets.create({ name: 'Cancelled' })
    const job2 = s.ctx.jobs.enqueue('datasets.import', { datasetId: d2.id, source: s.src, chunkSize: 2 })
    const off2 = s.ctx.bus.on('job.progress', (p) => {
      if (p.jobId === job2.id && p.phase === 'importing' && p.done >= 2) s.ctx.jobs.cancel(job2.id)
    })
    const cancelled = await s.ctx.jobs.wait(job2.id)
    off2()
    expect(cancelled.state).toBe('cancelled')
    expect(s.ctx.repos.items.count(d2.id)).toBeLessThan(12)
  })
})

describe('splits', () => {
  it('splitSizes rounds test and val and gives train the rest', () => {
    expect(splitSizes(10, { train: 0.8, val: 0.1, test: 0.1 })).toEqual({ train: 8, val: 1, test: 1 })
    expect(splitSizes(3, { train: 0.7, val: 0.15, test: 0.15 })).toEqual({ train: 3, val: 0, test: 0 })
    expect(splitSizes(0, { train: 0.7, val: 0.15, test: 0.15 })).toEqual({ train: 0, val: 0, test: 0 })
  })

  it('stratifies per class, is reproducible by seed, and never moves test items', async () => {
    const s = setup()
    const d = s.ctx.repos.datasets.create({ name: 'S', classes: ['a', 'b'] })
    const [a, b] = d.classes
    const ids: string[] = []
    for (let i = 0; i < 60; i++) {
      const sha = i.toString(16).padStart(64, '0')
      s.ctx.repos.media.put({ sha256: sha, path: `media/${sha.slice(0, 2)}/${sha}.png`, mime: 'image/png', bytes: 1, width: 1, height: 1 })
      const { item } = s.ctx.repos.items.add(d.id, sha, { originalName: `f${i}.png` })
      s.ctx.repos.items.setLabels([item.id], i < 40 ? a!.id : b!.id, 'human')
      ids.push(item.id)
    }
    const r = await s.call('datasets.split', { ref: 'S', train: 0.7, val: 0.1, test: 0.2, seed: 7 })
    expect(r.assigned).toBe(60)
    expect(r.stats.classes.map((c) => c.splits)).toEqual([
      { train: 28, val: 4, test: 8, none: 0 },
      { train: 14, val: 2, test: 4, none: 0 }
    ])
    const splitOf = async () => new Map((await s.call('items.list', { dataset: 'S', limit: 100 })).items.map((i) => [i.id, i.split]))
    const first = await splitOf()

    // Same seed on a fresh copy of the assignment gives the same result.
    await s.call('items.setSplit', { ids, split: null, allowTestMove: true })
    await s.call('datasets.split', { ref: 'S', train: 0.7, val: 0.1, test: 0.2, seed: 7 })
    expect(await splitOf()).toEqual(first)

    // A second split run assigns nothing; moving test items out needs allowTestMove.
    expect((await s.call('datasets.split', { ref: 'S', train: 0.5, val: 0.25, test: 0.25, seed: 1 })).assigned).toBe(0)
    const testIds = [...first].filter(([, sp]) => sp === 'test').map(([id]) => id)
    const refused = await s.dispatch('items.setSplit', { ids: testIds.slice(0, 2), split: 'train' })
    expect(refused).toMatchObject({ ok: false, error: { code: 'CONFLICT' } })
    expect((await splitOf()).get(testIds[0]!)).toBe('test')
    expect(await s.dispatch('datasets.split', { ref: 'S', train: 0.5, val: 0.5, test: 0.5 })).toMatchObject({ ok: false, error: { code: 'VALIDATION' } })
  })
})

describe('near duplicates and export', () => {
  it('finds planted resized/recompressed copies, none on a clean set; keep-one removes the rest; export never overwrites', async () => {
    const s = setup()
    const clean: [string, Promise<Buffer>][] = Array.from({ length: 30 }, (_, i) => [`cls${i % 3}/img${i}.png`, picture(300 + i, 'png', [120, 100])])
    await writePictures(s.src, clean)
    await importFolder(s, 'Clean', s.src)
    expect(await s.call('datasets.duplicates', { ref: 'Clean' })).toEqual([])

    const dupSrc = join(s.dir, 'dups')
    await writePictures(dupSrc, [
      ...clean,
      ['cls0/img0-small.jpg', picture(300, 'jpeg', [60, 50], 50)],
      ['cls1/img0-big.webp', picture(300, 'webp', [240, 200], 70)],
      ['cls2/img7-q40.jpg', picture(307, 'jpeg', [120, 100], 40)]
    ])
    await importFolder(s, 'Dups', dupSrc)
    const groups = await s.call('datasets.duplicates', { ref: 'Dups' })
    const names = groups.map((g) => g.items.map((i) => i.name).sort())
    expect(names.sort()).toEqual([
      ['cls0/img0-small.jpg', 'cls0/img0.png', 'cls1/img0-big.webp'],
      ['cls1/img7.png', 'cls2/img7-q40.jpg']
    ])
    for (const g of groups) expect(g.maxDistance).toBeLessThanOrEqual(6)
    expect((await s.call('items.list', { dataset: 'Dups', flag: 'near-duplicate' })).total).toBe(5)
    expect((await s.call('datasets.stats', { ref: 'Dups' })).flags).toEqual({ 'near-duplicate': 5 })

    // Review: keep the first of each group, remove the others.
    const remove = groups.flatMap((g) => g.items.slice(1).map((i) => i.id))
    expect(await s.call('items.remove', { ids: remove })).toEqual({ removed: 3 })
    expect(await s.call('datasets.duplicates', { ref: 'Dups' })).toEqual([])
    expect((await s.call('datasets.stats', { ref: 'Dups' })).total).toBe(30)

    // Export: folder per class; a second export into the same folder overwrites nothing.
    const out = join(s.dir, 'export')
    mkdirSync(join(out, 'cls0'), { recursive: true })
    writeFileSync(join(out, 'cls0', 'img0.png'), 'mine')
    const ex = await s.call('datasets.export', { ref: 'Clean', folder: out })
    expect(ex.files).toBe(29)
    expect(ex.skipped).toEqual([{ path: join(out, 'cls0', 'img0.png'), reason: 'already exists; it was not overwritten' }])
    expect(readFileSync(join(out, 'cls0', 'img0.png'), 'utf8')).toBe('mine')
    expect(readdirSync(out).sort()).toEqual(['cls0', 'cls1', 'cls2'])
    expect(readdirSync(join(out, 'cls1')).length).toBe(10)
    expect(existsSync(join(out, 'cls2', 'img29.png'))).toBe(true)
    const again = await s.call('datasets.export', { ref: 'Clean', folder: out })
    expect(again.files).toBe(0)
    expect(again.skipped.length).toBe(30)
  })
})
