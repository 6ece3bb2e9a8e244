// Generate: choose a generative model and sampling parameters, queue a generation job, and
// watch the images appear row by row (generate.preview frames, throttled by the back end).
// Finished images are in the gallery at once; cancel keeps them. A Tessera PNG dropped on the
// panel restores its recipe; the Gallery's recall/remix/complete hand a recipe over.

import { useEffect, useMemo, useRef, useState, type DragEvent, type PointerEvent } from 'react'
import { useQueries } from '@tanstack/react-query'
import Alert from '@mui/material/Alert'
import Box from '@mui/material/Box'
import Button from '@mui/material/Button'
import FormControlLabel from '@mui/material/FormControlLabel'
import IconButton from '@mui/material/IconButton'
import LinearProgress from '@mui/material/LinearProgress'
import MenuItem from '@mui/material/MenuItem'
import Slider from '@mui/material/Slider'
import Stack from '@mui/material/Stack'
import Switch from '@mui/material/Switch'
import TextField from '@mui/material/TextField'
import Tooltip from '@mui/material/Tooltip'
import Typography from '@mui/material/Typography'
import AutoAwesomeOutlinedIcon from '@mui/icons-material/AutoAwesomeOutlined'
import CasinoOutlinedIcon from '@mui/icons-material/CasinoOutlined'
import ContentCopyIcon from '@mui/icons-material/ContentCopy'
import StopCircleOutlinedIcon from '@mui/icons-material/StopCircleOutlined'
import type { GeneratePreview, GenerationRecipe, Job, MethodInput, ModelDetail } from '../../../shared/contract'
import { callOrThrow, queryKey, useApi, useApiMutation, useApiQuery } from '../api/hooks'
import { errorSentence } from '../api/errors'
import { useNotify } from '../app/notify'
import { EmptyState, PanelBody, PanelHeader } from '../components/common'
import { mediaUrl, pixelated, randomSeed, takeHandover, useHandover } from '../gallery/recall'

type StartInput = MethodInput<'generate.start'>

/** The job the panel last started, kept while the studio runs so the panel shows it again. */
let lastJobId: string | null = null
/** Images shown live; a bigger request shows its first ones here and all of them in the Gallery. */
const MAX_SLOTS = 64

interface Form {
  modelId: string
  className: string
  count: number
  batchSize: string
  temperature: number
  topK: number
  topP: number
  randomSeed: boolean
  seed: number
  firstIndex: number
  completeOn: boolean
  completeSha: string
  completePath: string
  keepRows: number
}

const initial: Form = {
  modelId: '',
  className: 'any',
  count: 8,
  batchSize: '',
  temperature: 1,
  topK: 0,
  topP: 1,
  randomSeed: true,
  seed: 0,
  firstIndex: 0,
  completeOn: false,
  completeSha: '',
  completePath: '',
  keepRows: 4
}

function num(v: string, fallback: number): number {
  const n = Number(v)
  return Number.isFinite(n) ? n : fallback
}

/** The source image with a line to drag: rows above it are kept. */
function KeepRowsPicker({ sha256, side, keepRows, onChange }: { sha256: string; side: number; keepRows: number; onChange: (rows: number) => void }) {
  const size = 192
  const ref = useRef<HTMLDivElement>(null)
  const dragging = useRef(false)
  const fromEvent = (e: PointerEvent) => {
    const box = ref.current?.getBoundingClientRect()
    if (!box) return
    onChange(Math.max(0, Math.min(side, Math.round(((e.clientY - box.top) / box.height) * side))))
  }
  const y = (keepRows / side) * size
  return (
    <Box
      ref={ref}
      data-testid="keep-rows-picker"
      onPointerDown={(e) => {
        dragging.current = true
        ;(e.target as Element).setPointerCapture?.(e.pointerId)
        fromEvent(e)
      }}
      onPointerMove={(e) => dragging.current && fromEvent(e)}
      onPointerUp={() => (dragging.current = false)}
      sx={{ position: 'relative', width: size, height: size, cursor: 'ns-resize', touchAction: 'none', userSelect: 'none', border: 1, borderColor: 'divider' }}
    >
      <Box component="img" src={mediaUrl(sha256)} alt="Image to complete" draggable={false} sx={{ width: size, height: size, display: 'block', ...pixelated }} />
      <Box sx={{ position: 'absolute', left: 0, right: 0, top: y, bottom: 0, bgcolor: 'rgba(0,0,0,0.45)' }} />
      <Box sx={{ position: 'absolute', left: -4, right: -4, top: y - 1, height: 3, bgcolor: 'primary.main', boxShadow: 1 }} />
    </Box>
  )
}

function Slot({ src, state, index }: { src: string | null; state: 'empty' | 'partial' | 'done'; index: number }) {
  return (
    <Box
      data-testid="preview-slot"
      data-state={state}
      title={`Image ${index + 1}`}
      sx={{ width: 128, height: 128, borderRadius: 1, overflow: 'hidden', bgcolor: 'action.hover', border: 2, borderColor: state === 'done' ? 'success.main' : state === 'partial' ? 'primary.main' : 'transparent' }}
    >
      {src && <Box component="img" src={src} alt={`Image ${index + 1}`} sx={{ width: '100%', height: '100%', display: 'block', ...pixelated }} />}
    </Box>
  )
}

export function GeneratePanel() {
  const api = useApi()
  const notify = useNotify()
  const models = useApiQuery('models.list', {})
  const details = useQueries({
    queries: (models.data ?? []).map((m) => ({
      queryKey: queryKey('models.get', { ref: m.id }),
      queryFn: () => callOrThrow(api, 'models.get', { ref: m.id }),
      staleTime: 60_000
    }))
  })
  const generative = useMemo(() => details.map((d) => d.data).filter((d): d is ModelDetail => !!d && d.generative), [details])
  const [form, setForm] = useState<Form>(initial)
  const set = (patch: Partial<Form>) => setForm((f) => ({ ...f, ...patch }))
  const model = generative.find((m) => m.id === form.modelId) ?? null
  const side = model?.config?.side ?? 8

  useEffect(() => {
    if (!form.modelId && generative[0]) set({ modelId: generative[0].id, keepRows: Math.floor((generative[0].config?.side ?? 8) / 2) })
  }, [form.modelId, generative])

  // Recall / remix / complete from the Gallery, and dropped PNGs.
  const handover = useHandover()
  const applyRecipe = (r: GenerationRecipe, remix: boolean) => {
    const byId = generative.find((m) => m.id === r.model.id) ?? generative.find((m) => m.name === r.model.name)
    setForm((f) => ({
      ...f,
      modelId: byId?.id ?? f.modelId,
      className: r.class ?? 'any',
      count: 1,
      batchSize: '',
      temperature: r.temperature,
      topK: r.topK,
      topP: r.topP,
      randomSeed: remix,
      seed: remix ? randomSeed() : r.seed,
      firstIndex: remix ? 0 : r.index,
      completeOn: !!r.complete,
      completeSha: r.complete?.sha256 ?? '',
      completePath: r.complete?.sha256 ? '' : (r.complete?.file ?? ''),
      keepRows: r.complete?.keepRows ?? f.keepRows
    }))
    if (!byId) notify.error(`The model "${r.model.name}" of this recipe is not in the library.`)
  }
  useEffect(() => {
    if (!handover || generative.length === 0) return
    const h = takeHandover()
    if (!h) return
    if (h.kind === 'complete') setForm((f) => ({ ...f, completeOn: true, completeSha: h.sha256, completePath: '', count: 4 }))
    else applyRecipe(h.recipe, h.kind === 'remix')
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [handover, generative.length])

  const [dropHover, setDropHover] = useState(false)
  const onDrop = async (e: DragEvent) => {
    e.preventDefault()
    setDropHover(false)
    const file = e.dataTransfer.files[0]
    if (!file) return
    const bytes = new Uint8Array(await file.arrayBuffer())
    let bin = ''
    for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
    try {
      applyRecipe(await callOrThrow(api, 'gallery.readRecipe', { pngBase64: btoa(bin) }), false)
      notify.success(`Recipe of ${file.name} loaded.`)
    } catch (err) {
      notify.error(errorSentence(err))
    }
  }

  // The running job and its frames (the last job stays shown when the panel is opened again).
  const [jobId, setJobIdState] = useState<string | null>(lastJobId)
  const setJobId = (id: string) => {
    lastJobId = id
    setJobIdState(id)
  }
  const job = useApiQuery('jobs.get', { id: jobId ?? '-' }, { enabled: jobId !== null })
  const jobParams = job.data?.params as { count?: number; firstIndex?: number } | undefined
  // Finished images come from the gallery (also those whose last frame was skipped or missed).
  const saved = useApiQuery('gallery.list', { jobId: jobId ?? '-', sort: 'oldest', limit: MAX_SLOTS }, { enabled: jobId !== null })
  const savedSlots = useMemo(() => {
    const m = new Map<number, string>()
    for (const item of saved.data?.items ?? []) m.set(item.index - (jobParams?.firstIndex ?? 0), mediaUrl(item.sha256))
    return m
  }, [saved.data, jobParams?.firstIndex])
  const slotCount = Math.min(MAX_SLOTS, jobParams?.count ?? 0)
  const [slots, setSlots] = useState<(string | null)[]>([])
  const [slotState, setSlotState] = useState<('empty' | 'partial' | 'done')[]>([])
  const [frames, setFrames] = useState({ all: 0, intermediate: 0 })
  useEffect(() => {
    if (!jobId) return
    return api.on('generate.preview', (f: GeneratePreview) => {
      if (f.jobId !== jobId) return
      setFrames((c) => ({ all: c.all + 1, intermediate: c.intermediate + (f.rowsDone < f.rows ? 1 : 0) }))
      setSlots((s) => {
        const next = s.length === f.count ? s.slice() : Array.from({ length: f.count }, (_, i) => s[i] ?? null)
        f.images.forEach((img, i) => (next[f.batchStart + i] = img))
        return next
      })
      setSlotState((s) => {
        const next = s.length === f.count ? s.slice() : Array.from({ length: f.count }, (_, i) => s[i] ?? 'empty')
        f.images.forEach((_, i) => (next[f.batchStart + i] = f.rowsDone >= f.rows ? 'done' : 'partial'))
        return next
      })
    })
  }, [api, jobId])

  const start = useApiMutation('generate.start', {
    meta: { inlineError: true },
    onSuccess: (j: Job) => {
      setJobId(j.id)
      const p = j.params as { seed: number; count: number }
      set({ seed: p.seed })
      setSlots(Array.from({ length: p.count }, () => null))
      setSlotState(Array.from({ length: p.count }, () => 'empty'))
      setFrames({ all: 0, intermediate: 0 })
    }
  })
  const cancel = useApiMutation('jobs.cancel')
  const running = job.data ? ['queued', 'running'].includes(job.data.state) : start.isPending
  const jobSeed = (job.data?.params as { seed?: number } | undefined)?.seed

  const submit = () => {
    if (!model) return
    const input: StartInput = {
      model: model.id,
      count: form.count,
      temperature: form.temperature,
      topK: form.topK,
      topP: form.topP,
      ...(form.batchSize ? { batchSize: num(form.batchSize, 1) } : {}),
      ...(form.randomSeed ? {} : { seed: form.seed }),
      ...(form.firstIndex ? { firstIndex: form.firstIndex } : {}),
      ...(form.className !== 'any' ? { className: form.className } : {}),
      ...(form.completeOn
        ? { complete: { ...(form.completeSha ? { sha256: form.completeSha } : { path: form.completePath }), keepRows: form.keepRows } }
        : {})
    }
    start.mutate(input)
  }

  const loading = models.isLoading || details.some((d) => d.isLoading)
  return (
    <>
      <PanelHeader title="Generate" subtitle="Sample new images token by token; every output is saved to the gallery with its recipe." />
      {(loading || running) && <LinearProgress sx={{ borderRadius: 0, height: 2 }} />}
      <PanelBody>
        {!loading && generative.length === 0 && (
          <EmptyState icon={<AutoAwesomeOutlinedIcon />} title="No generative model in the library" testId="generate-empty">
            Import an ImageGPT model with an lm_head (for example with `tessera model import FOLDER`) to generate images.
          </EmptyState>
        )}
        {generative.length > 0 && (
          <Stack
            direction="row"
            spacing={3}
            sx={{ alignItems: 'flex-start', outline: dropHover ? '2px dashed' : 'none', outlineColor: 'primary.main', borderRadius: 1 }}
            onDragOver={(e) => {
              e.preventDefault()
              setDropHover(true)
            }}
            onDragLeave={() => setDropHover(false)}
            onDrop={(e) => void onDrop(e)}
          >
            <Stack spacing={1.75} sx={{ width: 300, flexShrink: 0 }} component="form" onSubmit={(e) => (e.preventDefault(), submit())}>
              <TextField select size="small" label="Model" value={form.modelId} onChange={(e) => set({ modelId: e.target.value, className: 'any' })} slotProps={{ select: { SelectDisplayProps: { 'data-testid': 'gen-model' } as object } }}>
                {generative.map((m) => (
                  <MenuItem key={m.id} value={m.id}>
                    {m.name} · {m.config?.side}×{m.config?.side}
                  </MenuItem>
                ))}
              </TextField>
              {model && model.conditionClasses.length > 0 && (
                <TextField select size="small" label="Class" value={form.className} onChange={(e) => set({ className: e.target.value })} slotProps={{ select: { SelectDisplayProps: { 'data-testid': 'gen-class' } as object } }}>
                  <MenuItem value="any">Any</MenuItem>
                  {model.conditionClasses.map((c) => (
                    <MenuItem key={c} value={c}>
                      {c}
                    </MenuItem>
                  ))}
                </TextField>
              )}
              <Stack direction="row" spacing={1.5}>
                <TextField size="small" label="Count" type="number" value={form.count} onChange={(e) => set({ count: Math.max(1, Math.round(num(e.target.value, 1))) })} slotProps={{ htmlInput: { min: 1, max: 10000, 'data-testid': 'gen-count' } }} />
                <TextField size="small" label="Batch size" placeholder="auto" value={form.batchSize} onChange={(e) => set({ batchSize: e.target.value.replace(/[^0-9]/g, '') })} slotProps={{ htmlInput: { 'data-testid': 'gen-batch' }, inputLabel: { shrink: true } }} />
              </Stack>
              <Box>
                <Typography variant="caption" sx={{ color: 'text.secondary' }}>
                  Temperature {form.temperature.toFixed(2)}
                </Typography>
                <Slider size="small" min={0.05} max={2} step={0.05} value={form.temperature} onChange={(_, v) => set({ temperature: v as number })} data-testid="gen-temperature" />
              </Box>
              <Stack direction="row" spacing={1.5}>
                <TextField size="small" label="Top-k (0: off)" type="number" value={form.topK} onChange={(e) => set({ topK: Math.max(0, Math.round(num(e.target.value, 0))) })} slotProps={{ htmlInput: { min: 0, 'data-testid': 'gen-topk' } }} />
                <TextField size="small" label="Top-p (1: off)" type="number" value={form.topP} onChange={(e) => set({ topP: Math.min(1, Math.max(0.01, num(e.target.value, 1))) })} slotProps={{ htmlInput: { min: 0.01, max: 1, step: 0.01, 'data-testid': 'gen-topp' } }} />
              </Stack>
              <Stack direction="row" spacing={1} sx={{ alignItems: 'center' }}>
                <FormControlLabel control={<Switch size="small" checked={form.randomSeed} onChange={(e) => set({ randomSeed: e.target.checked })} />} label="Random seed" sx={{ mr: 0 }} />
                <TextField
                  size="small"
                  label="Seed"
                  value={form.seed}
                  disabled={form.randomSeed}
                  onChange={(e) => set({ seed: Math.max(0, Math.min(2 ** 32 - 1, Math.round(num(e.target.value, 0)))) })}
                  slotProps={{ htmlInput: { 'data-testid': 'gen-seed' } }}
                  sx={{ flex: 1 }}
                />
                <Tooltip title="New random seed">
                  <IconButton size="small" aria-label="New random seed" onClick={() => set({ seed: randomSeed(), randomSeed: false })}>
                    <CasinoOutlinedIcon fontSize="small" />
                  </IconButton>
                </Tooltip>
              </Stack>
              {form.firstIndex > 0 && (
                <Typography variant="caption" sx={{ color: 'text.secondary' }} data-testid="gen-first-index">
                  Starts at image #{form.firstIndex} of this seed (recalled).{' '}
                  <Box component="span" sx={{ cursor: 'pointer', textDecoration: 'underline' }} onClick={() => set({ firstIndex: 0 })}>
                    Start at #0
                  </Box>
                </Typography>
              )}
              <FormControlLabel control={<Switch size="small" checked={form.completeOn} onChange={(e) => set({ completeOn: e.target.checked })} data-testid="gen-complete" />} label="Complete an image" />
              {form.completeOn && (
                <Stack spacing={1}>
                  {form.completeSha ? (
                    <>
                      <KeepRowsPicker sha256={form.completeSha} side={side} keepRows={form.keepRows} onChange={(keepRows) => set({ keepRows })} />
                      <Button size="small" sx={{ alignSelf: 'flex-start' }} onClick={() => set({ completeSha: '' })}>
                        Use a file path instead
                      </Button>
                    </>
                  ) : (
                    <TextField size="small" label="Image path" placeholder="/path/to/image.png (or pick one in the Gallery)" value={form.completePath} onChange={(e) => set({ completePath: e.target.value })} />
                  )}
                  <Typography variant="caption" sx={{ color: 'text.secondary' }}>
                    Keep the top {form.keepRows} of {side} rows
                  </Typography>
                  <Slider size="small" min={0} max={side} step={1} value={form.keepRows} onChange={(_, v) => set({ keepRows: v as number })} />
                </Stack>
              )}
              {start.isError && <Alert severity="error">{errorSentence(start.error)}</Alert>}
              <Stack direction="row" spacing={1}>
                <Button type="submit" variant="contained" disabled={!model || running || (form.completeOn && !form.completeSha && !form.completePath)} data-testid="gen-submit" startIcon={<AutoAwesomeOutlinedIcon />}>
                  Generate
                </Button>
                {jobId && running && (
                  <Button color="inherit" startIcon={<StopCircleOutlinedIcon />} onClick={() => cancel.mutate({ id: jobId })} data-testid="gen-cancel">
                    Cancel
                  </Button>
                )}
              </Stack>
              <Typography variant="caption" sx={{ color: 'text.secondary' }}>
                Drop a Tessera PNG here to load its recipe.
              </Typography>
            </Stack>

            <Box sx={{ flex: 1, minWidth: 0 }}>
              {jobId && (
                <Stack direction="row" spacing={1.5} sx={{ alignItems: 'center', mb: 1.5 }}>
                  <Typography variant="body2" data-testid="gen-status">
                    {job.data ? `${job.data.state === 'done' ? 'Done' : job.data.state === 'cancelled' ? 'Cancelled' : job.data.state === 'failed' ? 'Failed' : 'Generating'}` : 'Queued'}
                    {job.data?.total ? ` · ${Math.round((100 * job.data.done) / job.data.total)}%` : ''}
                  </Typography>
                  {jobSeed !== undefined && (
                    <Stack direction="row" sx={{ alignItems: 'center' }}>
                      <Typography variant="body2" sx={{ fontFamily: 'monospace' }} data-testid="gen-job-seed">
                        seed {jobSeed}
                      </Typography>
                      <Tooltip title="Copy seed">
                        <IconButton size="small" aria-label="Copy seed" onClick={() => void navigator.clipboard?.writeText(String(jobSeed)).catch(() => undefined)}>
                          <ContentCopyIcon sx={{ fontSize: 14 }} />
                        </IconButton>
                      </Tooltip>
                    </Stack>
                  )}
                  <Typography variant="caption" sx={{ color: 'text.secondary' }} data-testid="preview-frames" data-intermediate={frames.intermediate}>
                    {frames.all} preview frames ({frames.intermediate} mid-image)
                  </Typography>
                  {job.data?.state === 'failed' && <Alert severity="error">{job.data.error}</Alert>}
                </Stack>
              )}
              <Box sx={{ display: 'flex', flexWrap: 'wrap', gap: 1.5 }} data-testid="preview-grid">
                {Array.from({ length: Math.min(MAX_SLOTS, Math.max(slotCount, slots.length)) }, (_, i) => (
                  <Slot key={i} index={i} src={savedSlots.get(i) ?? slots[i] ?? null} state={savedSlots.has(i) ? 'done' : (slotState[i] ?? 'empty')} />
                ))}
              </Box>
              {(jobParams?.count ?? 0) > MAX_SLOTS && (
                <Typography variant="caption" sx={{ color: 'text.secondary', display: 'block', mt: 1 }}>
                  Showing the first {MAX_SLOTS} of {jobParams?.count}; all of them are in the Gallery.
                </Typography>
              )}
              {!jobId && (
                <Typography variant="body2" sx={{ color: 'text.secondary' }}>
                  Images appear here row by row while they are sampled, and in the Gallery when they are finished.
                </Typography>
              )}
            </Box>
          </Stack>
        )}
      </PanelBody>
    </>
  )
}
