// Top of the Label panel: labelled / total as a bar split by class, and one chip per
// class with its key (clicking a chip labels like its key does).

import Box from '@mui/material/Box'
import Chip from '@mui/material/Chip'
import Stack from '@mui/material/Stack'
import Tooltip from '@mui/material/Tooltip'
import Typography from '@mui/material/Typography'
import type { ClassInfo, DatasetStats } from '../../../shared/contract'

export function ProgressBar({ stats }: { stats: DatasetStats | undefined }) {
  if (!stats) return <Box sx={{ height: 28 }} />
  const total = Math.max(1, stats.total)
  const labelled = stats.total - stats.unlabelled.count
  return (
    <Box data-testid="label-progress">
      <Stack direction="row" sx={{ alignItems: 'baseline', mb: 0.5 }} spacing={1}>
        <Typography variant="body2" sx={{ fontWeight: 600, fontVariantNumeric: 'tabular-nums' }} data-testid="label-progress-text">
          {labelled.toLocaleString()} / {stats.total.toLocaleString()} labelled
        </Typography>
        <Typography variant="caption" sx={{ color: 'text.secondary' }}>
          {stats.labelSources.human.toLocaleString()} by people, {stats.labelSources.model.toLocaleString()} by a model
        </Typography>
      </Stack>
      <Box sx={{ display: 'flex', height: 10, borderRadius: 5, overflow: 'hidden', bgcolor: 'action.hover' }}>
        {stats.classes.map((c) =>
          c.count > 0 ? (
            <Tooltip key={c.id} title={`${c.name}: ${c.count} of ${stats.total}`}>
              <Box sx={{ width: `${(100 * c.count) / total}%`, bgcolor: c.color }} data-testid={`progress-${c.name}`} />
            </Tooltip>
          ) : null
        )}
      </Box>
    </Box>
  )
}

export function ClassChips({ classes, keys, stats, onPick }: { classes: ClassInfo[]; keys: Map<string, string>; stats: DatasetStats | undefined; onPick: (c: ClassInfo) => void }) {
  const counts = new Map(stats?.classes.map((c) => [c.id, c.count]) ?? [])
  return (
    <Stack direction="row" spacing={0.75} useFlexGap sx={{ flexWrap: 'wrap' }} data-testid="class-chips">
      {classes.map((c) => (
        <Chip
          key={c.id}
          size="small"
          onClick={() => onPick(c)}
          data-testid={`class-chip-${c.name}`}
          label={
            <span>
              <Box component="kbd" sx={{ fontFamily: 'monospace', fontWeight: 700, mr: 0.75, px: 0.5, borderRadius: 0.5, bgcolor: 'rgba(255,255,255,0.3)' }}>
                {(keys.get(c.id) ?? '').toUpperCase()}
              </Box>
              {c.name} <Box component="span" sx={{ opacity: 0.8, fontVariantNumeric: 'tabular-nums' }}>{counts.get(c.id) ?? 0}</Box>
            </span>
          }
          sx={{ bgcolor: c.color, color: '#fff', fontWeight: 500, '&:hover': { bgcolor: c.color, filter: 'brightness(1.1)' } }}
        />
      ))}
    </Stack>
  )
}
