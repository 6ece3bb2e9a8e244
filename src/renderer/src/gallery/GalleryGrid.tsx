// The gallery's images as a virtualized grid: only the rows in view are in the DOM and only
// the pages under them are fetched (offset paging through gallery.list), so 20k images
// scroll like 20. Images are upscaled without smoothing (image-rendering: pixelated).

import { useEffect, useMemo, useRef, useState } from 'react'
import { useQueries } from '@tanstack/react-query'
import { useVirtualizer } from '@tanstack/react-virtual'
import Box from '@mui/material/Box'
import Checkbox from '@mui/material/Checkbox'
import Typography from '@mui/material/Typography'
import StarIcon from '@mui/icons-material/Star'
import type { GalleryItem, MethodInput } from '../../../shared/contract'
import { callOrThrow, queryKey, useApi } from '../api/hooks'
import { mediaUrl, pixelated } from './recall'
import { useElementWidth } from '../components/useElementWidth'
import { gridCells } from '../../../shared/grid-cells'

const PAGE = 200
const CELL = 128
const GAP = 8

export type GalleryFilters = Omit<MethodInput<'gallery.list'>, 'offset' | 'limit'>

function Cell({ item, size, selected, active, onOpen, onToggle }: { item: GalleryItem; size: number; selected: boolean; active: boolean; onOpen: () => void; onToggle: (range: boolean) => void }) {
  return (
    <Box
      data-testid="gallery-item"
      data-id={item.id}
      data-seed={item.seed}
      sx={{ width: size, height: size, position: 'relative', borderRadius: 1.5, overflow: 'hidden', border: 2, borderColor: active ? 'primary.main' : selected ? 'primary.light' : 'transparent', bgcolor: 'action.hover' }}
    >
      <Box
        component="button"
        type="button"
        onClick={(e) => (e.shiftKey || e.metaKey || e.ctrlKey ? onToggle(e.shiftKey) : onOpen())}
        title={`${item.modelName} · seed ${item.seed} #${item.index}`}
        sx={{ p: 0, border: 0, width: '100%', height: '100%', cursor: 'pointer', display: 'block', bgcolor: 'transparent' }}
      >
        <Box component="img" src={mediaUrl(item.sha256)} alt={`seed ${item.seed} #${item.index}`} loading="lazy" sx={{ width: '100%', height: '100%', display: 'block', ...pixelated }} />
      </Box>
      <Checkbox
        size="small"
        checked={selected}
        onChange={() => onToggle(false)}
        slotProps={{ input: { 'aria-label': 'Select', 'data-testid': 'gallery-select' } as object }}
        sx={{ position: 'absolute', top: 0, left: 0, p: 0.25, color: '#fff', bgcolor: 'rgba(0,0,0,0.35)', borderRadius: 1, '&.Mui-checked': { color: '#fff' } }}
      />
      {item.starred && <StarIcon data-testid="gallery-starred" sx={{ position: 'absolute', top: 4, right: 4, fontSize: 18, color: '#f5c518', filter: 'drop-shadow(0 0 2px rgba(0,0,0,.7))' }} />}
      <Box sx={{ position: 'absolute', left: 0, right: 0, bottom: 0, px: 0.75, py: 0.25, bgcolor: 'rgba(0,0,0,0.55)', color: '#fff', fontSize: 11, display: 'flex', gap: 0.5 }}>
        <span title="Image number in its generation">#{item.index}</span>
        {item.className && <span title="Class it was generated for">· {item.className}</span>}
        {item.bitsPerToken !== null && (
          <span style={{ marginLeft: 'auto' }} title="Bits per token under the model that made it">
            {item.bitsPerToken.toFixed(2)} bits
          </span>
        )}
      </Box>
    </Box>
  )
}

export function GalleryGrid({
  filters,
  selected,
  onSelect,
  activeId,
  onOpen,
  onTotal
}: {
  filters: GalleryFilters
  selected: Set<string>
  onSelect: (ids: Set<string>) => void
  activeId: string | null
  onOpen: (item: GalleryItem) => void
  onTotal: (total: number | null, loaded: GalleryItem[]) => void
}) {
  const api = useApi()
  const scrollRef = useRef<HTMLDivElement>(null)
  const width = useElementWidth(scrollRef)
  // Cells grow to fill the row, so no empty gutter is left on the right.
  const { columns, cell } = gridCells(width, CELL, GAP, 8)
  const [total, setTotal] = useState<number | null>(null)
  const virtualizer = useVirtualizer({
    count: total === null ? 0 : Math.ceil(total / columns),
    getScrollElement: () => scrollRef.current,
    estimateSize: () => cell + GAP,
    overscan: 3
  })
  useEffect(() => virtualizer.measure(), [cell, virtualizer])
  const rows = virtualizer.getVirtualItems()
  const first = (rows[0]?.index ?? 0) * columns
  const last = ((rows[rows.length - 1]?.index ?? 0) + 1) * columns - 1
  const pageIndexes = useMemo(() => {
    const out: number[] = []
    for (let p = Math.floor(first / PAGE); p <= Math.floor(last / PAGE); p++) out.push(p)
    return out.length ? out : [0]
  }, [first, last])
  const inputFor = (p: number): MethodInput<'gallery.list'> => ({ ...filters, offset: p * PAGE, limit: PAGE })
  const pages = useQueries({
    queries: pageIndexes.map((p) => ({
      queryKey: queryKey('gallery.list', inputFor(p)),
      queryFn: () => callOrThrow(api, 'gallery.list', inputFor(p)),
      staleTime: 5_000,
      placeholderData: (prev: unknown) => prev
    }))
  })
  const byIndex = new Map<number, GalleryItem>()
  pages.forEach((q, k) => q.data?.items.forEach((item, i) => byIndex.set(pageIndexes[k]! * PAGE + i, item)))
  const newTotal = pages[0]?.data?.total ?? null
  useEffect(() => {
    if (newTotal !== null && newTotal !== total) setTotal(newTotal)
  }, [newTotal, total])
  const loaded = [...byIndex.values()]
  const loadedKey = loaded.map((i) => `${i.id}:${i.starred}:${i.rating}:${i.collections.join('+')}`).join(',')
  useEffect(() => onTotal(newTotal, loaded), [newTotal, loadedKey]) // eslint-disable-line react-hooks/exhaustive-deps

  const lastToggled = useRef<number | null>(null)
  const toggle = (index: number, item: GalleryItem, range: boolean) => {
    const next = new Set(selected)
    if (range && lastToggled.current !== null) {
      const [a, b] = [Math.min(lastToggled.current, index), Math.max(lastToggled.current, index)]
      for (let i = a; i <= b; i++) {
        const it = byIndex.get(i)
        if (it) next.add(it.id)
      }
    } else if (next.has(item.id)) next.delete(item.id)
    else next.add(item.id)
    lastToggled.current = index
    onSelect(next)
  }

  return (
    <Box ref={scrollRef} sx={{ flex: 1, overflow: 'auto', minHeight: 0 }} data-testid="gallery-grid">
      {total === 0 && (
        <Typography sx={{ color: 'text.secondary', p: 2 }} data-testid="gallery-empty">
          No images match. Generated images appear here as soon as they are finished.
        </Typography>
      )}
      <Box sx={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
        {rows.map((row) => (
          <Box key={row.key} sx={{ position: 'absolute', top: 0, left: 0, right: 0, transform: `translateY(${row.start}px)`, display: 'flex', gap: `${GAP}px` }}>
            {Array.from({ length: columns }, (_, c) => {
              const index = row.index * columns + c
              if (total !== null && index >= total) return null
              const item = byIndex.get(index)
              return item ? (
                <Cell key={item.id} item={item} size={cell} selected={selected.has(item.id)} active={activeId === item.id} onOpen={() => onOpen(item)} onToggle={(range) => toggle(index, item, range)} />
              ) : (
                <Box key={`p${index}`} sx={{ width: cell, height: cell, borderRadius: 1.5, bgcolor: 'action.hover' }} />
              )
            })}
          </Box>
        ))}
      </Box>
    </Box>
  )
}
