// A job killed mid-run (SIGKILL, no chance to clean up) is `interrupted` when the
// library is next opened, and resumes from its checkpoint to completion.

import { resolve } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { type Job } from '../../src/shared/contract'
import { createContext } from '../../src/main/context'
import { type VerifyResult } from '../../src/main/jobs'
import { openLibrary } from '../../src/main/library/library'
import { tempDir } from '../unit/library/tmp'
import { addRandomMedia } from '../unit/jobs/media'
import { ROOT, runCli, spawnTs } from './helpers'

let cleanup: (() => void) | undefined
afterEach(() => cleanup?.())

describe('a job killed mid-run', () => {
  it('is interrupted after restart and resumes from its checkpoint (runner API)', async () => {
    const t = tempDir()
    cleanup = t.cleanup
    const lib = openLibrary(t.dir)
    const hashes = addRandomMedia(lib, 40)
    lib.close()

    const { child, firstLine, exited } = spawnTs(resolve(ROOT, 'test/integration/fixtures/verify-child.ts'), [t.dir])
    const [, jobId, checked] = (await firstLine).split(' ')
    child.kill('SIGKILL')
    await exited
    expect(Number(checked)).toBeGreaterThanOrEqual(8)

    const ctx = createContext({ libraryDir: t.dir, host: 'cli' })
    try {
      const job = ctx.jobs.get(jobId!)
      expect(job.state).toBe('interrupted')
      expect(job.done).toBe(Number(checked))
      expect(job.error).toMatch(/resume/)
      ctx.jobs.start()
      ctx.jobs.resume(jobId!)
      const final = await ctx.jobs.wait(jobId!)
      expect(final.state).toBe('done')
      const r = final.result as VerifyResult
      expect(r.resumedFrom).toBe(Number(checked))
      expect(r.checked).toBe(hashes.length)
      expect(r.ok).toBe(hashes.length)
      expect(r.missing).toEqual([])
    } finally {
      await ctx.close()
    }
  })

  it('is shown interrupted by the CLI and resumed to completion by `tessera jobs resume`', async () => {
    const t = tempDir()
    cleanup = t.cleanup
    const lib = openLibrary(t.dir)
    addRandomMedia(lib, 24)
    lib.close()

    const { child, firstLine, exited } = spawnTs(resolve(ROOT, 'test/integration/fixtures/verify-child.ts'), [t.dir])
    const [, jobId, checked] = (await firstLine).split(' ')
    child.kill('SIGKILL')
    await exited

    const shown = await runCli(['--library', t.dir, '--json', 'jobs', 'show', jobId!])
    expect(shown.code).toBe(0)
    expect((JSON.parse(shown.stdout) as Job).state).toBe('interrupted')

    const resumed = await runCli(['--library', t.dir, '--json', 'jobs', 'resume', jobId!])
    expect(resumed.code).toBe(0)
    const job = JSON.parse(resumed.stdout) as Job
    expect(job.id).toBe(jobId)
    expect(job.state).toBe('done')
    expect((job.result as VerifyResult).resumedFrom).toBe(Number(checked))
    expect((job.result as VerifyResult).checked).toBe(24)
  })
})
