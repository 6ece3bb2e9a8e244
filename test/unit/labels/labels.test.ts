// The label service through the real dispatcher: every change one transaction and one
// undo step in the library's log (so a second context on the same library sees the
// same history), undo/redo across bulk and single changes, class merge and delete
// semantics, cached predictions from the tiny ImageGPT classifier checked against the
// fixture's reference probabilities, and model labels that never overwrite human ones.

import { copyFileSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { type ImportResult, type MethodInput, type MethodName } from '../../../src/shared/contract'
import { openServices } from '../../helpers/services'
import { tempDir } from '../library/tmp'

const FIXTURE = join(__dirname, '..', '..', '..', '..', 'shared', 'fixtures', 'imagegpt-tiny-cls')

let cleanups: (() => void | Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.reverse()) await c()
  cleanups = []
})

function open(libraryDir: string) {
  const { ctx, dispatch, call } = openServices(libraryDir, cleanups)
  const fails = async <M extends MethodName>(m: M, input: MethodInput<M>): Promise<string> => {
    const r = await dispatch(m, input)
    if (r.ok) throw new Error(`${m} should have failed`)
    return `${r.error.code} ${r.error.message}`
  }
  return { ctx, call, fails }
}

/**
 * A dataset of the fixture's four 8x8 images, each copied under two names with a pixel
 * changed so they are distinct files: 8 items, in class folders class_0..class_2 and
 * unlabelled ones. Returns the items by file name.
 */
async function setup() {
  const t = tempDir()
  cleanups.push(t.cleanup)
  const lib = join(t.dir, 'lib')
  const s = open(lib)
  const src = join(t.dir, 'src')
  const sharp = (await import('sharp')).default
  const files: [string, string][] = [
    ['class_0/a.png', 'img0.png'],
    ['class_1/b.png', 'img1.png'],
    ['class_2/c.png', 'img2.png'],
    ['d.png', 'img3.png'],
    ['e.png', 'img0.png'],
    ['f.png', 'img1.png'],
    ['g.png', 'img2.png'],
    ['h.png', 'img3.png']
  ]
  for (const [i, [rel, from]] of files.entries()) {
    mkdirSync(join(src, rel, '..'), { recursive: true })
    if (i < 4) copyFileSync(join(FIXTURE, 'images', from), join(src, rel))
    else {
      // Same picture, different bytes (a PNG text chunk), so import keeps both.
      await sharp(readFileSync(join(FIXTURE, 'images', from))).withMetadata({}).png({ compressionLevel: 1 }).toFile(join(src, rel))
    }
  }
  const job = await s.call('datasets.import', { name: 'tiny', source: src })
  const done = await s.ctx.jobs.wait(job.id)
  expect(done.state, done.error ?? '').toBe('done')
  expect((done.result as ImportResult).imported).toBe(8)
  const page = await s.call('items.list', { dataset: 'tiny', limit: 100 })
  const byName = Object.fromEntries(page.items.map((i) => [i.name, i]))
  const d = await s.call('datasets.get', { ref: 'tiny' })
  const cls = Object.fromEntries(d.classes.map((c) => [c.name, c.id]))
  const id = (n: string): string => byName[n]?.id as string
  return { ...s, lib, t, id, cls, datasetId: d.id }
}

type Setup = Awaited<ReturnType<typeof setup>>

function labelRows(s: Setup): { item: string; source: string; cls: string; model: string | null; confidence: number | null }[] {
  return s.ctx.library.db
    .prepare(
      `SELECT i.original_name AS item, l.source AS source, c.name AS cls, l.model_id AS model, l.confidence AS confidence
       FROM labels l JOIN items i ON i.id = l.item_id JOIN classes c ON c.id = l.class_id ORDER BY 1, 2`
    )
    .all() as never
}

describe('human labels with undo and redo', () => {
  it('saves each change at once, undoes and redoes bulk and single changes in order, and a new change drops the redo steps', async () => {
    const s = await setup()
    const h0 = await s.call('labels.history', { dataset: 'tiny' })
    expect(h0).toMatchObject({ canUndo: false, canRedo: false, size: 0 })

    const r1 = await s.call('labels.assign', { ids: [s.id('d.png'), s.id('e.png'), s.id('f.png')], classId: s.cls.class_1 as string })
    expect(r1.changed).toBe(3)
    expect(r1.history).toMatchObject({ canUndo: true, canRedo: false, undoAction: 'Label 3 items class_1', size: 1 })
    const r2 = await s.call('labels.assign', { ids: [s.id('e.png')], classId: s.cls.class_2 as string })
    expect(r2.changed).toBe(1)
    // Labelling an item with the label it has changes nothing and is no undo step.
    const same = await s.call('labels.assign', { ids: [s.id('e.png')], classId: s.cls.class_2 as string })
    expect(same.changed).toBe(0)
    expect(same.history.size).toBe(2)
    const r3 = await s.call('labels.assign', { ids: [s.id('class_0/a.png')], classId: null })
    expect(r3.history.undoAction).toBe('Clear the label of 1 item')

    const human = (): Record<string, string> => Object.fromEntries(labelRows(s).filter((r) => r.source === 'human').map((r) => [r.item, r.cls]))
    expect(human()).toEqual({ 'class_1/b.png': 'class_1', 'class_2/c.png': 'class_2', 'd.png': 'class_1', 'e.png': 'class_2', 'f.png': 'class_1' })

    // A second context on the same library (another window, the CLI) sees the same history and undoes it.
    const other = open(s.lib)
    const u1 = await other.call('labels.undo', { dataset: 'tiny' })
    expect(u1.changed).toBe(1)
    expect(human()['class_0/a.png']).toBe('class_0')
    await s.call('labels.undo', { dataset: 'tiny' })
    expect(human()['e.png']).toBe('class_1')
    const u3 = await s.call('labels.undo', { dataset: 'tiny' })
    expect(u3.changed).toBe(3)
    expect(u3.history).toMatchObject({ canUndo: false, canRedo: true, redoAction: 'Label 3 items class_1' })
    expect(human()).toEqual({ 'class_0/a.png': 'class_0', 'class_1/b.png': 'class_1', 'class_2/c.png': 'class_2' })
    expect(await s.fails('labels.undo', { dataset: 'tiny' })).toBe('CONFLICT Nothing to undo.')

    await s.call('labels.redo', { dataset: 'tiny' })
    await s.call('labels.redo', { dataset: 'tiny' })
    expect(human()).toMatchObject({ 'd.png': 'class_1', 'e.png': 'class_2', 'f.png': 'class_1', 'class_0/a.png': 'class_0' })
    const h = await other.call('labels.history', { dataset: 'tiny' })
    expect(h).toMatchObject({ canUndo: true, canRedo: true, redoAction: 'Clear the label of 1 item' })
    // A new change ends the redo stack.
    const r4 = await s.call('labels.assign', { ids: [s.id('g.png')], classId: s.cls.class_0 as string })
    expect(r4.history).toMatchObject({ canRedo: false, size: 3 })
    expect(await s.fails('labels.redo', { dataset: 'tiny' })).toBe('CONFLICT Nothing to redo.')
  })

  it('refuses a class of another dataset and a change that fails leaves every label as it was', async () => {
    const s = await setup()
    const other = await s.call('datasets.create', { name: 'other', classes: ['x'] })
    const msg = await s.fails('labels.assign', { ids: [s.id('d.png')], classId: other.classes[0]?.id as string })
    expect(msg).toMatch(/^CONFLICT Class "x" belongs to another dataset/)
    expect(await s.fails('labels.assign', { ids: ['nope'], classId: null })).toMatch(/^NOT_FOUND/)
    // A step whose items include one removed later: undo restores the rest.
    await s.call('labels.assign', { ids: [s.id('d.png'), s.id('h.png')], classId: s.cls.class_0 as string })
    await s.call('items.remove', { ids: [s.id('h.png')] })
    const u = await s.call('labels.undo', { dataset: 'tiny' })
    expect(u.changed).toBe(1)
    expect(labelRows(s).filter((r) => r.item === 'd.png')).toEqual([])
  })
})

describe('classes', () => {
  it('creates, renames, recolours and reorders; merge moves human and model labels; delete says first what it does, then unlabels', async () => {
    const s = await setup()
    const dog = await s.call('classes.create', { dataset: 'tiny', name: 'dog' })
    expect(dog.position).toBe(3)
    expect(await s.fails('classes.create', { dataset: 'tiny', name: 'DOG' })).toMatch(/^CONFLICT/)
    const renamed = await s.call('classes.rename', { id: dog.id, name: 'puppy' })
    expect(renamed.name).toBe('puppy')
    expect(await s.fails('classes.rename', { id: dog.id, name: 'class_0' })).toMatch(/merge the two instead/)
    expect((await s.call('classes.recolor', { id: dog.id, color: '#123456' })).color).toBe('#123456')
    const order = await s.call('classes.reorder', { dataset: 'tiny', ids: [dog.id, s.cls.class_2 as string] })
    expect(order.map((c) => c.name)).toEqual(['puppy', 'class_2', 'class_0', 'class_1'])

    // Labels: d,e human puppy; f human class_0; a is human class_0 from import. A model label on g: puppy.
    await s.call('labels.assign', { ids: [s.id('d.png'), s.id('e.png')], classId: dog.id })
    s.ctx.repos.items.setLabels([s.id('g.png')], dog.id, 'model', { confidence: 0.9 })
    const preview = await s.call('classes.merge', { from: dog.id, into: s.cls.class_0 as string, dryRun: true })
    expect(preview).toMatchObject({ humanLabels: 2, modelLabels: 1, applied: false })
    expect(preview.message).toBe('Merging "puppy" into "class_0" relabels 2 human-labelled items and 1 model-labelled item as "class_0", deletes "puppy" and clears the undo history.')
    expect(labelRows(s).filter((r) => r.cls === 'puppy')).toHaveLength(3)
    const merged = await s.call('classes.merge', { from: dog.id, into: s.cls.class_0 as string })
    expect(merged.applied).toBe(true)
    expect(labelRows(s).filter((r) => r.cls === 'class_0').map((r) => `${r.item}:${r.source}`)).toEqual(['class_0/a.png:human', 'd.png:human', 'e.png:human', 'g.png:model'])
    expect((await s.call('datasets.get', { ref: 'tiny' })).classes.map((c) => c.name)).toEqual(['class_2', 'class_0', 'class_1'])
    expect(await s.call('labels.history', { dataset: 'tiny' })).toMatchObject({ canUndo: false, size: 0 })

    const del = await s.call('classes.delete', { id: s.cls.class_0 as string, dryRun: true })
    expect(del.message).toBe('Deleting "class_0" removes its label from 3 human-labelled items and 1 model-labelled item; the items stay, unlabelled, and the undo history is cleared.')
    expect(labelRows(s).filter((r) => r.cls === 'class_0')).toHaveLength(4)
    await s.call('classes.delete', { id: s.cls.class_0 as string })
    expect(labelRows(s).filter((r) => r.cls === 'class_0')).toHaveLength(0)
    expect(s.ctx.repos.items.count(s.datasetId)).toBe(8)
    expect((await s.call('datasets.stats', { ref: 'tiny' })).unlabelled.count).toBe(6)
  })
})

describe('model assistance', () => {
  it('caches predictions in a job (probabilities as the fixture reference), accepts above a threshold as model labels without touching human labels, and lists disagreements', async () => {
    const s = await setup()
    const model = await s.call('models.import', { path: FIXTURE, name: 'tiny-cls' })
    expect(model.classes).toEqual(['class_0', 'class_1', 'class_2'])
    const job = await s.call('labels.predict', { dataset: 'tiny', model: 'tiny-cls' })
    const done = await s.ctx.jobs.wait(job.id)
    expect(done.state, done.error ?? '').toBe('done')
    expect(done.result).toEqual({ predicted: 8, failed: 0, total: 8 })
    expect(await s.call('labels.predictionStatus', { dataset: 'tiny', model: 'tiny-cls' })).toMatchObject({ predicted: 8, total: 8 })

    // Reference: softmax of the fixture's classifier computed by the reference implementation.
    const ref = JSON.parse(readFileSync(join(FIXTURE, 'reference.json'), 'utf8')) as { images: { file: string; class_probs: number[] }[] }
    const expected = (img: string): { className: string; confidence: number } => {
      const p = ref.images.find((r) => r.file === `images/${img}`)?.class_probs as number[]
      const best = p.indexOf(Math.max(...p))
      return { className: `class_${best}`, confidence: p[best] as number }
    }
    const all = await s.call('labels.list', { dataset: 'tiny', model: 'tiny-cls', limit: 100 })
    expect(all.total).toBe(8)
    const source: Record<string, string> = { 'class_0/a.png': 'img0.png', 'class_1/b.png': 'img1.png', 'class_2/c.png': 'img2.png', 'd.png': 'img3.png', 'e.png': 'img0.png', 'f.png': 'img1.png', 'g.png': 'img2.png', 'h.png': 'img3.png' }
    const pred: Record<string, { className: string; confidence: number; classId: string | null }> = {}
    for (const it of all.items) {
      const e = expected(source[it.name] as string)
      expect(it.prediction?.className, it.name).toBe(e.className)
      expect(Math.abs((it.prediction?.confidence as number) - e.confidence), it.name).toBeLessThan(1e-4)
      expect(it.prediction?.classId).toBe(s.cls[e.className])
      pred[it.name] = it.prediction as never
    }

    // A human label on e.png that disagrees with the model (and one that agrees on a.png: in the import).
    const eWrong = ['class_0', 'class_1', 'class_2'].find((c) => c !== pred['e.png']?.className) as string
    await s.call('labels.assign', { ids: [s.id('e.png')], classId: s.cls[eWrong] as string })
    const review = await s.call('labels.list', { dataset: 'tiny', model: 'tiny-cls', mode: 'disagree' })
    const humanNow: Record<string, string> = { 'class_0/a.png': 'class_0', 'class_1/b.png': 'class_1', 'class_2/c.png': 'class_2', 'e.png': eWrong }
    const disagreeing = Object.keys(humanNow).filter((n) => pred[n]?.className !== humanNow[n]).sort()
    expect(review.items.map((i) => i.name).sort()).toEqual(disagreeing)
    expect(review.total).toBe(disagreeing.length)
    expect(disagreeing).toContain('e.png')

    // Threshold between the confidences: preview first, nothing changes.
    const confs = Object.values(pred).map((p) => p.confidence).sort((a, b) => a - b)
    const threshold = ((confs[2] as number) + (confs[3] as number)) / 2
    const above = Object.entries(pred).filter(([, p]) => p.confidence >= threshold)
    const expectCount = above.filter(([n]) => !humanNow[n]).length
    const before = labelRows(s)
    const preview = await s.call('labels.acceptAbove', { dataset: 'tiny', model: 'tiny-cls', threshold, dryRun: true })
    expect(preview).toMatchObject({ count: expectCount, skippedHuman: above.length - expectCount, noClass: 0, applied: false })
    expect(labelRows(s)).toEqual(before)
    const applied = await s.call('labels.acceptAbove', { dataset: 'tiny', model: 'tiny-cls', threshold })
    expect(applied).toMatchObject({ count: expectCount, applied: true })
    // Asked again: nothing left to change, and no empty undo step.
    expect(await s.call('labels.acceptAbove', { dataset: 'tiny', model: 'tiny-cls', threshold, dryRun: true })).toMatchObject({ count: 0, skippedHuman: above.length - expectCount })
    const rows = labelRows(s)
    // Every human label is as it was; every accepted item has a model label with the model and confidence.
    expect(rows.filter((r) => r.source === 'human')).toEqual(before.filter((r) => r.source === 'human'))
    const modelRows = rows.filter((r) => r.source === 'model')
    expect(modelRows.map((r) => r.item).sort()).toEqual(above.filter(([n]) => !humanNow[n]).map(([n]) => n).sort())
    for (const r of modelRows) {
      expect(r.cls).toBe(pred[r.item]?.className)
      expect(r.model).toBe(model.id)
      expect(Math.abs((r.confidence as number) - (pred[r.item]?.confidence as number))).toBeLessThan(1e-9)
    }
    // One undo step takes the model labels away again; redo brings them back.
    await s.call('labels.undo', { dataset: 'tiny' })
    expect(labelRows(s).filter((r) => r.source === 'model')).toEqual([])
    await s.call('labels.redo', { dataset: 'tiny' })
    expect(labelRows(s).filter((r) => r.source === 'model')).toHaveLength(expectCount)

    // Enter on an item: its prediction becomes the human label (a person agreed); the model label stays beside it.
    const first = modelRows[0]?.item as string
    await s.call('labels.accept', { ids: [s.id(first)], model: 'tiny-cls' })
    const after = labelRows(s).filter((r) => r.item === first)
    expect(after.map((r) => `${r.source}:${r.cls}`)).toEqual([`human:${pred[first]?.className}`, `model:${pred[first]?.className}`])

    // Low confidence lists the predictions under the threshold, least sure first.
    const low = await s.call('labels.list', { dataset: 'tiny', model: 'tiny-cls', mode: 'lowConfidence', threshold })
    expect(low.total).toBe(8 - above.length)
    const lc = low.items.map((i) => i.prediction?.confidence as number)
    expect([...lc].sort((a, b) => a - b)).toEqual(lc)

    // A second run predicts nothing new (cached).
    const again = await s.ctx.jobs.wait((await s.call('labels.predict', { dataset: 'tiny', model: 'tiny-cls' })).id)
    expect(again.result).toEqual({ predicted: 8, failed: 0, total: 8 })
  })
})
