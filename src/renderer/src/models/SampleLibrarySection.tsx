// Settings → Sample library: what of the first-run sample library (built-in models and the
// sample digits dataset) is in this library, and a reset that re-imports only what is missing.
// Nothing is removed: the confirmation says so.

import { useState } from 'react'
import Button from '@mui/material/Button'
import Dialog from '@mui/material/Dialog'
import DialogActions from '@mui/material/DialogActions'
import DialogContent from '@mui/material/DialogContent'
import DialogTitle from '@mui/material/DialogTitle'
import Stack from '@mui/material/Stack'
import Typography from '@mui/material/Typography'
import { useApiMutation, useApiQuery } from '../api/hooks'
import { useNotify } from '../app/notify'
import { Section } from '../components/common'

export function SampleLibrarySection() {
  const notify = useNotify()
  const status = useApiQuery('samples.status', {})
  const [confirm, setConfirm] = useState(false)
  const reset = useApiMutation('samples.reset', {
    onSuccess: (r) => {
      setConfirm(false)
      const parts = [
        r.modelsImported.length > 0 ? `imported ${r.modelsImported.join(', ')}` : null,
        r.datasetJob ? 'started re-importing the sample digits (see Jobs)' : null
      ].filter(Boolean)
      notify.success(parts.length > 0 ? `Sample library: ${parts.join('; ')}.` : 'The sample library is complete; nothing was missing.')
      void status.refetch()
    }
  })
  const s = status.data
  const missingModels = s?.models.filter((m) => !m.present) ?? []
  const missingItems = s ? Math.max(0, s.dataset.shipped - s.dataset.items) : 0
  return (
    <Section title="Sample library" description="The built-in models and a small labelled sample dataset, imported on first start so every panel has something real to show.">
      <Stack spacing={1.5} data-testid="sample-library">
        {s && (
          <Typography variant="body2">
            Built-in models: {s.models.map((m) => `${m.name} (${m.present ? 'present' : 'missing'})`).join(', ') || 'none shipped'}. Dataset “{s.dataset.name}”:{' '}
            {s.dataset.present ? `${s.dataset.items} items (${s.dataset.shipped} shipped)` : 'missing'}.
          </Typography>
        )}
        <div>
          <Button variant="outlined" onClick={() => setConfirm(true)} data-testid="sample-reset">
            Reset to the sample library…
          </Button>
        </div>
      </Stack>
      <Dialog open={confirm} onClose={() => setConfirm(false)} maxWidth="sm" fullWidth>
        <DialogTitle>Reset to the sample library?</DialogTitle>
        <DialogContent>
          <Stack spacing={1} data-testid="sample-reset-dialog">
            <Typography variant="body2">
              <b>Added back:</b>{' '}
              {[
                missingModels.length > 0 ? `the built-in model${missingModels.length > 1 ? 's' : ''} ${missingModels.map((m) => m.name).join(', ')}` : null,
                s && !s.dataset.present ? `the dataset “${s.dataset.name}”` : missingItems > 0 ? `sample images removed from “${s?.dataset.name}” (up to ${missingItems})` : null
              ]
                .filter(Boolean)
                .join('; ') || 'nothing appears to be missing'}
              .
            </Typography>
            <Typography variant="body2">
              <b>Kept as they are:</b> all your datasets, labels (including changed labels of sample images), splits, models (a renamed built-in model counts as present), training runs and gallery images.
            </Typography>
            <Typography variant="body2" sx={{ color: 'text.secondary' }}>
              Nothing is deleted. To remove the samples, delete the dataset or model yourself.
            </Typography>
          </Stack>
        </DialogContent>
        <DialogActions>
          <Button onClick={() => setConfirm(false)}>Cancel</Button>
          <Button variant="contained" disabled={reset.isPending} onClick={() => reset.mutate({})} data-testid="sample-reset-confirm">
            Re-import missing samples
          </Button>
        </DialogActions>
      </Dialog>
    </Section>
  )
}
