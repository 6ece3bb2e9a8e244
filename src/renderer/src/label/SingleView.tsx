// The single-image view: the current item as large as fits, zoom with the wheel (or
// the buttons), pan by dragging; small images are drawn with hard pixel edges.

import { useEffect, useRef, useState, type MouseEvent as ReactMouseEvent, type WheelEvent as ReactWheelEvent } from 'react'
import Box from '@mui/material/Box'
import Button from '@mui/material/Button'
import Stack from '@mui/material/Stack'
import Typography from '@mui/material/Typography'
import type { ClassInfo, PredictedItem } from '../../../shared/contract'
import { mediaUrl, thumbUrl } from '../panels/datasets/format'
import { pct } from './LabelGrid'

export interface ZoomHandle {
  zoomBy: (f: number) => void
  fit: () => void
}

export function SingleView({ item, index, total, classes, zoomRef }: {
  item: PredictedItem | undefined
  index: number
  total: number
  classes: Map<string, ClassInfo>
  zoomRef: { current: ZoomHandle | null }
}) {
  const [scale, setScale] = useState(1)
  const [offset, setOffset] = useState({ x: 0, y: 0 })
  const [failed, setFailed] = useState(false)
  const drag = useRef<{ x: number; y: number; ox: number; oy: number } | null>(null)
  useEffect(() => {
    setScale(1)
    setOffset({ x: 0, y: 0 })
    setFailed(false)
  }, [item?.id])
  zoomRef.current = {
    zoomBy: (f) => setScale((s) => Math.min(64, Math.max(0.25, s * f))),
    fit: () => {
      setScale(1)
      setOffset({ x: 0, y: 0 })
    }
  }
  if (!item) return <Box sx={{ flex: 1, display: 'grid', placeItems: 'center', color: 'text.secondary' }}>{total === 0 ? 'No items here.' : 'Loading…'}</Box>
  const cls = item.classId ? classes.get(item.classId) : undefined
  const small = (item.width ?? 999) < 256
  const onWheel = (e: ReactWheelEvent) => setScale((s) => Math.min(64, Math.max(0.25, s * (e.deltaY < 0 ? 1.2 : 1 / 1.2))))
  const onDown = (e: ReactMouseEvent) => {
    drag.current = { x: e.clientX, y: e.clientY, ox: offset.x, oy: offset.y }
  }
  const onMove = (e: ReactMouseEvent) => {
    const d = drag.current
    if (d) setOffset({ x: d.ox + e.clientX - d.x, y: d.oy + e.clientY - d.y })
  }
  return (
    <Box sx={{ flex: 1, minHeight: 0, display: 'flex', flexDirection: 'column', gap: 1 }} data-testid="single-view">
      <Box
        onWheel={onWheel}
        onMouseDown={onDown}
        onMouseMove={onMove}
        onMouseUp={() => (drag.current = null)}
        onMouseLeave={() => (drag.current = null)}
        sx={{ flex: 1, minHeight: 0, position: 'relative', overflow: 'hidden', borderRadius: 1.5, bgcolor: 'action.hover', cursor: drag.current ? 'grabbing' : 'grab', userSelect: 'none' }}
      >
        <Box
          component="img"
          src={failed ? thumbUrl(item.sha256) : mediaUrl(item.sha256)}
          onError={() => setFailed(true)}
          alt={item.name}
          draggable={false}
          data-testid="single-image"
          sx={{
            position: 'absolute',
            inset: 0,
            width: '100%',
            height: '100%',
            objectFit: 'contain',
            imageRendering: small ? 'pixelated' : 'auto',
            transform: `translate(${offset.x}px, ${offset.y}px) scale(${scale})`,
            transformOrigin: 'center',
            pointerEvents: 'none'
          }}
        />
      </Box>
      <Stack direction="row" spacing={2} sx={{ alignItems: 'center', flexWrap: 'wrap' }}>
        <Typography variant="body2" sx={{ fontVariantNumeric: 'tabular-nums', color: 'text.secondary' }} data-testid="single-position">
          {index + 1} / {total}
        </Typography>
        <Typography variant="body2" sx={{ fontWeight: 600 }}>{item.name}</Typography>
        <Typography variant="body2" data-testid="single-label">
          Label:{' '}
          {cls ? (
            <Box component="span" sx={{ px: 0.75, py: 0.1, borderRadius: 1, bgcolor: cls.color, color: '#fff', fontStyle: item.labelSource === 'model' ? 'italic' : 'normal' }}>
              {cls.name}
              {item.labelSource === 'model' ? ' (model)' : ''}
            </Box>
          ) : (
            'none'
          )}
        </Typography>
        {item.prediction && (
          <Typography variant="body2" data-testid="single-suggestion">
            Model suggests <b>{item.prediction.className}</b> ({pct(item.prediction.confidence)}){item.prediction.classId ? ' — Enter accepts' : ' — not a class here'}
          </Typography>
        )}
        <Typography variant="body2" sx={{ color: 'text.secondary' }}>
          {item.width}×{item.height} · {item.split ?? 'no split'} · zoom {Math.round(scale * 100)}%
        </Typography>
        <Box sx={{ ml: 'auto', display: 'flex', gap: 0.5 }}>
          <Button size="small" onClick={() => zoomRef.current?.zoomBy(1 / 1.5)}>−</Button>
          <Button size="small" onClick={() => zoomRef.current?.fit()}>Fit</Button>
          <Button size="small" onClick={() => zoomRef.current?.zoomBy(1.5)}>+</Button>
        </Box>
      </Stack>
    </Box>
  )
}
