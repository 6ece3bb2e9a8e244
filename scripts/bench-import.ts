// bench:import: files/s importing N generated images (hash, copy into the store,
// decode, JPEG or WebP thumbnail, perceptual hashes, database rows) against the machine's
// raw sharp decode rate (file -> RGB pixels) over the same files, measured in the
// same run with the same concurrency. Prints the ratio, and the ceiling on it: the import's own
// work per file (header, the decode that makes the thumbnail and hashes, the thumbnail's
// encode, the perceptual hashes; no file I/O, SHA-256 or rows) timed alone over the same files.
//
//   npm run bench:import -- [--n 2000] [--side 640] [--keep]
//
// The default N is 2000 (not 10k) so the whole run stays well under two minutes on a
// small shared machine; pass --n 10000 for the full size. --side sets the
// generated JPEGs' width (height 3/4 of it): the ratio depends on it, because a
// thumbnail decodes large JPEGs shrunk on load while the raw decode cannot.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { createContext } from '../src/main/context'
import { IMPORT_CONCURRENCY } from '../src/main/datasets/import-job'
import { examine } from '../src/main/datasets/ingest'
import { type ImportResult } from '../src/shared/contract'
import { pictureSvg } from '../test/unit/datasets/images'
import { printBenchLine } from './lib/bench-line'

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`)
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`)
  return v
}

async function pool<T>(items: T[], width: number, fn: (x: T) => Promise<unknown>): Promise<void> {
  let next = 0
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]!)
    })
  )
}

async function main(): Promise<void> {
  const n = Math.round(arg('n', 2000))
  const side = Math.round(arg('side', 640))
  const keep = process.argv.includes('--keep')
  const width = IMPORT_CONCURRENCY // the import job's files in flight
  const root = mkdtempSync(join(tmpdir(), 'tessera-bench-import-'))
  const src = join(root, 'photos')
  console.log(`bench:import  N=${n} JPEG ${side}x${Math.round(side * 0.75)}, ${availableParallelism()} CPUs, concurrency ${width}, libvips threads ${sharp.concurrency()}`)
  try {
    // Generate: 10 classes, JPEG quality 85, distinct pictures.
    let t = performance.now()
    const files: string[] = []
    for (let c = 0; c < 10; c++) mkdirSync(join(src, `class${c}`), { recursive: true })
    const idx = Array.from({ length: n }, (_, i) => i)
    await pool(idx, width, async (i) => {
      const f = join(src, `class${i % 10}`, `img${String(i).padStart(6, '0')}.jpg`)
      writeFileSync(f, await sharp(Buffer.from(pictureSvg(i + 1, side, Math.round(side * 0.75)))).jpeg({ quality: 85 }).toBuffer())
      files[i] = f
    })
    console.log(`generated ${n} files in ${((performance.now() - t) / 1000).toFixed(1)} s`)

    const decodeRate = async (): Promise<number> => {
      const t0 = performance.now()
      await pool(files, width, (f) => sharp(f).raw().toBuffer())
      return n / ((performance.now() - t0) / 1000)
    }
    // Warm the page cache and libvips once so neither side pays for it.
    await pool(files.slice(0, Math.min(200, n)), width, (f) => sharp(f).raw().toBuffer())
    const decode1 = await decodeRate()

    const ctx = createContext({ libraryDir: join(root, 'lib'), host: 'cli', startJobs: true })
    t = performance.now()
    const services = (await import('../src/main/services')).createServices(ctx)
    const job = await services['datasets.import']({ name: 'bench', source: src, splitFromFolders: false, reference: false })
    const final = await ctx.jobs.wait(job.id)
    const importS = (performance.now() - t) / 1000
    await ctx.close()
    if (final.state !== 'done') throw new Error(`import ${final.state}: ${final.error}`)
    const r = final.result as ImportResult
    if (r.imported !== n || r.errors.length) throw new Error(`imported ${r.imported}/${n}, ${r.errors.length} errors`)
    const importRate = n / importS

    const decode2 = await decodeRate()
    const decode = (decode1 + decode2) / 2
    // The ceiling: the import's sharp work alone, from bytes already in memory.
    const bytes = files.map((f) => readFileSync(f))
    const t1 = performance.now()
    await pool(bytes, width, (b) => examine(b))
    const sharpOnly = n / ((performance.now() - t1) / 1000)
    console.log(`raw sharp decode:   ${decode1.toFixed(0)} and ${decode2.toFixed(0)} files/s (mean ${decode.toFixed(0)})`)
    console.log(`import + thumbnails: ${importRate.toFixed(0)} files/s (${importS.toFixed(1)} s for ${n}, including the scan and database writes)`)
    console.log(`the import's sharp work alone (header, thumbnail decode, encode, perceptual hashes; no file I/O): ${sharpOnly.toFixed(0)} files/s = ${((100 * sharpOnly) / decode).toFixed(0)}% of the raw decode, the most the import can reach`)
    console.log(`ratio: ${((100 * importRate) / decode).toFixed(0)}% of the raw decode rate (target >= 50%)`)
    printBenchLine({
      name: 'bench:import',
      ratio: importRate / decode,
      unit: 'percent',
      target: 0.5,
      what: `import with thumbnails vs raw sharp decode (${n} JPEGs ${side}px)`,
      details: { importFilesPerS: Math.round(importRate), decodeFilesPerS: Math.round(decode), sharpWorkFilesPerS: Math.round(sharpOnly) }
    })
  } finally {
    if (!keep) rmSync(root, { recursive: true, force: true })
    else console.log(`kept ${root}`)
  }
}

void main().catch((e) => {
  console.error(e)
  process.exitCode = 1
})
