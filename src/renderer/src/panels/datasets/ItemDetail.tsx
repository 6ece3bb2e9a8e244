// One item: the picture, its file facts and its label and split, which can be changed
// here. Moving an item out of the test split asks first.

import { useState } from 'react'
import Box from '@mui/material/Box'
import Button from '@mui/material/Button'
import Drawer from '@mui/material/Drawer'
import IconButton from '@mui/material/IconButton'
import MenuItem from '@mui/material/MenuItem'
import Stack from '@mui/material/Stack'
import TextField from '@mui/material/TextField'
import Typography from '@mui/material/Typography'
import CloseIcon from '@mui/icons-material/Close'
import type { Dataset, DatasetItem, SplitName } from '../../../../shared/contract'
import { useApiMutation, useApiQuery } from '../../api/hooks'
import { useNotify } from '../../app/notify'
import { formatDate } from '../../components/common'
import { formatBytes, mediaUrl, thumbUrl } from './format'

function Fact({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <Box sx={{ display: 'grid', gridTemplateColumns: '96px 1fr', gap: 1, py: 0.5, borderBottom: 1, borderColor: 'divider' }}>
      <Typography variant="body2" sx={{ color: 'text.secondary' }}>
        {label}
      </Typography>
      <Typography variant="body2" sx={{ wordBreak: 'break-all', whiteSpace: 'pre-wrap' }}>
        {children}
      </Typography>
    </Box>
  )
}

export function ItemDetail({ item: initial, dataset, onClose }: { item: DatasetItem | null; dataset: Dataset; onClose: () => void }) {
  const notify = useNotify()
  const fresh = useApiQuery('items.get', { id: initial?.id ?? '' }, { enabled: Boolean(initial) })
  const item = fresh.data && fresh.data.id === initial?.id ? fresh.data : initial
  const [confirmTest, setConfirmTest] = useState<SplitName | null>(null)
  const setLabel = useApiMutation('items.setLabel', { onError: (e) => notify.error(e) })
  const setSplit = useApiMutation('items.setSplit', { onError: (e) => notify.error(e), onSuccess: () => setConfirmTest(null) })
  const remove = useApiMutation('items.remove', {
    onSuccess: () => {
      notify.success('Removed the item from the dataset.')
      onClose()
    }
  })
  const changeSplit = (value: string) => {
    if (!item) return
    const split = value === '' ? null : (value as SplitName)
    if (item.split === 'test' && split !== 'test') setConfirmTest(split ?? ('none' as SplitName))
    else setSplit.mutate({ ids: [item.id], split })
  }
  return (
    <Drawer anchor="right" open={Boolean(initial)} onClose={onClose} slotProps={{ paper: { sx: { width: 380 } } }}>
      {item && (
        <Box sx={{ p: 2.5 }} data-testid="item-detail">
          <Stack direction="row" sx={{ alignItems: 'center', mb: 1.5 }}>
            <Typography variant="subtitle1" sx={{ flex: 1, minWidth: 0 }} noWrap title={item.name}>
              {item.name}
            </Typography>
            <IconButton aria-label="Close" onClick={onClose} size="small">
              <CloseIcon fontSize="small" />
            </IconButton>
          </Stack>
          <Box
            component="img"
            src={item.referenced ? thumbUrl(item.sha256) : mediaUrl(item.sha256)}
            alt={item.name}
            sx={{ width: '100%', maxHeight: 300, objectFit: 'contain', bgcolor: 'action.hover', borderRadius: 1.5, display: 'block', mb: 2, imageRendering: (item.width ?? 999) < 300 ? 'pixelated' : 'auto' }}
          />
          <Stack direction="row" spacing={1.5} sx={{ mb: 2 }}>
            <TextField
              select
              size="small"
              label="Class"
              fullWidth
              value={item.labelSource === 'human' ? (item.classId ?? '') : ''}
              onChange={(e) => setLabel.mutate({ ids: [item.id], classId: e.target.value || null })}
              helperText={item.labelSource === 'model' ? `Model suggests ${item.className ?? '?'}` : ' '}
            >
              <MenuItem value="">No label</MenuItem>
              {dataset.classes.map((c) => (
                <MenuItem key={c.id} value={c.id}>
                  {c.name}
                </MenuItem>
              ))}
            </TextField>
            <TextField select size="small" label="Split" fullWidth value={item.split ?? ''} onChange={(e) => changeSplit(e.target.value)} helperText=" ">
              <MenuItem value="">No split</MenuItem>
              <MenuItem value="train">Train</MenuItem>
              <MenuItem value="val">Val</MenuItem>
              <MenuItem value="test">Test</MenuItem>
            </TextField>
          </Stack>
          {confirmTest && (
            <Box sx={{ p: 1.5, mb: 2, border: 1, borderColor: 'warning.main', borderRadius: 1.5 }}>
              <Typography variant="body2" sx={{ mb: 1 }}>
                This item is in the test split. Moving it out means results on test are no longer comparable with earlier ones.
              </Typography>
              <Stack direction="row" spacing={1}>
                <Button size="small" onClick={() => setConfirmTest(null)}>
                  Keep in test
                </Button>
                <Button
                  size="small"
                  color="warning"
                  variant="contained"
                  onClick={() => setSplit.mutate({ ids: [item.id], split: confirmTest === ('none' as SplitName) ? null : confirmTest, allowTestMove: true })}
                >
                  Move anyway
                </Button>
              </Stack>
            </Box>
          )}
          <Fact label="Size">{`${formatBytes(item.bytes)}${item.width ? ` · ${item.width}×${item.height}` : ''}`}</Fact>
          <Fact label="Format">{item.format ?? item.mime}</Fact>
          <Fact label="Label">{item.className ? `${item.className} (${item.labelSource})` : 'none'}</Fact>
          <Fact label="Added">{formatDate(item.addedAt)}</Fact>
          <Fact label="SHA-256">
            <Box component="span" sx={{ fontFamily: 'monospace', fontSize: 12 }}>
              {item.sha256}
            </Box>
          </Fact>
          <Fact label={item.referenced ? 'File' : 'Imported from'}>{item.sourcePath ?? '–'}</Fact>
          {item.flags.length > 0 && <Fact label="Flags">{item.flags.join(', ')}</Fact>}
          <Button color="error" sx={{ mt: 2 }} onClick={() => remove.mutate({ ids: [item.id] })} disabled={remove.isPending}>
            Remove from dataset
          </Button>
        </Box>
      )}
    </Drawer>
  )
}
