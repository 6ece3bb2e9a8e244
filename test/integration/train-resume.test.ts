// A training run killed with SIGKILL mid-run resumes (`tessera train --resume <run>`) from its
// last checkpoint and ends with the same weights as an uninterrupted run with the same seed:
// joint objective (AdamW state, augmentation draws, validation with a best checkpoint) on a
// tiny model.

import { spawn } from 'node:child_process'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { createContext } from '../../src/main/context'
import { readSafetensors } from '../../src/main/ml/interop/safetensors'
import { initPixelGpt } from '../../src/main/ml/pixelgpt/model'
import { tempDir } from '../unit/library/tmp'
import { addDataset, CLASSES, palette16, synthItems, TINY } from '../unit/ml/train/synth'
import { CLI, ROOT, runCli } from './helpers'

let cleanup: (() => void) | undefined
afterEach(() => cleanup?.())

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

describe('tessera train --resume', () => {
  it('after SIGKILL mid-run ends with the same weights as an uninterrupted run', async () => {
    const t = tempDir()
    cleanup = t.cleanup
    const lib = join(t.dir, 'lib')
    const palette = palette16()
    const ctx = createContext({ libraryDir: lib, host: 'cli' })
    await ctx.models.add(initPixelGpt(TINY, { seed: 4, palette }), { name: 'tiny', source: 'imported' })
    addDataset(ctx.library, 'shapes', CLASSES, await synthItems(10, palette))
    await ctx.close()

    const args = ['--library', lib, '--json', 'train', '--dataset', 'shapes', '--base', 'tiny', '--objective', 'joint', '--steps', '300', '--batch-size', '4']
    const common = ['--eval-every', '25', '--patience', '0', '--checkpoint-every', '10', '--seed', '7']

    // Run 1: killed once a checkpoint exists.
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args, ...common, '--name', 'killed'], { cwd: ROOT, env: { ...process.env, TESSERA_LIBRARY: '' }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const exited = new Promise<void>((r) => child.on('exit', () => r()))
    let runId = ''
    let killedAt = -1
    const db = (): Database.Database => new Database(join(lib, 'library.db'), { readonly: true, fileMustExist: true })
    for (let i = 0; i < 3000 && killedAt < 0; i++) {
      await sleep(20)
      const m = /Run (\S+) \(job (\S+)\)/.exec(stderr)
      if (!m) continue
      runId = m[1]!
      const jobId = m[2]!
      const d = db()
      const row = d.prepare('SELECT checkpoint, state FROM jobs WHERE id = ?').get(jobId) as { checkpoint: string | null; state: string }
      d.close()
      expect(row.state, stderr).toBe('running')
      if (row.checkpoint) {
        child.kill('SIGKILL')
        killedAt = (JSON.parse(row.checkpoint) as { step: number }).step
      }
    }
    await exited
    expect(killedAt).toBeGreaterThan(0)
    expect(killedAt).toBeLessThan(300)

    const resumed = await runCli(['--library', lib, '--json', 'train', '--resume', runId])
    expect(resumed.code, resumed.stderr).toBe(0)
    expect(resumed.stderr).toMatch(/Resuming run/)
    const a = JSON.parse(resumed.stdout) as { id: string; steps: number }
    expect(a.steps).toBe(300)

    const straight = await runCli([...args, ...common, '--name', 'straight'])
    expect(straight.code, straight.stderr).toBe(0)
    const b = JSON.parse(straight.stdout) as { id: string; steps: number }

    const wa = (await readSafetensors(join(lib, 'models', a.id, 'weights.safetensors'))).tensors
    const wb = (await readSafetensors(join(lib, 'models', b.id, 'weights.safetensors'))).tensors
    expect([...wa.keys()].sort()).toEqual([...wb.keys()].sort())
    let worst = 0
    for (const [k, x] of wa) {
      const y = wb.get(k)!.data
      for (let i = 0; i < x.data.length; i++) worst = Math.max(worst, Math.abs(x.data[i]! - y[i]!))
    }
    expect(worst).toBeLessThanOrEqual(1e-6)
    // And training moved the weights at all.
    const init = initPixelGpt(TINY, { seed: 4, palette }).weights.get('transformer.h.0.mlp.c_fc.weight')!.data
    const after = wa.get('transformer.h.0.mlp.c_fc.weight')!.data
    expect(Math.max(...Array.from(after, (v, i) => Math.abs(v - init[i]!)))).toBeGreaterThan(1e-3)
  }, 180_000)
})
