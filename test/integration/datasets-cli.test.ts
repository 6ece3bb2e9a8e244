// `tessera dataset import|show|split|dedupe|export` as a user runs them: a spawned
// CLI process, progress on stderr, one JSON document on stdout with --json.

import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { type Dataset, type DatasetStats, type DuplicateGroup, type ImportResult } from '../../src/shared/contract'
import { tempDir } from '../unit/library/tmp'
import { picture } from '../unit/datasets/images'
import { runCli } from './helpers'

let cleanup: (() => void) | undefined
afterEach(() => cleanup?.())

describe('tessera dataset', () => {
  it('imports a folder tree with --split-from-folders and --json, then shows, splits, dedupes and exports', async () => {
    const t = tempDir()
    cleanup = t.cleanup
    const src = join(t.dir, 'photos')
    const files: [string, Buffer][] = [
      ['train/ant/a1.png', await picture(1)],
      ['train/ant/a2.png', await picture(2)],
      ['train/bee/b1.png', await picture(3)],
      ['val/bee/b2.png', await picture(4)],
      ['loose one.png', await picture(5)],
      ['train/bee/b1 again.jpg', await picture(3, 'jpeg', [48, 40], 60)],
      ['train/ant/empty.jpg', Buffer.alloc(0)]
    ]
    for (const [rel, data] of files) {
      mkdirSync(join(src, rel, '..'), { recursive: true })
      writeFileSync(join(src, rel), data)
    }
    const lib = join(t.dir, 'lib')
    const imp = await runCli(['--library', lib, '--json', 'dataset', 'import', src, '--name', 'Bugs', '--split-from-folders'])
    expect(imp.code, imp.stderr).toBe(0)
    expect(imp.stderr).toMatch(/importing: \d+\/7/)
    const out = JSON.parse(imp.stdout) as Dataset & { stats: DatasetStats; import: ImportResult }
    expect(out.name).toBe('Bugs')
    expect(out.itemCount).toBe(6)
    expect(out.import.errors).toEqual([{ path: 'train/ant/empty.jpg', reason: 'is empty (0 bytes)' }])
    expect(out.stats.classes.map((c) => [c.name, c.count])).toEqual([['ant', 2], ['bee', 3]])
    // 'loose one.png' sits at the root: no class and no split.
    expect(out.stats.splits).toEqual({ train: 4, val: 1, test: 0, none: 1 })
    expect(out.stats.unlabelled.count).toBe(1)

    const show = await runCli(['--library', lib, 'dataset', 'show', 'bugs'])
    expect(show.code).toBe(0)
    expect(show.stdout).toMatch(/ant\s+2\s+2\s+0\s+0\s+0/)
    expect(show.stdout).toMatch(/bee\s+3\s+2\s+1\s+0\s+0/)

    const dedupe = await runCli(['--library', lib, '--json', 'dataset', 'dedupe', 'Bugs'])
    const groups = JSON.parse(dedupe.stdout) as DuplicateGroup[]
    expect(groups.map((g) => g.items.map((i) => i.name).sort())).toEqual([['train/bee/b1 again.jpg', 'train/bee/b1.png']])

    const ex = await runCli(['--library', lib, '--json', 'dataset', 'export', 'Bugs', join(t.dir, 'out')])
    expect(ex.code).toBe(0)
    expect(JSON.parse(ex.stdout)).toMatchObject({ files: 6, skipped: [] })
    const again = await runCli(['--library', lib, 'dataset', 'export', 'Bugs', join(t.dir, 'out')])
    expect(again.code).toBe(1) // everything skipped: nothing overwritten
    expect(again.stdout).toMatch(/Exported 0 files/)

    const bad = await runCli(['--library', lib, 'dataset', 'import', join(t.dir, 'nowhere'), '--name', 'X'])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/There is no file or folder/)
  })
})
