// A model card: what the model is (architecture, parameters, palette, classes), where it came
// from (import source, base model, training data snapshot), how good it is (metrics, confusion
// matrix, the pretraining or training loss curve), sample outputs from the gallery (generated on
// demand by a generation job in the ML worker), Try it, and rename / export / delete.

import { useState, type ReactNode } from 'react'
import Box from '@mui/material/Box'
import Button from '@mui/material/Button'
import Chip from '@mui/material/Chip'
import LinearProgress from '@mui/material/LinearProgress'
import MenuItem from '@mui/material/MenuItem'
import Stack from '@mui/material/Stack'
import TextField from '@mui/material/TextField'
import Tooltip from '@mui/material/Tooltip'
import Typography from '@mui/material/Typography'
import type { ModelDetail, TrainClassificationMetrics } from '../../../shared/contract'
import { useApiMutation, useApiQuery } from '../api/hooks'
import { useNotify } from '../app/notify'
import { Section, formatDate } from '../components/common'
import { ConfusionMatrix } from '../train/ConfusionMatrix'
import { LineChart } from '../train/LineChart'
import { DeleteModelDialog, ExportModelDialog, RenameModelDialog } from './dialogs'
import { formatParameters, metricLabel, paletteCss, scalarMetrics, trainingStepsText } from '../../../shared/model-view'
import { TryIt } from './TryIt'

const sourceLabel: Record<ModelDetail['source'], string> = { builtin: 'Built-in', imported: 'Imported', trained: 'Fine-tuned' }
const pixelated = { imageRendering: 'pixelated' as const }
const formatLabel = (format: unknown): string => (format === 'huggingface' ? 'Hugging Face ImageGPT folder' : format === 'onnx' ? 'ONNX file' : String(format ?? 'unknown format'))

type Json = Record<string, unknown>
const obj = (v: unknown): Json | null => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : null)

function Fact({ label, children, testId }: { label: string; children: ReactNode; testId?: string }) {
  return (
    <>
      <Typography variant="body2" sx={{ color: 'text.secondary' }}>
        {label}
      </Typography>
      <Typography variant="body2" component="div" data-testid={testId} sx={{ overflowWrap: 'anywhere' }}>
        {children}
      </Typography>
    </>
  )
}

function Facts({ children }: { children: ReactNode }) {
  return <Box sx={{ display: 'grid', gridTemplateColumns: 'max-content 1fr', columnGap: 2, rowGap: 0.75 }}>{children}</Box>
}

export function PaletteSwatch({ palette }: { palette: number[][] }) {
  return (
    <Box data-testid="palette-swatch" sx={{ display: 'flex', flexWrap: 'wrap', gap: '2px', maxWidth: 520 }}>
      {palette.map((c, i) => (
        <Tooltip key={i} title={`${i}: ${paletteCss(c)}`}>
          <Box sx={{ width: 18, height: 18, bgcolor: paletteCss(c), border: 1, borderColor: 'divider', borderRadius: 0.5 }} />
        </Tooltip>
      ))}
    </Box>
  )
}

function ClassChips({ names, testId }: { names: string[]; testId: string }) {
  return (
    <Stack direction="row" data-testid={testId} sx={{ flexWrap: 'wrap', gap: 0.5 }}>
      {names.slice(0, 200).map((n) => (
        <Chip key={n} label={n} size="small" variant="outlined" />
      ))}
      {names.length > 200 && <Chip label={`+${names.length - 200} more`} size="small" />}
    </Stack>
  )
}

/** A built-in model's pretraining warm restarts (samples/index.ts reads them from its run record). */
function extensionsOf(training: Record<string, unknown>): { steps: number; peakLr: number | null }[] {
  const list = Array.isArray(training.extensions) ? (training.extensions as unknown[]) : []
  return list.map(obj).flatMap((e) => (e && typeof e.steps === 'number' ? [{ steps: e.steps, peakLr: typeof e.peakLr === 'number' ? e.peakLr : null }] : []))
}

function classificationOf(metrics: unknown): TrainClassificationMetrics | null {
  const m = obj(metrics)
  const c = obj(m?.classification) ?? m
  return c && Array.isArray(c.confusion) && Array.isArray(c.perClass) ? (c as unknown as TrainClassificationMetrics) : null
}

function LossCurves({ model }: { model: ModelDetail }) {
  const training = obj(model.lineage.training)
  const runId = typeof training?.runId === 'string' ? training.runId : null
  const run = useApiQuery('train.run', { id: runId ?? '-' }, { enabled: runId !== null })
  const curve = Array.isArray(training?.curve) ? (training.curve as { step: number; loss: number; bitsPerToken: number | null }[]) : null
  if (curve && curve.length > 0) {
    const bpt = curve.filter((p) => typeof p.bitsPerToken === 'number')
    return (
      <LineChart
        testId="model-loss-curve"
        title="Pretraining loss"
        series={[
          { name: 'loss (nats/token)', color: '#3b82f6', points: curve.map((p) => ({ x: p.step, y: p.loss })) },
          ...(bpt.length > 0 ? [{ name: 'bits/token', color: '#f59e0b', points: bpt.map((p) => ({ x: p.step, y: p.bitsPerToken! })) }] : [])
        ]}
      />
    )
  }
  if (run.data && run.data.history.length > 0)
    return (
      <LineChart
        testId="model-loss-curve"
        title="Training loss"
        series={[
          { name: 'train loss', color: '#3b82f6', points: run.data.history.map((p) => ({ x: p.step, y: p.loss })) },
          ...(run.data.val.length > 0 ? [{ name: 'val loss', color: '#f59e0b', points: run.data.val.map((p) => ({ x: p.step, y: p.loss })), dots: true }] : [])
        ]}
      />
    )
  return null
}

function SampleOutputs({ model }: { model: ModelDetail }) {
  const notify = useNotify()
  const [className, setClassName] = useState('')
  const [jobId, setJobId] = useState<string | null>(null)
  const job = useApiQuery('jobs.get', { id: jobId ?? '-' }, { enabled: jobId !== null })
  const outputs = useApiQuery('gallery.list', jobId ? { modelId: model.id, jobId, sort: 'newest', offset: 0, limit: 16 } : { modelId: model.id, sort: 'newest', offset: 0, limit: 16 })
  const start = useApiMutation('generate.start', {
    onSuccess: (j) => setJobId(j.id),
    onError: (e) => notify.error(e)
  })
  const running = job.data && (job.data.state === 'queued' || job.data.state === 'running')
  const items = outputs.data?.items ?? []
  return (
    <Stack spacing={1.5}>
      <Stack direction="row" spacing={1.5} sx={{ alignItems: 'center' }}>
        {model.conditionClasses.length > 0 && (
          <TextField select size="small" label="Class" value={className} onChange={(e) => setClassName(e.target.value)} sx={{ width: 140 }} slotProps={{ htmlInput: { 'data-testid': 'samples-class' }, select: { displayEmpty: true }, inputLabel: { shrink: true } }}>
            <MenuItem value="">Any</MenuItem>
            {model.conditionClasses.map((c) => (
              <MenuItem key={c} value={c}>
                {c}
              </MenuItem>
            ))}
          </TextField>
        )}
        <Button
          variant="outlined"
          disabled={Boolean(running) || start.isPending}
          data-testid="samples-generate"
          onClick={() => start.mutate({ model: model.id, count: 8, temperature: 1, topK: 0, topP: 1, greedy: false, firstIndex: 0, gallery: true, ...(className ? { className } : {}) })}
        >
          Generate 8 samples
        </Button>
        <Typography variant="body2" sx={{ color: 'text.secondary' }}>
          {running ? `Generating… ${job.data?.state === 'queued' ? 'queued' : ''}` : jobId ? 'From the last run (saved to the Gallery).' : items.length > 0 ? 'Latest outputs in the Gallery.' : 'Runs as a generation job; the images are saved to the Gallery.'}
        </Typography>
      </Stack>
      {running && <LinearProgress />}
      {items.length > 0 && (
        <Box data-testid="samples-grid" sx={{ display: 'grid', gridTemplateColumns: 'repeat(auto-fill, 72px)', gap: 1 }}>
          {items.map((g) => (
            <Tooltip key={g.id} title={`seed ${g.seed} #${g.index}${g.className ? ` · class ${g.className}` : ''}${g.bitsPerToken !== null ? ` · ${g.bitsPerToken.toFixed(2)} bits/token` : ''}`}>
              <Box component="img" src={`/media/${g.sha256}`} alt={`sample ${g.index}`} sx={{ width: 72, height: 72, borderRadius: 1, bgcolor: '#000', ...pixelated }} />
            </Tooltip>
          ))}
        </Box>
      )}
    </Stack>
  )
}

function Lineage({ model }: { model: ModelDetail }) {
  const l = model.lineage
  const imported = obj(l.importedFrom)
  const base = obj(l.baseModel)
  const snapshot = obj(l.datasetSnapshot)
  const training = obj(l.training)
  const items = obj(snapshot?.items)
  const start = obj(training?.start)
  const summary = obj(training?.summary)
  return (
    <Facts>
      <Fact label="Source">{sourceLabel[model.source]}</Fact>
      {imported && model.source === 'builtin' && <Fact label="Shipped as">{`the ${String(imported.path ?? '').split(/[\\/]/).filter(Boolean).pop() ?? model.name} folder in Tessera's models (${formatLabel(imported.format)})`}</Fact>}
      {imported && model.source !== 'builtin' && <Fact label="Imported from">{`${String(imported.path ?? '')} (${formatLabel(imported.format)})`}</Fact>}
      {base && (
        <Fact label="Base model">
          {typeof base.id === 'string' ? (
            <Box component="a" href={`#/models/${encodeURIComponent(base.id)}`} sx={{ color: 'primary.main' }}>
              {String(base.name ?? base.id)}
            </Box>
          ) : (
            String(base.name ?? '')
          )}
        </Fact>
      )}
      {snapshot && (
        <Fact label="Training data">
          <span data-testid="model-data-snapshot">
            {[
              typeof snapshot.name === 'string' ? `“${snapshot.name}”` : null,
              items ? Object.entries(items).map(([k, v]) => `${String(v)} ${k}`).join(' / ') : null,
              typeof snapshot.description === 'string' ? snapshot.description : null,
              typeof snapshot.snapshotName === 'string'
                ? `snapshot “${snapshot.snapshotName}”${typeof snapshot.hash === 'string' ? ` (${snapshot.hash.slice(0, 12)})` : ''}`
                : typeof snapshot.hash === 'string'
                  ? `snapshot ${snapshot.hash.slice(0, 12)}`
                  : null
            ]
              .filter(Boolean)
              .join(' · ')}
          </span>
        </Fact>
      )}
      {training && (typeof training.objective === 'string' || start) && (
        <Fact label="Training" testId="model-training">
          {[
            typeof training.objective === 'string' ? training.objective : null,
            typeof training.steps === 'number' ? trainingStepsText(training) : start && typeof start.steps === 'number' ? `${start.steps} steps of ${String(start.batchSize ?? '?')}` : null,
            start && typeof start.peakLr === 'number' ? `peak lr ${start.peakLr}` : null,
            ...extensionsOf(training).map((e) => `then ${e.steps} more steps${e.peakLr !== null ? ` at peak lr ${e.peakLr}` : ''}`),
            typeof training.durationS === 'number' ? `${Math.round(training.durationS)} s` : null,
            summary && typeof summary.seed === 'number' ? `seed ${summary.seed}` : null
          ]
            .filter(Boolean)
            .join(' · ')}
        </Fact>
      )}
      <Fact label="Added">{formatDate(model.createdAt)}</Fact>
      <Fact label="Weights sha256">
        <Box component="span" sx={{ fontFamily: 'monospace', fontSize: 12 }}>
          {model.weightsSha256}
        </Box>
      </Fact>
      {model.children.length > 0 && (
        <Fact label="Fine-tunes">
          {model.children.map((c, i) => (
            <span key={c.id}>
              {i > 0 && ', '}
              <Box component="a" href={`#/models/${encodeURIComponent(c.id)}`} sx={{ color: 'primary.main' }}>
                {c.name}
              </Box>
            </span>
          ))}
        </Fact>
      )}
    </Facts>
  )
}

export function ModelCard({ model }: { model: ModelDetail }) {
  const [dialog, setDialog] = useState<'rename' | 'export' | 'delete' | null>(null)
  // An image dropped anywhere on the card goes to Try it.
  const [dropped, setDropped] = useState<File | null>(null)
  const c = model.config
  const metrics = model.lineage.metrics
  const scalars = scalarMetrics(metrics)
  const confusion = classificationOf(metrics)
  return (
    <Box
      data-testid="model-card"
      onDragOver={(e) => {
        if (e.dataTransfer.types.includes('Files')) e.preventDefault()
      }}
      onDrop={(e) => {
        const file = e.dataTransfer.files[0]
        if (!file) return
        e.preventDefault()
        setDropped(file)
        document.getElementById('try-it-section')?.scrollIntoView({ block: 'nearest' })
      }}
    >
      <Stack direction="row" spacing={1.5} sx={{ alignItems: 'flex-start', mb: 2 }}>
        {/* The name and chips wrap within their own box; the actions stay together on the right. */}
        <Stack direction="row" spacing={1.5} sx={{ alignItems: 'center', flexWrap: 'wrap', rowGap: 1, flex: 1, minWidth: 0 }}>
          <Typography variant="h6" component="h2" data-testid="model-card-name" sx={{ mr: 1, overflowWrap: 'anywhere' }}>
            {model.name}
          </Typography>
          <Chip label={sourceLabel[model.source]} size="small" color={model.source === 'builtin' ? 'primary' : 'default'} variant="outlined" />
          <Chip label={model.kind} size="small" variant="outlined" />
        </Stack>
        <Stack direction="row" spacing={1} sx={{ flexShrink: 0 }}>
          <Button onClick={() => setDialog('rename')} data-testid="model-rename">
            Rename
          </Button>
          <Button onClick={() => setDialog('export')} data-testid="model-export">
            Export
          </Button>
          <Button color="error" onClick={() => setDialog('delete')} data-testid="model-delete">
            Delete
          </Button>
        </Stack>
      </Stack>

      <Section title="Model">
        <Facts>
          <Fact label="Architecture">{model.architecture}</Fact>
          <Fact label="Parameters">
            <span data-testid="model-parameters">
              {formatParameters(model.parameters)} ({model.parameters.toLocaleString('en-US')})
            </span>
          </Fact>
          {c && <Fact label="Image">{`${c.side}×${c.side} pixels, ${c.paletteSize} palette colours (${c.side * c.side} tokens)`}</Fact>}
          {c && <Fact label="Transformer">{`${c.layers} layers, width ${c.width}, ${c.heads} heads, MLP ${c.innerWidth}`}</Fact>}
          {model.onnx && (
            <>
              <Fact label="Input">{`${model.onnx.input.name}: ${model.onnx.input.layout.toUpperCase()} ${model.onnx.input.height}×${model.onnx.input.width}${model.onnx.input.dynamicBatch ? ', any batch' : ''}`}</Fact>
              <Fact label="Output">{`${model.onnx.output.name}: ${model.onnx.output.dim} ${model.onnx.task === 'classifier' ? 'logits' : 'features'}`}</Fact>
              <Fact label="Preprocessing">{`resize ${model.onnx.preprocess.resize}${model.onnx.preprocess.crop ? ' + centre crop' : ''}, ×${model.onnx.preprocess.rescale}, mean ${model.onnx.preprocess.mean.join(', ')}, std ${model.onnx.preprocess.std.join(', ')}`}</Fact>
            </>
          )}
          <Fact label="Can">
            {[model.generative ? 'generate and score images' : null, model.classes.length > 0 ? 'classify' : null, model.onnx?.task === 'features' ? 'embed images (a backbone for probe)' : null].filter(Boolean).join(', ') || '–'}
          </Fact>
          {model.palette.length > 0 && (
            <Fact label="Palette">
              <PaletteSwatch palette={model.palette} />
            </Fact>
          )}
          {model.classes.length > 0 && (
            <Fact label={`Classes (${model.classes.length})`}>
              <ClassChips names={model.classes} testId="model-classes" />
            </Fact>
          )}
          {model.conditionClasses.length > 0 && (
            <Fact label={`Conditioning classes (${model.conditionClasses.length})`}>
              <ClassChips names={model.conditionClasses} testId="model-condition-classes" />
            </Fact>
          )}
        </Facts>
      </Section>

      <Section title="Lineage">
        <Lineage model={model} />
      </Section>

      {(scalars.length > 0 || confusion !== null || Boolean(model.lineage.training)) && (
        <Section title="Metrics" description="As recorded when the model was trained or evaluated.">
          <Stack spacing={2}>
            {scalars.length > 0 && (
              <Facts>
                {scalars.map((m) => (
                  <Fact key={m.key} label={metricLabel(m.key)}>
                    <span data-testid={`metric-${m.key}`}>{m.value}</span>
                  </Fact>
                ))}
              </Facts>
            )}
            {confusion && <ConfusionMatrix metrics={confusion} />}
            <LossCurves model={model} />
          </Stack>
        </Section>
      )}

      {model.generative && (
        <Section title="Sample outputs">
          <SampleOutputs model={model} />
        </Section>
      )}

      <Box id="try-it-section">
        <Section title="Try it" description="See what the model makes of one of your images (or drop one anywhere on this card).">
          <TryIt model={model} dropped={dropped} />
        </Section>
      </Box>

      <RenameModelDialog model={model} open={dialog === 'rename'} onClose={() => setDialog(null)} />
      <ExportModelDialog model={model} open={dialog === 'export'} onClose={() => setDialog(null)} />
      <DeleteModelDialog
        model={model}
        open={dialog === 'delete'}
        onClose={() => {
          setDialog(null)
        }}
      />
    </Box>
  )
}


