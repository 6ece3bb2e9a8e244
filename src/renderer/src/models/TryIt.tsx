// Try it: pick or drop an image; its bytes go to the back end through models.tryImage (base64,
// at most 8 MB), so it works the same in the window and in the browser host. Shows the top
// classes as bars, bits per token, and the model's greedy completion of the image's lower half.

import { useEffect, useRef, useState, type DragEvent } from 'react'
import Alert from '@mui/material/Alert'
import Box from '@mui/material/Box'
import Button from '@mui/material/Button'
import LinearProgress from '@mui/material/LinearProgress'
import Stack from '@mui/material/Stack'
import Typography from '@mui/material/Typography'
import UploadFileOutlinedIcon from '@mui/icons-material/UploadFileOutlined'
import { TRY_IMAGE_MAX_BYTES, type ModelDetail, type ModelTryResult } from '../../../shared/contract'
import { useApiMutation } from '../api/hooks'

const pixelated = { imageRendering: 'pixelated' as const }

async function fileToBase64(file: File): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer())
  let binary = ''
  const chunk = 0x8000
  for (let i = 0; i < bytes.length; i += chunk) binary += String.fromCharCode(...bytes.subarray(i, i + chunk))
  return btoa(binary)
}

export function TopBars({ top }: { top: ModelTryResult['top'] }) {
  return (
    <Stack spacing={0.5} data-testid="try-top">
      {top.map((t) => (
        <Stack key={t.label} direction="row" spacing={1} sx={{ alignItems: 'center' }}>
          <Typography variant="body2" sx={{ width: 96, overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }} title={t.label}>
            {t.label}
          </Typography>
          <Box sx={{ flex: 1, height: 12, bgcolor: 'action.hover', borderRadius: 0.5, overflow: 'hidden' }}>
            <Box sx={{ width: `${Math.max(0.5, t.probability * 100)}%`, height: '100%', bgcolor: 'primary.main' }} />
          </Box>
          <Typography variant="body2" sx={{ width: 52, textAlign: 'right', fontVariantNumeric: 'tabular-nums' }}>
            {(t.probability * 100).toFixed(1)}%
          </Typography>
        </Stack>
      ))}
    </Stack>
  )
}

/** `dropped`: a file dropped anywhere on the model card (tried as soon as it changes). */
export function TryIt({ model, dropped }: { model: ModelDetail; dropped?: File | null }) {
  const input = useRef<HTMLInputElement>(null)
  const [over, setOver] = useState(false)
  const [local, setLocal] = useState<string | null>(null)
  const [preview, setPreview] = useState<string | null>(null)
  const run = useApiMutation('models.tryImage', { meta: { inlineError: true } })
  const send = async (file: File | undefined) => {
    if (!file) return
    setLocal(null)
    run.reset()
    if (file.size > TRY_IMAGE_MAX_BYTES) return setLocal(`${file.name} is ${(file.size / 1048576).toFixed(1)} MB; at most ${TRY_IMAGE_MAX_BYTES / 1048576} MB can be tried.`)
    if (preview) URL.revokeObjectURL(preview)
    setPreview(URL.createObjectURL(file))
    run.mutate({ ref: model.id, data: await fileToBase64(file), name: file.name, topK: 5 })
  }
  useEffect(() => {
    if (dropped) void send(dropped)
    // eslint-disable-next-line react-hooks/exhaustive-deps -- only a new drop sends
  }, [dropped])
  const onDrop = (e: DragEvent) => {
    e.preventDefault()
    e.stopPropagation()
    setOver(false)
    void send(e.dataTransfer.files[0])
  }
  const r = run.data
  const side = model.config?.side ?? null
  return (
    <Box
      data-testid="try-it"
      onDragOver={(e) => {
        e.preventDefault()
        setOver(true)
      }}
      onDragLeave={() => setOver(false)}
      onDrop={onDrop}
      sx={{ border: 1, borderStyle: 'dashed', borderColor: over ? 'primary.main' : 'divider', borderRadius: 1.5, p: 2, bgcolor: over ? 'action.hover' : 'transparent' }}
    >
      <Stack direction="row" spacing={1.5} sx={{ alignItems: 'center', mb: r || run.isPending ? 1.5 : 0 }}>
        <Button variant="outlined" startIcon={<UploadFileOutlinedIcon />} onClick={() => input.current?.click()} data-testid="try-pick">
          Choose an image
        </Button>
        <Typography variant="body2" sx={{ color: 'text.secondary' }}>
          or drop one here. {side ? `The model sees it as ${side}×${side} in its ${model.palette.length}-colour palette.` : ''}
        </Typography>
        <input
          ref={input}
          type="file"
          accept="image/png,image/jpeg,image/webp,image/gif,image/bmp,image/tiff"
          hidden
          data-testid="try-file"
          onChange={(e) => {
            void send(e.target.files?.[0])
            e.target.value = ''
          }}
        />
      </Stack>
      {run.isPending && <LinearProgress />}
      {(local ?? run.error) && (
        <Alert severity="error" data-testid="try-error">
          {local ?? run.error?.message}
        </Alert>
      )}
      {r && (
        <Stack direction={{ xs: 'column', md: 'row' }} spacing={3} data-testid="try-result">
          <Stack direction="row" spacing={1.5}>
            {preview && <Figure label="Your image" src={preview} smooth />}
            <Figure label="As the model sees it" src={r.inputPng} />
            {r.completionPng && <Figure label="Lower half completed" src={r.completionPng} testId="try-completion" />}
          </Stack>
          <Stack spacing={1} sx={{ flex: 1, minWidth: 220 }}>
            <Typography variant="body2" sx={{ color: 'text.secondary' }}>
              {r.file}
            </Typography>
            {r.bitsPerToken !== null && (
              <Typography variant="body2" data-testid="try-bpt">
                <b>{r.bitsPerToken.toFixed(3)}</b> bits per token{' '}
                <Box component="span" sx={{ color: 'text.secondary' }}>
                  (lower: the image is more typical for this model; at most {Math.log2(Math.max(2, model.palette.length)).toFixed(0)} bits)
                </Box>
              </Typography>
            )}
            {r.top.length > 0 ? (
              <TopBars top={r.top} />
            ) : (
              <Typography variant="body2" sx={{ color: 'text.secondary' }}>
                {r.embedding ? `A feature extractor: embedding of ${r.embedding.length} numbers.` : 'No classifier head: fine-tune one in Train to see class predictions.'}
              </Typography>
            )}
          </Stack>
        </Stack>
      )}
    </Box>
  )
}

function Figure({ label, src, smooth, testId }: { label: string; src: string; smooth?: boolean; testId?: string }) {
  return (
    <Stack spacing={0.5} sx={{ alignItems: 'center' }}>
      <Box component="img" src={src} alt={label} data-testid={testId} sx={{ width: 112, height: 112, objectFit: 'contain', bgcolor: '#000', borderRadius: 1, ...(smooth ? {} : pixelated) }} />
      <Typography variant="caption" sx={{ color: 'text.secondary' }}>
        {label}
      </Typography>
    </Stack>
  )
}
