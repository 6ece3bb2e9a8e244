// Classify: point at folders, pick a model with a classifier, a threshold and what to do with
// the files (report, copy or move into class folders, or a dry run that only shows the plan);
// Start runs a classify job (progress, images/s, ETA, pause, resume, cancel). The results view
// filters and sorts a run's files, lets labels be corrected and sent into a dataset as training
// data, exports CSV/JSON and undoes moves.

import { useEffect, useMemo, useState } from 'react'
import { useInfiniteQuery, useQueryClient } from '@tanstack/react-query'
import Alert from '@mui/material/Alert'
import Box from '@mui/material/Box'
import Button from '@mui/material/Button'
import Checkbox from '@mui/material/Checkbox'
import Chip from '@mui/material/Chip'
import Dialog from '@mui/material/Dialog'
import DialogContent from '@mui/material/DialogContent'
import DialogTitle from '@mui/material/DialogTitle'
import FormControlLabel from '@mui/material/FormControlLabel'
import LinearProgress from '@mui/material/LinearProgress'
import MenuItem from '@mui/material/MenuItem'
import Stack from '@mui/material/Stack'
import TextField from '@mui/material/TextField'
import Typography from '@mui/material/Typography'
import CategoryOutlinedIcon from '@mui/icons-material/CategoryOutlined'
import type { ClassifyParamsInput, ClassifyRow, ClassifyRunInfo } from '../../../shared/classify-contract'
import { callOrThrow, useApi, useApiMutation, useApiQuery } from '../api/hooks'
import { EmptyState, PanelBody, PanelHeader, Section, formatDate, formatDuration } from '../components/common'
import { ResultsTable } from '../classify/ResultsTable'

interface Setup {
  folders: string
  model: string
  threshold: string
  action: 'none' | 'copy' | 'move'
  root: string
  dryRun: boolean
  extensions: string
}

const PAGE = 250

interface Live {
  jobId: string
  done: number
  total: number | null
  rate: number | null
  etaS: number | null
}

export function buildClassifyInput(s: Setup): ClassifyParamsInput {
  const t = Number(s.threshold)
  return {
    folders: s.folders
      .split('\n')
      .map((f) => f.trim())
      .filter(Boolean),
    model: s.model,
    threshold: Number.isFinite(t) ? Math.min(1, Math.max(0, t)) : 0,
    action: s.action,
    ...(s.action !== 'none' ? { root: s.root.trim() } : {}),
    dryRun: s.dryRun,
    ...(s.extensions.trim() ? { extensions: s.extensions.split(',').map((e) => e.trim()).filter(Boolean) } : {})
  }
}

const stateColor = (s: string): 'default' | 'success' | 'error' | 'warning' | 'info' => (s === 'done' ? 'success' : s === 'failed' ? 'error' : s === 'cancelled' || s === 'paused' || s === 'interrupted' ? 'warning' : 'info')

function RunProgress({ run, live }: { run: ClassifyRunInfo; live: Live | null }) {
  const pause = useApiMutation('jobs.pause')
  const cancel = useApiMutation('jobs.cancel')
  const resume = useApiMutation('classify.resume')
  const state = run.job?.state ?? 'unknown'
  const done = live?.done ?? run.job?.done ?? run.counts.files
  const total = live?.total ?? run.job?.total ?? null
  const rate = live?.rate ?? run.job?.rate ?? null
  const eta = live?.etaS ?? run.job?.etaS ?? null
  const active = state === 'running' || state === 'queued'
  return (
    <Box data-testid="classify-progress" sx={{ mb: 2 }}>
      <Stack direction="row" spacing={1.5} sx={{ alignItems: 'center', mb: 1, flexWrap: 'wrap' }}>
        <Chip size="small" label={state} color={stateColor(state)} data-testid="classify-state" />
        <Typography variant="body2">
          {done}
          {total !== null ? ` / ${total}` : ''} files
        </Typography>
        {active && rate !== null && <Typography variant="body2">{rate.toFixed(1)} images/s</Typography>}
        {active && eta !== null && <Typography variant="body2">{formatDuration(eta)} left</Typography>}
        <Typography variant="body2" color="text.secondary">
          {run.counts.ok} classified · {run.counts.unsure} unsure · {run.counts.error} {run.counts.error === 1 ? 'error' : 'errors'}
        </Typography>
        <Box sx={{ flex: 1 }} />
        {active && (
          <>
            <Button size="small" onClick={() => pause.mutate({ id: run.id })} data-testid="classify-pause">
              Pause
            </Button>
            <Button size="small" color="warning" onClick={() => cancel.mutate({ id: run.id })} data-testid="classify-cancel">
              Cancel
            </Button>
          </>
        )}
        {(state === 'paused' || state === 'interrupted' || state === 'cancelled') && (
          <Button size="small" variant="outlined" onClick={() => resume.mutate({ id: run.id })} data-testid="classify-resume">
            Resume
          </Button>
        )}
      </Stack>
      <LinearProgress variant={total ? 'determinate' : 'indeterminate'} value={total ? Math.min(100, (done / total) * 100) : 0} />
      {run.job?.error && state !== 'done' && (
        <Alert severity={state === 'failed' ? 'error' : 'info'} sx={{ mt: 1 }}>
          {run.job.error}
        </Alert>
      )}
    </Box>
  )
}

function Plan({ run }: { run: ClassifyRunInfo }) {
  const entries = Object.entries(run.plan).sort()
  if (!entries.length) return null
  return (
    <Alert severity={run.params.dryRun ? 'info' : 'success'} sx={{ mb: 2 }} data-testid="classify-plan">
      <Typography variant="body2" sx={{ fontWeight: 600 }}>
        {run.params.dryRun ? 'Dry run: nothing was touched. The plan:' : `${run.params.action === 'move' ? 'Moved' : 'Copied'} into:`}
      </Typography>
      {entries.map(([dir, n]) => (
        <Typography key={dir} variant="body2" sx={{ fontFamily: 'monospace' }}>
          {dir} — {n} file{n === 1 ? '' : 's'}
        </Typography>
      ))}
    </Alert>
  )
}

export function ClassifyPanel() {
  const api = useApi()
  const client = useQueryClient()
  const models = useApiQuery('models.list', {})
  const datasets = useApiQuery('datasets.list', {})
  const runs = useApiQuery('classify.runs', {}, { refetchInterval: (q) => (q.state.data?.some((r) => r.job?.state === 'running' || r.job?.state === 'queued') ? 1500 : 10_000) })
  const classifiers = (models.data ?? []).filter((m) => m.kind.includes('classify'))
  const [setup, setSetup] = useState<Setup>({ folders: '', model: '', threshold: '0.5', action: 'none', root: '', dryRun: false, extensions: '' })
  const [selectedRun, setSelectedRun] = useState<string | null>(null)
  const [live, setLive] = useState<Live | null>(null)
  const [filter, setFilter] = useState({ label: '', min: '', max: '', errorsOnly: false, sort: 'seq' as 'seq' | 'confidence' | 'label' | 'status', desc: false })
  const [picked, setPicked] = useState<Set<string>>(new Set())
  const [dataset, setDataset] = useState('')
  const [exportPath, setExportPath] = useState('')
  const [open, setOpen] = useState<ClassifyRow | null>(null)
  const [message, setMessage] = useState<string | null>(null)

  useEffect(() => {
    if (!setup.model && classifiers[0]) setSetup((s) => ({ ...s, model: classifiers[0]!.id }))
  }, [classifiers, setup.model])
  useEffect(() => {
    if (!dataset && datasets.data?.[0]) setDataset(datasets.data[0].id)
  }, [datasets.data, dataset])

  const start = useApiMutation('classify.start', {
    meta: { inlineError: true },
    onSuccess: (r) => {
      setSelectedRun(r.runId)
      setLive({ jobId: r.jobId, done: 0, total: null, rate: null, etaS: null })
      void client.invalidateQueries({ queryKey: ['classify.runs'] })
    }
  })
  const correct = useApiMutation('classify.correct')
  const toDataset = useApiMutation('classify.toDataset', { onSuccess: (r) => setMessage(`Added ${r.added} images to the dataset (${r.already} were there already); ${r.labelled} labelled.`) })
  const exportRun = useApiMutation('classify.export', { onSuccess: (r) => setMessage(`Wrote ${r.rows} rows to ${r.path}.`) })
  const undo = useApiMutation('classify.undo', {
    onSuccess: (r) => setMessage(`Undo: ${r.restored} files moved back, ${r.removedCopies} copies removed${r.skipped.length ? `; ${r.skipped.length} left alone` : ''}.`)
  })

  const list = runs.data ?? []
  // A run just started is not in the list until it refetches: show nothing stale meanwhile.
  const run = selectedRun ? (list.find((r) => r.id === selectedRun) ?? null) : (list[0] ?? null)
  const runId = run?.id ?? ''

  useEffect(() => {
    if (!runId) return
    const offP = api.on('job.progress', (p) => {
      if (p.jobId !== runId) return
      setLive({ jobId: runId, done: p.done, total: p.total, rate: p.rate, etaS: p.etaS })
    })
    const offS = api.on('job.state', (j) => {
      if (j.id !== runId) return
      void client.invalidateQueries({ queryKey: ['classify.runs'] })
      void client.invalidateQueries({ queryKey: ['classify.results'] })
    })
    return () => {
      offP()
      offS()
    }
  }, [api, client, runId])

  useEffect(() => setPicked(new Set()), [runId])

  const query = useMemo(
    () => ({
      runId,
      ...(filter.label ? { label: filter.label } : {}),
      ...(filter.min !== '' && Number.isFinite(Number(filter.min)) ? { minConfidence: Math.min(1, Math.max(0, Number(filter.min) / 100)) } : {}),
      ...(filter.max !== '' && Number.isFinite(Number(filter.max)) ? { maxConfidence: Math.min(1, Math.max(0, Number(filter.max) / 100)) } : {}),
      ...(filter.errorsOnly ? { errorsOnly: true } : {}),
      sort: filter.sort,
      desc: filter.desc
    }),
    [runId, filter]
  )
  const active = run?.job?.state === 'running' || run?.job?.state === 'queued'
  // Pages of PAGE rows, fetched as the table scrolls towards the end of what it has.
  const results = useInfiniteQuery({
    queryKey: ['classify.results', query],
    queryFn: ({ pageParam }) => callOrThrow(api, 'classify.results', { ...query, offset: pageParam, limit: PAGE }),
    initialPageParam: 0,
    getNextPageParam: (last, all) => {
      const have = all.reduce((n, p) => n + p.rows.length, 0)
      return have < last.total && last.rows.length > 0 ? have : undefined
    },
    enabled: !!runId,
    refetchInterval: active ? 1500 : false
  })
  const rows = useMemo(() => results.data?.pages.flatMap((p) => p.rows) ?? [], [results.data])
  const totalRows = results.data?.pages[0]?.total ?? 0
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = results
  const needMore = (): void => {
    if (hasNextPage && !isFetchingNextPage) void fetchNextPage()
  }
  const live4run = live && live.jobId === runId ? live : null
  const corrected = rows.filter((r) => r.corrected).length

  const set = <K extends keyof Setup>(k: K, v: Setup[K]): void => setSetup((s) => ({ ...s, [k]: v }))
  const input = buildClassifyInput(setup)
  const canStart = input.folders.length > 0 && !!setup.model && (setup.action === 'none' || setup.root.trim() !== '') && !start.isPending

  return (
    <>
      <PanelHeader title="Classify" subtitle="Sort folders of images with a model: a report, or copies/moves into class folders that undo can put back." />
      <PanelBody>
        <Section title="New run" description="Folders are read recursively. Below the threshold a file is 'unsure'. Copy and move never overwrite: a taken name gets a numbered suffix.">
          <Stack spacing={2} data-testid="classify-setup">
            <TextField
              label="Folders (one per line)"
              multiline
              minRows={2}
              value={setup.folders}
              onChange={(e) => set('folders', e.target.value)}
              placeholder="/home/me/Pictures/unsorted"
              slotProps={{ htmlInput: { 'data-testid': 'classify-folders' } }}
            />
            <Stack direction={{ xs: 'column', md: 'row' }} spacing={2}>
              <TextField select label="Model" value={setup.model} onChange={(e) => set('model', e.target.value)} sx={{ minWidth: 240 }} slotProps={{ htmlInput: { 'data-testid': 'classify-model' } }}>
                {classifiers.map((m) => (
                  <MenuItem key={m.id} value={m.id}>
                    {m.name}
                    <Box component="span" sx={{ color: 'text.secondary', ml: 1 }}>
                      {m.kind}
                    </Box>
                  </MenuItem>
                ))}
              </TextField>
              <TextField label="Threshold" type="number" value={setup.threshold} onChange={(e) => set('threshold', e.target.value)} sx={{ width: 120 }} slotProps={{ htmlInput: { min: 0, max: 1, step: 0.05, 'data-testid': 'classify-threshold' } }} />
              <TextField select data-testid="classify-action-field" label="Then" value={setup.action} onChange={(e) => set('action', e.target.value as Setup['action'])} sx={{ minWidth: 200 }} slotProps={{ htmlInput: { 'data-testid': 'classify-action' } }}>
                <MenuItem value="none">Report only</MenuItem>
                <MenuItem value="copy">Copy into class folders</MenuItem>
                <MenuItem value="move">Move into class folders</MenuItem>
              </TextField>
              {setup.action !== 'none' && (
                <TextField label="Class folders under" value={setup.root} onChange={(e) => set('root', e.target.value)} sx={{ flex: 1 }} slotProps={{ htmlInput: { 'data-testid': 'classify-root' } }} />
              )}
              <TextField label="File types" value={setup.extensions} onChange={(e) => set('extensions', e.target.value)} placeholder="png, jpg, webp … (all images)" sx={{ minWidth: 200 }} />
            </Stack>
            <Stack direction="row" spacing={2} sx={{ alignItems: 'center' }}>
              <FormControlLabel control={<Checkbox checked={setup.dryRun} onChange={(e) => set('dryRun', e.target.checked)} />} label="Dry run (show the plan, touch nothing)" />
              <Box sx={{ flex: 1 }} />
              <Button variant="contained" size="large" startIcon={<CategoryOutlinedIcon />} disabled={!canStart} onClick={() => start.mutate(input)} data-testid="classify-start">
                Start
              </Button>
            </Stack>
            {start.error && <Alert severity="error">{start.error.message}</Alert>}
            {classifiers.length === 0 && !models.isLoading && <Alert severity="info">No model with a classifier yet: import one in Models, or train one.</Alert>}
          </Stack>
        </Section>

        {!run ? (
          <EmptyState icon={<CategoryOutlinedIcon />} title="No runs yet" testId="classify-empty">
            Start a run above; its results appear here as they are produced.
          </EmptyState>
        ) : (
          <Section title="Results" description={`${run.modelName} · ${run.params.folders.join(', ')} · ${formatDate(run.createdAt)}`}>
            <Stack direction="row" spacing={1} sx={{ mb: 2, flexWrap: 'wrap', rowGap: 1 }}>
              {list.slice(0, 8).map((r) => (
                <Chip key={r.id} label={`${formatDate(r.createdAt)} · ${r.counts.files} files`} color={r.id === run.id ? 'primary' : 'default'} variant={r.id === run.id ? 'filled' : 'outlined'} onClick={() => setSelectedRun(r.id)} size="small" />
              ))}
            </Stack>
            <RunProgress run={run} live={live4run} />
            <Plan run={run} />
            {run.undoneAt && <Alert severity="info" sx={{ mb: 2 }}>Undone {formatDate(run.undoneAt)}: moved files are back where they were.</Alert>}
            {message && (
              <Alert severity="success" sx={{ mb: 2 }} onClose={() => setMessage(null)}>
                {message}
              </Alert>
            )}
            <Stack direction="row" spacing={1.5} sx={{ mb: 1.5, flexWrap: 'wrap', rowGap: 1.5, alignItems: 'center' }} data-testid="classify-filters">
              <TextField select size="small" label="Label" value={filter.label} onChange={(e) => setFilter((f) => ({ ...f, label: e.target.value }))} sx={{ minWidth: 140 }}>
                <MenuItem value="">All</MenuItem>
                {[...run.labels, 'unsure'].map((l) => (
                  <MenuItem key={l} value={l}>
                    {l} ({run.counts.byLabel[l] ?? 0})
                  </MenuItem>
                ))}
              </TextField>
              <TextField size="small" label="Min %" type="number" value={filter.min} onChange={(e) => setFilter((f) => ({ ...f, min: e.target.value }))} sx={{ width: 90 }} />
              <TextField size="small" label="Max %" type="number" value={filter.max} onChange={(e) => setFilter((f) => ({ ...f, max: e.target.value }))} sx={{ width: 90 }} />
              <FormControlLabel control={<Checkbox size="small" checked={filter.errorsOnly} onChange={(e) => setFilter((f) => ({ ...f, errorsOnly: e.target.checked }))} />} label={`Errors only (${run.counts.error})`} />
              <TextField select size="small" label="Sort" value={filter.sort} onChange={(e) => setFilter((f) => ({ ...f, sort: e.target.value as typeof f.sort }))} sx={{ minWidth: 130 }}>
                <MenuItem value="seq">Order read</MenuItem>
                <MenuItem value="confidence">Confidence</MenuItem>
                <MenuItem value="label">Label</MenuItem>
                <MenuItem value="status">Status</MenuItem>
              </TextField>
              <FormControlLabel control={<Checkbox size="small" checked={filter.desc} onChange={(e) => setFilter((f) => ({ ...f, desc: e.target.checked }))} />} label="Descending" />
              <Typography variant="body2" color="text.secondary">
                {totalRows} files
              </Typography>
            </Stack>
            <ResultsTable
              runId={run.id}
              rows={rows}
              labels={run.labels}
              selected={picked}
              onToggle={(p) =>
                setPicked((s) => {
                  const n = new Set(s)
                  if (n.has(p)) n.delete(p)
                  else n.add(p)
                  return n
                })
              }
              onCorrect={(p, label) => {
                correct.mutate({ runId: run.id, paths: [p], label }, { onSuccess: () => void client.invalidateQueries({ queryKey: ['classify.results'] }) })
                setPicked((s) => new Set(s).add(p))
              }}
              onOpen={setOpen}
              onNeedMore={needMore}
            />
            <Stack direction={{ xs: 'column', md: 'row' }} spacing={1.5} sx={{ mt: 2, alignItems: { md: 'center' } }}>
              <TextField select size="small" label="Dataset" value={dataset} onChange={(e) => setDataset(e.target.value)} sx={{ minWidth: 200 }}>
                {(datasets.data ?? []).map((d) => (
                  <MenuItem key={d.id} value={d.id}>
                    {d.name}
                  </MenuItem>
                ))}
              </TextField>
              <Button
                variant="outlined"
                disabled={!dataset || (picked.size === 0 && corrected === 0)}
                onClick={() => toDataset.mutate(picked.size ? { runId: run.id, dataset, paths: [...picked], correctedOnly: false } : { runId: run.id, dataset, correctedOnly: true })}
                data-testid="classify-to-dataset"
              >
                Send {picked.size ? `${picked.size} selected` : `${corrected} corrected`} to dataset
              </Button>
              <Box sx={{ flex: 1 }} />
              <TextField size="small" label="Export to" value={exportPath} onChange={(e) => setExportPath(e.target.value)} placeholder="/home/me/results.csv" sx={{ minWidth: 240 }} />
              <Button disabled={!exportPath.trim()} onClick={() => exportRun.mutate({ runId: run.id, out: exportPath.trim(), format: 'csv' })}>
                CSV
              </Button>
              <Button disabled={!exportPath.trim()} onClick={() => exportRun.mutate({ runId: run.id, out: exportPath.trim().replace(/\.csv$/i, '') + '.json', format: 'json' })}>
                JSON
              </Button>
              {(run.params.action === 'move' || run.params.action === 'copy') && !run.params.dryRun && (
                <Button color="warning" variant="outlined" disabled={active || !!run.undoneAt} onClick={() => undo.mutate({ id: run.id })} data-testid="classify-undo">
                  Undo {run.params.action === 'move' ? 'moves' : 'copies'}
                </Button>
              )}
            </Stack>
          </Section>
        )}
      </PanelBody>
      <Dialog open={!!open} onClose={() => setOpen(null)} maxWidth="sm" fullWidth>
        {open && run && <OpenFile runId={run.id} row={open} />}
      </Dialog>
    </>
  )
}

function OpenFile({ runId, row }: { runId: string; row: ClassifyRow }) {
  const q = useApiQuery('classify.thumb', { runId, path: row.path, side: 384 })
  return (
    <>
      <DialogTitle sx={{ wordBreak: 'break-all' }}>{row.path}</DialogTitle>
      <DialogContent>
        {q.data?.dataUrl ? <Box component="img" src={q.data.dataUrl} alt="" sx={{ maxWidth: '100%', imageRendering: 'pixelated', minWidth: 256 }} /> : <Typography color="text.secondary">{row.error ?? 'No preview.'}</Typography>}
        {row.topK.map((t) => (
          <Typography key={t.label} variant="body2">
            {t.label}: {(t.probability * 100).toFixed(2)}%
          </Typography>
        ))}
        {row.dest && (
          <Typography variant="body2" color="text.secondary">
            {row.actionStatus === 'planned' ? 'Would go to' : 'Now at'} {row.dest}
          </Typography>
        )}
      </DialogContent>
    </>
  )
}
