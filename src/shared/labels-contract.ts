// Contract pieces for the Label panel (issue 8): human labels with undo/redo kept in
// the library, class editing, cached model predictions and accepting them. Joined
// into the method table in contract.ts.

import { z } from 'zod'
import { ITEM_SORTS, type DatasetItem } from './datasets-contract'

const Id = z.string().min(1).max(128)
const Ref = z.string().trim().min(1).max(200)
const Ids = z.array(Id).min(1).max(100_000)
const ClassName = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(100, 'must be at most 100 characters')
  .refine((s) => !/[\r\n\0]/.test(s), 'must be one line without control characters')
const Color = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'must be a colour like #1f77b4')

/** Where undo / redo stand for one dataset. */
export interface LabelHistory {
  datasetId: string
  canUndo: boolean
  canRedo: boolean
  /** What undo / redo would change, in words ("Label 3 items cat"). */
  undoAction: string | null
  redoAction: string | null
  /** Undoable steps kept. */
  size: number
}

export interface LabelChangeResult {
  /** Items whose label changed (an item already so labelled does not count). */
  changed: number
  history: LabelHistory
}

/** A cached classifier prediction for one item. */
export interface Prediction {
  itemId: string
  modelId: string
  /** The model's label. */
  className: string
  /** The dataset class of that name, if the dataset has one. */
  classId: string | null
  confidence: number
}

export interface PredictedItem extends DatasetItem {
  prediction: Prediction | null
}

export interface PredictedPage {
  items: PredictedItem[]
  total: number
  offset: number
}

export interface AcceptAboveResult {
  /** Items whose model label this sets or changes (or did); ones already so labelled are not counted. */
  count: number
  /** Items above the threshold left alone because a human labelled them. */
  skippedHuman: number
  /** Items above the threshold whose predicted class the dataset does not have. */
  noClass: number
  applied: boolean
  history: LabelHistory
}

/** What deleting or merging a class does to labelled items, said before it happens. */
export interface ClassImpact {
  classId: string
  name: string
  humanLabels: number
  modelLabels: number
  /** Sentence for the confirm dialog. */
  message: string
  applied: boolean
}

export interface PredictionStatus {
  modelId: string
  datasetId: string
  predicted: number
  total: number
}

export const LabelsAssignInput = z
  .object({
    ids: Ids,
    /** null clears the human label. */
    classId: Id.nullable()
  })
  .strict()

export const LabelsAcceptInput = z.object({ ids: Ids, model: Ref }).strict()

export const LabelsDatasetInput = z.object({ dataset: Ref }).strict()

export const LabelsPredictInput = z.object({ dataset: Ref, model: Ref }).strict()

export const LabelsListInput = z
  .object({
    dataset: Ref,
    model: Ref.optional(),
    /**
     * all: any Datasets filter below; disagree: a human label the model disagrees with;
     * lowConfidence: predictions under `threshold` (default 0.5), least sure first.
     */
    mode: z.enum(['all', 'disagree', 'lowConfidence']).optional(),
    threshold: z.number().min(0).max(1).optional(),
    classId: z.string().min(1).max(128).optional(),
    split: z.enum(['train', 'val', 'test', 'none']).optional(),
    labelSource: z.enum(['human', 'model', 'none']).optional(),
    flag: z.string().min(1).max(64).optional(),
    sort: z.enum(ITEM_SORTS).optional(),
    desc: z.boolean().optional(),
    offset: z.number().int().min(0).optional(),
    limit: z.number().int().min(1).max(2000).optional()
  })
  .strict()

export const LabelsAcceptAboveInput = z
  .object({
    dataset: Ref,
    model: Ref,
    threshold: z.number().min(0).max(1),
    /** Only count; change nothing. */
    dryRun: z.boolean().optional()
  })
  .strict()

export const ClassCreateInput = z.object({ dataset: Ref, name: ClassName, color: Color.optional() }).strict()
export const ClassRenameInput = z.object({ id: Id, name: ClassName }).strict()
export const ClassRecolorInput = z.object({ id: Id, color: Color }).strict()
export const ClassReorderInput = z.object({ dataset: Ref, ids: z.array(Id).min(1).max(10_000) }).strict()
export const ClassMergeInput = z.object({ from: Id, into: Id, dryRun: z.boolean().optional() }).strict()
export const ClassDeleteInput = z.object({ id: Id, dryRun: z.boolean().optional() }).strict()
