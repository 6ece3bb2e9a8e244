// Dataset import end to end through the services and the job runner: a folder
// tree with classes and splits, a CSV, and a folder of broken and oddly named
// files give exactly the expected items, labels, splits, duplicates and errors.

import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterEach, describe, expect, it } from 'vitest'
import { mediaFile } from '../../../src/main/host/static-files'
import { describeFsError } from '../../../src/main/datasets/scan'
import { type ImportResult, type Job, type MethodInput } from '../../../src/shared/contract'
import { setupServices } from '../../helpers/services'
import { picture } from './images'

let cleanups: (() => void | Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.reverse()) await c()
  cleanups = []
})

const setup = () => setupServices(cleanups)

function put(root: string, rel: string, data: Buffer | string): string {
  const p = join(root, rel)
  mkdirSync(join(p, '..'), { recursive: true })
  writeFileSync(p, data)
  return p
}

async function importAndWait(s: ReturnType<typeof setup>, input: MethodInput<'datasets.import'>): Promise<{ job: Job; result: ImportResult }> {
  const job = await s.call('datasets.import', input)
  const final = await s.ctx.jobs.wait(job.id)
  expect(final.state, final.error ?? '').toBe('done')
  return { job: final, result: final.result as ImportResult }
}

const byName = <T extends { name: string }>(items: T[]): T[] => [...items].sort((a, b) => (a.name < b.name ? -1 : 1))

describe('datasets.import', () => {
  it('thumbnails: JPEG for opaque images, WebP keeping the transparency of images with alpha', async () => {
    const s = setup()
    const half = Buffer.alloc(40 * 30 * 4)
    for (let i = 0; i < 40 * 30; i++) half.set([200, 30, 30, i % 40 < 20 ? 255 : 0], i * 4)
    put(s.src, 'clear.png', await sharp(half, { raw: { width: 40, height: 30, channels: 4 } }).png().toBuffer())
    put(s.src, 'photo.jpg', await picture(9, 'jpeg'))
    await importAndWait(s, { name: 'Thumbs', source: s.src })
    const items = byName((await s.call('items.list', { dataset: 'Thumbs', limit: 10 })).items)
    const [clear, photo] = items.map((i) => s.ctx.repos.media.get(i.sha256)!)
    expect(clear!.thumb_path).toMatch(/\.webp$/)
    expect(photo!.thumb_path).toMatch(/\.jpg$/)
    const t = await sharp(s.ctx.library.resolveInside(clear!.thumb_path!)).raw().toBuffer({ resolveWithObject: true })
    expect(t.info.channels).toBe(4)
    expect(t.data[3]).toBe(255) // left half opaque
    expect(t.data[(t.info.width - 1) * 4 + 3]).toBe(0) // right half transparent
    expect((await sharp(s.ctx.library.resolveInside(photo!.thumb_path!)).metadata()).format).toBe('jpeg')
  })

  it('folder tree: classes from folders, splits from train/val/test, duplicates stored once, every format', async () => {
    const s = setup()
    put(s.src, 'train/cat/c1.png', await picture(1, 'png'))
    put(s.src, 'train/cat/c2.jpg', await picture(2, 'jpeg'))
    put(s.src, 'train/dog/d1.webp', await picture(3, 'webp'))
    put(s.src, 'train/dog/d2.gif', await picture(4, 'gif'))
    put(s.src, 'val/cat/c3.tiff', await picture(5, 'tiff'))
    put(s.src, 'val/dog/d3.avif', await picture(6, 'avif'))
    put(s.src, 'test/dog/same-as-c1.png', await picture(1, 'png')) // exact duplicate of train/cat/c1.png
    put(s.src, 'loose.png', await picture(7, 'png'))
    put(s.src, '.DS_Store', 'junk')

    const { result } = await importAndWait(s, { name: 'Pets', source: s.src, splitFromFolders: true })
    expect(result.errors).toEqual([])
    expect(result.scanned).toBe(8)
    expect(result.imported).toBe(7)
    expect(result.duplicates).toEqual([{ path: 'train/cat/c1.png', sameAs: 'test/dog/same-as-c1.png' }])
    expect(result.stored).toBe(7)

    const page = await s.call('items.list', { dataset: 'Pets', limit: 100 })
    expect(page.total).toBe(7)
    const got = page.items.map((i) => [i.name, i.className, i.split, i.format, i.labelSource])
    expect(got).toEqual([
      ['loose.png', null, null, 'png', 'none'],
      ['test/dog/same-as-c1.png', 'dog', 'test', 'png', 'human'],
      ['train/cat/c2.jpg', 'cat', 'train', 'jpeg', 'human'],
      ['train/dog/d1.webp', 'dog', 'train', 'webp', 'human'],
      ['train/dog/d2.gif', 'dog', 'train', 'gif', 'human'],
      ['val/cat/c3.tiff', 'cat', 'val', 'tiff', 'human'],
      ['val/dog/d3.avif', 'dog', 'val', 'avif', 'human']
    ])
    // Files are in the content-addressed store with thumbnails: JPEG when opaque, WebP with alpha.
    const lib = s.ctx.library
    for (const item of page.items) {
      const media = s.ctx.repos.media.get(item.sha256)!
      expect(media.path).toBe(`media/${item.sha256.slice(0, 2)}/${item.sha256}.${media.path.split('.').pop()}`)
      expect(existsSync(lib.resolveInside(media.path))).toBe(true)
      const thumb = await sharp(lib.resolveInside(media.thumb_path!)).metadata()
      const alpha = (await sharp(lib.resolveInside(media.path), { pages: 1 }).metadata()).hasAlpha
      expect(thumb.format).toBe(alpha ? 'webp' : 'jpeg')
      expect(media.thumb_path!.endsWith(alpha ? '.webp' : '.jpg')).toBe(true)
      expect(mediaFile(s.ctx, 'thumbs', item.sha256)?.mime).toBe(alpha ? 'image/webp' : 'image/jpeg')
      expect(Math.max(thumb.width, thumb.height)).toBeLessThanOrEqual(256)
      expect(item.referenced).toBe(false)
    }
    expect(page.items.find((i) => i.name === 'train/cat/c2.jpg')).toMatchObject({ width: 96, height: 80, mime: 'image/jpeg' })

    const stats = await s.call('datasets.stats', { ref: 'Pets' })
    expect(stats.total).toBe(7)
    expect(stats.classes.map((c) => [c.name, c.count, c.splits])).toEqual([
      // Classes in the order the sorted walk met them: test/dog/... comes first.
      ['dog', 4, { train: 2, val: 1, test: 1, none: 0 }],
      ['cat', 2, { train: 1, val: 1, test: 0, none: 0 }]
    ])
    expect(stats.unlabelled).toEqual({ count: 1, splits: { train: 0, val: 0, test: 0, none: 1 } })
    expect(stats.labelSources).toEqual({ human: 6, model: 0, none: 1 })

    // Filters and sorts.
    const dogId = stats.classes[0]!.id
    expect((await s.call('items.list', { dataset: 'Pets', classId: dogId })).total).toBe(4)
    expect((await s.call('items.list', { dataset: 'Pets', classId: 'none' })).items.map((i) => i.name)).toEqual(['loose.png'])
    expect((await s.call('items.list', { dataset: 'Pets', split: 'val' })).total).toBe(2)
    expect((await s.call('items.list', { dataset: 'Pets', split: 'none' })).total).toBe(1)
    expect((await s.call('items.list', { dataset: 'Pets', labelSource: 'human' })).total).toBe(6)
    const bySize = (await s.call('items.list', { dataset: 'Pets', sort: 'size', desc: true })).items.map((i) => i.bytes)
    expect(bySize).toEqual([...bySize].sort((a, b) => b - a))
    const paged = await s.call('items.list', { dataset: 'Pets', offset: 5, limit: 10 })
    expect(paged.items.map((i) => i.name)).toEqual(['val/cat/c3.tiff', 'val/dog/d3.avif'])

    // Without --split-from-folders the top folders are the classes.
    const flat = await importAndWait(s, { name: 'Pets flat', source: join(s.src, 'train') })
    expect(flat.result.imported).toBe(4)
    const flatStats = await s.call('datasets.stats', { ref: 'Pets flat' })
    expect(flatStats.classes.map((c) => [c.name, c.count])).toEqual([['cat', 2], ['dog', 2]])
    expect(flatStats.splits.none).toBe(4)
    // Same bytes as the first import: nothing stored again.
    expect(flat.result.stored).toBe(0)
  })

  it('a folder of broken and oddly named files: every bad file listed with its reason, the good ones imported', async () => {
    const s = setup()
    const png = await picture(10, 'png')
    put(s.src, 'zero.jpg', Buffer.alloc(0))
    put(s.src, 'truncated.png', (await picture(11, 'png', [200, 200])).subarray(0, 400))
    put(s.src, 'text.jpg', 'this is not a picture\n')
    put(s.src, 'fake.svg', '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>')
    symlinkSync('loop', join(s.src, 'loop'))
    mkdirSync(join(s.src, 'sub'))
    symlinkSync('..', join(s.src, 'sub', 'up'))
    put(s.src, 'ünïcødé 猫.png', png)
    put(s.src, 'with space.png', await picture(12, 'png'))
    put(s.src, 'new\nline.png', await picture(13, 'png'))
    const locked = put(s.src, 'locked.png', await picture(14, 'png'))
    chmodSync(locked, 0)
    const root = process.getuid?.() === 0 // root reads files whatever their mode

    const { result } = await importAndWait(s, { name: 'Broken', source: s.src })
    const reasons = Object.fromEntries(result.errors.map((e) => [e.path.replace(s.src + '/', ''), e.reason]))
    expect(reasons['zero.jpg']).toBe('is empty (0 bytes)')
    expect(reasons['truncated.png']).toMatch(/could not be decoded; it may be truncated/)
    expect(reasons['text.jpg']).toMatch(/is not an image/)
    expect(reasons['fake.svg']).toMatch(/svg file; import JPEG, PNG/)
    expect(reasons['loop']).toBe('is a symbolic link loop')
    expect(reasons['sub/up']).toMatch(/symbolic link loop/)
    if (!root) expect(reasons['locked.png']).toBe('cannot be read (permission denied)')
    expect(Object.keys(reasons).sort()).toEqual(['fake.svg', 'loop', 'sub/up', 'text.jpg', 'truncated.png', 'zero.jpg', ...(root ? [] : ['locked.png'])].sort())
    const names = byName((await s.call('items.list', { dataset: 'Broken' })).items).map((i) => i.name)
    expect(names).toEqual(['new\nline.png', 'with space.png', 'ünïcødé 猫.png', ...(root ? ['locked.png'] : [])].sort())
    expect(describeFsError(Object.assign(new Error('x'), { code: 'EACCES' }))).toBe('cannot be read (permission denied)')
  })

  it('CSV import with labels, splits, quoted names and bad rows; reference mode leaves files in place', async () => {
    const s = setup()
    put(s.src, 'imgs/a.png', await picture(20, 'png'))
    put(s.src, 'imgs/b, c.jpg', await picture(21, 'jpeg'))
    put(s.src, 'imgs/d.webp', await picture(22, 'webp'))
    const csv = put(
      s.src,
      'labels.csv',
      ['path,label,split', 'imgs/a.png,ant,train', '"imgs/b, c.jpg",bee,test', 'imgs/d.webp,,', 'imgs/missing.png,ant,train', 'imgs/a.png,ant,holdout'].join('\n')
    )
    const { result } = await importAndWait(s, { name: 'Insects', source: csv, reference: true })
    expect(result.errors).toEqual([
      { path: 'labels.csv:6', reason: 'has split "holdout"; use train, val or test' },
      { path: 'imgs/missing.png', reason: 'does not exist (a broken link, or it was removed during the import)' }
    ])
    const items = byName((await s.call('items.list', { dataset: 'Insects' })).items)
    expect(items.map((i) => [i.name, i.className, i.split, i.referenced])).toEqual([
      ['imgs/a.png', 'ant', 'train', true],
      ['imgs/b, c.jpg', 'bee', 'test', true],
      ['imgs/d.webp', null, null, true]
    ])
    expect(result.stored).toBe(0)
    const media = s.ctx.repos.media.get(items[0]!.sha256)!
    expect(media.path).toBe(join(s.src, 'imgs/a.png'))
    expect(readFileSync(media.path).length).toBe(items[0]!.bytes)
  })

  it('an animated GIF imports as its first frame (thumbnail colour, single-frame size)', async () => {
    const s = setup()
    const frame = (background: string) => sharp({ create: { width: 40, height: 30, channels: 3, background } }).png().toBuffer()
    const gif = await sharp([await frame('#ff0000'), await frame('#0000ff')], { join: { animated: true } }).gif().toBuffer()
    expect((await sharp(gif).metadata()).pages).toBe(2)
    put(s.src, 'anim.gif', gif)
    await importAndWait(s, { name: 'Anim', source: s.src })
    const [item] = (await s.call('items.list', { dataset: 'Anim' })).items
    expect(item).toMatchObject({ format: 'gif', width: 40, height: 30 })
    const thumb = s.ctx.library.resolveInside(s.ctx.repos.media.get(item!.sha256)!.thumb_path!)
    const { data } = await sharp(thumb).raw().toBuffer({ resolveWithObject: true })
    // webp is lossy: red within a small tolerance, and nothing of the blue second frame.
    expect(data[0]!).toBeGreaterThan(230)
    expect(data[2]!).toBeLessThan(25)
  })

  it('a missing source or a taken name is refused before any dataset or job is made', async () => {
    const s = setup()
    const missing = await s.dispatch('datasets.import', { name: 'X', source: join(s.src, 'nope') })
    expect(missing).toMatchObject({ ok: false, error: { code: 'NOT_FOUND', field: 'source' } })
    await s.call('datasets.create', { name: 'Taken' })
    expect(await s.dispatch('datasets.import', { name: 'taken', source: s.src })).toMatchObject({ ok: false, error: { code: 'CONFLICT' } })
    expect((await s.call('datasets.list', {})).map((d) => d.name)).toEqual(['Taken'])
    expect(await s.call('jobs.list', {})).toEqual([])
  })
})
