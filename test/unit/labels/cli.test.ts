// `tessera label ...` on the same library and undo history as the window: predict
// (the job run in the CLI), accept-above with --dry-run first, history / undo / redo,
// and the disagreement queue.

import { copyFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { runMain as run } from '../../helpers/run-main'
import { type AcceptAboveResult, type LabelChangeResult, type LabelHistory, type PredictedPage } from '../../../src/shared/contract'
import { tempDir } from '../library/tmp'

const FIXTURE = join(__dirname, '..', '..', '..', '..', 'shared', 'fixtures', 'imagegpt-tiny-cls')

let cleanup: (() => void) | undefined
const samples = process.env.TESSERA_SAMPLES
afterEach(() => {
  cleanup?.()
  if (samples === undefined) delete process.env.TESSERA_SAMPLES
  else process.env.TESSERA_SAMPLES = samples
})

describe('tessera label', () => {
  it('predicts, previews and accepts above a threshold, undoes and redoes, and lists disagreements', async () => {
    const t = tempDir()
    cleanup = t.cleanup
    const lib = join(t.dir, 'lib')
    const src = join(t.dir, 'src')
    // img0 is labelled class_2 by its folder (the model says class_0: a disagreement); img1..3 unlabelled.
    mkdirSync(join(src, 'class_2'), { recursive: true })
    mkdirSync(join(src, 'class_0'), { recursive: true })
    copyFileSync(join(FIXTURE, 'images', 'img0.png'), join(src, 'class_2', 'img0.png'))
    for (const i of [1, 2, 3]) copyFileSync(join(FIXTURE, 'images', `img${i}.png`), join(src, `img${i}.png`))
    const env = ['--library', lib, '--json']
    process.env.TESSERA_SAMPLES = '0'
    expect((await run([...env, 'dataset', 'import', src, '--name', 'tiny'])).code).toBe(0)
    expect((await run([...env, 'model', 'import', FIXTURE, '--name', 'tiny-cls'])).code).toBe(0)
    // The folders made class_0 (empty) and class_2; a class_1 prediction has no class here (noClass).
    expect((await run([...env, 'dataset', 'show', 'tiny'])).code).toBe(0)

    const predicted = await run([...env, 'label', 'predict', 'tiny', '--model', 'tiny-cls'])
    expect(predicted.code, predicted.stderr).toBe(0)
    expect(JSON.parse(predicted.stdout)).toEqual({ predicted: 4, failed: 0, total: 4 })

    const dry = JSON.parse((await run([...env, 'label', 'accept-above', 'tiny', '--model', 'tiny-cls', '--threshold', '0', '--dry-run'])).stdout) as AcceptAboveResult
    expect(dry.applied).toBe(false)
    expect(dry.skippedHuman).toBe(1)
    expect(dry.count + dry.noClass).toBe(3)
    const applied = JSON.parse((await run([...env, 'label', 'accept-above', 'tiny', '--model', 'tiny-cls', '--threshold', '0'])).stdout) as AcceptAboveResult
    expect(applied).toMatchObject({ applied: true, count: dry.count })

    const history = JSON.parse((await run([...env, 'label', 'history', 'tiny'])).stdout) as LabelHistory
    expect(history).toMatchObject({ canUndo: dry.count > 0, canRedo: false })
    if (dry.count > 0) {
      const undone = JSON.parse((await run([...env, 'label', 'undo', 'tiny'])).stdout) as LabelChangeResult
      expect(undone.changed).toBe(dry.count)
      expect(undone.history.canRedo).toBe(true)
      const redone = JSON.parse((await run([...env, 'label', 'redo', 'tiny'])).stdout) as LabelChangeResult
      expect(redone.changed).toBe(dry.count)
    }
    const nothing = await run([...env, 'label', 'redo', 'tiny'])
    expect(nothing.code).toBe(1)
    expect(nothing.stderr).toContain('Nothing to redo.')

    const queue = JSON.parse((await run([...env, 'label', 'queue', 'tiny', '--model', 'tiny-cls'])).stdout) as PredictedPage
    expect(queue.items.map((i) => [i.name, i.className, i.prediction?.className])).toEqual([['class_2/img0.png', 'class_2', 'class_0']])
  })
})
