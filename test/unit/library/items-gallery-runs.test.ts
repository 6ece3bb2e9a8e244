import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConflictError } from '../../../src/main/errors'
import { DatasetsRepo } from '../../../src/main/library/datasets'
import { GalleryRepo } from '../../../src/main/library/gallery'
import { ItemsRepo } from '../../../src/main/library/items'
import { type Library } from '../../../src/main/library/library'
import { storeBytes } from '../../../src/main/library/media'
import { RunsRepo } from '../../../src/main/library/runs'
import { tempLibraryOpener } from '../../helpers/library'

let lib: Library
const openTempLibrary = tempLibraryOpener()
function open(): Library {
  lib = openTempLibrary()
  return lib
}

describe('storeBytes', () => {
  it('writes content-addressed files once, atomically, with their row', () => {
    open()
    const bytes = Buffer.from('a small png stand-in')
    const row = storeBytes(lib, bytes, { ext: 'png', mime: 'image/png', width: 2, height: 3 })
    // Reference from coreutils: printf 'a small png stand-in' | sha256sum
    expect(row.sha256).toBe('5c8b96f5de50c6b719d9e0b9e623d87d745c93a9946b55f777aa7e35a3d79500')
    expect(row.path).toBe(`media/${row.sha256.slice(0, 2)}/${row.sha256}.png`)
    expect(readFileSync(lib.resolveInside(row.path)).equals(bytes)).toBe(true)
    expect(storeBytes(lib, bytes, { ext: 'png', mime: 'image/png' })).toEqual(row)
    expect(readdirSync(dirname(lib.resolveInside(row.path)))).toEqual([`${row.sha256}.png`]) // no temp files left
    const out = storeBytes(lib, Buffer.from('generated'), { ext: 'png', mime: 'image/png', under: 'outputs' })
    expect(out.path.startsWith('outputs/')).toBe(true)
    expect(existsSync(lib.resolveInside(out.path))).toBe(true)
    expect(() => storeBytes(lib, bytes, { ext: '../x', mime: 'x' })).toThrow(/extension/)
  })
})

describe('ItemsRepo', () => {
  it('adds items once per dataset, labels them, splits them, pages them', () => {
    open()
    const datasets = new DatasetsRepo(lib.db)
    const items = new ItemsRepo(lib.db)
    const d = datasets.create({ name: 'Cats', classes: ['tabby', 'black'] })
    const other = datasets.create({ name: 'Dogs', classes: ['pug'] })
    const [tabby, black] = d.classes
    const shas = [0, 1, 2, 3, 4].map((i) => storeBytes(lib, Buffer.from(`img ${i}`), { ext: 'png', mime: 'image/png' }).sha256)
    const added = shas.map((s, i) => items.add(d.id, s, { originalName: `${i}.png` }))
    expect(added.every((a) => a.added)).toBe(true)
    expect(items.add(d.id, shas[0]!).added).toBe(false)
    expect(items.add(other.id, shas[0]!).added).toBe(true) // the same file may be in two datasets
    expect(items.count(d.id)).toBe(5)

    const ids = added.map((a) => a.item.id)
    items.setLabels(ids.slice(0, 3), tabby!.id, 'human')
    items.setLabels([ids[3]!], black!.id, 'model', { confidence: 0.75 })
    items.setLabels([ids[0]!], black!.id, 'model', { confidence: 0.6 })
    expect(() => items.setLabels([ids[4]!], other.classes[0]!.id, 'human')).toThrow(ConflictError)
    items.setSplit(ids.slice(0, 2), 'train')
    items.setSplit([ids[2]!], 'val')
    const first = items.get(ids[0]!)
    expect(first).toMatchObject({ classId: tabby!.id, suggestedClassId: black!.id, confidence: 0.6, split: 'train' })
    expect(items.get(ids[3]!)).toMatchObject({ classId: null, suggestedClassId: black!.id, confidence: 0.75, split: null })
    expect(datasets.get(d.id)).toMatchObject({ itemCount: 5, labelledCount: 3 })
    expect(Object.fromEntries(items.classCounts(d.id))).toEqual({ [tabby!.id]: 3, [black!.id]: 0 })

    items.setLabels([ids[1]!], null, 'human')
    expect(items.get(ids[1]!).classId).toBeNull()

    const page1 = items.list(d.id, { limit: 2 })
    const page2 = items.list(d.id, { limit: 2, after: { addedAt: page1[1]!.addedAt, id: page1[1]!.id } })
    const page3 = items.list(d.id, { limit: 2, after: { addedAt: page2[1]!.addedAt, id: page2[1]!.id } })
    expect([...page1, ...page2, ...page3].map((i) => i.id).sort()).toEqual([...ids].sort())
    expect(items.remove([ids[0]!, ids[1]!])).toBe(2)
    expect(items.count(d.id)).toBe(3)
  })
})

describe('GalleryRepo and RunsRepo', () => {
  it('keeps outputs, favourites and collections', () => {
    open()
    const gallery = new GalleryRepo(lib.db)
    const a = gallery.add({ sha256: storeBytes(lib, Buffer.from('a'), { ext: 'png', mime: 'image/png', under: 'outputs' }).sha256, params: { temperature: 1 }, seed: 7 })
    const b = gallery.add({ sha256: storeBytes(lib, Buffer.from('b'), { ext: 'png', mime: 'image/png', under: 'outputs' }).sha256 })
    expect(gallery.list().map((o) => o.id)).toEqual([b.id, a.id])
    expect(gallery.setFavorite(a.id, true).favorite).toBe(true)
    expect(gallery.list({ favorites: true }).map((o) => o.id)).toEqual([a.id])
    const c = gallery.createCollection('Best')
    expect(() => gallery.createCollection('best')).toThrow(ConflictError)
    gallery.addToCollection(c.id, [b.id, b.id])
    expect(gallery.list({ collectionId: c.id }).map((o) => o.id)).toEqual([b.id])
    expect(gallery.listCollections()).toMatchObject([{ name: 'Best', count: 1 }])
    gallery.remove(b.id)
    expect(gallery.listCollections()).toMatchObject([{ name: 'Best', count: 0 }])
    expect(gallery.get(a.id).params).toEqual({ temperature: 1 })
  })

  it('records training runs', () => {
    open()
    const runs = new RunsRepo(lib.db)
    const r = runs.create({ objective: 'classify', params: { lr: 0.001 } })
    expect(r.state).toBe('running')
    expect(runs.updateMetrics(r.id, { epoch: 1, valAcc: 0.5 }).metrics).toEqual({ epoch: 1, valAcc: 0.5 })
    expect(runs.updateMetrics(r.id, { epoch: 2 }).metrics).toEqual({ epoch: 2, valAcc: 0.5 })
    const done = runs.finish(r.id, { state: 'done' })
    expect(done.state).toBe('done')
    expect(done.finishedAt).not.toBeNull()
    expect(runs.list().map((x) => x.id)).toEqual([r.id])
  })
})
