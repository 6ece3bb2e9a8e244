// `tessera dataset import|show|split|dedupe|export|snapshot`: dataset import and curation from
// the command line, through the same services as the window. `import` runs its job in
// this process with progress on stderr; --json prints the dataset with its counts and
// the import's duplicate and error lists.

import { type Command, InvalidArgumentError } from 'commander'
import {
  type Dataset,
  type DatasetStats,
  type ImportResult,
  type Job,
  type MethodInput,
  type MethodName,
  type MethodResult,
  type SnapshotChange,
  type SnapshotDiffEntry,
  type SnapshotInfo
} from '../../shared/contract'

export interface DatasetCliHelpers {
  call<M extends MethodName>(method: M, input: MethodInput<M>): Promise<MethodResult<M>>
  print<T>(value: T, human: (v: T) => string): void
  /** Runs a queued job here until it settles, progress on stderr. */
  runJob(jobId: string): Promise<Job>
  /** Throws the CLI's failure for a job that did not finish. */
  jobOutcome(job: Job): void
  fail(): void
}

const ratio = (flag: string) => (v: string): number => {
  const n = Number(v)
  if (v.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError(`${flag} must be a number from 0 to 1, not "${v}".`)
  return n
}
const whole = (flag: string, max: number) => (v: string): number => {
  const n = Number(v)
  if (!/^\s*\d+\s*$/.test(v) || n > max) throw new InvalidArgumentError(`${flag} must be a whole number from 0 to ${max}, not "${v}".`)
  return n
}

const oneOf =
  <T extends string>(flag: string, values: readonly T[]) =>
  (v: string): T => {
    if (!(values as readonly string[]).includes(v)) throw new InvalidArgumentError(`${flag} must be one of ${values.join(', ')}, not "${v}".`)
    return v as T
  }

const bar = (n: number, max: number, width = 24): string => '█'.repeat(max > 0 ? Math.round((n / max) * width) : 0)

export function statsHuman(d: Dataset, s: DatasetStats): string {
  const lines = [`${d.id}  ${d.name}  (${s.total} items, ${d.labelledCount} labelled)`]
  const rows = [...s.classes.map((c) => ({ name: c.name, count: c.count, splits: c.splits })), ...(s.unlabelled.count ? [{ name: '(unlabelled)', ...s.unlabelled }] : [])]
  const max = Math.max(0, ...rows.map((r) => r.count))
  const width = Math.max(8, ...rows.map((r) => r.name.length))
  if (rows.length) lines.push(`  ${'class'.padEnd(width)}  ${'items'.padStart(6)}  train    val   test  none`)
  for (const r of rows)
    lines.push(
      `  ${r.name.padEnd(width)}  ${String(r.count).padStart(6)}  ${[r.splits.train, r.splits.val, r.splits.test, r.splits.none].map((n) => String(n).padStart(5)).join('  ')}  ${bar(r.count, max)}`
    )
  lines.push(`  splits: train ${s.splits.train}, val ${s.splits.val}, test ${s.splits.test}, none ${s.splits.none}`)
  const flags = Object.entries(s.flags)
  if (flags.length) lines.push(`  flags: ${flags.map(([f, n]) => `${f} ${n}`).join(', ')}`)
  return lines.join('\n')
}

export function registerDatasetCommands(dataset: Command, h: DatasetCliHelpers): void {
  const show = async (ref: string): Promise<Dataset & { stats: DatasetStats }> => {
    const d = await h.call('datasets.get', { ref })
    return { ...d, stats: await h.call('datasets.stats', { ref: d.id }) }
  }

  dataset
    .command('show <ref>')
    .description('one dataset, by id or name, with counts per class and split')
    .action(async (ref: string) => h.print(await show(ref), (v) => statsHuman(v, v.stats)))

  dataset
    .command('import <source>')
    .description('import a folder (subfolders are classes) or a CSV of path,label[,split] rows into a new dataset')
    .requiredOption('--name <name>', 'name of the new dataset')
    .option('--split-from-folders', 'top folders named train/val/test set the split')
    .option('--reference', 'leave files where they are instead of copying them into the library')
    .action(async (source: string, o: { name: string; splitFromFolders?: boolean; reference?: boolean }) => {
      const job = await h.call('datasets.import', { name: o.name, source, splitFromFolders: !!o.splitFromFolders, reference: !!o.reference })
      process.stderr.write(`Job ${job.id}\n`)
      const final = await h.runJob(job.id)
      h.jobOutcome(final)
      const r = final.result as ImportResult
      const d = await show(r.datasetId)
      h.print({ ...d, import: r }, (v) => {
        const lines = [
          `Imported ${r.imported} of ${r.scanned} files into “${v.name}” (${r.stored} new files stored, ${r.duplicates.length} duplicates, ${r.errors.length} unreadable).`,
          statsHuman(v, v.stats)
        ]
        for (const dup of r.duplicates) lines.push(`  duplicate: ${JSON.stringify(dup.path)} is the same file as ${JSON.stringify(dup.sameAs)}`)
        for (const e of r.errors) lines.push(`  skipped: ${JSON.stringify(e.path)} ${e.reason}`)
        return lines.join('\n')
      })
    })

  dataset
    .command('split <ref>')
    .description('stratified, seeded train/val/test for items without a split (items already split never move)')
    .option('--train <r>', 'share for training', ratio('--train'), 0.8)
    .option('--val <r>', 'share for validation', ratio('--val'), 0.1)
    .option('--test <r>', 'share for testing', ratio('--test'), 0.1)
    .option('--seed <n>', 'random seed', whole('--seed', 2 ** 31 - 1), 0)
    .action(async (ref: string, o: { train: number; val: number; test: number; seed: number }) => {
      const r = await h.call('datasets.split', { ref, train: o.train, val: o.val, test: o.test, seed: o.seed })
      const d = await h.call('datasets.get', { ref })
      h.print(r, (v) => `Assigned ${v.assigned} items.\n${statsHuman(d, v.stats)}`)
    })

  dataset
    .command('dedupe <ref>')
    .description('near-duplicate groups by perceptual hash (flags their items; removes nothing)')
    .option('--threshold <bits>', 'largest hash distance, of 64 bits, that counts as the same picture', whole('--threshold', 24), 6)
    .action(async (ref: string, o: { threshold: number }) => {
      const groups = await h.call('datasets.duplicates', { ref, threshold: o.threshold })
      h.print(groups, (gs) =>
        gs.length
          ? gs.map((g, i) => `group ${i + 1} (distance ≤ ${g.maxDistance}):\n${g.items.map((it) => `  ${it.id}  ${JSON.stringify(it.name)}  ${it.className ?? '-'}`).join('\n')}`).join('\n')
          : 'No near-duplicates.'
      )
    })

  dataset
    .command('export <ref> <folder>')
    .description('export items: folder = <folder>/[split/]class/ files, csv = <folder>/labels.csv + images/, zip = one archive (<folder> may end in .zip); nothing is overwritten')
    .option('--format <format>', 'folder, csv or zip', oneOf('--format', ['folder', 'csv', 'zip'] as const), 'folder' as const)
    .option('--snapshot <snapshot>', 'export what this snapshot (id or name) froze instead of the dataset now')
    .action(async (ref: string, folder: string, o: { format: 'folder' | 'csv' | 'zip'; snapshot?: string }) => {
      const r = await h.call('datasets.export', { ref, folder, format: o.format, ...(o.snapshot ? { snapshot: o.snapshot } : {}) })
      h.print(r, (v) => [`Exported ${v.files} files to ${v.file ?? v.folder}.`, ...v.skipped.map((s) => `  skipped: ${s.path} ${s.reason}`)].join('\n'))
      if (r.skipped.length) h.fail()
    })

  const snapshot = dataset.command('snapshot').alias('snapshots').description('named versions of a dataset: items, human labels and splits frozen')
  const snapLine = (s: SnapshotInfo): string =>
    `${s.id}  ${s.name}${s.auto ? ' (auto)' : ''}  ${s.createdAt}  ${s.itemCount} items, ${s.labelled} labelled, train ${s.splits.train} / val ${s.splits.val} / test ${s.splits.test} / none ${s.splits.none}${s.usedBy.length ? `, used by ${s.usedBy.length} run${s.usedBy.length === 1 ? '' : 's'}` : ''}`
  snapshot
    .command('create <ref>')
    .description('freeze the dataset as it is now')
    .option('--name <name>', 'name of the snapshot (default: the date and time)')
    .option('--note <text>', 'what this version is')
    .action(async (ref: string, o: { name?: string; note?: string }) => {
      const s = await h.call('snapshots.create', { dataset: ref, ...(o.name ? { name: o.name } : {}), ...(o.note ? { note: o.note } : {}) })
      h.print(s, snapLine)
    })
  snapshot
    .command('list <ref>')
    .description("the dataset's snapshots, newest first")
    .action(async (ref: string) => {
      const list = await h.call('snapshots.list', { dataset: ref })
      h.print(list, (l) => (l.length ? l.map(snapLine).join('\n') : 'No snapshots.'))
    })
  snapshot
    .command('show <ref> <snapshot>')
    .description('one snapshot with its counts and the training runs that used it')
    .action(async (ref: string, snap: string) => {
      const s = await h.call('snapshots.get', { dataset: ref, snapshot: snap })
      h.print(s, (v) => [snapLine(v), `  hash ${v.hash}`, `  classes: ${v.classes.join(', ') || '-'}`, ...(v.note ? [`  note: ${v.note}`] : []), ...v.usedBy.map((u) => `  run ${u.runId} (${u.state})${u.modelId ? ` -> model ${u.modelId}` : ''}`)].join('\n'))
    })
  snapshot
    .command('delete <ref> <snapshot>')
    .description('delete a snapshot (--force when training runs recorded it)')
    .option('--force', 'delete even when training runs name it')
    .action(async (ref: string, snap: string, o: { force?: boolean }) => {
      const r = await h.call('snapshots.delete', { dataset: ref, snapshot: snap, force: !!o.force })
      h.print(r, (v) => `Deleted snapshot ${v.id}.`)
    })
  snapshot
    .command('diff <ref> <from> [to]')
    .description("what changed from snapshot <from> to snapshot [to] (default: the dataset now, 'current')")
    .option('--change <kind>', 'only added, removed, relabelled or moved items', oneOf('--change', ['added', 'removed', 'relabelled', 'moved'] as const))
    .option('--limit <n>', 'most items to list', whole('--limit', 100_000), 1000)
    .action(async (ref: string, from: string, to: string | undefined, o: { change?: SnapshotChange; limit: number }) => {
      const d = await h.call('snapshots.diff', { dataset: ref, from, ...(to ? { to } : {}), ...(o.change ? { change: o.change } : {}), limit: o.limit })
      h.print(d, (v) => {
        const side = (x: SnapshotDiffEntry['from']): string => (x ? `${x.className ?? '(unlabelled)'}/${x.split ?? 'none'}` : '-')
        const c = v.counts
        const lines = [`${v.from.name} -> ${v.to.name}: ${c.added} added, ${c.removed} removed, ${c.relabelled} relabelled, ${c.moved} moved, ${c.unchanged} unchanged`]
        for (const e of v.items) lines.push(`  ${e.changes.join('+').padEnd(17)} ${JSON.stringify(e.name)}  ${side(e.from)} -> ${side(e.to)}`)
        const shown = v.items.length
        const total = o.change ? c[o.change] : c.changed
        if (shown < total) lines.push(`  … ${total - shown} more (--limit)`)
        return lines.join('\n')
      })
    })
}
