// Curation with the built-in tessera-digits model on the 300 real MNIST sample digits:
// - 30 planted label flips (seeded): the likely-mislabel search finds most of them (measured
//   recall 0.80, precision 0.57-0.59 at the defaults with the 9,000-step tessera-digits and its
//   box resample (0.77 and 0.40-0.47 with the 3,000-step model through a linear resize); the
//   found flips get their true digit suggested most of the time);
// - 4 planted near-duplicates (a 2x resized PNG and a recompressed JPEG of a digit): found as
//   feature near-duplicate groups, and no other group among the 300 distinct digits or the noise;
// - 3 noise pictures: outliers by bits per token, on top of that sort;
// then the findings as flags and sorts in items.list, one-click accept (undoable), dismiss,
// and `tessera dataset curate --json` on the same library (features come from the cache).

import { copyFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterEach, describe, expect, it } from 'vitest'
import { seededRandom } from '../../src/main/datasets/splits'
import { type CurationSummary, type DatasetItem, type ImportResult } from '../../src/shared/contract'
import { runMain } from '../helpers/run-main'
import { setupServices } from '../helpers/services'

const ROOT = join(__dirname, '..', '..', 'resources')
const SAMPLES = join(ROOT, 'samples', 'mnist-digits')
const MODEL = join(ROOT, 'models', 'tessera-digits')

let cleanups: (() => void | Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.reverse()) await c()
  cleanups = []
})

describe('curation with tessera-digits on MNIST samples', () => {
  it('finds planted label flips, planted near-duplicates and noise outliers; flags, sorts, accept and the CLI work', async () => {
    const s = setupServices(cleanups)
    // The sample digits as class folders; 30 of them (seeded) put in a wrong class folder.
    const digits: { file: string; digit: number; name: string }[] = []
    for (const split of ['train', 'val', 'test'])
      for (const d of readdirSync(join(SAMPLES, split)))
        for (const f of readdirSync(join(SAMPLES, split, d))) digits.push({ file: join(SAMPLES, split, d, f), digit: Number(d), name: f })
    expect(digits.length).toBe(300)
    const rand = seededRandom(7)
    const flipped = new Map<string, { truth: number; given: number }>()
    while (flipped.size < 30) {
      const d = digits[Math.floor(rand() * digits.length)]!
      if (!flipped.has(d.name)) flipped.set(d.name, { truth: d.digit, given: (d.digit + 1 + Math.floor(rand() * 9)) % 10 })
    }
    for (const d of digits) {
      const cls = String(flipped.get(d.name)?.given ?? d.digit)
      mkdirSync(join(s.src, cls), { recursive: true })
      copyFileSync(d.file, join(s.src, cls, d.name))
    }
    // Planted near-duplicates of four unflipped digits: a 2x (pixel-doubled) PNG and a JPEG
    // recompressed at quality 90. Both keep the model's 14x14 view within a few tokens. (A smoothed
    // resize or a quality-70 JPEG moves 30-60 of the 196 tokens and the similarity to 0.95-0.99,
    // as close as two different but similar digits get; those copies are pHash's to find.)
    const originals = digits.filter((d) => !flipped.has(d.name)).filter((_, i) => i % 70 === 3)
    expect(originals.length).toBe(4)
    for (const d of originals) {
      const base = d.name.replace(/\.png$/, '')
      await sharp(readFileSync(d.file)).resize(56, 56, { kernel: 'nearest' }).png().toFile(join(s.src, String(d.digit), `${base}-big.png`))
      await sharp(readFileSync(d.file)).jpeg({ quality: 90 }).toFile(join(s.src, String(d.digit), `${base}-copy.jpg`))
    }
    // Three noise pictures, unlabelled (top level).
    for (let i = 0; i < 3; i++) {
      const px = Buffer.from(Array.from({ length: 28 * 28 * 3 }, () => Math.floor(rand() * 256)))
      await sharp(px, { raw: { width: 28, height: 28, channels: 3 } }).png().toFile(join(s.src, `noise-${i}.png`))
    }

    const importJob = await s.call('datasets.import', { name: 'Digits', source: s.src })
    const imported = await s.ctx.jobs.wait(importJob.id)
    expect((imported.result as ImportResult).errors).toEqual([])
    const model = await s.call('models.import', { path: MODEL, name: 'digits' })

    // Bad input is refused before a job is queued.
    expect(await s.dispatch('curation.start', { dataset: 'Digits', model: 'digits', layer: 9 })).toMatchObject({ ok: false, error: { code: 'VALIDATION' } })
    expect(await s.dispatch('curation.start', { dataset: 'Digits', model: 'digits', folds: 1 })).toMatchObject({ ok: false, error: { code: 'VALIDATION' } })
    expect(await s.dispatch('curation.start', { dataset: 'Nope', model: 'digits' })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } })
    expect(await s.dispatch('items.list', { dataset: 'Digits', sort: 'loudness' as never })).toMatchObject({ ok: false, error: { code: 'VALIDATION' } })
    expect(await s.call('curation.summary', { dataset: 'Digits' })).toBeNull()

    const phases = new Set<string>()
    const job = await s.call('curation.start', { dataset: 'Digits', model: 'digits' })
    const off = s.ctx.bus.on('job.progress', (p) => p.jobId === job.id && phases.add(p.phase))
    const final = await s.ctx.jobs.wait(job.id)
    off()
    expect(final.state, final.error ?? '').toBe('done')
    expect([...phases]).toEqual(expect.arrayContaining(['features', 'mislabels', 'neighbours']))
    const summary = (await s.call('curation.summary', { dataset: 'Digits' })) as CurationSummary
    expect(summary).toMatchObject({ modelId: model.id, items: 311, skipped: 0, labelled: 308, params: { layer: 3, folds: 5, seed: 0 } })

    // Likely mislabels against the planted flips.
    const mis = await s.call('curation.mislabels', { dataset: 'Digits', limit: 2000 })
    expect(mis.total).toBe(summary.mislabels)
    const d = await s.call('datasets.get', { ref: 'Digits' })
    const className = new Map(d.classes.map((c) => [c.id, c.name]))
    const found = mis.rows.filter((r) => flipped.has(r.item.name.split('/').pop()!))
    const recall = found.length / flipped.size
    const precision = found.length / mis.rows.length
    console.log(`curation: ${mis.rows.length} flagged, recall ${recall.toFixed(2)}, precision ${precision.toFixed(2)}, agreement ${summary.agreement?.toFixed(3)}`)
    expect(recall).toBeGreaterThanOrEqual(0.6)
    expect(precision).toBeGreaterThanOrEqual(0.35)
    // Where a flip is found, the suggestion is mostly the true digit.
    const right = found.filter((r) => className.get(r.suggestedClassId!) === String(flipped.get(r.item.name.split('/').pop()!)!.truth)).length
    expect(right / found.length).toBeGreaterThanOrEqual(0.6) // measured 0.74
    for (const r of mis.rows) {
      expect(className.get(r.givenClassId!)).toBe(r.item.className)
      expect(r.suggestedClassId).not.toBe(r.givenClassId)
    }
    expect(mis.rows.map((r) => r.selfConfidence)).toEqual([...mis.rows.map((r) => r.selfConfidence)].sort((a, b) => a - b))

    // Feature near-duplicates: the four planted groups and nothing else. Every pixel-doubled copy
    // joins its original; the q90 JPEG copies sit at 0.9957-1.0 (measured) against a threshold of
    // 0.995, so one may fall just under it.
    const groups = await s.call('curation.featureDuplicates', { dataset: 'Digits' })
    const baseOf = (name: string): string => name.split('/').pop()!.replace(/(-big)?(-copy)?\.(png|jpg)$/, '')
    const groupBases = groups.map((g) => [...new Set(g.items.map((i) => baseOf(i.name)))])
    // No group of the noise pictures: the model finds them alike (both far out of its
    // distribution, feature similarity 0.9955 with tessera-digits), their pHashes do not.
    expect(groups.flatMap((g) => g.items.map((i) => i.name)).filter((n) => n.startsWith('noise-'))).toEqual([])
    expect(groupBases.map((b) => b.length)).toEqual([1, 1, 1, 1])
    expect(groupBases.map((b) => b[0]).sort()).toEqual(originals.map((o) => o.name.replace(/\.png$/, '')).sort())
    for (const g of groups) expect(g.items.map((i) => i.name.split('/').pop()!).filter((n) => n.endsWith('-big.png')).length).toBe(1)
    const jpegs = groups.flatMap((g) => g.items.filter((i) => i.name.endsWith('-copy.jpg'))).length
    expect(jpegs).toBeGreaterThanOrEqual(3)
    for (const g of groups) expect(g.minSimilarity).toBeGreaterThanOrEqual(summary.params.duplicateThreshold)
    const duplicateItems = groups.reduce((n, g) => n + g.items.length, 0)

    // Outliers: the noise pictures top the bits-per-token sort and carry the flag.
    const byBits = await s.call('items.list', { dataset: 'Digits', sort: 'bitsPerToken', desc: true, limit: 3 })
    expect(byBits.items.map((i) => i.name).sort()).toEqual(['noise-0.png', 'noise-1.png', 'noise-2.png'])
    const outliers = await s.call('items.list', { dataset: 'Digits', flag: 'outlier', limit: 1000 })
    expect(outliers.total).toBe(summary.outliers.total)
    expect(outliers.items.map((i) => i.name)).toEqual(expect.arrayContaining(['noise-0.png', 'noise-1.png', 'noise-2.png']))
    expect(summary.outliers.byBitsPerToken).toBeGreaterThanOrEqual(3)

    // Flags and sorts in items.list (what the Datasets and Label grids open).
    const flaggedMis = await s.call('items.list', { dataset: 'Digits', flag: 'likely-mislabel', sort: 'selfConfidence', limit: 1000 })
    expect(flaggedMis.items.map((i) => i.id)).toEqual(mis.rows.map((r) => r.item.id))
    expect((await s.call('items.list', { dataset: 'Digits', flag: 'feature-duplicate', limit: 1000 })).total).toBe(duplicateItems)
    const labelled = await s.call('labels.list', { dataset: 'Digits', flag: 'likely-mislabel', sort: 'selfConfidence', limit: 1000 })
    expect(labelled.items.map((i) => i.id)).toEqual(mis.rows.map((r) => r.item.id))
    const byOutlier = await s.call('items.list', { dataset: 'Digits', sort: 'featureOutlier', desc: true, limit: 400 })
    expect(byOutlier.total).toBe(311)
    const stats = await s.call('datasets.stats', { ref: 'Digits' })
    expect(stats.flags).toMatchObject({ 'likely-mislabel': summary.mislabels, outlier: summary.outliers.total, 'feature-duplicate': duplicateItems })

    // One-click accept: the suggested class becomes the human label (undoable); the flag goes.
    const first = mis.rows[0]!
    const accepted = await s.call('curation.accept', { ids: [first.item.id] })
    expect(accepted.changed).toBe(1)
    let item: DatasetItem = await s.call('items.get', { id: first.item.id })
    expect(item.classId).toBe(first.suggestedClassId)
    expect(item.flags).not.toContain('likely-mislabel')
    expect((await s.call('curation.mislabels', { dataset: 'Digits' })).total).toBe(mis.total - 1)
    await s.call('labels.undo', { dataset: 'Digits' })
    item = await s.call('items.get', { id: first.item.id })
    expect(item.classId).toBe(first.givenClassId)
    expect(await s.dispatch('curation.accept', { ids: [first.item.id] })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } })
    // Dismiss keeps the label and clears the flag.
    const second = mis.rows[1]!
    expect(await s.call('curation.dismiss', { ids: [second.item.id] })).toEqual({ updated: 1 })
    item = await s.call('items.get', { id: second.item.id })
    expect(item.classId).toBe(second.givenClassId)
    expect(item.flags).not.toContain('likely-mislabel')

    // The CLI on the same library: features come from the cache, the same findings again.
    const cli = await runMain(['--library', s.ctx.library.paths.root, '--json', 'dataset', 'curate', 'Digits', '--model', 'digits'], { TESSERA_SAMPLES: '0' })
    expect(cli.code, cli.stderr).toBe(0)
    const out = JSON.parse(cli.stdout) as CurationSummary & { likelyMislabels: unknown[]; featureDuplicateGroups: unknown[] }
    expect(out.mislabels).toBe(summary.mislabels)
    expect(out.likelyMislabels.length).toBe(summary.mislabels)
    expect(out.featureDuplicateGroups.length).toBe(4)
    const bad = await runMain(['--library', s.ctx.library.paths.root, 'dataset', 'curate', 'Digits', '--model', 'digits', '--folds', '1'], { TESSERA_SAMPLES: '0' })
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/--folds must be a whole number from 2 to 20/)
  }, 240_000)
})
