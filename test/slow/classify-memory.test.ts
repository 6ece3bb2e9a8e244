// Memory stays bounded on a 100,000-file batch classification: 100k tiny PNGs (hard links
// to a few distinct images, each under its own name) classified by the 8x8 fixture model in
// this process, with the process RSS sampled as the job goes. A memory bound, not a timing:
// growth over the first 10k files stays under 300 MB, and the next 90k add under 200 MB
// (a leak of ~2 KB per file would pass that). TESSERA_SLOW_CLASSIFY_FILES=N runs fewer files.

import { linkSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AppContext, createContext } from '../../src/main/context'
import { tempDir } from '../unit/library/tmp'

const FILES = Number(process.env.TESSERA_SLOW_CLASSIFY_FILES ?? 100_000)
const FIRST = Math.min(10_000, Math.floor(FILES / 10))
const CLS = path.resolve(__dirname, '..', '..', '..', 'shared', 'fixtures', 'imagegpt-tiny-cls')
const MB = 1024 * 1024

let ctx: AppContext
let cleanup: () => void
let dir: string

beforeAll(async () => {
  const t = tempDir()
  dir = t.dir
  cleanup = t.cleanup
  const originals: string[] = []
  for (let k = 0; k < 8; k++) {
    const raw = Buffer.alloc(8 * 8 * 3)
    for (let j = 0; j < raw.length; j++) raw[j] = (j * (k + 3) * 29) & 255
    const p = path.join(dir, `orig-${k}.png`)
    await sharp(raw, { raw: { width: 8, height: 8, channels: 3 } }).png().toFile(p)
    originals.push(p)
  }
  for (let i = 0; i < FILES; i++) {
    const sub = path.join(dir, 'in', `d${String(Math.floor(i / 1000)).padStart(3, '0')}`)
    if (i % 1000 === 0) mkdirSync(sub, { recursive: true })
    linkSync(originals[i % originals.length]!, path.join(sub, `file-${i}.png`))
  }
  ctx = createContext({ libraryDir: path.join(dir, 'lib'), host: 'cli' })
}, 600_000)
afterAll(async () => {
  await ctx?.close()
  cleanup?.()
})

describe(`classify ${FILES.toLocaleString('en')} files`, () => {
  it('finishes with a row per file while RSS stays bounded', async () => {
    const model = await ctx.models.import(CLS, { name: 'tiny-cls' })
    let done = 0
    const off = ctx.bus.onAny((event, payload) => {
      if (event === 'job.progress') done = Math.max(done, (payload as { done: number }).done)
    })
    const samples: { done: number; rss: number }[] = []
    const sample = (): void => void samples.push({ done, rss: process.memoryUsage().rss })
    sample()
    const timer = setInterval(sample, 100)
    const job = ctx.jobs.enqueue('classify', {
      folders: [path.join(dir, 'in')],
      model: model.id,
      threshold: 0.5,
      action: 'none',
      dryRun: false,
      recursive: true,
      topK: 3,
      out: path.join(dir, 'out.csv'),
      batchSize: 64
    })
    ctx.jobs.start((row) => row.id === job.id)
    const final = await ctx.jobs.wait(job.id)
    clearInterval(timer)
    sample()
    off()
    expect(final.state, final.error ?? '').toBe('done')
    expect((ctx.library.db.prepare('SELECT count(*) AS n FROM classify_files WHERE run_id = ?').get(job.id) as { n: number }).n).toBe(FILES)
    expect((ctx.library.db.prepare("SELECT count(*) AS n FROM classify_files WHERE run_id = ? AND status = 'ok'").get(job.id) as { n: number }).n).toBe(FILES)

    const base = samples[0]!.rss
    const atFirst = samples.filter((s) => s.done <= FIRST)
    const after = samples.filter((s) => s.done >= FIRST)
    const peakFirst = Math.max(...atFirst.map((s) => s.rss))
    const rssAtFirst = after[0]?.rss ?? peakFirst
    const peakAfter = Math.max(...after.map((s) => s.rss))
    console.log(
      `classify ${FILES} files: ${samples.length} RSS samples; start ${(base / MB).toFixed(0)} MB, peak over the first ${FIRST} files ${(peakFirst / MB).toFixed(0)} MB, ` +
        `at ${FIRST} ${(rssAtFirst / MB).toFixed(0)} MB, peak after ${(peakAfter / MB).toFixed(0)} MB, end ${(samples.at(-1)!.rss / MB).toFixed(0)} MB`
    )
    expect(samples.length).toBeGreaterThan(10)
    expect((peakFirst - base) / MB).toBeLessThan(300)
    expect((peakAfter - rssAtFirst) / MB).toBeLessThan(200)
  })
})
