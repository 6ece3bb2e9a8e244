// `tessera train` end to end on the shared fixture: the four fixture images imported as a
// dataset whose split is all train, one plain SGD step on the mean next-token cross-entropy of
// every token, exported -> equal to sgd_step_lr0.1.safetensors (1e-4).

import { copyFileSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { readSafetensors } from '../../src/main/ml/interop/safetensors'
import { tempDir } from '../unit/library/tmp'
import { LM_DIR } from '../unit/ml/pixelgpt/fixtures'
import { runCli } from './helpers'

let cleanup: (() => void) | undefined
afterEach(() => cleanup?.())

describe('tessera train', () => {
  it('one SGD step on the fixture dataset reproduces sgd_step_lr0.1.safetensors after export', async () => {
    const t = tempDir()
    cleanup = t.cleanup
    const src = join(t.dir, 'fixture')
    mkdirSync(join(src, 'train'), { recursive: true })
    for (let i = 0; i < 4; i++) copyFileSync(join(LM_DIR, 'images', `img${i}.png`), join(src, 'train', `img${i}.png`))
    const lib = join(t.dir, 'lib')
    const imp = await runCli(['--library', lib, '--json', 'dataset', 'import', src, '--name', 'fx', '--split-from-folders'])
    expect(imp.code, imp.stderr).toBe(0)
    const mod = await runCli(['--library', lib, '--json', 'model', 'import', LM_DIR, '--name', 'tiny'])
    expect(mod.code, mod.stderr).toBe(0)

    const args = ['--library', lib, '--json', 'train', '--dataset', 'fx', '--base', 'tiny', '--objective', 'generative', '--optimizer', 'sgd', '--lr', '0.1']
    const tr = await runCli([...args, '--batch-size', 'all', '--no-augment', '--weight-decay', '0', '--steps', '1', '--name', 'tiny-sgd'])
    expect(tr.code, tr.stderr).toBe(0)
    const out = JSON.parse(tr.stdout) as { id: string; name: string; steps: number; metrics: { split: string; bitsPerToken: number } }
    expect(out.name).toBe('tiny-sgd')
    expect(out.steps).toBe(1)
    expect(out.metrics.split).toBe('train')
    expect(out.metrics.bitsPerToken).toBeGreaterThan(0)

    const dest = join(t.dir, 'export')
    const ex = await runCli(['--library', lib, 'model', 'export', out.id, '--out', dest])
    expect(ex.code, ex.stderr).toBe(0)
    const got = (await readSafetensors(join(dest, 'model.safetensors'))).tensors
    const want = (await readSafetensors(join(LM_DIR, 'sgd_step_lr0.1.safetensors'))).tensors
    const before = (await readSafetensors(join(LM_DIR, 'model.safetensors'))).tensors
    let worst = 0
    let moved = 0
    for (const [name, w] of want) {
      const g = got.get(name)
      expect(g, name).toBeDefined()
      for (let i = 0; i < w.data.length; i++) {
        worst = Math.max(worst, Math.abs(g!.data[i]! - w.data[i]!))
        moved = Math.max(moved, Math.abs(w.data[i]! - before.get(name)!.data[i]!))
      }
    }
    expect(moved).toBeGreaterThan(1e-3)
    expect(worst).toBeLessThan(1e-4)

    // Lineage in the exported model's registry entry.
    const show = await runCli(['--library', lib, '--json', 'model', 'show', out.id])
    expect(show.code, show.stderr).toBe(0)
    const detail = JSON.parse(show.stdout) as { parentId: string | null; meta?: Record<string, unknown> }
    expect(detail.parentId).not.toBeNull()
    expect(JSON.stringify(detail)).toContain('"objective":"generative"')
    expect(readFileSync(join(dest, 'config.json'), 'utf8')).toContain('"n_embd"')

    // A name that is already taken is refused before any training starts, not after it.
    const again = await runCli([...args, '--steps', '1', '--name', 'tiny-sgd'])
    expect(again.code).not.toBe(0)
    expect(again.stderr + again.stdout).toContain('A model named "tiny-sgd" already exists')
    const runs = await runCli(['--library', lib, '--json', 'jobs', 'list'])
    expect((JSON.parse(runs.stdout) as { kind: string }[]).filter((j) => j.kind === 'train')).toHaveLength(1)
  }, 120_000)
})
