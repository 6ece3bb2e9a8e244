// Settings → Sample library: what of the first-run sample library (built-in models and the
// sample datasets, MNIST digits and Noto emoji) is in this library, and a reset that re-imports
// only what is missing. Nothing is removed: the confirmation says so.

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
        r.datasetJobs.length > 0 ? `started re-importing ${r.datasetJobs.map((j) => `“${j.dataset}”`).join(' and ')} (see Jobs)` : null
      ].filter(Boolean)
      notify.success(parts.length > 0 ? `Sample library: ${parts.join('; ')}.` : 'The sample library is complete; nothing was missing.')
      void status.refetch()
    }
  })
  const s = status.data
  const missingModels = s?.models.filter((m) => !m.present) ?? []
  const datasetsBack = (s?.datasets ?? []).map((d) =>
    !d.present ? `the dataset “${d.name}”` : d.items < d.shipped ? `sample images removed from “${d.name}” (up to ${d.shipped - d.items})` : null
  )
  return (
    <Section title="Sample library" description="The built-in models and small labelled sample datasets, imported on first start so every panel has something real to show.">
      <Stack spacing={1.5} data-testid="sample-library">
        {s && (
          <Typography variant="body2">
            Built-in models: {s.models.map((m) => `${m.name} (${m.present ? 'present' : 'missing'})`).join(', ') || 'none shipped'}. Datasets:{' '}
            {s.datasets.map((d) => `“${d.name}” (${d.present ? `${d.items} items, ${d.shipped} shipped` : 'missing'})`).join(', ') || 'none shipped'}.
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
                ...datasetsBack
              ]
                .filter(Boolean)
                .join('; ') || 'nothing appears to be missing'}
              .
            </Typography>
            <Typography variant="body2">
              <b>Kept as they are:</b> all your datasets, labels (including changed labels of sample images), splits, models (a renamed built-in model counts as present), training runs and gallery images.
            </Typography>
            <Typography variant="body2" sx={{ color: 'text.secondary' }}>
              Nothing is deleted. To remove the samples, delete the datasets or models yourself.
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
