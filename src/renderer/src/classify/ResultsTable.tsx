// A classify run's results: a virtualized table (only the visible rows are in the DOM) with a
// thumbnail, the file, top label, confidence, top-3 and status; a label can be corrected in place.

import { useEffect, useRef } from 'react'
import { useVirtualizer } from '@tanstack/react-virtual'
import Box from '@mui/material/Box'
import Checkbox from '@mui/material/Checkbox'
import Chip from '@mui/material/Chip'
import MenuItem from '@mui/material/MenuItem'
import TextField from '@mui/material/TextField'
import Tooltip from '@mui/material/Tooltip'
import Typography from '@mui/material/Typography'
import type { ClassifyRow } from '../../../shared/classify-contract'
import { useApiQuery } from '../api/hooks'

const ROW = 56
const COLS = '28px 56px minmax(200px, 1fr) 150px 90px minmax(180px, 260px) 110px'

function Thumb({ runId, path }: { runId: string; path: string }) {
  const q = useApiQuery('classify.thumb', { runId, path, side: 48 }, { staleTime: Infinity })
  const url = q.data?.dataUrl
  return (
    <Box sx={{ width: 48, height: 48, border: 1, borderColor: 'divider', borderRadius: 0.5, overflow: 'hidden', display: 'grid', placeItems: 'center', bgcolor: 'action.hover' }}>
      {url ? <Box component="img" src={url} alt="" sx={{ maxWidth: 48, maxHeight: 48, imageRendering: 'pixelated' }} /> : <Typography variant="caption" color="text.secondary">{q.isLoading ? '' : '—'}</Typography>}
    </Box>
  )
}

export function ResultsTable({
  runId,
  rows,
  labels,
  selected,
  onToggle,
  onCorrect,
  onOpen,
  onNeedMore
}: {
  runId: string
  rows: ClassifyRow[]
  labels: string[]
  selected: Set<string>
  onToggle: (path: string) => void
  onCorrect: (path: string, label: string | null) => void
  onOpen: (row: ClassifyRow) => void
  /** Called when the last rows come into view (the next page is fetched). */
  onNeedMore?: () => void
}) {
  const scrollRef = useRef<HTMLDivElement>(null)
  const virtualizer = useVirtualizer({ count: rows.length, getScrollElement: () => scrollRef.current, estimateSize: () => ROW, overscan: 6 })
  const items = virtualizer.getVirtualItems()
  const lastIndex = items.length ? items[items.length - 1]!.index : -1
  useEffect(() => {
    if (rows.length > 0 && lastIndex >= rows.length - 20) onNeedMore?.()
  }, [lastIndex, rows.length, onNeedMore])
  return (
    <Box sx={{ border: 1, borderColor: 'divider', borderRadius: 1 }}>
      <Box sx={{ display: 'grid', gridTemplateColumns: COLS, gap: 1, px: 1, py: 0.75, borderBottom: 1, borderColor: 'divider', typography: 'caption', color: 'text.secondary', fontWeight: 600 }}>
        <span />
        <span />
        <span>File</span>
        <span>Label</span>
        <span>Confidence</span>
        <span>Top 3</span>
        <span>Status</span>
      </Box>
      <Box ref={scrollRef} data-testid="classify-results" sx={{ height: 440, overflow: 'auto', position: 'relative' }}>
        <Box sx={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
          {items.map((v) => {
            const r = rows[v.index]!
            const name = r.path.split(/[\\/]/).pop() ?? r.path
            return (
              <Box
                key={r.path}
                data-testid="classify-row"
                onDoubleClick={() => onOpen(r)}
                sx={{
                  position: 'absolute',
                  top: 0,
                  left: 0,
                  right: 0,
                  height: ROW,
                  transform: `translateY(${v.start}px)`,
                  display: 'grid',
                  gridTemplateColumns: COLS,
                  gap: 1,
                  alignItems: 'center',
                  px: 1,
                  borderBottom: 1,
                  borderColor: 'divider',
                  bgcolor: selected.has(r.path) ? 'action.selected' : undefined
                }}
              >
                <Checkbox size="small" checked={selected.has(r.path)} onChange={() => onToggle(r.path)} disabled={r.status !== 'ok'} slotProps={{ input: { 'aria-label': `select ${name}` } }} />
                <Thumb runId={runId} path={r.path} />
                <Tooltip title={r.status === 'error' ? `${r.path}: ${r.error ?? ''}` : r.dest && r.actionStatus === 'done' ? `${r.path} → ${r.dest}` : r.path}>
                  <Box sx={{ minWidth: 0, gridColumn: r.status === 'error' ? '3 / 7' : undefined }}>
                    <Typography variant="body2" noWrap>
                      {name}
                    </Typography>
                    <Typography variant="caption" color={r.status === 'error' ? 'error' : 'text.secondary'} noWrap component="div">
                      {r.status === 'error' ? r.error : r.path}
                    </Typography>
                  </Box>
                </Tooltip>
                {r.status === 'ok' && (
                  <>
                    <TextField
                      data-testid="classify-label"
                      select
                      size="small"
                      value={r.corrected ?? r.label ?? ''}
                      onChange={(e) => onCorrect(r.path, e.target.value === r.label ? null : e.target.value)}
                      slotProps={{ htmlInput: { 'aria-label': `label of ${name}` } }}
                      sx={{ '& .MuiInputBase-root': { fontWeight: r.corrected ? 700 : 400 } }}
                    >
                      {[...labels, 'unsure'].map((l) => (
                        <MenuItem key={l} value={l}>
                          {l}
                          {r.corrected && l === r.corrected ? ' (corrected)' : ''}
                        </MenuItem>
                      ))}
                    </TextField>
                  <Typography variant="body2" sx={{ fontVariantNumeric: 'tabular-nums' }}>
                    {r.confidence !== null ? `${(r.confidence * 100).toFixed(1)}%` : ''}
                  </Typography>
                  <Typography variant="caption" color="text.secondary" noWrap>
                    {r.topK.slice(0, 3).map((t) => `${t.label} ${(t.probability * 100).toFixed(0)}%`).join(' · ')}
                  </Typography>
                  </>
                )}
                <Box>
                  <Chip
                    size="small"
                    label={r.status === 'error' ? 'error' : r.actionStatus && r.actionStatus !== 'planned' ? `${r.action} ${r.actionStatus}` : r.actionStatus === 'planned' ? 'planned' : 'ok'}
                    color={r.status === 'error' ? 'error' : r.actionStatus === 'skipped' ? 'warning' : 'default'}
                    variant="outlined"
                  />
                </Box>
              </Box>
            )
          })}
        </Box>
      </Box>
    </Box>
  )
}
