// Batch classification in the contract (issue 9; src/main/classify, docs/classify.md): start a
// classify job over folders, list runs, page through results, correct labels, send corrected
// images to a dataset, export, undo moves.

import { z } from 'zod'

const Ref = z.string().trim().min(1).max(200)
const Path = z.string().trim().min(1).max(4096)

export const ClassifyAction = z.enum(['none', 'copy', 'move'])
export type ClassifyAction = z.infer<typeof ClassifyAction>

export const ClassifyParams = z
  .object({
    folders: z.array(Path).min(1).max(100),
    model: Ref,
    /** Below this top probability a file is `unsure`. */
    threshold: z.number().min(0).max(1).default(0),
    action: ClassifyAction.default('none'),
    /** Root of the class folders for copy/move. */
    root: Path.optional(),
    dryRun: z.boolean().default(false),
    recursive: z.boolean().default(true),
    /** Extensions to classify (no dot); default the common image types. */
    extensions: z.array(z.string().trim().min(1).max(16)).max(50).optional(),
    topK: z.number().int().min(1).max(100).default(3),
    /** CSV kept up to date while the run goes and complete at its end. */
    out: Path.optional(),
    batchSize: z.number().int().min(1).max(1024).optional()
  })
  .strict()
  .refine((p) => p.action === 'none' || !!p.root, { message: 'copy and move need a root folder', path: ['root'] })
export type ClassifyParamsInput = z.input<typeof ClassifyParams>
export type ClassifyParams = z.output<typeof ClassifyParams>

export interface TopClass {
  label: string
  probability: number
}

export interface ClassifyRow {
  seq: number
  path: string
  status: 'ok' | 'error'
  /** Top label, or 'unsure' below the threshold; null for errors. */
  label: string | null
  topLabel: string | null
  confidence: number | null
  topK: TopClass[]
  error: string | null
  action: string | null
  dest: string | null
  /** pending | done | skipped | undone | planned */
  actionStatus: string | null
  actionNote: string | null
  corrected: string | null
  sha256: string | null
  size: number | null
  mtimeMs: number | null
}

export interface ClassifyRunCounts {
  files: number
  ok: number
  error: number
  unsure: number
  byLabel: Record<string, number>
}

export interface ClassifyRunInfo {
  id: string
  modelId: string | null
  modelName: string
  params: ClassifyParams
  labels: string[]
  createdAt: string
  undoneAt: string | null
  counts: ClassifyRunCounts
  /** Destination folder -> files (done, or planned by a dry run). */
  plan: Record<string, number>
  job: { state: string; done: number; total: number | null; rate: number | null; etaS: number | null; error: string | null } | null
}

export interface ClassifyUndoReport {
  restored: number
  removedCopies: number
  skipped: { path: string; reason: string }[]
}

export const ClassifyResultsQuery = z
  .object({
    runId: Ref,
    label: z.string().max(200).optional(),
    minConfidence: z.number().min(0).max(1).optional(),
    maxConfidence: z.number().min(0).max(1).optional(),
    errorsOnly: z.boolean().optional(),
    search: z.string().max(500).optional(),
    sort: z.enum(['seq', 'confidence', 'label', 'status']).optional(),
    desc: z.boolean().optional(),
    offset: z.number().int().min(0).optional(),
    limit: z.number().int().min(1).max(5000).optional()
  })
  .strict()
export type ClassifyResultsQuery = z.infer<typeof ClassifyResultsQuery>

export const ClassifyCorrectInput = z.object({ runId: Ref, paths: z.array(Path).min(1).max(100_000), label: z.string().trim().min(1).max(200).nullable() }).strict()
export const ClassifyToDatasetInput = z
  .object({ runId: Ref, dataset: Ref, paths: z.array(Path).max(100_000).optional(), correctedOnly: z.boolean().default(true) })
  .strict()
export const ClassifyExportInput = z.object({ runId: Ref, out: Path, format: z.enum(['csv', 'json']) }).strict()
export const ClassifyThumbInput = z.object({ runId: Ref, path: Path, side: z.number().int().min(16).max(512).default(64) }).strict()
