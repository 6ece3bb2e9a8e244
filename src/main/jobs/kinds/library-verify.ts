// `library.verify`: re-hashes every media file and reports the ones that are
// missing or whose content no longer matches their hash. Walks media rows in hash
// order, so the checkpoint is just "the last hash checked" plus the findings so far.

import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { type Library } from '../../library/library'
import { MediaRepo, mediaFilePath } from '../../library/media'
import { type JobKind } from '../runner'

export interface VerifyCheckpoint {
  after: string
  checked: number
  missing: string[]
  mismatched: string[]
}

export interface VerifyResult {
  checked: number
  ok: number
  missing: string[]
  mismatched: string[]
  /** How many files had been checked before this run started (non-zero after a resume). */
  resumedFrom: number
}

export interface VerifyParams {
  /** Files per checkpoint. */
  batchSize?: number
}

async function sha256File(path: string, signal: AbortSignal): Promise<string | null> {
  const hash = createHash('sha256')
  try {
    for await (const chunk of createReadStream(path, { signal })) hash.update(chunk as Buffer)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw e
  }
  return hash.digest('hex')
}

export function libraryVerifyKind(library: Library): JobKind<VerifyParams | null, VerifyCheckpoint, VerifyResult> {
  const media = new MediaRepo(library.db)
  return {
    heavy: false,
    title: () => 'Verify library files',
    async run(ctx) {
      const batchSize = Math.max(1, ctx.params?.batchSize ?? 32)
      const cp: VerifyCheckpoint = ctx.checkpoint ?? { after: '', checked: 0, missing: [], mismatched: [] }
      const resumedFrom = cp.checked
      const total = media.count()
      ctx.progress({ phase: 'hashing', done: cp.checked, total })
      for (;;) {
        const page = media.pageAfter(cp.after, batchSize)
        if (page.length === 0) break
        for (const row of page) {
          ctx.signal.throwIfAborted()
          let abs: string | null
          try {
            abs = mediaFilePath(library, row.path)
          } catch {
            abs = null // a relative path leading out of the library counts as missing
          }
          const actual = abs ? await sha256File(abs, ctx.signal) : null
          if (actual === null) cp.missing.push(row.sha256)
          else if (actual !== row.sha256) cp.mismatched.push(row.sha256)
          cp.after = row.sha256
          cp.checked++
          ctx.progress({ done: cp.checked, total })
        }
        ctx.saveCheckpoint(cp, { done: cp.checked, total })
      }
      return {
        checked: cp.checked,
        ok: cp.checked - cp.missing.length - cp.mismatched.length,
        missing: cp.missing,
        mismatched: cp.mismatched,
        resumedFrom
      }
    }
  }
}
