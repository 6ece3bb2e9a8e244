import { rmSync, writeFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { type Job, type JobProgress } from '../../../src/shared/contract'
import { EventBus } from '../../../src/main/events'
import { JobRunner, libraryVerifyKind, type VerifyResult } from '../../../src/main/jobs'
import { type Library, openLibrary } from '../../../src/main/library/library'
import { MediaRepo } from '../../../src/main/library/media'
import { tempDir } from '../library/tmp'
import { addRandomMedia } from './media'

let lib: Library
let runner: JobRunner
let cleanup: () => void
afterEach(async () => {
  await runner?.close()
  lib?.close()
  cleanup?.()
})

function setup(): { bus: EventBus; states: Job[]; progress: JobProgress[] } {
  const t = tempDir()
  cleanup = t.cleanup
  lib = openLibrary(t.dir)
  const bus = new EventBus()
  runner = new JobRunner(lib.db, bus, { progressIntervalMs: 0 })
  runner.register('library.verify', libraryVerifyKind(lib))
  const states: Job[] = []
  const progress: JobProgress[] = []
  bus.on('job.state', (j) => states.push(j))
  bus.on('job.progress', (p) => progress.push(p))
  return { bus, states, progress }
}

/** A job kind that waits for the test to let each unit through: no timing involved. */
function gatedKind(heavy: boolean) {
  const gates: (() => void)[] = []
  let started = 0
  const kind = {
    heavy,
    title: () => 'gated',
    async run(ctx: { signal: AbortSignal; checkpoint: number | null; saveCheckpoint(v: number, p?: { done: number; total?: number }): void }) {
      started++
      let i = ctx.checkpoint ?? 0
      while (i < 3) {
        ctx.signal.throwIfAborted()
        await new Promise<void>((resolve, reject) => {
          gates.push(resolve)
          ctx.signal.addEventListener(
            'abort',
            () => {
              const at = gates.indexOf(resolve)
              if (at >= 0) gates.splice(at, 1)
              reject(ctx.signal.reason)
            },
            { once: true }
          )
        })
        i++
        ctx.saveCheckpoint(i, { done: i, total: 3 })
      }
      return { units: i }
    }
  }
  return { kind, release: () => gates.shift()?.(), pending: () => gates.length, started: () => started }
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r))
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !cond(); i++) await tick()
  expect(cond()).toBe(true)
}

describe('JobRunner with library.verify', () => {
  it('hashes every media file and reports missing and changed ones', async () => {
    const { states, progress } = setup()
    const hashes = addRandomMedia(lib, 20)
    rmSync(lib.resolveInside(new MediaRepo(lib.db).get(hashes[3]!)!.path))
    writeFileSync(lib.resolveInside(new MediaRepo(lib.db).get(hashes[7]!)!.path), 'tampered')
    runner.start()
    const job = runner.enqueue('library.verify', { batchSize: 4 })
    const final = await runner.wait(job.id)
    expect(final.state).toBe('done')
    const r = final.result as VerifyResult
    expect(r).toEqual({ checked: 20, ok: 18, missing: [hashes[3]], mismatched: [hashes[7]], resumedFrom: 0 })
    expect(states.filter((s) => s.id === job.id).map((s) => s.state)).toEqual(['queued', 'running', 'done'])
    const done = progress.filter((p) => p.jobId === job.id).map((p) => p.done)
    expect(done.length).toBeGreaterThan(1)
    expect(done).toEqual([...done].sort((a, b) => a - b)) // progress only moves forward
    expect(done.at(-1)).toBe(20)
    expect(final.total).toBe(20)
  })

  it('pauses at a checkpoint and resumes from it', async () => {
    setup()
    const g = gatedKind(false)
    runner.register('test.gated', g.kind)
    runner.start()
    const job = runner.enqueue('test.gated', {})
    await until(() => g.pending() === 1)
    g.release()
    await until(() => runner.get(job.id).done === 1 && g.pending() === 1)
    runner.pause(job.id)
    const paused = await runner.wait(job.id)
    expect(paused.state).toBe('paused')
    expect(paused.done).toBe(1)
    runner.resume(job.id)
    await until(() => g.pending() === 1 && g.started() === 2)
    g.release()
    await until(() => g.pending() === 1)
    g.release()
    const final = await runner.wait(job.id)
    expect(final.state).toBe('done')
    expect(final.result).toEqual({ units: 3 })
  })

  it('cancels a running job through its AbortSignal and a queued one directly', async () => {
    setup()
    const g = gatedKind(true)
    runner.register('test.heavy', g.kind)
    runner.start()
    const a = runner.enqueue('test.heavy', {})
    const b = runner.enqueue('test.heavy', {})
    await until(() => g.pending() === 1)
    // One heavy job at a time: b waits while a runs.
    expect(runner.get(b.id).state).toBe('queued')
    expect(runner.cancel(b.id).state).toBe('cancelled')
    runner.cancel(a.id)
    const final = await runner.wait(a.id)
    expect(final.state).toBe('cancelled')
    expect(final.finishedAt).not.toBeNull()
    expect(() => runner.cancel(a.id)).toThrow(/cancelled/)
    expect(() => runner.resume(a.id)).toThrow(/only paused or interrupted/)
  })

  it('runs the next heavy job when the first finishes', async () => {
    setup()
    const g = gatedKind(true)
    runner.register('test.heavy', g.kind)
    runner.start()
    const a = runner.enqueue('test.heavy', {})
    const b = runner.enqueue('test.heavy', {})
    for (let i = 0; i < 3; i++) {
      await until(() => g.pending() === 1)
      expect(runner.get(b.id).state).toBe('queued')
      g.release()
    }
    expect((await runner.wait(a.id)).state).toBe('done')
    for (let i = 0; i < 3; i++) {
      await until(() => g.pending() === 1)
      g.release()
    }
    expect((await runner.wait(b.id)).state).toBe('done')
  })

  it('honours a cancel asked for by another process at the job\'s next checkpoint', async () => {
    setup()
    const g = gatedKind(false)
    runner.register('test.gated', g.kind)
    runner.start()
    const job = runner.enqueue('test.gated', {})
    await until(() => g.pending() === 1)
    // A second runner on the same database stands in for `tessera jobs cancel` in another process.
    const other = new JobRunner(lib.db, new EventBus())
    other.register('test.gated', g.kind)
    expect(other.cancel(job.id).state).toBe('running') // only a request so far
    g.release() // the job reaches its next checkpoint, reads the request and stops
    const final = await runner.wait(job.id)
    expect(final.state).toBe('cancelled')
    expect(final.done).toBe(1)
  })

  it('records a failing handler as failed with its message', async () => {
    setup()
    runner.register('test.fail', { heavy: false, title: () => 'fails', run: async () => Promise.reject(new Error('disk on fire')) })
    runner.start()
    const job = runner.enqueue('test.fail', {})
    const final = await runner.wait(job.id)
    expect(final.state).toBe('failed')
    expect(final.error).toBe('disk on fire')
  })

  it('marks jobs left running by a dead process as interrupted, and leaves live ones alone', () => {
    setup()
    const job = runner.enqueue('library.verify', {})
    // A pid that cannot exist (above the kernel's pid_max) stands for a crashed process.
    lib.db.prepare("UPDATE jobs SET state = 'running', runner_pid = 4194305 WHERE id = ?").run(job.id)
    const other = runner.enqueue('library.verify', {})
    lib.db.prepare("UPDATE jobs SET state = 'running', runner_pid = ? WHERE id = ?").run(process.ppid, other.id)
    const recovered = runner.recover()
    expect(recovered.map((j) => j.id)).toEqual([job.id])
    expect(runner.get(job.id).state).toBe('interrupted')
    expect(runner.get(other.id).state).toBe('running')
  })
})
