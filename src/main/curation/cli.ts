// `tessera dataset curate <dataset> --model <ref>`: runs the curation job in this process
// (progress on stderr) and prints what it found: counts, the likely mislabels with given and
// suggested labels, outliers and feature near-duplicate groups. --json prints the summary with
// the mislabel rows and duplicate groups.

import { type Command, InvalidArgumentError } from 'commander'
import { type CurationSummary, type FeatureDuplicateGroup, type MislabelRow } from '../../shared/curation-contract'
import { type DatasetCliHelpers } from '../datasets/cli'

const whole = (flag: string, min: number, max: number) => (v: string): number => {
  const n = Number(v)
  if (!/^\s*\d+\s*$/.test(v) || n < min || n > max) throw new InvalidArgumentError(`${flag} must be a whole number from ${min} to ${max}, not "${v}".`)
  return n
}
const real = (flag: string, min: number, max: number) => (v: string): number => {
  const n = Number(v)
  if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max) throw new InvalidArgumentError(`${flag} must be a number from ${min} to ${max}, not "${v}".`)
  return n
}

interface CurateOptions {
  model: string
  layer?: number
  folds?: number
  seed?: number
  neighbours?: number
  outlierZ?: number
  duplicateThreshold?: number
}

const pct = (v: number): string => `${Math.round(v * 100)}%`

export function curationHuman(s: CurationSummary, mislabels: MislabelRow[], groups: FeatureDuplicateGroup[], className: (id: string | null) => string): string {
  const lines = [
    `Curated ${s.items} items with ${s.modelName} (layer ${s.params.layer}, ${s.params.folds} folds, seed ${s.params.seed}).`,
    s.mislabels === null
      ? '  likely mislabels: not computed'
      : `  likely mislabels: ${s.mislabels} of ${s.labelled} labelled (out-of-fold agreement with the given labels ${pct(s.agreement ?? 0)})`,
    `  outliers: ${s.outliers.total} (${s.outliers.byBitsPerToken} by bits per token, ${s.outliers.byFeatures} by feature distance; robust z > ${s.params.outlierZ})`,
    `  feature near-duplicates: ${s.featureDuplicates.groups} group${s.featureDuplicates.groups === 1 ? '' : 's'}, ${s.featureDuplicates.items} items (cosine >= ${s.params.duplicateThreshold})`
  ]
  if (s.bitsPerToken) lines.push(`  bits per token: median ${s.bitsPerToken.median.toFixed(3)}, max ${s.bitsPerToken.max.toFixed(3)}`)
  for (const n of s.notes) lines.push(`  note: ${n}`)
  if (mislabels.length) lines.push('likely mislabels (given -> suggested, self-confidence):')
  for (const m of mislabels) lines.push(`  ${m.item.id}  ${JSON.stringify(m.item.name)}  ${className(m.givenClassId)} -> ${className(m.suggestedClassId)}  ${m.selfConfidence.toFixed(3)}`)
  groups.forEach((g, i) => lines.push(`feature near-duplicate group ${i + 1} (similarity >= ${g.minSimilarity.toFixed(4)}):`, ...g.items.map((it) => `  ${it.id}  ${JSON.stringify(it.name)}`)))
  return lines.join('\n')
}

export function registerCurateCommand(dataset: Command, h: DatasetCliHelpers): void {
  dataset
    .command('curate <dataset>')
    .description('likely mislabels, outliers (bits per token, feature distance) and feature near-duplicates under an ImageGPT model; flags the items, changes no label')
    .requiredOption('--model <ref>', 'ImageGPT model (id or name)')
    .option('--layer <n>', 'layer whose pooled features are used (default: three quarters up)', whole('--layer', 1, 1000))
    .option('--folds <k>', 'folds for out-of-fold probabilities (default 5)', whole('--folds', 2, 20))
    .option('--seed <n>', 'seed of the folds (default 0)', whole('--seed', 0, 2 ** 31 - 1))
    .option('--neighbours <k>', 'neighbours for the feature-distance outlier score (default 5)', whole('--neighbours', 1, 100))
    .option('--outlier-z <z>', 'robust z-score above which an item is an outlier (default 3.5)', real('--outlier-z', 1, 100))
    .option('--duplicate-threshold <s>', 'cosine similarity of features that counts as a near-duplicate (default 0.995)', real('--duplicate-threshold', 0.5, 1))
    .action(async (ref: string, o: CurateOptions) => {
      const job = await h.call('curation.start', {
        dataset: ref,
        model: o.model,
        ...(o.layer !== undefined ? { layer: o.layer } : {}),
        ...(o.folds !== undefined ? { folds: o.folds } : {}),
        ...(o.seed !== undefined ? { seed: o.seed } : {}),
        ...(o.neighbours !== undefined ? { neighbours: o.neighbours } : {}),
        ...(o.outlierZ !== undefined ? { outlierZ: o.outlierZ } : {}),
        ...(o.duplicateThreshold !== undefined ? { duplicateThreshold: o.duplicateThreshold } : {})
      })
      process.stderr.write(`Job ${job.id}\n`)
      const final = await h.runJob(job.id)
      h.jobOutcome(final)
      const summary = (await h.call('curation.summary', { dataset: ref })) as CurationSummary
      const mislabels = (await h.call('curation.mislabels', { dataset: ref, limit: 2000 })).rows
      const groups = await h.call('curation.featureDuplicates', { dataset: ref })
      const d = await h.call('datasets.get', { ref })
      const names = new Map(d.classes.map((c) => [c.id, c.name]))
      h.print({ ...summary, likelyMislabels: mislabels, featureDuplicateGroups: groups }, () =>
        curationHuman(summary, mislabels, groups, (id) => (id ? (names.get(id) ?? id) : '-'))
      )
    })
}
