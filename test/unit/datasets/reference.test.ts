// Files imported "by reference" (left where they are): the media route serves them, library
// verify checks them where they are, training and export read them; the same bytes imported
// later as a copy are stored and the row moves into the library.

import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { mediaFile } from '../../../src/main/host/static-files'
import { type VerifyResult } from '../../../src/main/jobs/kinds/library-verify'
import { type ImportResult } from '../../../src/shared/contract'
import { setupServices } from '../../helpers/services'
import { picture } from './images'

let cleanups: (() => void | Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.reverse()) await c()
  cleanups = []
})

describe('reference in place', () => {
  it('is served by /media, verified where it lives, and adopted into the store by a later copying import', async () => {
    const s = setupServices(cleanups)
    mkdirSync(join(s.src, 'cat'))
    const a = join(s.src, 'cat', 'a.png')
    const b = join(s.src, 'cat', 'b.jpg')
    writeFileSync(a, await picture(31, 'png'))
    writeFileSync(b, await picture(32, 'jpeg'))
    const job = await s.call('datasets.import', { name: 'Ref', source: s.src, reference: true })
    const done = await s.ctx.jobs.wait(job.id)
    expect(done.state, done.error ?? '').toBe('done')
    expect((done.result as ImportResult).stored).toBe(0)
    const items = (await s.call('items.list', { dataset: 'Ref' })).items
    const ia = items.find((i) => i.name === 'cat/a.png')!
    const ib = items.find((i) => i.name === 'cat/b.jpg')!
    expect(ia.referenced && ib.referenced).toBe(true)

    // The media route's lookup (both hosts use it) finds the source file; thumbnails stay in the library.
    expect(mediaFile(s.ctx, 'media', ia.sha256)).toEqual({ path: a, mime: 'image/png' })
    expect(mediaFile(s.ctx, 'media', ib.sha256)).toEqual({ path: b, mime: 'image/jpeg' })
    expect(mediaFile(s.ctx, 'thumbs', ia.sha256)?.path).toContain(join(s.ctx.library.paths.root, 'thumbs'))

    const verify = async (): Promise<VerifyResult> => {
      const j = await s.call('library.verify', {})
      const f = await s.ctx.jobs.wait(j.id)
      expect(f.state, f.error ?? '').toBe('done')
      return f.result as VerifyResult
    }
    expect(await verify()).toMatchObject({ checked: 2, ok: 2, missing: [], mismatched: [] })

    // Export reads referenced files too.
    const out = join(s.dir, 'out')
    expect((await s.call('datasets.export', { ref: 'Ref', folder: out })).files).toBe(2)

    // A changed source is not served as that hash and is reported; a removed one is missing.
    writeFileSync(b, 'not the same bytes any more')
    rmSync(a)
    expect(mediaFile(s.ctx, 'media', ia.sha256)).toBeNull()
    expect(mediaFile(s.ctx, 'media', ib.sha256)).toBeNull()
    const r = await verify()
    expect(r.missing).toEqual([ia.sha256])
    expect(r.mismatched).toEqual([ib.sha256])

    // The same bytes as a copy: stored now, and the row points into the library.
    const src2 = join(s.dir, 'src2')
    mkdirSync(src2)
    writeFileSync(join(src2, 'a-again.png'), await picture(31, 'png'))
    const j2 = await s.call('datasets.import', { name: 'Copy', source: src2 })
    const d2 = await s.ctx.jobs.wait(j2.id)
    expect((d2.result as ImportResult).stored).toBe(1)
    const row = s.ctx.repos.media.get(ia.sha256)!
    expect(row.path).toMatch(/^media\//)
    expect(mediaFile(s.ctx, 'media', ia.sha256)?.path).toBe(s.ctx.library.resolveInside(row.path))
    expect((await verify()).missing).toEqual([])
  })
})
