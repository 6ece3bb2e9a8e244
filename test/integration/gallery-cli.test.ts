// `tessera generate` saves into the gallery by default (--out also writes the files,
// --no-gallery skips the gallery), `tessera gallery list|export`, and a generated PNG's recipe
// read back from the exported file.

import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { readRecipe } from '../../src/main/gallery/service'
import { type GalleryPage } from '../../src/shared/contract'
import { readFileSync } from 'node:fs'
import { ROOT, runCli } from './helpers'

const FIXTURE = path.resolve(ROOT, '..', 'shared', 'fixtures', 'imagegpt-tiny-lm')
let lib: string
let tmp: string
const T = (...args: string[]) => runCli(['--library', lib, ...args])

beforeAll(async () => {
  lib = mkdtempSync(path.join(tmpdir(), 'tessera-gallery-cli-'))
  tmp = mkdtempSync(path.join(tmpdir(), 'tessera-gallery-cli-out-'))
  const r = await T('model', 'import', FIXTURE, '--name', 'tiny')
  expect(r.code, r.stderr).toBe(0)
}, 60_000)

afterAll(() => {
  rmSync(lib, { recursive: true, force: true })
  rmSync(tmp, { recursive: true, force: true })
})

describe('tessera generate and tessera gallery', () => {
  it('saves into the gallery by default, --out also writes files, --no-gallery skips it', async () => {
    const a = await T('--json', 'generate', '--model', 'tiny', '--count', '3', '--seed', '11')
    expect(a.code, a.stderr).toBe(0)
    const av = JSON.parse(a.stdout) as { files: string[]; gallery: string[]; seed: number }
    expect(av).toMatchObject({ files: [], seed: 11 })
    expect(av.gallery).toHaveLength(3)

    const out = path.join(tmp, 'both')
    const b = await T('--json', 'generate', '--model', 'tiny', '--count', '2', '--seed', '12', '--out', out)
    expect(b.code, b.stderr).toBe(0)
    expect((JSON.parse(b.stdout) as { gallery: string[] }).gallery).toHaveLength(2)
    expect(readdirSync(out)).toHaveLength(2)

    const c = await T('--json', 'generate', '--model', 'tiny', '--seed', '13', '--no-gallery', '--out', path.join(tmp, 'only-files'))
    expect(c.code, c.stderr).toBe(0)
    expect(JSON.parse(c.stdout)).toMatchObject({ gallery: [] })
    const d = await T('generate', '--model', 'tiny', '--no-gallery')
    expect(d.code).not.toBe(0)
    expect(d.stderr).toMatch(/--out/)

    const list = await T('--json', 'gallery', 'list')
    expect(list.code, list.stderr).toBe(0)
    const page = JSON.parse(list.stdout) as GalleryPage
    expect(page.total).toBe(5)
    expect(page.items.every((i) => i.bitsPerToken !== null && i.bitsPerToken > 0)).toBe(true)
    const seeded = JSON.parse((await T('--json', 'gallery', 'list', '--seed', '11')).stdout) as GalleryPage
    expect(seeded.items.map((i) => i.index).sort()).toEqual([0, 1, 2])
    const human = await T('gallery', 'list', '--search', 'seed:12')
    expect(human.stdout).toMatch(/2 of 2 images/)

    const dest = path.join(tmp, 'export')
    const ex = await T('--json', 'gallery', 'export', ...seeded.items.map((i) => i.id), '--out', dest)
    expect(ex.code, ex.stderr).toBe(0)
    const files = (JSON.parse(ex.stdout) as { files: string[] }).files
    expect(files.map((f) => path.basename(f)).sort()).toEqual(['tiny-11-000.png', 'tiny-11-001.png', 'tiny-11-002.png'])
    const recipe = readRecipe(readFileSync(files[0]!))
    const item = seeded.items.find((i) => i.recipe.index === recipe.index)!
    expect(recipe).toEqual(item.recipe)
  }, 120_000)
})
