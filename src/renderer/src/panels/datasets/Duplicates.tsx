// Near-duplicate review: groups of items whose perceptual hashes are within the
// threshold; pick the one to keep, the others are removed from the dataset.

import { useState } from 'react'
import Box from '@mui/material/Box'
import Button from '@mui/material/Button'
import Slider from '@mui/material/Slider'
import Stack from '@mui/material/Stack'
import Typography from '@mui/material/Typography'
import type { Dataset, DuplicateGroup } from '../../../../shared/contract'
import { useApiMutation } from '../../api/hooks'
import { useNotify } from '../../app/notify'
import { formatBytes } from './format'
import { Thumb } from './ItemGrid'

function GroupRow({ group, onResolved }: { group: DuplicateGroup; onResolved: () => void }) {
  const notify = useNotify()
  // Suggest keeping the largest picture (then the largest file): usually the original.
  const best = [...group.items].sort((a, b) => (b.width ?? 0) * (b.height ?? 0) - (a.width ?? 0) * (a.height ?? 0) || b.bytes - a.bytes)[0]!
  const [keep, setKeep] = useState(best.id)
  const remove = useApiMutation('items.remove', {
    onSuccess: (r) => {
      notify.success(`Kept one, removed ${r.removed}.`)
      onResolved()
    },
    onError: (e) => notify.error(e)
  })
  return (
    <Box sx={{ border: 1, borderColor: 'divider', borderRadius: 1.5, p: 1.5, mb: 1.5, bgcolor: 'background.paper' }} data-testid="dup-group">
      <Typography variant="body2" sx={{ color: 'text.secondary', mb: 1 }}>
        {group.items.length} items, {group.maxDistance === 0 ? 'same perceptual hash' : `hashes differ by up to ${group.maxDistance} of 64 bits`}. Click the one to keep.
      </Typography>
      <Stack direction="row" spacing={1.5} useFlexGap sx={{ flexWrap: 'wrap', alignItems: 'flex-start' }}>
        {group.items.map((item) => (
          <Box key={item.id} sx={{ width: 120 }}>
            <Thumb item={item} size={120} selected={item.id === keep} onClick={() => setKeep(item.id)} />
            <Typography variant="caption" component="div" noWrap title={item.name} sx={{ fontWeight: item.id === keep ? 600 : 400 }}>
              {item.id === keep ? 'Keep: ' : ''}
              {item.name}
            </Typography>
            <Typography variant="caption" component="div" sx={{ color: 'text.secondary' }}>
              {item.width}×{item.height} · {formatBytes(item.bytes)} · {item.format}
            </Typography>
          </Box>
        ))}
      </Stack>
      <Button
        size="small"
        variant="outlined"
        sx={{ mt: 1 }}
        disabled={remove.isPending}
        onClick={() => remove.mutate({ ids: group.items.filter((i) => i.id !== keep).map((i) => i.id) })}
        data-testid="dup-keep"
      >
        Keep selected, remove {group.items.length - 1}
      </Button>
    </Box>
  )
}

export function Duplicates({ dataset }: { dataset: Dataset }) {
  const notify = useNotify()
  const [threshold, setThreshold] = useState(6)
  const [groups, setGroups] = useState<DuplicateGroup[] | null>(null)
  const find = useApiMutation('datasets.duplicates', { onSuccess: setGroups, onError: (e) => notify.error(e) })
  const run = () => find.mutate({ ref: dataset.id, threshold })
  return (
    <Box sx={{ overflow: 'auto', flex: 1 }}>
      <Stack direction="row" spacing={3} sx={{ alignItems: 'center', mb: 2 }}>
        <Box sx={{ width: 260 }}>
          <Typography variant="body2" id="dup-threshold">
            Threshold: {threshold} of 64 bits
          </Typography>
          <Slider aria-labelledby="dup-threshold" value={threshold} min={0} max={16} step={1} onChange={(_, v) => setThreshold(v as number)} size="small" />
        </Box>
        <Button variant="contained" onClick={run} disabled={find.isPending} data-testid="dup-find">
          Find near-duplicates
        </Button>
        {groups && (
          <Typography variant="body2" sx={{ color: 'text.secondary' }} data-testid="dup-summary">
            {groups.length === 0 ? 'No near-duplicates at this threshold.' : `${groups.length} group${groups.length === 1 ? '' : 's'}`}
          </Typography>
        )}
      </Stack>
      {groups?.map((g) => (
        <GroupRow key={g.items.map((i) => i.id).join()} group={g} onResolved={run} />
      ))}
    </Box>
  )
}
