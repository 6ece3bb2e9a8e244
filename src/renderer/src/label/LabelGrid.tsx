// The bulk view: a virtualized grid of thumbnails (only rows in view are in the DOM)
// with the current item outlined, selected items ticked, the label as a coloured chip
// (italic with "model" for model labels) and the chosen model's suggestion on top.
// Click selects one, Ctrl/Cmd+click toggles, Shift+click selects a range, dragging
// draws a rubber band that selects every cell it touches.

import { useEffect, useRef, useState, type MouseEvent as ReactMouseEvent } from 'react'
import { useVirtualizer } from '@tanstack/react-virtual'
import Box from '@mui/material/Box'
import Typography from '@mui/material/Typography'
import CheckCircleIcon from '@mui/icons-material/CheckCircle'
import type { ClassInfo, PredictedItem } from '../../../shared/contract'
import { SPLIT_COLORS, mediaUrl, thumbUrl } from '../panels/datasets/format'
import { useElementWidth } from '../components/useElementWidth'
import { gridCells } from '../../../shared/grid-cells'

export const CELL = 128
const GAP = 8
const PAD = 8

export interface GridProps {
  total: number
  loaded: Map<number, PredictedItem>
  classes: Map<string, ClassInfo>
  cursor: number
  selected: Set<string>
  onVisible: (first: number, last: number) => void
  onColumns: (columns: number) => void
  onClick: (index: number, e: { shift: boolean; toggle: boolean }) => void
  onBand: (indexes: number[], add: boolean) => void
  onOpen: (index: number) => void
}

export function pct(p: number): string {
  return `${Math.round(p * 100)}%`
}

function Cell({ item, classes, current, selected }: { item: PredictedItem; classes: Map<string, ClassInfo>; current: boolean; selected: boolean }) {
  const cls = item.classId ? classes.get(item.classId) : undefined
  const pred = item.prediction
  const small = (item.width ?? 999) < CELL
  // Tiny images: the original file, drawn with hard pixel edges (the thumbnail is smoothed).
  const tiny = (item.width ?? 999) <= 64 && (item.height ?? 999) <= 64 && !item.referenced
  return (
    <>
      <Box
        component="img"
        src={tiny ? mediaUrl(item.sha256) : thumbUrl(item.sha256)}
        alt={item.name}
        loading="lazy"
        decoding="async"
        draggable={false}
        sx={{ width: '100%', height: '100%', objectFit: 'cover', display: 'block', imageRendering: small ? 'pixelated' : 'auto', pointerEvents: 'none' }}
      />
      {pred && (
        <Box
          data-testid="cell-suggestion"
          sx={{ position: 'absolute', top: 4, left: 4, right: 4, px: 0.5, fontSize: 10.5, lineHeight: '16px', borderRadius: 1, bgcolor: 'rgba(255,255,255,0.86)', color: '#222', whiteSpace: 'nowrap', overflow: 'hidden', textOverflow: 'ellipsis', textAlign: 'left' }}
        >
          {pred.className} {pct(pred.confidence)}
        </Box>
      )}
      {selected && <CheckCircleIcon sx={{ position: 'absolute', top: pred ? 22 : 4, right: 4, fontSize: 20, color: 'primary.main', bgcolor: '#fff', borderRadius: '50%' }} />}
      <Box sx={{ position: 'absolute', left: 4, right: 4, bottom: 4, display: 'flex', alignItems: 'center', gap: 0.5 }}>
        {cls && (
          <Box
            data-testid="cell-label"
            data-source={item.labelSource}
            sx={{
              px: 0.6,
              fontSize: 11,
              lineHeight: '18px',
              borderRadius: 1,
              bgcolor: cls.color,
              color: '#fff',
              maxWidth: '80%',
              overflow: 'hidden',
              textOverflow: 'ellipsis',
              whiteSpace: 'nowrap',
              fontStyle: item.labelSource === 'model' ? 'italic' : 'normal',
              border: item.labelSource === 'model' ? '1px dashed #fff' : 'none'
            }}
          >
            {cls.name}
            {item.labelSource === 'model' ? ' · model' : ''}
          </Box>
        )}
        {item.split && <Box title={item.split} sx={{ width: 8, height: 8, borderRadius: '50%', bgcolor: SPLIT_COLORS[item.split], border: '1px solid #fff', ml: 'auto' }} />}
      </Box>
      {current && <Box sx={{ position: 'absolute', inset: 0, border: 3, borderColor: 'warning.main', borderRadius: 1.5, pointerEvents: 'none' }} />}
    </>
  )
}

export function LabelGrid(props: GridProps) {
  const { total, loaded, classes, cursor, selected, onVisible, onColumns, onClick, onBand, onOpen } = props
  const scrollRef = useRef<HTMLDivElement>(null)
  const width = useElementWidth(scrollRef)
  const [band, setBand] = useState<{ x0: number; y0: number; x1: number; y1: number } | null>(null)
  const drag = useRef<{ x: number; y: number; add: boolean; moved: boolean } | null>(null)
  const suppressClick = useRef(false)

  // Cells grow to fill the row, so no empty gutter is left on the right.
  const { columns, cell } = gridCells(width, CELL, GAP, 2 * PAD)
  useEffect(() => onColumns(columns), [columns, onColumns])
  const rowCount = Math.ceil(total / columns)
  const virtualizer = useVirtualizer({ count: rowCount, getScrollElement: () => scrollRef.current, estimateSize: () => cell + GAP, overscan: 3, paddingStart: PAD })
  useEffect(() => virtualizer.measure(), [cell, virtualizer])
  const rows = virtualizer.getVirtualItems()
  const first = (rows[0]?.index ?? 0) * columns
  const last = ((rows[rows.length - 1]?.index ?? 0) + 1) * columns - 1
  useEffect(() => onVisible(first, last), [first, last, onVisible])

  // Keep the current item in view as it moves.
  const cursorRow = Math.floor(cursor / columns)
  useEffect(() => {
    if (cursor >= 0 && rowCount > 0) virtualizer.scrollToIndex(Math.min(cursorRow, rowCount - 1), { align: 'auto' })
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [cursorRow, rowCount])

  const point = (e: { clientX: number; clientY: number }): { x: number; y: number } => {
    const el = scrollRef.current as HTMLDivElement
    const r = el.getBoundingClientRect()
    return { x: e.clientX - r.left + el.scrollLeft, y: e.clientY - r.top + el.scrollTop }
  }
  const onMouseDown = (e: ReactMouseEvent) => {
    if (e.button !== 0) return
    const p = point(e)
    drag.current = { ...p, add: e.ctrlKey || e.metaKey || e.shiftKey, moved: false }
  }
  const onMouseMove = (e: ReactMouseEvent) => {
    const d = drag.current
    if (!d) return
    const p = point(e)
    if (!d.moved && Math.hypot(p.x - d.x, p.y - d.y) < 6) return
    d.moved = true
    setBand({ x0: d.x, y0: d.y, x1: p.x, y1: p.y })
  }
  const onMouseUp = () => {
    const d = drag.current
    drag.current = null
    if (!d?.moved || !band) {
      setBand(null)
      return
    }
    const left = Math.min(band.x0, band.x1)
    const right = Math.max(band.x0, band.x1)
    const top = Math.min(band.y0, band.y1)
    const bottom = Math.max(band.y0, band.y1)
    const hit: number[] = []
    const r0 = Math.max(0, Math.floor((top - PAD) / (cell + GAP)))
    const r1 = Math.min(rowCount - 1, Math.floor((bottom - PAD) / (cell + GAP)))
    for (let r = r0; r <= r1; r++) {
      const y = PAD + r * (cell + GAP)
      if (y > bottom || y + cell < top) continue
      for (let c = 0; c < columns; c++) {
        const x = PAD + c * (cell + GAP)
        if (x > right || x + cell < left) continue
        const index = r * columns + c
        if (index < total) hit.push(index)
      }
    }
    suppressClick.current = true
    setBand(null)
    onBand(hit, d.add)
  }

  return (
    <Box
      ref={scrollRef}
      data-testid="label-grid"
      onMouseDown={onMouseDown}
      onMouseMove={onMouseMove}
      onMouseUp={onMouseUp}
      onMouseLeave={() => band && onMouseUp()}
      sx={{ flex: 1, minHeight: 0, overflow: 'auto', position: 'relative', userSelect: 'none', borderRadius: 1.5, bgcolor: 'background.default' }}
    >
      {total === 0 && <Typography sx={{ color: 'text.secondary', p: 3, textAlign: 'center' }}>No items here.</Typography>}
      <Box sx={{ height: virtualizer.getTotalSize() + PAD, position: 'relative' }}>
        {rows.map((row) => (
          <Box key={row.key} sx={{ position: 'absolute', top: 0, left: PAD, right: PAD, height: cell, transform: `translateY(${row.start}px)`, display: 'flex', gap: `${GAP}px` }}>
            {Array.from({ length: columns }, (_, c) => {
              const index = row.index * columns + c
              if (index >= total) return null
              const item = loaded.get(index)
              if (!item) return <Box key={`p${index}`} sx={{ width: cell, height: cell, borderRadius: 1.5, bgcolor: 'action.hover' }} />
              const isSel = selected.has(item.id)
              return (
                <Box
                  key={item.id}
                  component="button"
                  type="button"
                  title={item.name}
                  data-testid="label-cell"
                  data-index={index}
                  data-name={item.name}
                  data-selected={isSel ? 'true' : 'false'}
                  data-current={index === cursor ? 'true' : 'false'}
                  onClick={(e: ReactMouseEvent) => {
                    if (suppressClick.current) {
                      suppressClick.current = false
                      return
                    }
                    onClick(index, { shift: e.shiftKey, toggle: e.ctrlKey || e.metaKey })
                  }}
                  onDoubleClick={() => onOpen(index)}
                  sx={{
                    width: cell,
                    height: cell,
                    p: 0,
                    position: 'relative',
                    border: 2,
                    borderColor: isSel ? 'primary.main' : 'transparent',
                    borderRadius: 1.5,
                    overflow: 'hidden',
                    bgcolor: 'action.hover',
                    cursor: 'pointer',
                    opacity: isSel ? 0.92 : 1
                  }}
                >
                  <Cell item={item} classes={classes} current={index === cursor} selected={isSel} />
                </Box>
              )
            })}
          </Box>
        ))}
        {band && (
          <Box
            data-testid="rubber-band"
            sx={{
              position: 'absolute',
              left: Math.min(band.x0, band.x1),
              top: Math.min(band.y0, band.y1),
              width: Math.abs(band.x1 - band.x0),
              height: Math.abs(band.y1 - band.y0),
              border: '1px solid',
              borderColor: 'primary.main',
              bgcolor: 'rgba(59,111,216,0.15)',
              pointerEvents: 'none'
            }}
          />
        )}
      </Box>
    </Box>
  )
}
