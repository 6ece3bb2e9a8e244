// Snapshots through the services: create freezes items, human labels and splits; later changes
// (add, remove, relabel, move) show up in a diff against the snapshot and between snapshots with
// the right counts and items; names, refusal of taken names, delete, and export of a snapshot.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { SnapshotsRepo, rowsHash } from '../../../src/main/datasets/snapshots'
import { setupServices } from '../../helpers/services'
import { picture } from '../datasets/images'

let cleanups: (() => void | Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.reverse()) await c()
  cleanups = []
})

async function petsDataset(s: ReturnType<typeof setupServices>): Promise<void> {
  const files: [string, number][] = [
    ['train/cat/c1.png', 1],
    ['train/cat/c2.png', 2],
    ['train/dog/d1.png', 3],
    ['train/dog/d2.png', 4],
    ['val/cat/c3.png', 5],
    ['test/dog/d3.png', 6]
  ]
  for (const [rel, seed] of files) {
    mkdirSync(join(s.src, rel, '..'), { recursive: true })
    writeFileSync(join(s.src, rel), await picture(seed, 'png', [32, 24]))
  }
  const job = await s.call('datasets.import', { name: 'Pets', source: s.src, splitFromFolders: true })
  expect((await s.ctx.jobs.wait(job.id)).state).toBe('done')
}

describe('snapshots', () => {
  it('freeze a dataset; diffs against later states and between snapshots list exactly what changed', async () => {
    const s = setupServices(cleanups)
    await petsDataset(s)
    const v1 = await s.call('snapshots.create', { dataset: 'Pets', name: 'v1', note: 'as imported' })
    expect(v1).toMatchObject({ name: 'v1', note: 'as imported', itemCount: 6, labelled: 6, auto: false, usedBy: [] })
    expect([...v1.classes].sort()).toEqual(['cat', 'dog'])
    expect(v1.splits).toEqual({ train: 4, val: 1, test: 1, none: 0 })
    expect((await s.call('snapshots.diff', { dataset: 'Pets', from: 'v1' })).counts).toEqual({ added: 0, removed: 0, relabelled: 0, moved: 0, unchanged: 6, changed: 0 })

    // Change things: relabel c2 to dog, move d1 to val, relabel+move c1, remove d2, add an item.
    const items = (await s.call('items.list', { dataset: 'Pets' })).items
    const by = (n: string) => items.find((i) => i.name === n)!
    const dog = (await s.call('datasets.get', { ref: 'Pets' })).classes.find((c) => c.name === 'dog')!.id
    await s.call('items.setLabel', { ids: [by('train/cat/c2.png').id, by('train/cat/c1.png').id], classId: dog })
    await s.call('items.setSplit', { ids: [by('train/dog/d1.png').id, by('train/cat/c1.png').id], split: 'val' })
    await s.call('items.remove', { ids: [by('train/dog/d2.png').id] })
    const extra = join(s.dir, 'extra')
    mkdirSync(extra)
    writeFileSync(join(extra, 'new.png'), await picture(9, 'png', [32, 24]))
    const j2 = await s.call('datasets.import', { name: 'Extra', source: extra })
    await s.ctx.jobs.wait(j2.id)
    const newItem = (await s.call('items.list', { dataset: 'Extra' })).items[0]!
    // Put the new file into Pets as an unlabelled, unsplit item.
    s.ctx.repos.items.add(by('train/cat/c1.png').datasetId, newItem.sha256, { originalName: 'new.png' })

    const d = await s.call('snapshots.diff', { dataset: 'Pets', from: 'v1', to: 'current' })
    expect(d.to).toEqual({ id: 'current', name: 'current' })
    expect(d.counts).toEqual({ added: 1, removed: 1, relabelled: 2, moved: 2, unchanged: 2, changed: 5 })
    expect(d.items.map((e) => [e.name, e.changes, e.from, e.to])).toEqual([
      ['new.png', ['added'], null, { className: null, split: null }],
      ['train/cat/c1.png', ['relabelled', 'moved'], { className: 'cat', split: 'train' }, { className: 'dog', split: 'val' }],
      ['train/cat/c2.png', ['relabelled'], { className: 'cat', split: 'train' }, { className: 'dog', split: 'train' }],
      ['train/dog/d1.png', ['moved'], { className: 'dog', split: 'train' }, { className: 'dog', split: 'val' }],
      ['train/dog/d2.png', ['removed'], { className: 'dog', split: 'train' }, null]
    ])
    expect((await s.call('snapshots.diff', { dataset: 'Pets', from: 'v1', change: 'moved' })).items.map((e) => e.name)).toEqual(['train/cat/c1.png', 'train/dog/d1.png'])
    expect((await s.call('snapshots.diff', { dataset: 'Pets', from: 'v1', offset: 1, limit: 2 })).items.map((e) => e.name)).toEqual(['train/cat/c1.png', 'train/cat/c2.png'])

    // A second snapshot; the diff between the two is the same as v1 -> current was; back the other way it mirrors.
    const v2 = await s.call('snapshots.create', { dataset: 'Pets', name: 'v2' })
    expect(v2.itemCount).toBe(6)
    expect(v2.splits).toEqual({ train: 1, val: 3, test: 1, none: 1 })
    expect(v2.labelled).toBe(5)
    const between = await s.call('snapshots.diff', { dataset: 'Pets', from: v1.id, to: 'v2' })
    expect(between.counts).toEqual(d.counts)
    expect(between.items).toEqual(d.items)
    const back = await s.call('snapshots.diff', { dataset: 'Pets', from: 'v2', to: 'v1' })
    expect(back.counts).toEqual({ added: 1, removed: 1, relabelled: 2, moved: 2, unchanged: 2, changed: 5 })
    expect(back.items.find((e) => e.name === 'new.png')!.changes).toEqual(['removed'])
    expect((await s.call('snapshots.diff', { dataset: 'Pets', from: 'v2' })).counts.changed).toBe(0)

    // Listing, names, refusals.
    expect((await s.call('snapshots.list', { dataset: 'Pets' })).map((x) => x.name)).toEqual(['v2', 'v1'])
    expect(await s.dispatch('snapshots.create', { dataset: 'Pets', name: 'V1' })).toMatchObject({ ok: false, error: { code: 'CONFLICT' } })
    expect(await s.dispatch('snapshots.create', { dataset: 'Pets', name: 'current' })).toMatchObject({ ok: false, error: { code: 'VALIDATION' } })
    expect(await s.dispatch('snapshots.diff', { dataset: 'Pets', from: 'nope' })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } })
    const dflt = await s.call('snapshots.create', { dataset: 'Pets' })
    expect(dflt.name).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/)
    expect(dflt.hash).toBe(v2.hash) // same content, same hash

    // Export as v1 froze it: the removed item is back, labels and splits as they were.
    const out = join(s.dir, 'v1-export')
    const r = await s.call('datasets.export', { ref: 'Pets', folder: out, format: 'csv', snapshot: 'v1' })
    expect(r.files).toBe(6)
    const csv = readFileSync(r.file!, 'utf8').trim().split('\n')
    expect(csv).toContain('images/d2.png,dog,train')
    expect(csv).toContain('images/c2.png,cat,train')

    // Delete.
    expect(await s.call('snapshots.delete', { dataset: 'Pets', snapshot: 'v1' })).toEqual({ id: v1.id })
    expect((await s.call('snapshots.list', { dataset: 'Pets' })).map((x) => x.name)).not.toContain('v1')
    expect(await s.dispatch('snapshots.get', { dataset: 'Pets', snapshot: 'v1' })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } })
  })

  it('forTraining reuses the latest snapshot when nothing changed and takes a new automatic one otherwise', async () => {
    const s = setupServices(cleanups)
    await petsDataset(s)
    const repo = new SnapshotsRepo(s.ctx.library.db)
    const id = (await s.call('datasets.get', { ref: 'Pets' })).id
    const first = repo.forTraining(id)
    expect(first.reused).toBe(false)
    expect(first.snapshot.auto).toBe(true)
    expect(first.snapshot.name).toMatch(/^auto /)
    expect(first.snapshot.hash).toBe(rowsHash(repo.current(id).rows))
    expect(repo.forTraining(id)).toMatchObject({ reused: true, snapshot: { id: first.snapshot.id } })
    const any = (await s.call('items.list', { dataset: 'Pets', split: 'train' })).items[0]!
    await s.call('items.setSplit', { ids: [any.id], split: 'test', allowTestMove: true })
    const third = repo.forTraining(id)
    expect(third.reused).toBe(false)
    expect(third.snapshot.id).not.toBe(first.snapshot.id)
    // Compact rows: the sha256 is stored as 32 bytes.
    const row = s.ctx.library.db.prepare('SELECT length(sha256) AS n, typeof(class) AS t FROM snapshot_items LIMIT 1').get() as { n: number; t: string }
    expect(row).toEqual({ n: 32, t: 'integer' })
  })
})
