// `tessera dataset snapshot create|list|show|diff|delete` and `dataset export --format`, run
// in process: human output, --json documents, exit codes and usage errors.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { type ExportResult, type SnapshotDiff, type SnapshotInfo } from '../../../src/shared/contract'
import { runMain } from '../../helpers/run-main'
import { tempDir } from '../library/tmp'
import { picture } from '../datasets/images'

let cleanup: (() => void) | undefined
afterEach(() => cleanup?.())

describe('tessera dataset snapshot / export --format', () => {
  it('creates, lists, diffs against the current state, exports csv and zip, deletes', async () => {
    const t = tempDir()
    cleanup = t.cleanup
    const src = join(t.dir, 'src')
    for (const [rel, seed] of [['train/ant/a.png', 1], ['train/bee/b.png', 2], ['test/bee/c.png', 3]] as const) {
      mkdirSync(join(src, rel, '..'), { recursive: true })
      writeFileSync(join(src, rel), await picture(seed, 'png', [32, 24]))
    }
    const env = { TESSERA_SAMPLES: '0' }
    const lib = ['--library', join(t.dir, 'lib')]
    expect((await runMain([...lib, 'dataset', 'import', src, '--name', 'Bugs', '--split-from-folders'], env)).code).toBe(0)

    const c = await runMain([...lib, '--json', 'dataset', 'snapshot', 'create', 'Bugs', '--name', 'v1', '--note', 'first'], env)
    expect(c.code, c.stderr).toBe(0)
    const v1 = JSON.parse(c.stdout) as SnapshotInfo
    expect(v1).toMatchObject({ name: 'v1', note: 'first', itemCount: 3, labelled: 3 })
    const list = await runMain([...lib, 'dataset', 'snapshot', 'list', 'Bugs'], env)
    expect(list.stdout).toMatch(/v1 .*3 items, 3 labelled, train 2 \/ val 0 \/ test 1 \/ none 0/)

    // Move b.png to val (no CLI command moves single items; the library directly).
    const { openLibrary } = await import('../../../src/main/library/library')
    const l = openLibrary(join(t.dir, 'lib'))
    l.db.prepare("UPDATE splits SET split = 'val' WHERE item_id = (SELECT id FROM items WHERE original_name = 'train/bee/b.png')").run()
    l.close()

    const d = await runMain([...lib, 'dataset', 'snapshot', 'diff', 'Bugs', 'v1'], env)
    expect(d.code, d.stderr).toBe(0)
    expect(d.stdout).toMatch(/v1 -> current: 0 added, 0 removed, 0 relabelled, 1 moved, 2 unchanged/)
    expect(d.stdout).toMatch(/moved\s+"train\/bee\/b.png"\s+bee\/train -> bee\/val/)
    const dj = JSON.parse((await runMain([...lib, '--json', 'dataset', 'snapshot', 'diff', 'Bugs', 'v1', 'current', '--change', 'moved'], env)).stdout) as SnapshotDiff
    expect(dj.items.map((e) => e.name)).toEqual(['train/bee/b.png'])
    const bad = await runMain([...lib, 'dataset', 'snapshot', 'diff', 'Bugs', 'v1', '--change', 'renamed'], env)
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/--change must be one of added, removed, relabelled, moved/)

    const csv = JSON.parse((await runMain([...lib, '--json', 'dataset', 'export', 'Bugs', join(t.dir, 'c'), '--format', 'csv', '--snapshot', 'v1'], env)).stdout) as ExportResult
    expect(csv.files).toBe(3)
    expect(readFileSync(csv.file!, 'utf8')).toContain('images/b.png,bee,train') // as v1 froze it
    const zip = await runMain([...lib, 'dataset', 'export', 'Bugs', join(t.dir, 'bugs.zip'), '--format', 'zip'], env)
    expect(zip.code, zip.stderr).toBe(0)
    expect(zip.stdout).toContain(`Exported 3 files to ${join(t.dir, 'bugs.zip')}.`)
    expect((await runMain([...lib, 'dataset', 'export', 'Bugs', join(t.dir, 'x'), '--format', 'tar'], env)).code).toBe(2)

    const show = await runMain([...lib, 'dataset', 'snapshot', 'show', 'Bugs', 'v1'], env)
    expect(show.stdout).toMatch(/hash [0-9a-f]{64}/)
    expect(show.stdout).toMatch(/note: first/)
    expect((await runMain([...lib, 'dataset', 'snapshot', 'delete', 'Bugs', 'v1'], env)).code).toBe(0)
    const gone = await runMain([...lib, 'dataset', 'snapshot', 'show', 'Bugs', 'v1'], env)
    expect(gone.code).toBe(1)
    expect(gone.stderr).toMatch(/no snapshot with id or name "v1"/)
  })
})
