// Training runs in the contract: start / resume a fine-tune, list runs with their live history
// and test metrics (src/main/ml/train; docs/training.md).

import { z } from 'zod'

export const TrainObjective = z.enum(['auto', 'probe', 'classify', 'joint', 'generative'])

export const TrainStartInput = z
  .object({
    dataset: z.string().trim().min(1).max(200),
    base: z.string().trim().min(1).max(200),
    objective: TrainObjective.default('auto'),
    optimizer: z.enum(['adamw', 'sgd']).optional(),
    lr: z.number().positive().max(10).optional(),
    steps: z.number().int().min(1).max(10_000_000).optional(),
    epochs: z.number().int().min(1).max(100_000).optional(),
    batchSize: z.union([z.number().int().min(1).max(65_536), z.literal('all')]).optional(),
    weightDecay: z.number().min(0).max(10).optional(),
    augment: z.boolean().optional(),
    flip: z.boolean().optional(),
    balanced: z.boolean().optional(),
    seed: z.number().int().min(0).max(2 ** 31 - 1).optional(),
    name: z.string().trim().min(1).max(200).optional(),
    layer: z.number().int().min(1).max(1000).optional(),
    evalEvery: z.number().int().min(1).optional(),
    patience: z.number().int().min(0).optional()
  })
  .strict()
export type TrainStartInput = z.input<typeof TrainStartInput>

export interface TrainPerClass {
  name: string
  support: number
  precision: number
  recall: number
  f1: number
}

export interface TrainClassificationMetrics {
  count: number
  accuracy: number
  loss: number
  perClass: TrainPerClass[]
  macroF1: number
  /** confusion[true][predicted] */
  confusion: number[][]
  ece: number
}

export interface TrainMisclassified {
  itemId: string
  sha256: string
  name: string
  trueClass: number
  predictedClass: number
  confidence: number
}

export interface TrainTestMetrics {
  split: 'test' | 'val' | 'train'
  classification?: TrainClassificationMetrics
  misclassified?: TrainMisclassified[]
  bitsPerToken?: number
  bitsPerTokenUnconditional?: number
}

export interface TrainRunInfo {
  id: string
  jobId: string | null
  state: string
  objective: string
  baseModelId: string | null
  datasetId: string | null
  modelId: string | null
  createdAt: string
  finishedAt: string | null
  /** The auto plan's one-sentence explanation (once the run has started). */
  reason: string | null
  plan: Record<string, unknown> | null
  /** Train loss per step (thinned for long runs) and validation points. */
  history: { step: number; loss: number; lr: number }[]
  val: { step: number; loss: number; accuracy?: number }[]
  test: TrainTestMetrics | null
  durationS: number | null
  /** Steps taken, the step whose weights were kept (best validation), and whether it stopped early. */
  steps: number | null
  bestStep: number | null
  stoppedEarly: boolean
  error: string | null
  /** The dataset snapshot the run trained on (taken or reused when it started); null for runs from before snapshots. */
  snapshot: { id: string; name: string; hash: string } | null
}
