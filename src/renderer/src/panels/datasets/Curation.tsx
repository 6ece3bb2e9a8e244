// Curation with a model: pick an ImageGPT model, run the curation job (progress here and in
// the jobs drawer), see what it found (likely mislabels, outliers, feature near-duplicates),
// open each finding as a filter in the Items grid or the Label panel, and review the likely
// mislabels: given vs suggested label with one-click accept (undoable) or keep.

import { useState } from 'react'
import { useQueries } from '@tanstack/react-query'
import Box from '@mui/material/Box'
import Button from '@mui/material/Button'
import LinearProgress from '@mui/material/LinearProgress'
import MenuItem from '@mui/material/MenuItem'
import Stack from '@mui/material/Stack'
import TextField from '@mui/material/TextField'
import Typography from '@mui/material/Typography'
import ArrowForwardIcon from '@mui/icons-material/ArrowForward'
import type { ClassInfo, CurationSummary, Dataset, Job, MislabelRow } from '../../../../shared/contract'
import { callOrThrow, queryKey, useApi, useApiMutation, useApiQuery } from '../../api/hooks'
import { useNotify } from '../../app/notify'
import { Section, formatDate } from '../../components/common'
import { JOBS_LIST_INPUT, isActive } from '../../jobs/JobsDrawer'
import { Thumb, type ItemFilters } from './ItemGrid'

const FLAG = { mislabel: 'likely-mislabel', outlier: 'outlier', duplicate: 'feature-duplicate' } as const

function ClassChip({ c, strong }: { c: ClassInfo | undefined; strong?: boolean }) {
  return (
    <Stack direction="row" spacing={0.75} sx={{ alignItems: 'center', minWidth: 0 }}>
      <Box sx={{ width: 10, height: 10, borderRadius: '50%', bgcolor: c?.color ?? '#9aa0a6', flexShrink: 0 }} />
      <Typography variant="body2" noWrap sx={{ fontWeight: strong ? 600 : 400 }}>
        {c?.name ?? '—'}
      </Typography>
    </Stack>
  )
}

function Finding({ title, count, detail, onGrid, labelHref, testId }: {
  title: string
  count: number | null
  detail: string
  onGrid: () => void
  labelHref: string
  testId: string
}) {
  return (
    <Box sx={{ border: 1, borderColor: 'divider', borderRadius: 1.5, p: 1.5, minWidth: 220, flex: 1, bgcolor: 'background.paper' }} data-testid={testId}>
      <Typography variant="body2" sx={{ color: 'text.secondary' }}>
        {title}
      </Typography>
      <Typography variant="h5" sx={{ fontVariantNumeric: 'tabular-nums', my: 0.25 }} data-testid={`${testId}-count`}>
        {count === null ? '—' : count.toLocaleString()}
      </Typography>
      <Typography variant="caption" component="div" sx={{ color: 'text.secondary', minHeight: 32 }}>
        {detail}
      </Typography>
      <Stack direction="row" spacing={1} sx={{ mt: 1 }}>
        <Button size="small" variant="outlined" disabled={!count} onClick={onGrid} data-testid={`${testId}-grid`}>
          Show in grid
        </Button>
        <Button size="small" disabled={!count} href={labelHref} endIcon={<ArrowForwardIcon fontSize="small" />}>
          Label
        </Button>
      </Stack>
    </Box>
  )
}

function MislabelList({ dataset, classes }: { dataset: Dataset; classes: Map<string, ClassInfo> }) {
  const notify = useNotify()
  const list = useApiQuery('curation.mislabels', { dataset: dataset.id, limit: 200 })
  const accept = useApiMutation('curation.accept', {
    onSuccess: (r) => notify.success(`Label changed on ${r.changed} item${r.changed === 1 ? '' : 's'}; undo in the Label panel.`),
    onError: (e) => notify.error(e)
  })
  const dismiss = useApiMutation('curation.dismiss', { onError: (e) => notify.error(e) })
  const rows = list.data?.rows ?? []
  if (!list.data) return null
  if (rows.length === 0) return <Typography sx={{ color: 'text.secondary' }}>No likely mislabels left to review.</Typography>
  const pct = (v: number | null) => (v === null ? '—' : `${Math.round(v * 100)}%`)
  return (
    <Box data-testid="mislabel-list">
      <Stack direction="row" spacing={1.5} sx={{ alignItems: 'center', mb: 1 }}>
        <Typography variant="body2" sx={{ color: 'text.secondary' }}>
          {list.data.total.toLocaleString()} to review, least sure of the given label first{list.data.total > rows.length ? ` (first ${rows.length} shown)` : ''}.
        </Typography>
        <Button
          size="small"
          sx={{ ml: 'auto !important' }}
          disabled={accept.isPending}
          onClick={() => accept.mutate({ ids: rows.map((r) => r.item.id) })}
          data-testid="mislabel-accept-all"
        >
          Accept all {rows.length} suggestions
        </Button>
      </Stack>
      <Box sx={{ display: 'grid', gridTemplateColumns: '64px minmax(120px, 1.4fr) 1fr 1fr 90px 180px', alignItems: 'center', columnGap: 1.5, rowGap: 0.75 }}>
        {['', 'Item', 'Given label', 'Suggested', 'Sure of given', ''].map((h, i) => (
          <Typography key={i} variant="caption" sx={{ color: 'text.secondary', fontWeight: 600 }}>
            {h}
          </Typography>
        ))}
        {rows.map((r: MislabelRow) => (
          <Box key={r.item.id} sx={{ display: 'contents' }} data-testid="mislabel-row">
            <Thumb item={r.item} size={64} />
            <Typography variant="body2" noWrap title={r.item.name}>
              {r.item.name}
            </Typography>
            <ClassChip c={r.givenClassId ? classes.get(r.givenClassId) : undefined} />
            <Stack direction="row" spacing={1} sx={{ alignItems: 'center' }}>
              <ClassChip c={r.suggestedClassId ? classes.get(r.suggestedClassId) : undefined} strong />
              <Typography variant="caption" sx={{ color: 'text.secondary' }}>
                {pct(r.suggestedConfidence)}
              </Typography>
            </Stack>
            <Typography variant="body2" sx={{ fontVariantNumeric: 'tabular-nums' }}>
              {pct(r.selfConfidence)}
            </Typography>
            <Stack direction="row" spacing={0.5}>
              <Button size="small" variant="contained" disabled={accept.isPending} onClick={() => accept.mutate({ ids: [r.item.id] })} data-testid="mislabel-accept">
                Accept
              </Button>
              <Button size="small" disabled={dismiss.isPending} onClick={() => dismiss.mutate({ ids: [r.item.id] })} data-testid="mislabel-keep">
                Keep given
              </Button>
            </Stack>
          </Box>
        ))}
      </Box>
    </Box>
  )
}

function DuplicateGroups({ dataset }: { dataset: Dataset }) {
  const groups = useApiQuery('curation.featureDuplicates', { dataset: dataset.id })
  if (!groups.data || groups.data.length === 0) return <Typography sx={{ color: 'text.secondary' }}>No feature near-duplicates.</Typography>
  return (
    <Box data-testid="feature-dup-groups">
      {groups.data.map((g) => (
        <Stack key={g.items.map((i) => i.id).join()} direction="row" spacing={1} sx={{ alignItems: 'center', mb: 1 }}>
          {g.items.map((i) => (
            <Thumb key={i.id} item={i} size={64} />
          ))}
          <Typography variant="caption" sx={{ color: 'text.secondary' }}>
            similarity ≥ {g.minSimilarity.toFixed(4)}
          </Typography>
        </Stack>
      ))}
    </Box>
  )
}

function RunProgress({ job }: { job: Job }) {
  const cancel = useApiMutation('jobs.cancel')
  const pause = useApiMutation('jobs.pause')
  const resume = useApiMutation('jobs.resume')
  const fraction = job.total ? Math.min(1, job.done / job.total) : null
  return (
    <Stack direction="row" spacing={2} sx={{ alignItems: 'center', mt: 1.5 }} data-testid="curation-progress">
      <Typography variant="body2" sx={{ minWidth: 240 }}>
        {job.state === 'running' ? `Curating: ${job.phase ?? 'starting'}` : `Curation ${job.state}`}
        {job.total !== null ? ` ${job.done.toLocaleString()} / ${job.total.toLocaleString()}` : ''}
      </Typography>
      <Box sx={{ flex: 1 }}>
        <LinearProgress variant={fraction === null ? 'indeterminate' : 'determinate'} value={(fraction ?? 0) * 100} />
      </Box>
      {job.state === 'running' && (
        <Button size="small" onClick={() => pause.mutate({ id: job.id })}>
          Pause
        </Button>
      )}
      {(job.state === 'paused' || job.state === 'interrupted') && (
        <Button size="small" onClick={() => resume.mutate({ id: job.id })}>
          Resume
        </Button>
      )}
      <Button size="small" onClick={() => cancel.mutate({ id: job.id })}>
        Cancel
      </Button>
    </Stack>
  )
}

export function Curation({ dataset, onOpenGrid }: { dataset: Dataset; onOpenGrid: (f: ItemFilters) => void }) {
  const api = useApi()
  const notify = useNotify()
  const models = useApiQuery('models.list', {})
  const details = useQueries({
    queries: (models.data ?? []).map((m) => ({ queryKey: queryKey('models.get', { ref: m.id }), queryFn: () => callOrThrow(api, 'models.get', { ref: m.id }), staleTime: 60_000 }))
  })
  // Models that know this dataset's classes (as classifier or conditioning classes) come first,
  // so the digits dataset opens on the digits model rather than whichever was imported last.
  const names = new Set(dataset.classes.map((c) => c.name))
  const overlap = (m: { classes: string[]; conditionClasses: string[] }): number => new Set([...m.classes, ...m.conditionClasses].filter((n) => names.has(n))).size
  const usable = details
    .map((q) => q.data)
    .filter((m): m is NonNullable<typeof m> => !!m && m.config !== null)
    .map((m, i) => ({ m, i, o: overlap(m) }))
    .sort((a, b) => b.o - a.o || a.i - b.i)
    .map((x) => x.m)
  const summary = useApiQuery('curation.summary', { dataset: dataset.id })
  const s: CurationSummary | null = summary.data ?? null
  const [modelId, setModelId] = useState('')
  const chosen = modelId || s?.modelId || usable[0]?.id || ''
  const jobs = useApiQuery('jobs.list', JOBS_LIST_INPUT)
  const run = (jobs.data ?? []).find((j) => j.kind === 'datasets.curate' && (j.params as { datasetId?: string } | null)?.datasetId === dataset.id)
  const open = run && (isActive(run.state) || run.state === 'interrupted') ? run : null
  const start = useApiMutation('curation.start', { onError: (e) => notify.error(e) })
  const classes = new Map(dataset.classes.map((c) => [c.id, c]))
  const labelHref = (flag: string) => `#/label/${encodeURIComponent(dataset.id)}?flag=${flag}`

  return (
    <Box sx={{ overflow: 'auto', flex: 1 }}>
      <Section
        title="Curate with a model"
        description="Likely mislabels from out-of-fold predictions on the model's features (confident learning), outliers by bits per token and by feature distance, and near-duplicates by feature similarity. Findings become flags; no label changes until you accept one."
      >
        <Stack direction="row" spacing={1.5} sx={{ alignItems: 'center' }}>
          <TextField
            select
            size="small"
            label="Model"
            value={chosen}
            onChange={(e) => setModelId(e.target.value)}
            sx={{ minWidth: 260 }}
            slotProps={{ select: { SelectDisplayProps: { 'data-testid': 'curation-model' } as object } }}
          >
            {usable.map((m) => (
              <MenuItem key={m.id} value={m.id}>
                {m.name} · {m.generative ? 'generative' : 'classifier'} · {m.config?.layers} layers
              </MenuItem>
            ))}
          </TextField>
          <Button variant="contained" disabled={!chosen || !!open || start.isPending} onClick={() => start.mutate({ dataset: dataset.id, model: chosen })} data-testid="curation-run">
            {s ? 'Run again' : 'Run curation'}
          </Button>
          {usable.length === 0 && models.data && (
            <Typography variant="body2" sx={{ color: 'text.secondary' }}>
              No ImageGPT model in the library; import one in the Models panel.
            </Typography>
          )}
        </Stack>
        {open && <RunProgress job={open} />}
        {!open && run?.state === 'failed' && (
          <Typography variant="body2" sx={{ color: 'error.main', mt: 1 }}>
            Curation failed: {run.error}
          </Typography>
        )}
      </Section>
      {s && (
        <>
          <Section
            title="Findings"
            description={`Latest run: ${s.modelName}, layer ${s.params.layer}, ${s.params.folds} folds, ${s.items.toLocaleString()} items, ${formatDate(s.finishedAt)}.`}
          >
            <Stack direction="row" spacing={1.5} useFlexGap sx={{ flexWrap: 'wrap' }} data-testid="curation-findings">
              <Finding
                title="Likely mislabels"
                testId="finding-mislabels"
                count={s.mislabels}
                detail={
                  s.mislabels === null
                    ? 'Not computed (too few labelled items).'
                    : `Of ${s.labelled.toLocaleString()} labelled; out-of-fold predictions agree with ${Math.round((s.agreement ?? 0) * 100)}% of the given labels.`
                }
                onGrid={() => onOpenGrid({ flag: FLAG.mislabel, sort: 'selfConfidence' })}
                labelHref={labelHref(FLAG.mislabel)}
              />
              <Finding
                title="Outliers"
                testId="finding-outliers"
                count={s.outliers.total}
                detail={`${s.outliers.byBitsPerToken} by bits per token${s.bitsPerToken ? ` (median ${s.bitsPerToken.median.toFixed(2)})` : ''}, ${s.outliers.byFeatures} by feature distance.`}
                onGrid={() => onOpenGrid({ flag: FLAG.outlier, sort: s.bitsPerToken ? 'bitsPerToken' : 'featureOutlier', desc: true })}
                labelHref={labelHref(FLAG.outlier)}
              />
              <Finding
                title="Feature near-duplicates"
                testId="finding-duplicates"
                count={s.featureDuplicates.items}
                detail={`${s.featureDuplicates.groups} group${s.featureDuplicates.groups === 1 ? '' : 's'} at cosine similarity ≥ ${s.params.duplicateThreshold}.`}
                onGrid={() => onOpenGrid({ flag: FLAG.duplicate })}
                labelHref={labelHref(FLAG.duplicate)}
              />
            </Stack>
            {s.notes.map((n) => (
              <Typography key={n} variant="body2" sx={{ color: 'text.secondary', mt: 1 }}>
                {n}
              </Typography>
            ))}
          </Section>
          <Section title="Likely mislabels" description="Accept takes the suggested label as a person's label (undo in the Label panel); Keep given clears the flag.">
            <MislabelList dataset={dataset} classes={classes} />
          </Section>
          <Section title="Feature near-duplicates" description="Review and keep one in the Duplicates tab or the grid.">
            <DuplicateGroups dataset={dataset} />
          </Section>
        </>
      )}
    </Box>
  )
}
