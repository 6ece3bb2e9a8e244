// The dataset's items as a virtualized grid of thumbnails: only the rows in view are
// in the DOM, and only the pages of items under them are fetched (offset paging),
// so 50k items scroll like 50. Filters and sort go to the back end's items.list.

import { useEffect, useMemo, useRef, useState } from 'react'
import { useQueries } from '@tanstack/react-query'
import { useVirtualizer } from '@tanstack/react-virtual'
import Box from '@mui/material/Box'
import IconButton from '@mui/material/IconButton'
import Stack from '@mui/material/Stack'
import Tooltip from '@mui/material/Tooltip'
import Typography from '@mui/material/Typography'
import ArrowDownwardIcon from '@mui/icons-material/ArrowDownward'
import ArrowUpwardIcon from '@mui/icons-material/ArrowUpward'
import type { Dataset, DatasetItem, MethodInput } from '../../../../shared/contract'
import { callOrThrow, queryKey, useApi } from '../../api/hooks'
import { OptionSelect } from '../../components/common'
import { ItemDetail } from './ItemDetail'
import { SPLIT_COLORS, mediaUrl, thumbUrl } from './format'
import { useElementWidth } from '../../components/useElementWidth'
import { gridCells } from '../../../../shared/grid-cells'

const PAGE = 120
const CELL = 136
const GAP = 8

type ListInput = MethodInput<'items.list'>
export type ItemFilters = Omit<ListInput, 'dataset' | 'offset' | 'limit'>

export function FilterBar({ dataset, filters, onChange, total }: { dataset: Dataset; filters: ItemFilters; onChange: (f: ItemFilters) => void; total: number | null }) {
  const set = (patch: Partial<ItemFilters>) => {
    const next = { ...filters, ...patch } as Record<string, unknown>
    for (const k of Object.keys(next)) if (next[k] === '' || next[k] === undefined) delete next[k]
    onChange(next as ItemFilters)
  }
  return (
    <Stack direction="row" spacing={1.5} useFlexGap sx={{ flexWrap: 'wrap', alignItems: 'center', mb: 1.5 }}>
      <OptionSelect minWidth={130}
        label="Class"
        testId="filter-class"
        value={filters.classId ?? ''}
        onChange={(v) => set({ classId: v || undefined })}
        options={[['', 'All classes'], ['none', 'No label'], ...dataset.classes.map((c): [string, string] => [c.id, c.name])]}
      />
      <OptionSelect minWidth={130}
        label="Split"
        testId="filter-split"
        value={filters.split ?? ''}
        onChange={(v) => set({ split: (v || undefined) as ItemFilters['split'] })}
        options={[['', 'All splits'], ['train', 'Train'], ['val', 'Val'], ['test', 'Test'], ['none', 'No split']]}
      />
      <OptionSelect minWidth={130}
        label="Label source"
        testId="filter-source"
        value={filters.labelSource ?? ''}
        onChange={(v) => set({ labelSource: (v || undefined) as ItemFilters['labelSource'] })}
        options={[['', 'Any'], ['human', 'Human'], ['model', 'Model'], ['none', 'None']]}
      />
      <OptionSelect minWidth={130}
        label="Flag"
        testId="filter-flag"
        value={filters.flag ?? ''}
        onChange={(v) => set({ flag: v || undefined })}
        options={[
          ['', 'Any'],
          ['near-duplicate', 'Near-duplicate'],
          ['likely-mislabel', 'Likely mislabel'],
          ['outlier', 'Outlier'],
          ['feature-duplicate', 'Feature near-duplicate']
        ]}
      />
      <OptionSelect minWidth={130}
        label="Sort by"
        testId="sort"
        value={filters.sort ?? 'name'}
        onChange={(v) => set({ sort: v as ItemFilters['sort'] })}
        options={[
          ['name', 'Name'],
          ['date', 'Date added'],
          ['size', 'File size'],
          ['selfConfidence', 'Sureness of label (curation)'],
          ['bitsPerToken', 'Bits per token (curation)'],
          ['featureOutlier', 'Feature outlier score (curation)']
        ]}
      />
      <Tooltip title={filters.desc ? 'Descending' : 'Ascending'}>
        <IconButton aria-label="Reverse sort order" onClick={() => set({ desc: !filters.desc || undefined })} size="small">
          {filters.desc ? <ArrowDownwardIcon fontSize="small" /> : <ArrowUpwardIcon fontSize="small" />}
        </IconButton>
      </Tooltip>
      <Typography variant="body2" sx={{ color: 'text.secondary', ml: 'auto', fontVariantNumeric: 'tabular-nums' }} data-testid="grid-count">
        {total === null ? '' : `${total.toLocaleString()} item${total === 1 ? '' : 's'}`}
      </Typography>
    </Stack>
  )
}

export function Thumb({ item, selected, onClick, size = CELL }: { item: DatasetItem; selected?: boolean; onClick?: () => void; size?: number }) {
  return (
    <Box
      component="button"
      type="button"
      onClick={onClick}
      title={item.name}
      data-testid="grid-item"
      sx={{
        width: size,
        height: size,
        p: 0,
        position: 'relative',
        border: 2,
        borderColor: selected ? 'primary.main' : 'transparent',
        borderRadius: 1.5,
        overflow: 'hidden',
        bgcolor: 'action.hover',
        cursor: 'pointer',
        outlineOffset: 2
      }}
    >
      {/* Images smaller than the cell are drawn pixel-sharp (MNIST's 28x28 digits), as in Label: the original itself when it is tiny and stored. */}
      <Box
        component="img"
        src={(item.width ?? 999) <= 64 && (item.height ?? 999) <= 64 && !item.referenced ? mediaUrl(item.sha256) : thumbUrl(item.sha256)}
        alt={item.name}
        loading="lazy"
        decoding="async"
        sx={{ width: '100%', height: '100%', objectFit: 'cover', display: 'block', imageRendering: (item.width ?? 999) < size ? 'pixelated' : 'auto' }}
      />
      <Stack direction="row" spacing={0.5} sx={{ position: 'absolute', left: 4, right: 4, bottom: 4, alignItems: 'center' }}>
        {item.className && (
          <Box
            sx={{
              px: 0.6,
              fontSize: 11,
              lineHeight: '18px',
              borderRadius: 1,
              bgcolor: 'rgba(0,0,0,0.62)',
              color: '#fff',
              maxWidth: '75%',
              overflow: 'hidden',
              textOverflow: 'ellipsis',
              whiteSpace: 'nowrap',
              fontStyle: item.labelSource === 'model' ? 'italic' : 'normal'
            }}
          >
            {item.className}
          </Box>
        )}
        {item.split && <Box title={item.split} sx={{ width: 8, height: 8, borderRadius: '50%', bgcolor: SPLIT_COLORS[item.split], border: '1px solid #fff', ml: 'auto !important' }} />}
      </Stack>
    </Box>
  )
}

export function ItemGrid({ dataset, initialFilters }: { dataset: Dataset; initialFilters?: ItemFilters }) {
  const api = useApi()
  const [filters, setFilters] = useState<ItemFilters>(initialFilters ?? { sort: 'name' })
  const [selected, setSelected] = useState<DatasetItem | null>(null)
  const scrollRef = useRef<HTMLDivElement>(null)
  const width = useElementWidth(scrollRef)
  // Cells grow to fill the row, so no empty gutter is left on the right.
  const { columns, cell } = gridCells(width, CELL, GAP, 16)
  const [total, setTotal] = useState<number | null>(null)
  const rowCount = total === null ? 0 : Math.ceil(total / columns)
  const virtualizer = useVirtualizer({
    count: rowCount,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => cell + GAP,
    overscan: 4
  })
  useEffect(() => virtualizer.measure(), [cell, virtualizer])
  const rows = virtualizer.getVirtualItems()
  const firstIndex = (rows[0]?.index ?? 0) * columns
  const lastIndex = ((rows[rows.length - 1]?.index ?? 0) + 1) * columns - 1
  const pageIndexes = useMemo(() => {
    const out = new Set<number>([Math.floor(firstIndex / PAGE)])
    for (let p = Math.floor(firstIndex / PAGE); p <= Math.floor(lastIndex / PAGE); p++) out.add(p)
    return [...out]
  }, [firstIndex, lastIndex])

  const inputFor = (p: number): ListInput => ({ dataset: dataset.id, ...filters, offset: p * PAGE, limit: PAGE })
  const pages = useQueries({
    queries: pageIndexes.map((p) => ({
      queryKey: queryKey('items.list', inputFor(p)),
      queryFn: () => callOrThrow(api, 'items.list', inputFor(p)),
      staleTime: 10_000
    }))
  })
  const loaded = new Map<number, DatasetItem>()
  pages.forEach((q, i) => q.data?.items.forEach((item, j) => loaded.set(pageIndexes[i]! * PAGE + j, item)))
  const pageTotal = pages.find((q) => q.data)?.data?.total ?? null
  useEffect(() => {
    if (pageTotal !== null) setTotal(pageTotal)
  }, [pageTotal])

  const changeFilters = (f: ItemFilters) => {
    setFilters(f)
    setTotal(null)
    scrollRef.current?.scrollTo({ top: 0 })
  }

  return (
    <Box sx={{ display: 'flex', flexDirection: 'column', flex: 1, minHeight: 0 }}>
      <FilterBar dataset={dataset} filters={filters} onChange={changeFilters} total={total} />
      <Box ref={scrollRef} sx={{ flex: 1, minHeight: 0, overflow: 'auto', borderRadius: 1.5 }} data-testid="item-grid">
        {total === 0 && (
          <Typography sx={{ color: 'text.secondary', p: 3, textAlign: 'center' }}>No items match these filters.</Typography>
        )}
        <Box sx={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
          {rows.map((row) => (
            <Box
              key={row.key}
              sx={{ position: 'absolute', top: 0, left: 0, right: 0, height: cell, transform: `translateY(${row.start}px)`, display: 'flex', gap: `${GAP}px` }}
            >
              {Array.from({ length: columns }, (_, c) => {
                const index = row.index * columns + c
                if (total !== null && index >= total) return null
                const item = loaded.get(index)
                return item ? (
                  <Thumb key={item.id} item={item} size={cell} selected={selected?.id === item.id} onClick={() => setSelected(item)} />
                ) : (
                  <Box key={`p${index}`} sx={{ width: cell, height: cell, borderRadius: 1.5, bgcolor: 'action.hover' }} />
                )
              })}
            </Box>
          ))}
        </Box>
      </Box>
      <ItemDetail item={selected} dataset={dataset} onClose={() => setSelected(null)} />
    </Box>
  )
}
