// Contract pieces for curation with a model (issue 7): likely mislabels from out-of-fold
// probabilities, outliers by bits per token and by feature distance, and feature
// near-duplicates. Joined into the method table in contract.ts.

import { z } from 'zod'
import { type DatasetItem } from './datasets-contract'

const Id = z.string().min(1).max(128)
const Ref = z.string().trim().min(1).max(200)

/** Flags a curation run leaves on items (a filter in the Datasets and Label grids). */
export const CURATION_FLAGS = { mislabel: 'likely-mislabel', outlier: 'outlier', duplicate: 'feature-duplicate' } as const

export const CurationStartInput = z
  .object({
    dataset: Ref,
    /** An ImageGPT model (with or without an lm_head). */
    model: Ref,
    /** Layer whose pooled features are used (1..L); default: three quarters of the way up. */
    layer: z.number().int().min(1).max(1000).optional(),
    /** Folds for the out-of-fold probabilities. */
    folds: z.number().int().min(2).max(20).optional(),
    seed: z.number().int().min(0).max(2 ** 31 - 1).optional(),
    /** L2 penalty of the softmax regression. */
    l2: z.number().min(0).max(100).optional(),
    /** Neighbours for the feature-distance outlier score. */
    neighbours: z.number().int().min(1).max(100).optional(),
    /** Robust z-score (median/MAD) above which a score makes an item an outlier. */
    outlierZ: z.number().min(1).max(100).optional(),
    /** Cosine similarity (of centred features) at or above which two items are feature near-duplicates. */
    duplicateThreshold: z.number().min(0.5).max(1).optional()
  })
  .strict()

export const CurationDatasetInput = z.object({ dataset: Ref }).strict()
export const CurationMislabelsInput = z
  .object({ dataset: Ref, offset: z.number().int().min(0).optional(), limit: z.number().int().min(1).max(2000).optional() })
  .strict()
export const CurationIdsInput = z.object({ ids: z.array(Id).min(1).max(100_000) }).strict()

export interface CurationParams {
  layer: number
  folds: number
  seed: number
  l2: number
  neighbours: number
  outlierZ: number
  duplicateThreshold: number
}

export interface CurationSummary {
  runId: string
  datasetId: string
  modelId: string | null
  modelName: string
  params: CurationParams
  /** Items with features (all readable items of the dataset). */
  items: number
  /** Items that could not be read. */
  skipped: number
  /** Labelled items that took part in the mislabel search. */
  labelled: number
  /** Likely mislabels; null when the dataset has too few labelled items or classes (see note). */
  mislabels: number | null
  /** Share of labelled items whose out-of-fold argmax agrees with the given label. */
  agreement: number | null
  /** Per class name: its confident-learning threshold (mean self-confidence). */
  thresholds: Record<string, number>
  outliers: { total: number; byBitsPerToken: number; byFeatures: number }
  /** null when the model has no lm_head. */
  bitsPerToken: { median: number; max: number } | null
  /** similarities: each group's lowest similarity to its first member, by group number. */
  featureDuplicates: { groups: number; items: number; similarities: number[] }
  notes: string[]
  finishedAt: string
}

export interface MislabelRow {
  item: DatasetItem
  givenClassId: string | null
  suggestedClassId: string | null
  /** Out-of-fold probability of the given label. */
  selfConfidence: number
  suggestedConfidence: number | null
}

export interface FeatureDuplicateGroup {
  /** Lowest cosine similarity between the group's first item and another member. */
  minSimilarity: number
  items: DatasetItem[]
}

/** Sort keys items.list takes beyond name/date/size: scores of the dataset's latest curation run. */
export const CURATION_SORTS = ['selfConfidence', 'bitsPerToken', 'featureOutlier'] as const
