// Class balance and per-split counts as bars (MUI boxes; no chart library), the
// last import's duplicates and unreadable files, making splits, and export.

import { useState } from 'react'
import Box from '@mui/material/Box'
import Button from '@mui/material/Button'
import MenuItem from '@mui/material/MenuItem'
import Stack from '@mui/material/Stack'
import TextField from '@mui/material/TextField'
import Typography from '@mui/material/Typography'
import type { Dataset, DatasetStats, ExportFormat, ImportResult, Job, SplitCounts } from '../../../../shared/contract'
import { useApiMutation, useApiQuery } from '../../api/hooks'
import { useNotify } from '../../app/notify'
import { Section } from '../../components/common'
import { SPLIT_COLORS } from './format'

const SPLIT_KEYS: (keyof SplitCounts)[] = ['train', 'val', 'test', 'none']

function BalanceBars({ stats }: { stats: DatasetStats }) {
  const rows = [
    ...stats.classes.map((c) => ({ key: c.id, name: c.name, color: c.color, count: c.count, splits: c.splits })),
    ...(stats.unlabelled.count ? [{ key: 'none', name: 'No label', color: '#9aa0a6', count: stats.unlabelled.count, splits: stats.unlabelled.splits }] : [])
  ]
  const max = Math.max(1, ...rows.map((r) => r.count))
  if (rows.length === 0) return <Typography sx={{ color: 'text.secondary' }}>No items yet.</Typography>
  return (
    <Box data-testid="balance-bars">
      <Stack direction="row" spacing={2} sx={{ mb: 1.5 }}>
        {SPLIT_KEYS.map((s) => (
          <Stack key={s} direction="row" spacing={0.75} sx={{ alignItems: 'center' }}>
            <Box sx={{ width: 10, height: 10, borderRadius: 0.5, bgcolor: SPLIT_COLORS[s] }} />
            <Typography variant="caption">{s === 'none' ? 'no split' : s}</Typography>
          </Stack>
        ))}
      </Stack>
      {rows.map((r) => (
        <Box key={r.key} sx={{ display: 'grid', gridTemplateColumns: 'minmax(80px, 160px) 1fr 64px', alignItems: 'center', gap: 1.5, py: 0.5 }}>
          <Stack direction="row" spacing={1} sx={{ alignItems: 'center', minWidth: 0 }}>
            <Box sx={{ width: 10, height: 10, borderRadius: '50%', bgcolor: r.color, flexShrink: 0 }} />
            <Typography variant="body2" noWrap title={r.name}>
              {r.name}
            </Typography>
          </Stack>
          <Box sx={{ height: 16, display: 'flex', width: `${(100 * r.count) / max}%`, minWidth: 2, borderRadius: 0.75, overflow: 'hidden' }} title={SPLIT_KEYS.map((s) => `${s}: ${r.splits[s]}`).join(', ')}>
            {SPLIT_KEYS.map((s) => (r.splits[s] ? <Box key={s} sx={{ flex: r.splits[s], bgcolor: SPLIT_COLORS[s] }} /> : null))}
          </Box>
          <Typography variant="body2" sx={{ textAlign: 'right', fontVariantNumeric: 'tabular-nums' }}>
            {r.count.toLocaleString()}
          </Typography>
        </Box>
      ))}
    </Box>
  )
}

function SplitTotals({ stats }: { stats: DatasetStats }) {
  const total = Math.max(1, stats.total)
  return (
    <Box data-testid="split-totals">
      <Box sx={{ display: 'flex', height: 22, borderRadius: 1, overflow: 'hidden', mb: 1 }}>
        {SPLIT_KEYS.map((s) => (stats.splits[s] ? <Box key={s} sx={{ flex: stats.splits[s], bgcolor: SPLIT_COLORS[s] }} /> : null))}
      </Box>
      <Stack direction="row" spacing={3} useFlexGap sx={{ flexWrap: 'wrap' }}>
        {SPLIT_KEYS.map((s) => (
          <Typography key={s} variant="body2" sx={{ fontVariantNumeric: 'tabular-nums' }}>
            <b>{s === 'none' ? 'No split' : s}</b> {stats.splits[s].toLocaleString()} ({Math.round((100 * stats.splits[s]) / total)}%)
          </Typography>
        ))}
      </Stack>
    </Box>
  )
}

function MakeSplits({ dataset, unsplit }: { dataset: Dataset; unsplit: number }) {
  const notify = useNotify()
  const [ratios, setRatios] = useState({ train: '0.8', val: '0.1', test: '0.1', seed: '0' })
  const split = useApiMutation('datasets.split', {
    onSuccess: (r) => notify.success(`Assigned ${r.assigned.toLocaleString()} items to splits.`),
    onError: (e) => notify.error(e)
  })
  const field = (k: keyof typeof ratios, label: string) => (
    <TextField size="small" label={label} value={ratios[k]} onChange={(e) => setRatios({ ...ratios, [k]: e.target.value })} sx={{ width: 90 }} />
  )
  return (
    <Stack direction="row" spacing={1.5} useFlexGap sx={{ flexWrap: 'wrap', alignItems: 'center' }}>
      {field('train', 'Train')}
      {field('val', 'Val')}
      {field('test', 'Test')}
      {field('seed', 'Seed')}
      <Button
        variant="outlined"
        disabled={unsplit === 0 || split.isPending}
        data-testid="make-splits"
        onClick={() =>
          split.mutate({ ref: dataset.id, train: Number(ratios.train), val: Number(ratios.val), test: Number(ratios.test), seed: Number(ratios.seed) })
        }
      >
        Split {unsplit.toLocaleString()} unsplit items
      </Button>
    </Stack>
  )
}

const EXPORT_HELP: Record<ExportFormat, string> = {
  folder: 'A tree folder/[split/]class/file; files already there are never overwritten (they are listed as skipped).',
  csv: 'A folder with labels.csv (path,label,split) and images/; taken names get a number; imports back as it is.',
  zip: 'One archive with the [split/]class/ tree and labels.csv, into a folder or at a path ending in .zip; a taken name gets a number; at most 4 GiB.'
}

function ExportForm({ dataset }: { dataset: Dataset }) {
  const notify = useNotify()
  const [folder, setFolder] = useState('')
  const [format, setFormat] = useState<ExportFormat>('folder')
  const [snapshot, setSnapshot] = useState('current')
  const snapshots = useApiQuery('snapshots.list', { dataset: dataset.id })
  const exp = useApiMutation('datasets.export', {
    onSuccess: (r) =>
      r.skipped.length
        ? notify.info(`Exported ${r.files} files; ${r.skipped.length} were left out (already there or unreadable).`)
        : notify.success(`Exported ${r.files} files to ${r.file ?? r.folder}.`),
    onError: (e) => notify.error(e)
  })
  return (
    <Box data-testid="export-form">
      <Stack direction="row" spacing={1.5} sx={{ alignItems: 'center' }}>
        <TextField select size="small" label="Format" value={format} onChange={(e) => setFormat(e.target.value as ExportFormat)} sx={{ width: 150 }} data-testid="export-format">
          <MenuItem value="folder">Folder tree</MenuItem>
          <MenuItem value="csv">CSV + images</MenuItem>
          <MenuItem value="zip">Zip</MenuItem>
        </TextField>
        <TextField select size="small" label="What" value={snapshot} onChange={(e) => setSnapshot(e.target.value)} sx={{ width: 220 }}>
          <MenuItem value="current">Current state</MenuItem>
          {(snapshots.data ?? []).map((s) => (
            <MenuItem key={s.id} value={s.id}>
              Snapshot {s.name}
            </MenuItem>
          ))}
        </TextField>
        <TextField size="small" label={format === 'zip' ? 'Folder or .zip file' : 'Folder'} value={folder} onChange={(e) => setFolder(e.target.value)} sx={{ flex: 1 }} placeholder={format === 'zip' ? '/home/me/exports/birds.zip' : '/home/me/exports/birds'} />
        <Button variant="outlined" disabled={!folder.trim() || exp.isPending} onClick={() => exp.mutate({ ref: dataset.id, folder, format, ...(snapshot !== 'current' ? { snapshot } : {}) })}>
          Export
        </Button>
      </Stack>
      <Typography variant="caption" sx={{ color: 'text.secondary', mt: 0.75, display: 'block' }}>
        {EXPORT_HELP[format]}
      </Typography>
    </Box>
  )
}

export function ImportReport({ job }: { job: Job }) {
  const r = job.result as ImportResult | null
  if (!r) return null
  return (
    <Box data-testid="import-report">
      <Typography variant="body2" sx={{ mb: 1 }}>
        Imported {r.imported.toLocaleString()} of {r.scanned.toLocaleString()} files; {r.duplicates.length} exact duplicate
        {r.duplicates.length === 1 ? '' : 's'} kept once; {r.errors.length} file{r.errors.length === 1 ? '' : 's'} could not be read.
      </Typography>
      {r.errors.length > 0 && (
        <Box component="ul" sx={{ m: 0, pl: 2.5, maxHeight: 220, overflow: 'auto' }} data-testid="import-errors">
          {r.errors.map((e, i) => (
            <li key={i}>
              <Typography variant="body2">
                <Box component="span" sx={{ fontFamily: 'monospace', fontSize: 12 }}>
                  {e.path}
                </Box>{' '}
                {e.reason}
              </Typography>
            </li>
          ))}
        </Box>
      )}
      {r.duplicates.length > 0 && (
        <Box component="ul" sx={{ m: 0, mt: 1, pl: 2.5, maxHeight: 160, overflow: 'auto' }}>
          {r.duplicates.map((d, i) => (
            <li key={i}>
              <Typography variant="body2" sx={{ color: 'text.secondary' }}>
                {d.path} is the same file as {d.sameAs}
              </Typography>
            </li>
          ))}
        </Box>
      )}
    </Box>
  )
}

export function Overview({ dataset, lastImport }: { dataset: Dataset; lastImport: Job | null }) {
  const stats = useApiQuery('datasets.stats', { ref: dataset.id })
  if (!stats.data) return null
  const s = stats.data
  return (
    <Box sx={{ overflow: 'auto', flex: 1 }}>
      <Section title="Class balance" description="Items per class, coloured by split.">
        <BalanceBars stats={s} />
      </Section>
      <Section title="Splits" description="Only items without a split are assigned; items already in a split, test above all, never move.">
        <SplitTotals stats={s} />
        <Box sx={{ mt: 2 }}>
          <MakeSplits dataset={dataset} unsplit={s.splits.none} />
        </Box>
      </Section>
      {lastImport && lastImport.state === 'done' && (
        <Section title="Last import">
          <ImportReport job={lastImport} />
        </Section>
      )}
      <Section title="Export" description="As a folder tree, a CSV with its images, or a zip; from the current state or a snapshot. Nothing is ever overwritten.">
        <ExportForm dataset={dataset} />
      </Section>
      <Typography variant="body2" sx={{ color: 'text.secondary', mb: 2 }}>
        Likely mislabels, outliers and near-duplicates by model features: the Curation tab.
      </Typography>
    </Box>
  )
}
