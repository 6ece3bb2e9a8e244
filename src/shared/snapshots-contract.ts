// Contract pieces for dataset snapshots and export formats (issue 7): freeze a dataset's items,
// human labels and splits under a name, list / show / delete them, diff two of them (or one
// against the current state). Joined into the method table in contract.ts as `snapshotMethods`.

import { z } from 'zod'
import { type SplitCounts, type SplitName } from './datasets-contract'

const Ref = z.string().trim().min(1).max(200)
const SnapshotName = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters')
  .refine((s) => !/[\r\n\0]/.test(s), 'must be one line without control characters')
  .refine((s) => s.toLowerCase() !== 'current', '"current" names the live dataset in a diff; choose another name')

export interface SnapshotInfo {
  id: string
  datasetId: string
  name: string
  note: string
  /** sha256 over the sorted (item, content, label, split) rows: equal hashes, equal contents. */
  hash: string
  itemCount: number
  labelled: number
  /** Class names in the dataset's order when the snapshot was taken. */
  classes: string[]
  splits: SplitCounts
  /** Taken automatically when a training run started. */
  auto: boolean
  createdAt: string
  /** Training runs that recorded this snapshot. */
  usedBy: { runId: string; modelId: string | null; state: string }[]
}

export type SnapshotChange = 'added' | 'removed' | 'relabelled' | 'moved'

export interface SnapshotDiffEntry {
  itemId: string
  name: string
  sha256: string
  /** 'relabelled' and 'moved' can both apply to one item. */
  changes: SnapshotChange[]
  /** Class name (null: unlabelled) and split on each side; null when the item is not on that side. */
  from: { className: string | null; split: SplitName | null } | null
  to: { className: string | null; split: SplitName | null } | null
}

export interface SnapshotDiff {
  from: { id: string; name: string }
  /** id 'current': the dataset as it is now. */
  to: { id: string; name: string }
  counts: Record<SnapshotChange, number> & { unchanged: number; changed: number }
  /** Changed items, sorted by name; at most `limit` from `offset`. */
  items: SnapshotDiffEntry[]
  offset: number
}

export const SnapshotCreateInput = z
  .object({
    dataset: Ref,
    /** Default: the date and time. */
    name: SnapshotName.optional(),
    note: z.string().max(10_000).optional()
  })
  .strict()

export const SnapshotListInput = z.object({ dataset: Ref }).strict()

/** A snapshot by id or by its name within the dataset. */
export const SnapshotRefInput = z.object({ dataset: Ref, snapshot: Ref }).strict()

export const SnapshotDeleteInput = z
  .object({
    dataset: Ref,
    snapshot: Ref,
    /** Needed when training runs recorded the snapshot (they keep its id, name and hash). */
    force: z.boolean().optional()
  })
  .strict()

export const SnapshotDiffInput = z
  .object({
    dataset: Ref,
    /** A snapshot id or name. */
    from: Ref,
    /** A snapshot id or name, or 'current' (the default): the dataset as it is now. */
    to: Ref.optional(),
    change: z.enum(['added', 'removed', 'relabelled', 'moved']).optional(),
    offset: z.number().int().min(0).optional(),
    limit: z.number().int().min(1).max(100_000).optional()
  })
  .strict()

export type ExportFormat = 'folder' | 'csv' | 'zip'

/** Zip entries and offsets are 32-bit (no ZIP64): the largest archive the exporter writes. */
export const ZIP_MAX_BYTES = 0xffff_ffff
export const ZIP_MAX_ENTRIES = 0xffff

function method<R>() {
  return <I extends z.ZodType>(input: I, description: string) => ({ input, description, result: undefined as unknown as R })
}

export const snapshotMethods = {
  'snapshots.create': method<SnapshotInfo>()(SnapshotCreateInput, "Freeze a dataset's items, human labels and splits as a named snapshot."),
  'snapshots.list': method<SnapshotInfo[]>()(SnapshotListInput, "A dataset's snapshots, newest first."),
  'snapshots.get': method<SnapshotInfo>()(SnapshotRefInput, 'One snapshot (by id or name) with its counts and the runs that used it.'),
  'snapshots.delete': method<{ id: string }>()(SnapshotDeleteInput, 'Delete a snapshot (refused while training runs name it, unless force).'),
  'snapshots.diff': method<SnapshotDiff>()(SnapshotDiffInput, 'What changed between two snapshots, or a snapshot and the current dataset: added, removed, relabelled, moved.')
} as const
