// Contract pieces for dataset items, import and curation (issue 7). Joined into the
// method table in contract.ts; kept here so that file stays a table of contents.

import { z } from 'zod'
import { CURATION_SORTS } from './curation-contract'

const Id = z.string().min(1).max(128)
const Ref = z.string().trim().min(1).max(200)
const DatasetName = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters')
  .refine((s) => !/[\r\n\0]/.test(s), 'must be one line without control characters')

export type SplitName = 'train' | 'val' | 'test'
export type LabelSourceName = 'human' | 'model' | 'none'
export type SplitCounts = Record<SplitName | 'none', number>

export interface DatasetItem {
  id: string
  datasetId: string
  sha256: string
  /** Path relative to the import root (or as written in the CSV). */
  name: string
  sourcePath: string | null
  addedAt: string
  classId: string | null
  className: string | null
  /** Where the effective label comes from: a human label wins over a model suggestion. */
  labelSource: LabelSourceName
  suggestedClassId: string | null
  confidence: number | null
  split: SplitName | null
  bytes: number
  width: number | null
  height: number | null
  format: string | null
  mime: string
  /** True when the file stays where it was imported from (not copied into the library). */
  referenced: boolean
  flags: string[]
}

export interface ItemPage {
  items: DatasetItem[]
  total: number
  offset: number
}

export interface ClassStats {
  id: string
  name: string
  color: string
  count: number
  splits: SplitCounts
}

export interface DatasetStats {
  datasetId: string
  total: number
  classes: ClassStats[]
  unlabelled: { count: number; splits: SplitCounts }
  splits: SplitCounts
  labelSources: Record<LabelSourceName, number>
  flags: Record<string, number>
}

export interface ImportIssue {
  path: string
  reason: string
}

export interface ImportResult {
  datasetId: string
  datasetName: string
  /** Files found by the scan. */
  scanned: number
  /** Items added to the dataset. */
  imported: number
  /** New files written to the library store (the rest were there already or referenced). */
  stored: number
  /** Files with the same bytes as an earlier one: one item, reported here. */
  duplicates: { path: string; sameAs: string }[]
  errors: ImportIssue[]
  resumedFrom: number
}

export interface DuplicateGroup {
  /** Largest perceptual-hash distance (bits of 64) to the group's first item; 0 for identical pictures. */
  maxDistance: number
  items: DatasetItem[]
}

export interface SplitResult {
  assigned: number
  stats: DatasetStats
}

export interface ExportResult {
  format: 'folder' | 'csv' | 'zip'
  /** The tree's root (folder), the folder holding labels.csv and images/ (csv), the zip's folder (zip). */
  folder: string
  /** The CSV or zip written (a numbered name when the plain one was taken); null for folder. */
  file: string | null
  files: number
  skipped: ImportIssue[]
}

export const DatasetImportInput = z
  .object({
    name: DatasetName,
    /** A folder, or a .csv file of `path,label[,split]` rows. */
    source: z.string().trim().min(1, 'must not be empty').max(4096),
    splitFromFolders: z.boolean().optional(),
    /** Leave files where they are instead of copying them into the library. */
    reference: z.boolean().optional()
  })
  .strict()

/** Sort orders of items.list: name, date, size, and the curation scores. */
export const ITEM_SORTS = ['name', 'date', 'size', ...CURATION_SORTS] as const
export type ItemSort = (typeof ITEM_SORTS)[number]

const SplitFilter = z.enum(['train', 'val', 'test', 'none'])

export const ItemsListInput = z
  .object({
    dataset: Ref,
    offset: z.number().int().min(0).optional(),
    limit: z.number().int().min(1).max(2000).optional(),
    /** A class id, or 'none' for items without a label. */
    classId: z.string().min(1).max(128).optional(),
    split: SplitFilter.optional(),
    labelSource: z.enum(['human', 'model', 'none']).optional(),
    flag: z.string().min(1).max(64).optional(),
    /** name, date, size, or a score of the dataset's latest curation run (items without one last). */
    sort: z.enum(ITEM_SORTS).optional(),
    desc: z.boolean().optional()
  })
  .strict()

const Ids = z.array(Id).min(1).max(100_000)

export const ItemsSetLabelInput = z.object({ ids: Ids, classId: Id.nullable() }).strict()
export const ItemsSetSplitInput = z
  .object({
    ids: Ids,
    split: z.enum(['train', 'val', 'test']).nullable(),
    /** Needed to move items out of the test split. */
    allowTestMove: z.boolean().optional()
  })
  .strict()
export const ItemsRemoveInput = z.object({ ids: Ids }).strict()

export const DatasetSplitInput = z
  .object({
    ref: Ref,
    train: z.number().min(0).max(1),
    val: z.number().min(0).max(1),
    test: z.number().min(0).max(1),
    seed: z.number().int().min(0).max(2 ** 31 - 1).optional()
  })
  .strict()
  .refine((r) => Math.abs(r.train + r.val + r.test - 1) < 1e-6, { message: 'train, val and test must add up to 1', path: ['train'] })

export const DatasetDuplicatesInput = z
  .object({
    ref: Ref,
    /** Largest perceptual-hash distance (of 64 bits) that still counts as the same picture. */
    threshold: z.number().int().min(0).max(24).optional()
  })
  .strict()

export const DatasetExportInput = z
  .object({
    ref: Ref,
    /** Target folder; for zip also a path ending in .zip. */
    folder: z.string().trim().min(1).max(4096),
    format: z.enum(['folder', 'csv', 'zip']).optional(),
    /** Export what this snapshot (id or name) froze instead of the dataset as it is now. */
    snapshot: Ref.optional()
  })
  .strict()
