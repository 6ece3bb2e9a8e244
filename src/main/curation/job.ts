// Job `datasets.curate`: curation of a dataset with an ImageGPT model.
//  1. features: pooled features of one layer (and bits per token under the lm_head) of every
//     item, a batch per transaction into curation_features. This is the job's checkpoint: a
//     paused or interrupted run (or a later run with the same model and layer) computes only
//     the items still missing.
//  2. mislabels: K-fold out-of-fold probabilities of a softmax regression on the standardised
//     features of the labelled items, then the confident-learning rule.
//  3. neighbours: k-nearest-neighbour cosine distance of each item (outlier score) and groups
//     at cosine similarity >= the threshold (feature near-duplicates), on centred features.
//  4. the scores replace the model's earlier ones, the findings become flags, and the run's
//     summary is stored, in one transaction.

import { type CurationParams, type CurationSummary } from '../../shared/curation-contract'
import { AppError } from '../errors'
import { type EventBus } from '../events'
import { type JobKind } from '../jobs/runner'
import { type Library } from '../library/library'
import { MediaRepo, mediaFilePath } from '../library/media'
import { nowIso } from '../library/util'
import { hasLmHead } from '../ml/pixelgpt/model'
import { type ModelRegistry } from '../models/registry'
import { hammingAt, hashWords } from '../datasets/phash'
import { DEFAULT_L2, centeredUnitRows, confidentLearning, neighbourScan, outOfFoldProbabilities, robustZ, standardize } from './math'
import { type ScoreRow, CurationStore } from './store'

export const CURATE_JOB = 'datasets.curate'

export interface CurateParams extends Partial<CurationParams> {
  datasetId: string
  modelId: string
  datasetName?: string
  modelName?: string
}

export interface CurateResult {
  summary: CurationSummary
}

const BATCH = 32

/** Largest perceptual-hash (pHash) distance, in bits of 64, at which two feature near-duplicates may link. */
export const PHASH_GATE = 24

export const CURATION_DEFAULTS = { folds: 5, seed: 0, l2: DEFAULT_L2, neighbours: 5, outlierZ: 3.5, duplicateThreshold: 0.995 } as const

/** Three quarters of the way up the stack: where ImageGPT features probe best for small models. */
export const defaultLayer = (layers: number): number => Math.max(1, Math.ceil((3 * layers) / 4))

const yieldNow = (): Promise<void> => new Promise((r) => setImmediate(r))

export function curateJobKind(deps: { library: Library; bus: EventBus; models: () => ModelRegistry }): JobKind<CurateParams, null, CurateResult> {
  const store = new CurationStore(deps.library.db)
  const media = new MediaRepo(deps.library.db)
  return {
    heavy: true,
    title: (p) => `Curate${p.datasetName ? ` ${p.datasetName}` : ''}${p.modelName ? ` with ${p.modelName}` : ''}`,
    async run({ jobId, params, signal, progress }) {
      const registry = deps.models()
      const { model, runner, record } = await registry.load(params.modelId)
      const L = model.config.layers
      const layer = params.layer ?? defaultLayer(L)
      if (layer > L) throw new AppError('VALIDATION', `Model "${record.name}" has ${L} layers; choose a layer from 1 to ${L}.`, 'layer')
      const p: CurationParams = {
        layer,
        folds: params.folds ?? CURATION_DEFAULTS.folds,
        seed: params.seed ?? CURATION_DEFAULTS.seed,
        l2: params.l2 ?? CURATION_DEFAULTS.l2,
        neighbours: params.neighbours ?? CURATION_DEFAULTS.neighbours,
        outlierZ: params.outlierZ ?? CURATION_DEFAULTS.outlierZ,
        duplicateThreshold: params.duplicateThreshold ?? CURATION_DEFAULTS.duplicateThreshold
      }
      const lm = hasLmHead(model)
      store.startRun(jobId, params.datasetId, params.modelId, record.name, p)

      // 1. Features (and bits per token), resumable through the cache.
      const counts = store.featureCounts(params.datasetId, params.modelId, layer)
      let done = counts.done
      const skip = new Set<string>()
      progress({ phase: 'features', done, total: counts.total })
      for (;;) {
        signal.throwIfAborted()
        const batch = store.missingFeatures(params.datasetId, params.modelId, layer, BATCH, skip)
        if (batch.length === 0) break
        const tokens: { id: string; t: Int32Array }[] = []
        for (const it of batch) {
          const m = media.get(it.sha256)
          try {
            if (!m) throw new Error('no media row')
            tokens.push({ id: it.id, t: await registry.tokenize(model, mediaFilePath(deps.library, m.path)) })
          } catch {
            skip.add(it.id)
          }
        }
        if (tokens.length > 0) {
          const t = tokens.map((x) => x.t)
          const feats = await runner.features(t, layer)
          const nll = lm ? await runner.nll(t) : null
          store.saveFeatures(
            params.modelId,
            layer,
            tokens.map((x, i) => ({ itemId: x.id, features: feats[i] as Float32Array, bitsPerToken: nll ? (nll[i] as number) / Math.LN2 : null }))
          )
        }
        done += tokens.length
        progress({ phase: 'features', done: done + skip.size, total: counts.total })
      }

      const rows = store.features(params.datasetId, params.modelId, layer)
      const n = rows.length
      const D = model.config.width
      const notes: string[] = []
      if (skip.size) notes.push(`${skip.size} item${skip.size === 1 ? '' : 's'} could not be read and ${skip.size === 1 ? 'was' : 'were'} left out.`)
      const x = new Float32Array(n * D)
      rows.forEach((r, i) => x.set(r.features, i * D))

      // 2. Likely mislabels over the labelled items.
      const classIds = [...new Set(rows.map((r) => r.classId).filter((c): c is string => c !== null))].sort()
      const classIndex = new Map(classIds.map((c, i) => [c, i]))
      const labelled = rows.map((r, i) => ({ i, c: r.classId === null ? -1 : (classIndex.get(r.classId) as number) })).filter((r) => r.c >= 0)
      const perClass = new Map<number, number>()
      for (const r of labelled) perClass.set(r.c, (perClass.get(r.c) ?? 0) + 1)
      const score = new Map<number, Pick<ScoreRow, 'givenClassId' | 'selfConfidence' | 'suggestedClassId' | 'suggestedConfidence' | 'likelyMislabel'>>()
      let mislabels: number | null = null
      let agreement: number | null = null
      const thresholds: Record<string, number> = {}
      const usable = [...perClass.values()].filter((v) => v >= 2).length
      if (usable < 2 || labelled.length < p.folds * 2) {
        notes.push(`Likely mislabels need labelled items of at least two classes (two or more each) and at least ${p.folds * 2} labelled items; there are ${labelled.length} in ${perClass.size} class${perClass.size === 1 ? '' : 'es'}.`)
      } else {
        const K = classIds.length
        const sel = new Float32Array(labelled.length * D)
        labelled.forEach((r, j) => sel.set(x.subarray(r.i * D, r.i * D + D), j * D))
        const y = Int32Array.from(labelled.map((r) => r.c))
        const xs = standardize(sel, labelled.length, D)
        progress({ phase: 'mislabels', done: 0, total: p.folds })
        const probs = await outOfFoldProbabilities(
          { x: xs, y, n: labelled.length, d: D, k: K },
          {
            folds: p.folds,
            seed: p.seed,
            l2: p.l2,
            tick: async () => {
              signal.throwIfAborted()
              await yieldNow()
            },
            onFold: (f, total) => progress({ phase: 'mislabels', done: f, total })
          }
        )
        const cl = confidentLearning(probs, y, labelled.length, K)
        const names = new Map((deps.library.db.prepare('SELECT id, name FROM classes WHERE dataset_id = ?').all(params.datasetId) as { id: string; name: string }[]).map((c) => [c.id, c.name]))
        classIds.forEach((c, k) => (thresholds[names.get(c) ?? c] = cl.thresholds[k] as number))
        let agree = 0
        mislabels = 0
        labelled.forEach((r, j) => {
          let arg = 0
          for (let k = 1; k < K; k++) if ((probs[j * K + k] as number) > (probs[j * K + arg] as number)) arg = k
          if (arg === r.c) agree++
          const s = cl.suggested[j] as number
          const flagged = cl.flagged[j] === 1
          if (flagged) mislabels = (mislabels as number) + 1
          score.set(r.i, {
            givenClassId: classIds[r.c] as string,
            selfConfidence: cl.selfConfidence[j] as number,
            suggestedClassId: s >= 0 ? (classIds[s] as string) : null,
            suggestedConfidence: s >= 0 ? (probs[j * K + s] as number) : null,
            likelyMislabel: flagged
          })
        })
        agreement = agree / labelled.length
      }

      // 3. Feature outliers and near-duplicates.
      progress({ phase: 'neighbours', done: 0, total: n })
      // Two images the model finds alike must also look roughly alike: a link needs the two
      // perceptual hashes within PHASH_GATE bits (copies, resizes and recompressions differ in a
      // few; unrelated images in about 32 of 64). Without it, two noise pictures, both far out
      // of the model's distribution, landed at feature similarity 0.9955 with tessera-digits.
      const words = new Uint32Array(2 * n)
      const hashed = new Uint8Array(n)
      rows.forEach((r, i) => {
        if (!r.phash) return
        words.set(hashWords(r.phash), 2 * i)
        hashed[i] = 1
      })
      const scan = await neighbourScan(centeredUnitRows(x, n, D), n, D, {
        k: p.neighbours,
        threshold: p.duplicateThreshold,
        link: (i, j) => !hashed[i] || !hashed[j] || hammingAt(words, i, j) <= PHASH_GATE,
        tick: async (row) => {
          signal.throwIfAborted()
          progress({ phase: 'neighbours', done: row, total: n })
          await yieldNow()
        }
      })
      progress({ phase: 'neighbours', done: n, total: n })
      const bits = rows.map((r) => r.bitsPerToken ?? NaN)
      const zBits = lm ? robustZ(bits) : null
      const zKnn = n > p.neighbours ? robustZ(scan.knnDistance) : null
      const groupOf = new Map<number, number>()
      scan.groups.forEach((g, gi) => g.rows.forEach((r) => groupOf.set(r, gi)))
      const flags = { mislabel: [] as string[], outlier: [] as string[], duplicate: [] as string[] }
      let byBits = 0
      let byFeatures = 0
      const scores: ScoreRow[] = rows.map((r, i) => {
        const s = score.get(i)
        const outBits = !!zBits && (zBits[i] as number) > p.outlierZ
        const outKnn = !!zKnn && (zKnn[i] as number) > p.outlierZ
        if (outBits) byBits++
        if (outKnn) byFeatures++
        if (outBits || outKnn) flags.outlier.push(r.itemId)
        if (s?.likelyMislabel) flags.mislabel.push(r.itemId)
        if (groupOf.has(i)) flags.duplicate.push(r.itemId)
        return {
          itemId: r.itemId,
          givenClassId: s?.givenClassId ?? r.classId,
          selfConfidence: s?.selfConfidence ?? null,
          suggestedClassId: s?.suggestedClassId ?? null,
          suggestedConfidence: s?.suggestedConfidence ?? null,
          likelyMislabel: s?.likelyMislabel ?? false,
          bitsPerToken: r.bitsPerToken,
          featureOutlier: n > 1 ? (scan.knnDistance[i] as number) : null,
          duplicateGroup: groupOf.get(i) ?? null
        }
      })
      if (!lm) notes.push(`Model "${record.name}" has no lm_head, so there are no bits-per-token outliers.`)
      const finite = bits.filter((b) => Number.isFinite(b)).sort((a, b) => a - b)
      const summary: CurationSummary = {
        runId: jobId,
        datasetId: params.datasetId,
        modelId: params.modelId,
        modelName: record.name,
        params: p,
        items: n,
        skipped: skip.size,
        labelled: labelled.length,
        mislabels,
        agreement,
        thresholds,
        outliers: { total: flags.outlier.length, byBitsPerToken: byBits, byFeatures },
        bitsPerToken: finite.length ? { median: finite[finite.length >> 1] as number, max: finite[finite.length - 1] as number } : null,
        featureDuplicates: { groups: scan.groups.length, items: flags.duplicate.length, similarities: scan.groups.map((g) => g.minSimilarity) },
        notes,
        finishedAt: nowIso()
      }
      signal.throwIfAborted()
      store.finishRun(jobId, params.datasetId, params.modelId, scores, flags, summary)
      deps.bus.emit('library.changed', { domain: 'items', id: params.datasetId })
      return { summary }
    }
  }
}
