// Import a folder or CSV into a new dataset. The browser host cannot open a native
// picker, so the source is a path typed (or pasted) into the field.

import { useState, type FormEvent } from 'react'
import Button from '@mui/material/Button'
import Checkbox from '@mui/material/Checkbox'
import Dialog from '@mui/material/Dialog'
import DialogActions from '@mui/material/DialogActions'
import DialogContent from '@mui/material/DialogContent'
import DialogTitle from '@mui/material/DialogTitle'
import FormControlLabel from '@mui/material/FormControlLabel'
import Stack from '@mui/material/Stack'
import TextField from '@mui/material/TextField'
import Typography from '@mui/material/Typography'
import { ApiError } from '../../api/errors'
import { useApiMutation } from '../../api/hooks'
import { useNotify } from '../../app/notify'
import { openDataset } from './format'

const lastSegment = (p: string): string =>
  p
    .replace(/[\\/]+$/, '')
    .split(/[\\/]/)
    .pop()
    ?.replace(/\.csv$/i, '') ?? ''

export function ImportDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const notify = useNotify()
  const [source, setSource] = useState('')
  const [name, setName] = useState('')
  const [nameTouched, setNameTouched] = useState(false)
  const [splitFromFolders, setSplitFromFolders] = useState(true)
  const [reference, setReference] = useState(false)
  const start = useApiMutation('datasets.import', {
    meta: { inlineError: true },
    onSuccess: (job) => {
      notify.info('Import started; its progress shows on the dataset page and in Jobs.')
      const datasetId = (job.params as { datasetId?: string } | null)?.datasetId
      setSource('')
      setName('')
      setNameTouched(false)
      onClose()
      if (datasetId) openDataset(datasetId)
    }
  })
  const err = start.error instanceof ApiError ? start.error : null
  const sourceError = err && err.field === 'source' ? err.message : undefined
  const nameError = err && (err.field === 'name' || err.code === 'CONFLICT') ? err.message : undefined
  const effectiveName = nameTouched ? name : lastSegment(source)
  const submit = (event: FormEvent) => {
    event.preventDefault()
    start.mutate({ name: effectiveName, source, splitFromFolders, reference })
  }
  return (
    <Dialog
      open={open}
      onClose={onClose}
      fullWidth
      maxWidth="sm"
      slotProps={{ paper: { component: 'form', onSubmit: submit } as object, transition: { onExited: () => start.reset() } }}
    >
      <DialogTitle>Import images</DialogTitle>
      <DialogContent>
        <Stack spacing={2} sx={{ pt: 1 }}>
          <TextField
            autoFocus
            label="Folder or CSV file"
            value={source}
            onChange={(e) => {
              setSource(e.target.value)
              if (start.error) start.reset()
            }}
            error={Boolean(sourceError)}
            helperText={
              sourceError ??
              'A folder: each subfolder is a class, files at the top are unlabelled. A CSV: path,label[,split] rows, paths relative to the CSV.'
            }
            placeholder="/home/me/photos/birds"
            slotProps={{ htmlInput: { 'data-testid': 'import-source', spellCheck: false } }}
          />
          <TextField
            label="Dataset name"
            value={effectiveName}
            onChange={(e) => {
              setName(e.target.value)
              setNameTouched(true)
              if (start.error) start.reset()
            }}
            error={Boolean(nameError)}
            helperText={nameError ?? 'A new dataset with this name receives the images.'}
            slotProps={{ htmlInput: { 'data-testid': 'import-name', maxLength: 200 } }}
          />
          <Stack>
            <FormControlLabel
              control={<Checkbox checked={splitFromFolders} onChange={(e) => setSplitFromFolders(e.target.checked)} />}
              label="Top folders named train, val and test set the split"
            />
            <FormControlLabel
              control={<Checkbox checked={reference} onChange={(e) => setReference(e.target.checked)} />}
              label="Leave files where they are (don’t copy them into the library)"
            />
          </Stack>
          {start.error && !sourceError && !nameError && (
            <Typography sx={{ color: 'error.main' }} variant="body2">
              {start.error.message}
            </Typography>
          )}
        </Stack>
      </DialogContent>
      <DialogActions sx={{ px: 3, pb: 2 }}>
        <Button onClick={onClose}>Cancel</Button>
        <Button type="submit" variant="contained" disabled={!source.trim() || !effectiveName.trim() || start.isPending} data-testid="import-submit">
          Import
        </Button>
      </DialogActions>
    </Dialog>
  )
}
