// Train: pick a dataset and a base model, press one button; `auto` chooses the rest and says
// why. An advanced section has every knob. The selected run shows live loss / validation
// charts (job.progress metrics on top of the run's saved history), its test metrics with a
// confusion matrix, and pause / resume / cancel. Run history below.

import { useEffect, useMemo, useState } from 'react'
import { useQueryClient } from '@tanstack/react-query'
import Accordion from '@mui/material/Accordion'
import AccordionDetails from '@mui/material/AccordionDetails'
import AccordionSummary from '@mui/material/AccordionSummary'
import Alert from '@mui/material/Alert'
import Box from '@mui/material/Box'
import Button from '@mui/material/Button'
import Checkbox from '@mui/material/Checkbox'
import Chip from '@mui/material/Chip'
import FormControlLabel from '@mui/material/FormControlLabel'
import LinearProgress from '@mui/material/LinearProgress'
import MenuItem from '@mui/material/MenuItem'
import Stack from '@mui/material/Stack'
import Switch from '@mui/material/Switch'
import Table from '@mui/material/Table'
import TableBody from '@mui/material/TableBody'
import TableCell from '@mui/material/TableCell'
import TableHead from '@mui/material/TableHead'
import TableRow from '@mui/material/TableRow'
import TextField from '@mui/material/TextField'
import Tooltip from '@mui/material/Tooltip'
import Typography from '@mui/material/Typography'
import ExpandMoreIcon from '@mui/icons-material/ExpandMore'
import ModelTrainingOutlinedIcon from '@mui/icons-material/ModelTrainingOutlined'
import type { MethodInput, TrainRunInfo } from '../../../shared/contract'
import { useApi, useApiMutation, useApiQuery } from '../api/hooks'
import { errorSentence } from '../api/errors'
import { EmptyState, PanelBody, PanelHeader, Section, formatDate, formatDuration } from '../components/common'
import { ConfusionMatrix } from '../train/ConfusionMatrix'
import { LineChart } from '../train/LineChart'
import { defaultBase } from '../../../shared/model-view'

type StartInput = MethodInput<'train.start'>

/**
 * Legend names of the loss chart's two series. A joint run trains on classification plus generation
 * but validates (and keeps its best weights) on classification alone, so the two are not one measure.
 */
function lossNames(objective: string): [string, string] {
  if (objective === 'joint') return ['training (classify + generate)', 'validation (classify)']
  return ['training', 'validation']
}

interface Advanced {
  objective: NonNullable<StartInput['objective']>
  optimizer: '' | 'adamw' | 'sgd'
  lr: string
  steps: string
  batchSize: string
  weightDecay: string
  augment: boolean
  /** '' = the base model's default (no flips for models whose images are not mirror-symmetric). */
  flip: '' | 'on' | 'off'
  balanced: boolean
  seed: string
  name: string
  layer: string
}

const initialAdvanced: Advanced = { objective: 'auto', optimizer: '', lr: '', steps: '', batchSize: '', weightDecay: '', augment: true, flip: '', balanced: false, seed: '', name: '', layer: '' }

interface LivePoint {
  step: number
  loss?: number
  valLoss?: number
  valAccuracy?: number
}

interface Live {
  jobId: string
  phase: string
  done: number
  total: number | null
  etaS: number | null
  tokensPerS: number | null
  points: LivePoint[]
}

const COLORS = { loss: '#1f77b4', val: '#ff7f0e', acc: '#2ca02c' }
const stateColor = (s: string): 'default' | 'success' | 'error' | 'warning' | 'info' => (s === 'done' ? 'success' : s === 'failed' ? 'error' : s === 'cancelled' ? 'warning' : 'info')

/** Number fields: '' is "let auto choose". */
function num(v: string): number | undefined {
  if (v.trim() === '') return undefined
  const n = Number(v)
  return Number.isFinite(n) ? n : undefined
}

export function buildStartInput(dataset: string, base: string, a: Advanced): StartInput {
  const out: StartInput = { dataset, base, objective: a.objective, augment: a.augment }
  if (a.optimizer) out.optimizer = a.optimizer
  if (a.augment && a.flip) out.flip = a.flip === 'on'
  const lr = num(a.lr)
  if (lr !== undefined) out.lr = lr
  const steps = num(a.steps)
  if (steps !== undefined) out.steps = Math.round(steps)
  if (a.batchSize.trim() === 'all') out.batchSize = 'all'
  else if (num(a.batchSize) !== undefined) out.batchSize = Math.round(num(a.batchSize)!)
  const wd = num(a.weightDecay)
  if (wd !== undefined) out.weightDecay = wd
  if (a.balanced) out.balanced = true
  const seed = num(a.seed)
  if (seed !== undefined) out.seed = Math.round(seed)
  if (a.name.trim()) out.name = a.name.trim()
  const layer = num(a.layer)
  if (layer !== undefined) out.layer = Math.round(layer)
  return out
}

function summary(r: TrainRunInfo): string {
  const cls = r.test?.classification
  if (cls) return `${(cls.accuracy * 100).toFixed(1)}% accuracy`
  if (r.test?.bitsPerToken !== undefined) return `${r.test.bitsPerToken.toFixed(3)} bits/token`
  return '–'
}

/** The images of one confusion cell: true class `cell[0]` predicted as `cell[1]`. */
function Misclassified({ run, cell }: { run: TrainRunInfo; cell: [number, number] }) {
  const names = run.test?.classification?.perClass.map((c) => c.name) ?? []
  const wrong = (run.test?.misclassified ?? []).filter((m) => m.trueClass === cell[0] && m.predictedClass === cell[1])
  return (
    <Box data-testid="misclassified" sx={{ mt: 1.5 }}>
      <Typography variant="body2" sx={{ mb: 1 }}>
        {wrong.length} {names[cell[0]]} image{wrong.length === 1 ? '' : 's'} predicted as {names[cell[1]]}
      </Typography>
      <Stack direction="row" spacing={1} sx={{ flexWrap: 'wrap', rowGap: 1 }}>
        {wrong.map((m) => (
          <Tooltip key={m.itemId} title={`${m.name} · ${(m.confidence * 100).toFixed(0)}% ${names[m.predictedClass]}`}>
            <Box
              component="img"
              src={`/media/${m.sha256}`}
              alt={m.name}
              sx={{ width: 64, height: 64, imageRendering: 'pixelated', border: 1, borderColor: 'divider', borderRadius: 1, objectFit: 'cover' }}
            />
          </Tooltip>
        ))}
      </Stack>
    </Box>
  )
}

export function TrainPanel() {
  const api = useApi()
  const client = useQueryClient()
  const datasets = useApiQuery('datasets.list', {})
  const models = useApiQuery('models.list', {})
  const runs = useApiQuery('train.runs', {}, { refetchInterval: 15_000 })
  const [dataset, setDataset] = useState('')
  const [base, setBase] = useState('')
  // Until the person picks a base model, it follows the dataset (defaultBase).
  const [basePicked, setBasePicked] = useState(false)
  const [adv, setAdv] = useState<Advanced>(initialAdvanced)
  const [selected, setSelected] = useState<string | null>(null)
  const [live, setLive] = useState<Live | null>(null)
  const [cell, setCell] = useState<[number, number] | null>(null)
  const [compare, setCompare] = useState<string[]>([])
  const start = useApiMutation('train.start', {
    onSuccess: (r) => {
      setSelected(r.runId)
      setLive({ jobId: r.jobId, phase: 'queued', done: 0, total: null, etaS: null, tokensPerS: null, points: [] })
      void client.invalidateQueries({ queryKey: ['train.runs'] })
    }
  })
  const control = useApiMutation('jobs.pause')
  const cancel = useApiMutation('jobs.cancel')
  const resume = useApiMutation('train.resume', { onSuccess: (r) => setLive({ jobId: r.jobId, phase: 'queued', done: 0, total: null, etaS: null, tokensPerS: null, points: [] }) })

  const list = runs.data ?? []
  const run = list.find((r) => r.id === selected) ?? list[0] ?? null
  const generative = (models.data ?? []).filter((m) => m.kind.startsWith('imagegpt'))
  const modelName = new Map((models.data ?? []).map((m) => [m.id, m.name]))
  const datasetName = new Map((datasets.data ?? []).map((d) => [d.id, d.name]))

  useEffect(() => {
    if (!dataset && datasets.data?.[0]) setDataset(datasets.data[0].id)
  }, [datasets.data, dataset])
  const datasetClasses = (datasets.data ?? []).find((d) => d.id === dataset)?.classes
  useEffect(() => {
    if (basePicked || !models.data) return
    const pick = defaultBase(models.data, (datasetClasses ?? []).map((c) => c.name))
    if (pick && pick.id !== base) setBase(pick.id)
  }, [models.data, datasetClasses, basePicked, base])

  // Live progress of the selected run's job.
  const jobId = run?.jobId ?? null
  useEffect(() => {
    if (!jobId) return
    const offProgress = api.on('job.progress', (p) => {
      if (p.jobId !== jobId) return
      const m = p.metrics ?? {}
      setLive((prev) => {
        const base: Live = prev && prev.jobId === jobId ? prev : { jobId, phase: p.phase, done: 0, total: null, etaS: null, tokensPerS: null, points: [] }
        const points = m.loss !== undefined ? [...base.points, { step: p.done, loss: m.loss, ...(m.valLoss !== undefined ? { valLoss: m.valLoss } : {}), ...(m.valAccuracy !== undefined ? { valAccuracy: m.valAccuracy } : {}) }] : base.points
        return { jobId, phase: p.phase, done: p.done, total: p.total, etaS: p.etaS, tokensPerS: m.tokensPerS ?? base.tokensPerS, points: points.slice(-4000) }
      })
    })
    const offState = api.on('job.state', (j) => {
      if (j.id !== jobId) return
      if (j.state !== 'running' && j.state !== 'queued') void client.invalidateQueries({ queryKey: ['train.runs'] })
    })
    return () => {
      offProgress()
      offState()
    }
  }, [api, client, jobId])

  const liveHere = live && run && live.jobId === run.jobId ? live : null
  const lossSeries = useMemo(() => {
    const saved = (run?.history ?? []).map((h) => ({ x: h.step, y: h.loss }))
    const after = saved.length ? saved[saved.length - 1]!.x : 0
    const extra = (liveHere?.points ?? []).filter((p) => p.loss !== undefined && p.step > after).map((p) => ({ x: p.step, y: p.loss! }))
    return [...saved, ...extra]
  }, [run, liveHere])
  const valSeries = useMemo(() => {
    const saved = (run?.val ?? []).map((v) => ({ step: v.step, loss: v.loss, acc: v.accuracy }))
    const after = saved.length ? saved[saved.length - 1]!.step : 0
    const extra = (liveHere?.points ?? []).filter((p) => p.valLoss !== undefined && p.step > after).map((p) => ({ step: p.step, loss: p.valLoss!, acc: p.valAccuracy }))
    return [...saved, ...extra]
  }, [run, liveHere])

  const active = run && (run.state === 'running' || run.state === 'queued')
  const canStart = dataset !== '' && base !== '' && !start.isPending
  const set = <K extends keyof Advanced>(k: K, v: Advanced[K]): void => setAdv((a) => ({ ...a, [k]: v }))

  return (
    <>
      <PanelHeader title="Train" subtitle="Fine-tune a model on a dataset: one button, honest metrics on the test split." />
      <PanelBody>
        <Section title="New run" description="Auto picks the objective, layer, learning rate, batch size, steps and early stopping from the dataset, the model and the device.">
          <Stack direction={{ xs: 'column', md: 'row' }} spacing={2} sx={{ alignItems: { md: 'center' } }}>
            <TextField select label="Dataset" value={dataset} onChange={(e) => setDataset(e.target.value)} sx={{ minWidth: 220 }} slotProps={{ htmlInput: { 'data-testid': 'train-dataset' } }}>
              {(datasets.data ?? []).map((d) => (
                <MenuItem key={d.id} value={d.id}>
                  {d.name} ({d.itemCount} items, {d.labelledCount} labelled)
                </MenuItem>
              ))}
            </TextField>
            <TextField
              select
              label="Base model"
              value={base}
              onChange={(e) => {
                setBase(e.target.value)
                setBasePicked(true)
              }}
              sx={{ minWidth: 220 }}
              slotProps={{ htmlInput: { 'data-testid': 'train-base' } }}
            >
              {generative.map((m) => (
                <MenuItem key={m.id} value={m.id}>
                  {m.name}
                </MenuItem>
              ))}
            </TextField>
            <Button
              variant="contained"
              size="large"
              startIcon={<ModelTrainingOutlinedIcon />}
              disabled={!canStart}
              data-testid="train-start"
              onClick={() => start.mutate(buildStartInput(dataset, base, adv))}
            >
              Train
            </Button>
          </Stack>
          {start.isError && (
            <Alert severity="error" sx={{ mt: 1.5 }}>
              {errorSentence(start.error)}
            </Alert>
          )}
          <Accordion disableGutters elevation={0} sx={{ mt: 2, border: 1, borderColor: 'divider', '&:before': { display: 'none' } }}>
            <AccordionSummary expandIcon={<ExpandMoreIcon />} data-testid="train-advanced">
              <Typography variant="body2">Advanced: every knob (empty = auto)</Typography>
            </AccordionSummary>
            <AccordionDetails>
              <Box sx={{ display: 'grid', gridTemplateColumns: 'repeat(auto-fill, minmax(170px, 1fr))', gap: 1.5 }}>
                <TextField select size="small" label="Objective" value={adv.objective} onChange={(e) => set('objective', e.target.value as Advanced['objective'])}>
                  {['auto', 'probe', 'classify', 'joint', 'generative'].map((o) => (
                    <MenuItem key={o} value={o}>
                      {o}
                    </MenuItem>
                  ))}
                </TextField>
                <TextField select size="small" label="Optimizer" value={adv.optimizer} onChange={(e) => set('optimizer', e.target.value as Advanced['optimizer'])}>
                  <MenuItem value="">auto (AdamW)</MenuItem>
                  <MenuItem value="adamw">AdamW + warmup + cosine</MenuItem>
                  <MenuItem value="sgd">SGD (constant)</MenuItem>
                </TextField>
                <TextField size="small" label="Learning rate" value={adv.lr} onChange={(e) => set('lr', e.target.value)} placeholder="auto" />
                <TextField size="small" label="Steps" value={adv.steps} onChange={(e) => set('steps', e.target.value)} placeholder="auto" />
                <TextField size="small" label="Batch size (or all)" value={adv.batchSize} onChange={(e) => set('batchSize', e.target.value)} placeholder="auto" />
                <TextField size="small" label="Weight decay" value={adv.weightDecay} onChange={(e) => set('weightDecay', e.target.value)} placeholder="auto" />
                <TextField size="small" label="Probe layer" value={adv.layer} onChange={(e) => set('layer', e.target.value)} placeholder="auto" />
                <TextField size="small" label="Seed" value={adv.seed} onChange={(e) => set('seed', e.target.value)} placeholder="0" />
                <TextField size="small" label="New model name" value={adv.name} onChange={(e) => set('name', e.target.value)} placeholder="auto" />
                <FormControlLabel control={<Switch checked={adv.augment} onChange={(e) => set('augment', e.target.checked)} />} label="Augment (shifts, and flips as set)" />
                <TextField select size="small" label="Mirror flips" value={adv.flip} disabled={!adv.augment} onChange={(e) => set('flip', e.target.value as Advanced['flip'])} slotProps={{ select: { displayEmpty: true, SelectDisplayProps: { 'data-testid': 'train-flip' } as object }, inputLabel: { shrink: true } }}>
                  <MenuItem value="">auto: as the base model says</MenuItem>
                  <MenuItem value="on">on</MenuItem>
                  <MenuItem value="off">off (shifts only)</MenuItem>
                </TextField>
                <FormControlLabel control={<Switch checked={adv.balanced} onChange={(e) => set('balanced', e.target.checked)} />} label="Class-balanced batches" />
              </Box>
            </AccordionDetails>
          </Accordion>
        </Section>

        {runs.isSuccess && list.length === 0 && (
          <EmptyState icon={<ModelTrainingOutlinedIcon />} title="No training runs yet" testId="train-empty">
            Choose a dataset and a base model above and press Train. The run shows its loss live here, and the new model appears in Models.
          </EmptyState>
        )}

        {run && (
          <Section title={`Run · ${datasetName.get(run.datasetId ?? '') ?? 'dataset'} on ${modelName.get(run.baseModelId ?? '') ?? 'base model'}`}>
            <Stack spacing={1.5} data-testid="train-run">
              <Stack direction="row" spacing={1} sx={{ alignItems: 'center', flexWrap: 'wrap' }}>
                <Chip size="small" color={stateColor(run.state)} label={run.state} data-testid="train-run-state" />
                <Chip size="small" variant="outlined" label={String(run.plan?.objective ?? run.objective)} />
                {run.durationS !== null && <Typography variant="body2" sx={{ color: 'text.secondary' }}>{formatDuration(run.durationS)}</Typography>}
                {run.modelId && (
                  <Typography variant="body2" sx={{ color: 'text.secondary' }}>
                    → {modelName.get(run.modelId) ?? run.modelId}
                  </Typography>
                )}
                {run.snapshot && (
                  <Chip
                    size="small"
                    variant="outlined"
                    label={`data: snapshot “${run.snapshot.name}”`}
                    title={`The dataset as this run trained on it (snapshot ${run.snapshot.hash.slice(0, 12)}); diff it in the dataset's Snapshots tab.`}
                    data-testid="train-run-snapshot"
                    {...(run.datasetId ? { component: 'a', href: `#/datasets/${encodeURIComponent(run.datasetId)}`, clickable: true } : {})}
                  />
                )}
                <Box sx={{ flex: 1 }} />
                {active && run.jobId && (
                  <>
                    <Button size="small" onClick={() => control.mutate({ id: run.jobId! })}>
                      Pause
                    </Button>
                    <Button size="small" color="warning" onClick={() => cancel.mutate({ id: run.jobId! })}>
                      Cancel
                    </Button>
                  </>
                )}
                {!active && run.state !== 'done' && run.jobId && (
                  <Button size="small" onClick={() => resume.mutate({ id: run.id })}>
                    Resume
                  </Button>
                )}
              </Stack>
              {run.reason && (
                <Typography variant="body2" data-testid="train-reason">
                  {run.reason}
                </Typography>
              )}
              {run.state === 'done' && run.steps !== null && (
                <Typography variant="body2" sx={{ color: 'text.secondary' }} data-testid="train-outcome">
                  {run.stoppedEarly ? `Stopped early at step ${run.steps} of ${String(run.plan?.steps ?? '?')}` : `${run.steps} steps`}
                  {run.bestStep !== null ? `; kept the weights of step ${run.bestStep}, the best on the validation split.` : '; kept the final weights (no validation split).'}
                </Typography>
              )}
              {run.error && <Alert severity="error">{run.error}</Alert>}
              {resume.isError && <Alert severity="error">{errorSentence(resume.error)}</Alert>}
              {liveHere && active && (
                <Box>
                  <LinearProgress variant={liveHere.total ? 'determinate' : 'indeterminate'} value={liveHere.total ? (100 * liveHere.done) / liveHere.total : 0} />
                  <Typography variant="caption" sx={{ color: 'text.secondary' }}>
                    {liveHere.phase} {liveHere.done}
                    {liveHere.total ? ` / ${liveHere.total}` : ''}
                    {liveHere.tokensPerS ? ` · ${Math.round(liveHere.tokensPerS).toLocaleString()} tokens/s` : ''}
                    {liveHere.etaS !== null ? ` · ${formatDuration(liveHere.etaS)} left` : ''}
                  </Typography>
                </Box>
              )}
              <Box sx={{ display: 'grid', gridTemplateColumns: { xs: '1fr', lg: '1fr 1fr' }, gap: 1.5 }}>
                {/* Losses share one axis (the same units); accuracy, a share, gets its own. */}
                <LineChart
                  testId="chart-loss"
                  title="Loss"
                  series={[
                    { name: lossNames(String(run.plan?.objective ?? run.objective))[0], color: COLORS.loss, points: lossSeries },
                    ...(valSeries.length ? [{ name: lossNames(String(run.plan?.objective ?? run.objective))[1], color: COLORS.val, points: valSeries.map((v) => ({ x: v.step, y: v.loss })), dots: true }] : [])
                  ]}
                />
                {valSeries.some((v) => v.acc !== undefined) && (
                  <LineChart
                    testId="chart-val"
                    title="Validation accuracy"
                    yFormat={(v) => `${(100 * v).toFixed(1)}%`}
                    series={[{ name: 'accuracy', color: COLORS.acc, points: valSeries.filter((v) => v.acc !== undefined).map((v) => ({ x: v.step, y: v.acc! })), dots: true }]}
                  />
                )}
              </Box>
              {run.test && (
                <Box data-testid="train-test">
                  <Typography variant="subtitle2" sx={{ mb: 0.5 }}>
                    On the {run.test.split} split
                    {run.test.split !== 'test' ? ' (the dataset has no test items)' : ''}
                  </Typography>
                  {run.test.classification && <ConfusionMatrix metrics={run.test.classification} selected={cell} onSelect={setCell} />}
                  {run.test.classification && cell && (
                    <Misclassified run={run} cell={cell} />
                  )}
                  {run.test.bitsPerToken !== undefined && (
                    <Typography variant="body2">
                      {run.test.bitsPerToken.toFixed(4)} bits per token
                      {run.test.bitsPerTokenUnconditional !== undefined ? ` (${run.test.bitsPerTokenUnconditional.toFixed(4)} without the class)` : ''}
                    </Typography>
                  )}
                </Box>
              )}
            </Stack>
          </Section>
        )}

        {list.length > 0 && (
          <Section title="Run history">
            <Table size="small" data-testid="train-history">
              <TableHead>
                <TableRow>
                  <TableCell padding="checkbox" title="Pick two runs to compare">
                    Compare
                  </TableCell>
                  <TableCell>Started</TableCell>
                  <TableCell>Dataset</TableCell>
                  <TableCell>Base</TableCell>
                  <TableCell>Objective</TableCell>
                  <TableCell>State</TableCell>
                  <TableCell>Result</TableCell>
                  <TableCell>Model</TableCell>
                </TableRow>
              </TableHead>
              <TableBody>
                {list.map((r) => (
                  <TableRow key={r.id} hover selected={r.id === run?.id} onClick={() => {
                      setSelected(r.id)
                      setCell(null)
                    }} sx={{ cursor: 'pointer' }}>
                    <TableCell padding="checkbox" onClick={(e) => e.stopPropagation()}>
                      <Checkbox
                        size="small"
                        checked={compare.includes(r.id)}
                        slotProps={{ input: { 'aria-label': `compare run ${r.id}` } }}
                        onChange={(e) => setCompare((c) => (e.target.checked ? [...c.filter((x) => x !== r.id), r.id].slice(-2) : c.filter((x) => x !== r.id)))}
                      />
                    </TableCell>
                    <TableCell sx={{ whiteSpace: 'nowrap' }}>{formatDate(r.createdAt)}</TableCell>
                    <TableCell>{datasetName.get(r.datasetId ?? '') ?? '–'}</TableCell>
                    <TableCell>{modelName.get(r.baseModelId ?? '') ?? '–'}</TableCell>
                    <TableCell>{String(r.plan?.objective ?? r.objective)}</TableCell>
                    <TableCell>
                      <Chip size="small" color={stateColor(r.state)} label={r.state} />
                    </TableCell>
                    <TableCell>{summary(r)}</TableCell>
                    <TableCell>{r.modelId ? (modelName.get(r.modelId) ?? '–') : '–'}</TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          </Section>
        )}
        {compare.length === 2 && (
          <Section title="Comparison">
            <CompareRuns runs={compare.map((id) => list.find((r) => r.id === id)).filter((r): r is TrainRunInfo => r !== undefined)} names={{ model: modelName, dataset: datasetName }} />
          </Section>
        )}
      </PanelBody>
    </>
  )
}

/** Two runs side by side: settings and results, one row each. */
function CompareRuns({ runs, names }: { runs: TrainRunInfo[]; names: { model: Map<string, string>; dataset: Map<string, string> } }) {
  const pct = (v: number | undefined): string => (v === undefined ? '–' : `${(v * 100).toFixed(1)}%`)
  const rows: [string, (r: TrainRunInfo) => string][] = [
    ['Dataset', (r) => names.dataset.get(r.datasetId ?? '') ?? '–'],
    ['Base model', (r) => names.model.get(r.baseModelId ?? '') ?? '–'],
    ['Objective', (r) => String(r.plan?.objective ?? r.objective)],
    ['Optimizer', (r) => String(r.plan?.optimizer ?? '–')],
    ['Learning rate', (r) => String(r.plan?.lr ?? '–')],
    ['Batch size', (r) => String(r.plan?.batchSize ?? '–')],
    ['Steps (kept)', (r) => (r.steps === null ? '–' : `${r.steps}${r.bestStep !== null ? ` (${r.bestStep})` : ''}${r.stoppedEarly ? ', stopped early' : ''}`)],
    ['Duration', (r) => (r.durationS === null ? '–' : formatDuration(r.durationS))],
    ['Evaluated on', (r) => r.test?.split ?? '–'],
    ['Accuracy', (r) => pct(r.test?.classification?.accuracy)],
    ['Macro F1', (r) => r.test?.classification?.macroF1.toFixed(3) ?? '–'],
    ['ECE', (r) => r.test?.classification?.ece.toFixed(3) ?? '–'],
    ['Bits per token', (r) => r.test?.bitsPerToken?.toFixed(4) ?? '–']
  ]
  return (
    <Table size="small" data-testid="train-compare">
      <TableHead>
        <TableRow>
          <TableCell />
          {runs.map((r) => (
            <TableCell key={r.id}>
              {String(r.plan?.objective ?? r.objective)} · {formatDate(r.createdAt)}
            </TableCell>
          ))}
        </TableRow>
      </TableHead>
      <TableBody>
        {rows.map(([label, get]) => (
          <TableRow key={label}>
            <TableCell sx={{ color: 'text.secondary' }}>{label}</TableCell>
            {runs.map((r) => (
              <TableCell key={r.id}>{get(r)}</TableCell>
            ))}
          </TableRow>
        ))}
      </TableBody>
    </Table>
  )
}
