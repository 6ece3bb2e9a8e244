// Training runs record the dataset snapshot they trained on: the first run takes an automatic
// snapshot, a second run on an unchanged dataset reuses it, a run after a label change takes a
// new one. The run info, the model's lineage and the snapshot's usedBy all name it, and the
// snapshot's content hash is the one the run checks on resume.

import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type Job, type SnapshotInfo, type TrainRunInfo } from '../../../../src/shared/contract'
import { createDispatcher } from '../../../../src/main/host/dispatch'
import { createServices } from '../../../../src/main/services'
import { type AppContext, createContext } from '../../../../src/main/context'
import { type PixelGptModel } from '../../../../src/main/ml/pixelgpt/model'
import { type TrainResult } from '../../../../src/main/ml/train/job'
import { type TrainRequest } from '../../../../src/main/ml/train/plan'
import { enqueueTraining } from '../../../../src/main/ml/train/service'
import { tempDir } from '../../library/tmp'
import { addDataset, CLASSES, palette16, pretrainTiny, synthItems } from './synth'

let cleanup: (() => void) | undefined
let ctx: AppContext | undefined
afterEach(async () => {
  await ctx?.close()
  ctx = undefined
  cleanup?.()
})

const palette = palette16()
let base: PixelGptModel
beforeAll(async () => {
  base = await pretrainTiny(10, palette)
}, 60_000)

async function run(c: AppContext, req: TrainRequest): Promise<Job> {
  const { jobId } = enqueueTraining(c, req)
  c.jobs.start()
  return c.jobs.wait(jobId)
}

describe('training records its dataset snapshot', () => {
  it('takes one, reuses it while nothing changed, takes a new one after a change; run, model and snapshot name each other', async () => {
    const t = tempDir()
    cleanup = t.cleanup
    const c = (ctx = createContext({ libraryDir: t.dir, host: 'cli' }))
    await c.models.add(base, { name: 'tiny', source: 'imported' })
    addDataset(c.library, 'shapes', CLASSES, await synthItems(4, palette))
    const dispatch = createDispatcher(createServices(c))
    const call = async <T,>(m: string, input: unknown): Promise<T> => {
      const r = await dispatch(m as never, input as never)
      if (!r.ok) throw new Error(`${m}: ${r.error.message}`)
      return r.value as T
    }
    const req: TrainRequest = { dataset: 'shapes', base: 'tiny', objective: 'classify', steps: 1, batchSize: 4, seed: 1 }

    const j1 = await run(c, req)
    expect(j1.state, j1.error ?? '').toBe('done')
    const r1 = j1.result as TrainResult
    const info1 = await call<TrainRunInfo>('train.run', { id: r1.runId })
    expect(info1.snapshot).not.toBeNull()
    const snaps = await call<SnapshotInfo[]>('snapshots.list', { dataset: 'shapes' })
    expect(snaps).toHaveLength(1)
    expect(snaps[0]).toMatchObject({ id: info1.snapshot!.id, name: info1.snapshot!.name, auto: true, itemCount: c.repos.items.count(c.repos.datasets.get('shapes').id) })
    // The snapshot freezes what the run trained on: the splits the run assigned are in it.
    expect(snaps[0]!.splits.none).toBe(0)
    expect(snaps[0]!.hash).toBe(info1.snapshot!.hash)
    expect(snaps[0]!.usedBy).toEqual([{ runId: r1.runId, modelId: r1.modelId, state: 'done' }])
    const model1 = await c.models.get(r1.modelId)
    expect(model1.lineage.datasetSnapshot).toMatchObject({ snapshotId: snaps[0]!.id, snapshotName: snaps[0]!.name, hash: snaps[0]!.hash })

    // Unchanged dataset: the same snapshot.
    const j2 = await run(c, { ...req, name: 'second' })
    const r2 = j2.result as TrainResult
    expect((await call<TrainRunInfo>('train.run', { id: r2.runId })).snapshot!.id).toBe(snaps[0]!.id)
    expect(await call<SnapshotInfo[]>('snapshots.list', { dataset: 'shapes' })).toHaveLength(1)

    // A label change: a new snapshot, and the diff between the two shows it.
    const item = (c.library.db.prepare("SELECT i.id FROM items i JOIN splits s ON s.item_id = i.id WHERE s.split = 'train' ORDER BY i.id LIMIT 1").get() as { id: string }).id
    const other = (c.library.db.prepare("SELECT c.id FROM classes c WHERE c.id NOT IN (SELECT class_id FROM labels WHERE item_id = ?) LIMIT 1").get(item) as { id: string }).id
    c.repos.items.setLabels([item], other, 'human')
    const j3 = await run(c, { ...req, name: 'third' })
    expect(j3.state, j3.error ?? '').toBe('done')
    const s3 = (await call<TrainRunInfo>('train.run', { id: (j3.result as TrainResult).runId })).snapshot!
    expect(s3.id).not.toBe(snaps[0]!.id)
    const diff = await call<{ counts: { relabelled: number; changed: number } }>('snapshots.diff', { dataset: 'shapes', from: snaps[0]!.id, to: s3.id })
    expect(diff.counts).toMatchObject({ relabelled: 1, changed: 1 })

    // A snapshot that runs name is kept unless forced.
    const del = await dispatch('snapshots.delete', { dataset: 'shapes', snapshot: snaps[0]!.id })
    expect(del).toMatchObject({ ok: false, error: { code: 'CONFLICT' } })
    expect((del as { error: { message: string } }).error.message).toMatch(/recorded by 2 training runs/)
    expect(await dispatch('snapshots.delete', { dataset: 'shapes', snapshot: snaps[0]!.id, force: true })).toMatchObject({ ok: true })
    // The run keeps its record of it.
    expect((await call<TrainRunInfo>('train.run', { id: r1.runId })).snapshot!.id).toBe(snaps[0]!.id)
  }, 180_000)
})
