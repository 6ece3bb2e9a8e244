// Model dialogs: import (HF ImageGPT folder or ONNX file + labels + preprocessing), rename,
// export (typed folder path; HF layout or ONNX + labels JSON) and delete (saying first what
// depends on the model). Paths are typed: the browser host has no native picker.

import { useState, type FormEvent } from 'react'
import Alert from '@mui/material/Alert'
import Button from '@mui/material/Button'
import Checkbox from '@mui/material/Checkbox'
import Dialog from '@mui/material/Dialog'
import DialogActions from '@mui/material/DialogActions'
import DialogContent from '@mui/material/DialogContent'
import DialogTitle from '@mui/material/DialogTitle'
import FormControlLabel from '@mui/material/FormControlLabel'
import MenuItem from '@mui/material/MenuItem'
import Stack from '@mui/material/Stack'
import TextField from '@mui/material/TextField'
import Typography from '@mui/material/Typography'
import type { MethodInput, ModelDetail } from '../../../shared/contract'
import { ApiError } from '../api/errors'
import { useApiMutation } from '../api/hooks'
import { useNotify } from '../app/notify'
import { openModel } from './nav'

type ImportInput = MethodInput<'models.import'>

/** "0.5, 0.5, 0.5" -> [0.5, 0.5, 0.5]; one number repeats; null when it is not 1 or 3 numbers. */
/** Cancel and the form's submit button, as every form dialog here ends. */
function SubmitActions({ onClose, disabled, label, testId }: { onClose: () => void; disabled: boolean; label: string; testId: string }) {
  return (
    <DialogActions>
      <Button onClick={onClose}>Cancel</Button>
      <Button type="submit" variant="contained" disabled={disabled} data-testid={testId}>
        {label}
      </Button>
    </DialogActions>
  )
}

export function parseTriple(text: string): [number, number, number] | null {
  const parts = text
    .split(/[\s,]+/)
    .filter(Boolean)
    .map(Number)
  if (parts.some((v) => !Number.isFinite(v))) return null
  if (parts.length === 1) return [parts[0]!, parts[0]!, parts[0]!]
  if (parts.length === 3) return [parts[0]!, parts[1]!, parts[2]!]
  return null
}

export function ImportModelDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const notify = useNotify()
  const [path, setPath] = useState('')
  const [name, setName] = useState('')
  const [labels, setLabels] = useState('')
  const [size, setSize] = useState('')
  const [mean, setMean] = useState('')
  const [std, setStd] = useState('')
  const [crop, setCrop] = useState(false)
  const [local, setLocal] = useState<string | null>(null)
  const isOnnx = /\.onnx$/i.test(path.trim())
  const run = useApiMutation('models.import', {
    meta: { inlineError: true },
    onSuccess: (m) => {
      notify.success(`Imported “${m.name}” (${m.architecture}).`)
      setPath('')
      setName('')
      setLabels('')
      setSize('')
      setMean('')
      setStd('')
      setCrop(false)
      onClose()
      openModel(m.id)
    }
  })
  const err = run.error instanceof ApiError ? run.error : null
  const fieldError = (f: string): string | undefined => (err && err.field === f ? err.message : undefined)
  const submit = (e: FormEvent) => {
    e.preventDefault()
    setLocal(null)
    const input: ImportInput = { path: path.trim() }
    if (name.trim()) input.name = name.trim()
    if (labels.trim()) input.labels = labels.trim()
    if (size.trim()) {
      const n = Number(size)
      if (!Number.isInteger(n) || n < 1) return setLocal('Size must be a whole number of pixels.')
      input.size = n
    }
    if (mean.trim()) {
      const t = parseTriple(mean)
      if (!t) return setLocal('Mean must be one number or three (r, g, b).')
      input.mean = t
    }
    if (std.trim()) {
      const t = parseTriple(std)
      if (!t || t.some((v) => v <= 0)) return setLocal('Std must be one positive number or three (r, g, b).')
      input.std = t
    }
    if (crop) input.crop = true
    run.mutate(input)
  }
  const generalError = local ?? (run.error && !['name', 'labels', 'path'].includes(err?.field ?? '') ? run.error.message : null)
  return (
    <Dialog open={open} onClose={onClose} fullWidth maxWidth="sm" slotProps={{ paper: { component: 'form', onSubmit: submit } as object, transition: { onExited: () => run.reset() } }}>
      <DialogTitle>Import a model</DialogTitle>
      <DialogContent>
        <Stack spacing={2} sx={{ pt: 1 }} data-testid="model-import-dialog">
          <Typography variant="body2" sx={{ color: 'text.secondary' }}>
            A Hugging Face ImageGPT folder (config.json, preprocessor_config.json, model.safetensors), or an ONNX image model: a classifier
            (with labels) or a feature extractor (without). Preprocessing is read from a preprocessor_config.json beside it; the fields below
            set or override it.
          </Typography>
          <TextField
            autoFocus
            required
            label="Folder or .onnx file"
            value={path}
            onChange={(e) => setPath(e.target.value)}
            error={Boolean(fieldError('path'))}
            helperText={fieldError('path') ?? 'A path on the machine running Tessera.'}
            placeholder="/home/me/models/imagegpt-small"
            slotProps={{ htmlInput: { 'data-testid': 'model-import-path', spellCheck: false } }}
          />
          <TextField
            label="Name (optional)"
            value={name}
            onChange={(e) => setName(e.target.value)}
            error={Boolean(fieldError('name'))}
            helperText={fieldError('name') ?? 'Without one, the folder or file name.'}
            slotProps={{ htmlInput: { 'data-testid': 'model-import-name' } }}
          />
          <Typography variant="subtitle2" sx={{ pt: 1 }}>
            ONNX models {isOnnx ? '' : '(ignored for ImageGPT folders)'}
          </Typography>
          <TextField
            label="Labels file"
            value={labels}
            onChange={(e) => setLabels(e.target.value)}
            error={Boolean(fieldError('labels'))}
            helperText={fieldError('labels') ?? 'JSON array, id2label object, or one label per line. Without labels: a feature extractor.'}
            placeholder="/home/me/models/labels.json"
            slotProps={{ htmlInput: { 'data-testid': 'model-import-labels', spellCheck: false } }}
          />
          <Stack direction="row" spacing={1.5}>
            <TextField label="Size (px)" value={size} onChange={(e) => setSize(e.target.value)} sx={{ width: 110 }} slotProps={{ htmlInput: { inputMode: 'numeric', 'data-testid': 'model-import-size' } }} />
            <TextField label="Mean (r, g, b)" value={mean} onChange={(e) => setMean(e.target.value)} placeholder="0.485, 0.456, 0.406" sx={{ flex: 1 }} slotProps={{ htmlInput: { 'data-testid': 'model-import-mean' } }} />
            <TextField label="Std (r, g, b)" value={std} onChange={(e) => setStd(e.target.value)} placeholder="0.229, 0.224, 0.225" sx={{ flex: 1 }} slotProps={{ htmlInput: { 'data-testid': 'model-import-std' } }} />
          </Stack>
          <FormControlLabel control={<Checkbox checked={crop} onChange={(e) => setCrop(e.target.checked)} />} label="Resize the short side, then centre-crop" />
          {generalError && (
            <Alert severity="error" data-testid="model-import-error">
              {generalError}
            </Alert>
          )}
        </Stack>
      </DialogContent>
      <SubmitActions onClose={onClose} disabled={!path.trim() || run.isPending} label={run.isPending ? 'Importing…' : 'Import'} testId="model-import-submit" />
    </Dialog>
  )
}

export function RenameModelDialog({ model, open, onClose }: { model: ModelDetail; open: boolean; onClose: () => void }) {
  const notify = useNotify()
  const [name, setName] = useState(model.name)
  const run = useApiMutation('models.rename', {
    meta: { inlineError: true },
    onSuccess: (m) => {
      notify.success(`Renamed to “${m.name}”.`)
      onClose()
    }
  })
  const err = run.error ? run.error.message : null
  return (
    <Dialog
      open={open}
      onClose={onClose}
      fullWidth
      maxWidth="xs"
      slotProps={{
        paper: { component: 'form', onSubmit: (e: FormEvent) => (e.preventDefault(), run.mutate({ ref: model.id, name: name.trim() })) } as object,
        transition: { onEnter: () => setName(model.name), onExited: () => run.reset() }
      }}
    >
      <DialogTitle>Rename model</DialogTitle>
      <DialogContent>
        <TextField
          autoFocus
          fullWidth
          sx={{ mt: 1 }}
          label="Name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          error={Boolean(err)}
          helperText={err ?? ' '}
          slotProps={{ htmlInput: { 'data-testid': 'model-rename-input' } }}
        />
      </DialogContent>
      <SubmitActions onClose={onClose} disabled={!name.trim() || name.trim() === model.name || run.isPending} label="Rename" testId="model-rename-submit" />
    </Dialog>
  )
}

export function ExportModelDialog({ model, open, onClose }: { model: ModelDetail; open: boolean; onClose: () => void }) {
  const notify = useNotify()
  const imageGpt = model.config !== null
  const canOnnx = model.classes.length > 0
  const [format, setFormat] = useState<'hf' | 'onnx'>(imageGpt ? 'hf' : 'onnx')
  const [out, setOut] = useState('')
  const run = useApiMutation('models.export', {
    meta: { inlineError: true },
    onSuccess: (r) => {
      notify.success(`Exported ${r.files.length} files to ${r.path}.`)
      onClose()
    }
  })
  const err = run.error ? run.error.message : null
  return (
    <Dialog
      open={open}
      onClose={onClose}
      fullWidth
      maxWidth="sm"
      slotProps={{ paper: { component: 'form', onSubmit: (e: FormEvent) => (e.preventDefault(), run.mutate({ ref: model.id, out: out.trim(), format })) } as object, transition: { onExited: () => run.reset() } }}
    >
      <DialogTitle>Export “{model.name}”</DialogTitle>
      <DialogContent>
        <Stack spacing={2} sx={{ pt: 1 }}>
          <TextField select label="Format" value={format} onChange={(e) => setFormat(e.target.value as 'hf' | 'onnx')} slotProps={{ htmlInput: { 'data-testid': 'model-export-format' } }}>
            <MenuItem value="hf" disabled={!imageGpt}>
              Hugging Face ImageGPT folder (config.json, preprocessor_config.json, model.safetensors)
            </MenuItem>
            <MenuItem value="onnx" disabled={!canOnnx && imageGpt}>
              ONNX classifier + labels.json + preprocess.json{!canOnnx && imageGpt ? ' (needs a classifier head)' : ''}
            </MenuItem>
          </TextField>
          <TextField
            autoFocus
            label="Folder to write"
            value={out}
            onChange={(e) => setOut(e.target.value)}
            error={Boolean(err)}
            helperText={err ?? 'A new or empty folder on the machine running Tessera.'}
            placeholder={`/home/me/exports/${model.name}`}
            slotProps={{ htmlInput: { 'data-testid': 'model-export-out', spellCheck: false } }}
          />
        </Stack>
      </DialogContent>
      <SubmitActions onClose={onClose} disabled={!out.trim() || run.isPending} label={run.isPending ? 'Exporting…' : 'Export'} testId="model-export-submit" />
    </Dialog>
  )
}

/** What removing a model affects, in one sentence per kind of dependant. */
export function dependants(model: ModelDetail): string[] {
  const out: string[] = []
  const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`
  if (model.children.length > 0)
    out.push(`${plural(model.children.length, 'model is', 'models are')} fine-tuned from it (${model.children.map((c) => `“${c.name}”`).join(', ')}); they stay, without their base link.`)
  if (model.usage.trainingRuns > 0) out.push(`${plural(model.usage.trainingRuns, 'training run names', 'training runs name')} it; they stay, without the link.`)
  if (model.usage.labels > 0) out.push(`${plural(model.usage.labels, 'predicted label comes', 'predicted labels come')} from it; they stay, without the link.`)
  if (model.usage.outputs > 0) out.push(`${plural(model.usage.outputs, 'gallery image was', 'gallery images were')} generated by it; they stay, without the link.`)
  return out
}

export function DeleteModelDialog({ model, open, onClose }: { model: ModelDetail; open: boolean; onClose: () => void }) {
  const notify = useNotify()
  const deps = dependants(model)
  const run = useApiMutation('models.remove', {
    meta: { inlineError: true },
    onSuccess: () => {
      notify.success(`Deleted “${model.name}”.`)
      onClose()
      openModel(null)
    }
  })
  return (
    <Dialog open={open} onClose={onClose} fullWidth maxWidth="sm" slotProps={{ transition: { onExited: () => run.reset() } }}>
      <DialogTitle>Delete “{model.name}”?</DialogTitle>
      <DialogContent>
        <Stack spacing={1.5} data-testid="model-delete-dialog">
          <Typography variant="body2">Its weights and model card are removed from this library. This cannot be undone; export it first to keep a copy.</Typography>
          {deps.length === 0 ? (
            <Typography variant="body2" sx={{ color: 'text.secondary' }}>
              Nothing else in the library depends on it.
            </Typography>
          ) : (
            <Alert severity="warning" data-testid="model-delete-dependants">
              {deps.map((d) => (
                <div key={d}>{d}</div>
              ))}
            </Alert>
          )}
          {model.source === 'builtin' && (
            <Typography variant="body2" sx={{ color: 'text.secondary' }}>
              A built-in model can be brought back with Settings → Reset to the sample library… → Re-import missing samples.
            </Typography>
          )}
          {run.error && <Alert severity="error">{run.error.message}</Alert>}
        </Stack>
      </DialogContent>
      <DialogActions>
        <Button onClick={onClose}>Cancel</Button>
        <Button color="error" variant="contained" disabled={run.isPending} onClick={() => run.mutate({ ref: model.id, force: true })} data-testid="model-delete-confirm">
          Delete
        </Button>
      </DialogActions>
    </Dialog>
  )
}
