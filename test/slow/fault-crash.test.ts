// Fault injection: a real `tessera serve` is killed with SIGKILL in the middle of an import, a
// burst of label writes, a training run, a batch classify with copies, and a generation writing
// gallery outputs; the kill comes at a point the test sees (a progress event, the Nth
// acknowledged write), not after a sleep. After each kill: the database passes integrity_check and
// foreign_key_check, every visible media/output/model file is whole, the job is `interrupted`
// and resumes to the same end state as an uninterrupted run, and nothing acknowledged is lost.

import { createHash } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { type Dataset, type GalleryPage, type ItemPage, type Job } from '../../src/shared/contract'
import { createContext } from '../../src/main/context'
import { initPixelGpt } from '../../src/main/ml/pixelgpt/model'
import { tempDir } from '../unit/library/tmp'
import { addDataset, CLASSES, palette16, synthItems, TINY } from '../unit/ml/train/synth'
import { FIXTURES, inspectLibrary, noisePngs, openDb, serve, type Served, value } from './fault-support'

let cleanups: (() => void | Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.reverse()) await c()
  cleanups = []
})

function setup(): { lib: string; dir: string } {
  const t = tempDir('tessera-fault-')
  cleanups.push(t.cleanup)
  return { lib: join(t.dir, 'lib'), dir: t.dir }
}

async function start(lib: string, env: Record<string, string> = {}): Promise<Served> {
  const s = await serve(lib, env)
  cleanups.push(() => (s.child.exitCode === null && s.child.signalCode === null ? s.kill() : undefined))
  return s
}

/** The library after a crash: consistent, every visible file whole. */
async function expectWhole(lib: string): Promise<void> {
  const r = await inspectLibrary(lib)
  expect(r.integrity).toBe('ok')
  expect(r.foreignKeyErrors).toBe(0)
  expect(r.badMedia).toEqual([])
  expect(r.badRows).toEqual([])
  expect(r.badThumbs).toEqual([])
  expect(r.badModels).toEqual([])
}

/** Resolves when the job reaches `state` (subscribe before causing it). */
const settled = (s: Served, jobId: string, state = 'done'): Promise<Job> => s.next('job.state', (j) => j.id === jobId && ['done', 'failed', 'cancelled'].includes(j.state), 300_000).then((j) => {
  expect(j.state, j.error ?? '').toBe(state)
  return j
})

const hash = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

function writeImages(dir: string, pngs: Buffer[]): Map<string, string> {
  mkdirSync(dir, { recursive: true })
  const byHash = new Map<string, string>()
  pngs.forEach((png, i) => {
    const name = `img-${String(i).padStart(4, '0')}.png`
    writeFileSync(join(dir, name), png)
    byHash.set(hash(png), name)
  })
  return byHash
}

describe('SIGKILL of the host, then restart', () => {
  it('during an import: interrupted, resumed to every file exactly once', async () => {
    const { lib, dir } = setup()
    const src = join(dir, 'src')
    const files = writeImages(src, await noisePngs(400, 24, 11))
    const s = await start(lib)
    const job = await value<Job>(s, 'datasets.import', { name: 'Noise', source: src })
    const at = await s.next('job.progress', (p) => p.jobId === job.id && p.phase === 'importing' && p.done > 0)
    await s.kill()
    expect(at.done).toBeLessThan(files.size)
    await expectWhole(lib)

    const s2 = await start(lib)
    expect((await value<Job>(s2, 'jobs.get', { id: job.id })).state).toBe('interrupted')
    const done = settled(s2, job.id)
    await value(s2, 'jobs.resume', { id: job.id })
    // The counts add up across the kill: rows and checkpoint commit together.
    expect((await done).result).toMatchObject({ scanned: files.size, imported: files.size, errors: [] })
    const d = await value<Dataset>(s2, 'datasets.get', { ref: 'Noise' })
    expect(d.itemCount).toBe(files.size)
    await s2.stop()
    await expectWhole(lib)
    const db = openDb(lib)
    const rows = db.prepare('SELECT i.original_name, i.sha256 FROM items i').all() as { original_name: string; sha256: string }[]
    db.close()
    expect(new Set(rows.map((r) => r.sha256)).size).toBe(files.size)
    for (const r of rows) expect(files.get(r.sha256)).toBe(r.original_name)
  }, 300_000)

  it('during a burst of label writes: every acknowledged label is in the database', async () => {
    const { lib, dir } = setup()
    const src = join(dir, 'src')
    writeImages(src, await noisePngs(120, 8, 5))
    const s = await start(lib)
    const imp = await value<Job>(s, 'datasets.import', { name: 'Burst', source: src })
    const imported = settled(s, imp.id)
    await imported
    const classes: string[] = []
    for (const name of ['a', 'b', 'c']) classes.push((await value<{ id: string }>(s, 'classes.create', { dataset: 'Burst', name })).id)
    const page = await value<ItemPage>(s, 'items.list', { dataset: 'Burst', limit: 500 })
    const ids = page.items.map((i) => i.id)
    expect(ids).toHaveLength(120)

    // Four writers, one label per call; the kill comes after the 40th acknowledged write, with others in flight.
    const acked = new Map<string, string>()
    let killing: Promise<void> | null = null
    let next = 0
    const writer = async (): Promise<void> => {
      while (!killing && next < ids.length) {
        const i = next++
        const classId = classes[i % 3]!
        try {
          const r = await s.call('labels.assign', { ids: [ids[i]!], classId })
          if (r.ok) acked.set(ids[i]!, classId)
        } catch {
          return // the host is gone
        }
        if (acked.size >= 40 && !killing) killing = s.kill()
      }
    }
    await Promise.all([writer(), writer(), writer(), writer()])
    await killing
    expect(acked.size).toBeGreaterThanOrEqual(40)
    await expectWhole(lib)

    const db = openDb(lib)
    const human = new Map((db.prepare(`SELECT item_id, class_id FROM labels WHERE source = 'human'`).all() as { item_id: string; class_id: string }[]).map((r) => [r.item_id, r.class_id]))
    db.close()
    for (const [id, classId] of acked) expect(human.get(id), id).toBe(classId)

    // The restarted host answers, and undo works on the last acknowledged step.
    const s2 = await start(lib)
    expect((await s2.call('labels.undo', { dataset: 'Burst' })).ok).toBe(true)
    await s2.stop()
    await expectWhole(lib)
  }, 300_000)

  it('during training: no half-written model, the run resumes to a whole trained model', async () => {
    const { lib } = setup()
    const palette = palette16()
    const ctx = createContext({ libraryDir: lib, host: 'cli' })
    await ctx.models.add(initPixelGpt(TINY, { seed: 4, palette }), { name: 'tiny', source: 'imported' })
    addDataset(ctx.library, 'shapes', CLASSES, await synthItems(6, palette))
    await ctx.close()

    const s = await start(lib)
    const { runId, jobId } = await value<{ runId: string; jobId: string }>(s, 'train.start', {
      dataset: 'shapes',
      base: 'tiny',
      objective: 'joint',
      steps: 60,
      batchSize: 4,
      evalEvery: 10,
      patience: 0,
      seed: 7,
      name: 'tiny-ft'
    })
    const at = await s.next('job.progress', (p) => p.jobId === jobId && p.phase === 'training' && p.done >= 5)
    await s.kill()
    expect(at.done).toBeLessThan(60)
    await expectWhole(lib)
    const db = openDb(lib)
    expect(db.prepare(`SELECT count(*) AS n FROM models WHERE name = 'tiny-ft'`).get()).toEqual({ n: 0 })
    db.close()

    const s2 = await start(lib)
    expect((await value<Job>(s2, 'jobs.get', { id: jobId })).state).toBe('interrupted')
    const done = settled(s2, jobId)
    await value(s2, 'train.resume', { id: runId })
    await done
    const model = await value<{ id: string; source: string }>(s2, 'models.get', { ref: 'tiny-ft' })
    expect(model.source).toBe('trained')
    await s2.stop()
    await expectWhole(lib)
  }, 600_000)

  it('during a batch classify with copies: no partial copy visible, each file copied exactly once after resume', async () => {
    const { lib, dir } = setup()
    const src = join(dir, 'photos')
    const dest = join(dir, 'sorted')
    const files = writeImages(src, await noisePngs(40, 16, 3))
    const s = await start(lib, { TESSERA_CLASSIFY_TEST_DELAY_MS: '40' })
    await value(s, 'models.import', { path: join(FIXTURES, 'imagegpt-tiny-cls'), name: 'cls' })
    const { runId, jobId } = await value<{ runId: string; jobId: string }>(s, 'classify.start', { folders: [src], model: 'cls', action: 'copy', root: dest, batchSize: 1 })
    const at = await s.next('job.progress', (p) => p.jobId === jobId && p.done >= 5 && p.total !== null)
    await s.kill()
    expect(at.done).toBeLessThan(files.size)
    await expectWhole(lib)
    const visible = (): string[] =>
      readdirSync(dest, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile() && !e.name.startsWith('.'))
        .map((e) => join(e.parentPath, e.name))
    for (const f of visible()) expect(files.has(hash(readFileSync(f))), `${f} is not a whole copy`).toBe(true)

    const s2 = await start(lib)
    expect((await value<Job>(s2, 'jobs.get', { id: jobId })).state).toBe('interrupted')
    const done = settled(s2, jobId)
    await value(s2, 'classify.resume', { id: runId })
    await done
    await s2.stop()
    const copies = visible().map((f) => hash(readFileSync(f)))
    expect(copies.sort()).toEqual([...files.keys()].sort())
    expect(readdirSync(src).sort()).toEqual([...files.values()].sort())
    await expectWhole(lib)
  }, 300_000)

  it('during dataset exports (folder, then zip): no partial file or archive visible', async () => {
    const { lib, dir } = setup()
    const src = join(dir, 'src')
    const files = writeImages(src, await noisePngs(300, 48, 21))
    const s = await start(lib)
    const imp = await value<Job>(s, 'datasets.import', { name: 'Out', source: src })
    const imported = settled(s, imp.id)
    await imported
    const out = join(dir, 'export')
    const visible = (): string[] =>
      readdirSync(out, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile() && !e.name.startsWith('.'))
        .map((e) => join(e.parentPath, e.name))
    /** Kills the host as soon as `seen()` says the export has begun writing. */
    const killWhen = async (seen: () => boolean): Promise<void> => {
      for (let i = 0; i < 1_000_000 && !seen(); i++) await new Promise((r) => setImmediate(r))
      await s.kill()
    }
    const exporting = s.call('datasets.export', { ref: 'Out', folder: out }).catch(() => null)
    await killWhen(() => {
      try {
        return visible().length >= 20
      } catch {
        return false
      }
    })
    await exporting
    const copied = visible()
    expect(copied.length).toBeGreaterThanOrEqual(20)
    expect(copied.length).toBeLessThan(files.size)
    for (const f of copied) expect(files.has(hash(readFileSync(f))), `${f} is not a whole copy`).toBe(true)

    const s2 = await start(lib)
    const zipDir = join(dir, 'zip')
    mkdirSync(zipDir)
    const zipping = s2.call('datasets.export', { ref: 'Out', folder: zipDir, format: 'zip' }).catch(() => null)
    for (let i = 0; i < 1_000_000 && readdirSync(zipDir).length === 0; i++) await new Promise((r) => setImmediate(r))
    await s2.kill()
    await zipping
    // Killed while writing: the archive is nowhere under its own name.
    expect(readdirSync(zipDir).filter((n) => !n.startsWith('.'))).toEqual([])
    await expectWhole(lib)
  }, 300_000)

  it('during generation into the gallery: outputs whole, each image index exactly once after resume', async () => {
    const { lib } = setup()
    const s = await start(lib)
    await value(s, 'models.import', { path: join(FIXTURES, 'imagegpt-tiny-lm'), name: 'lm' })
    const job = await value<Job>(s, 'generate.start', { model: 'lm', count: 24, batchSize: 1, seed: 5 })
    let saved = 0
    await s.next('library.changed', (e) => e.domain === 'gallery' && ++saved >= 3)
    await s.kill()
    await expectWhole(lib)
    // The kill can land after an image's gallery row is committed and before the checkpoint that
    // counts it: put the checkpoint one image back, as such a kill leaves it.
    const db = openDb(lib)
    const cp = JSON.parse((db.prepare('SELECT checkpoint FROM jobs WHERE id = ?').get(job.id) as { checkpoint: string }).checkpoint) as { next: number; ids: string[] }
    expect(cp.next).toBeGreaterThanOrEqual(3)
    db.prepare('UPDATE jobs SET checkpoint = ? WHERE id = ?').run(JSON.stringify({ next: cp.next - 1, ids: cp.ids.slice(0, -1) }), job.id)
    db.close()

    const s2 = await start(lib)
    expect((await value<Job>(s2, 'jobs.get', { id: job.id })).state).toBe('interrupted')
    const done = settled(s2, job.id)
    await value(s2, 'jobs.resume', { id: job.id })
    await done
    const page = await value<GalleryPage>(s2, 'gallery.list', { limit: 100 })
    await s2.stop()
    const indexes = page.items.map((i) => i.index).sort((a, b) => a - b)
    expect(indexes).toEqual(Array.from({ length: 24 }, (_, i) => i))
    await expectWhole(lib)
  }, 300_000)
})
