// Gallery: every generated image with its recipe. Search and filters (model, class, date,
// starred, rating, collection, any recipe parameter), sort by score, collections with "send new
// outputs to", multi-select bulk star / collection / export / delete (with a confirmation that
// says how many), a details panel (recall, remix) and side-by-side compare.

import { useEffect, useState } from 'react'
import Box from '@mui/material/Box'
import Button from '@mui/material/Button'
import Checkbox from '@mui/material/Checkbox'
import Chip from '@mui/material/Chip'
import Dialog from '@mui/material/Dialog'
import DialogActions from '@mui/material/DialogActions'
import DialogContent from '@mui/material/DialogContent'
import DialogTitle from '@mui/material/DialogTitle'
import FormControlLabel from '@mui/material/FormControlLabel'
import Stack from '@mui/material/Stack'
import TextField from '@mui/material/TextField'
import ToggleButton from '@mui/material/ToggleButton'
import Typography from '@mui/material/Typography'
import StarIcon from '@mui/icons-material/Star'
import type { GalleryItem } from '../../../shared/contract'
import { useApiMutation, useApiQuery } from '../api/hooks'
import { useNotify } from '../app/notify'
import { OptionSelect, PanelHeader } from '../components/common'

import { CompareDialog, GalleryDetail } from '../gallery/GalleryDetail'
import { GalleryGrid, type GalleryFilters } from '../gallery/GalleryGrid'

const Select = (p: Omit<Parameters<typeof OptionSelect>[0], 'minWidth'>) => <OptionSelect width={140} {...p} />

/** "temperature=0.9 topK=8" -> { temperature: 0.9, topK: 8 }; words that are not key=value are ignored. */
function parseParams(text: string): Record<string, string | number | boolean | null> | undefined {
  const out: Record<string, string | number | boolean | null> = {}
  for (const part of text.split(/\s+/)) {
    const m = /^([A-Za-z][A-Za-z0-9_]{0,40})=(.*)$/.exec(part)
    if (!m) continue
    const v = m[2]!
    out[m[1]!] = v === 'true' ? true : v === 'false' ? false : v === 'null' ? null : v !== '' && Number.isFinite(Number(v)) ? Number(v) : v
  }
  return Object.keys(out).length ? out : undefined
}

export function GalleryPanel() {
  const notify = useNotify()
  const facets = useApiQuery('gallery.facets', {})
  const cols = useApiQuery('gallery.collections', {})
  const collections = cols.data?.collections ?? []
  const [search, setSearch] = useState('')
  const [debounced, setDebounced] = useState('')
  useEffect(() => {
    const t = setTimeout(() => setDebounced(search), 250)
    return () => clearTimeout(t)
  }, [search])
  const [paramText, setParamText] = useState('')
  const [f, setF] = useState<{ model: string; cls: string; starred: boolean; rating: string; collection: string; from: string; to: string; sort: NonNullable<GalleryFilters['sort']> }>({
    model: '',
    cls: '',
    starred: false,
    rating: '',
    collection: '',
    from: '',
    to: '',
    sort: 'newest'
  })
  const filters: GalleryFilters = {
    sort: f.sort,
    ...(f.model ? { modelId: f.model } : {}),
    ...(f.cls ? { className: f.cls } : {}),
    ...(f.starred ? { starred: true } : {}),
    ...(f.rating ? { minRating: Number(f.rating) } : {}),
    ...(f.collection ? { collectionId: f.collection } : {}),
    ...(f.from ? { from: new Date(f.from).toISOString() } : {}),
    ...(f.to ? { to: new Date(new Date(f.to).getTime() + 86_400_000).toISOString() } : {}),
    ...(debounced.trim() ? { q: debounced.trim() } : {}),
    ...(parseParams(paramText) ? { params: parseParams(paramText)! } : {})
  }

  const [selected, setSelected] = useState<Set<string>>(new Set())
  const [active, setActive] = useState<GalleryItem | null>(null)
  const [total, setTotal] = useState<number | null>(null)
  const [loaded, setLoaded] = useState<GalleryItem[]>([])
  const activeNow = active ? (loaded.find((i) => i.id === active.id) ?? active) : null

  const star = useApiMutation('gallery.star')
  const addTo = useApiMutation('gallery.addToCollection')
  const del = useApiMutation('gallery.delete')
  const exp = useApiMutation('gallery.export')
  const create = useApiMutation('gallery.createCollection', { meta: { inlineError: true } })
  const sendTo = useApiMutation('gallery.setSendTo')

  const [confirmDelete, setConfirmDelete] = useState(false)
  const [exportOpen, setExportOpen] = useState(false)
  const [exportDir, setExportDir] = useState('')
  const [newCollection, setNewCollection] = useState<string | null>(null)
  const [compare, setCompare] = useState<[GalleryItem, GalleryItem] | null>(null)
  const [toDataset, setToDataset] = useState<{ dataset: string; labelled: boolean; train: boolean } | null>(null)
  const datasets = useApiQuery('datasets.list', {}, { enabled: toDataset !== null })
  const addToDataset = useApiMutation('gallery.addToDataset')
  const ids = [...selected]

  const selectedItems = loaded.filter((i) => selected.has(i.id))

  return (
    <>
      <PanelHeader
        title="Gallery"
        subtitle="Every generated image with its recipe: search, filter, star, collect, recall."
        actions={
          <Typography variant="body2" sx={{ color: 'text.secondary', fontVariantNumeric: 'tabular-nums' }} data-testid="gallery-count">
            {total === null ? '' : `${total.toLocaleString()} image${total === 1 ? '' : 's'}`}
          </Typography>
        }
      />
      <Stack sx={{ flex: 1, minHeight: 0, px: 3, py: 2 }} spacing={1.5}>
        <Stack direction="row" spacing={1.25} useFlexGap sx={{ flexWrap: 'wrap', alignItems: 'center' }}>
          <TextField size="small" label="Search recipes" placeholder="seed:1234, model, class…" value={search} onChange={(e) => setSearch(e.target.value)} sx={{ width: 220 }} slotProps={{ htmlInput: { 'data-testid': 'gallery-search' }, inputLabel: { shrink: true } }} />
          <Select label="Model" testId="filter-model" value={f.model} onChange={(v) => setF({ ...f, model: v })} options={[['', 'All models'], ...(facets.data?.models ?? []).filter((m) => m.id).map((m): [string, string] => [m.id!, `${m.name} (${m.count})`])]} />
          <Select label="Class" testId="filter-class" value={f.cls} onChange={(v) => setF({ ...f, cls: v })} options={[['', 'All'], ['any', 'Unconditioned'], ...(facets.data?.classes ?? []).map((c): [string, string] => [c, c])]} width={120} />
          <Select label="Collection" testId="filter-collection" value={f.collection} onChange={(v) => setF({ ...f, collection: v })} options={[['', 'All images'], ...collections.map((c): [string, string] => [c.id, `${c.name} (${c.count})`])]} />
          <Select label="Rating" testId="filter-rating" value={f.rating} onChange={(v) => setF({ ...f, rating: v })} options={[['', 'Any'], ['1', '★ 1+'], ['2', '★ 2+'], ['3', '★ 3+'], ['4', '★ 4+'], ['5', '★ 5']]} width={100} />
          <ToggleButton size="small" value="starred" selected={f.starred} onChange={() => setF({ ...f, starred: !f.starred })} data-testid="filter-starred" sx={{ height: 36, color: 'text.primary', textTransform: 'none' }}>
            <StarIcon fontSize="small" sx={{ mr: 0.5, color: f.starred ? '#f5c518' : undefined }} /> Starred only
          </ToggleButton>
          <TextField size="small" type="date" label="From" value={f.from} onChange={(e) => setF({ ...f, from: e.target.value })} slotProps={{ inputLabel: { shrink: true } }} sx={{ width: 150 }} />
          <TextField size="small" type="date" label="To" value={f.to} onChange={(e) => setF({ ...f, to: e.target.value })} slotProps={{ inputLabel: { shrink: true } }} sx={{ width: 150 }} />
          <TextField size="small" label="Parameters" placeholder="topK=8" value={paramText} onChange={(e) => setParamText(e.target.value)} sx={{ width: 190 }} slotProps={{ inputLabel: { shrink: true } }} />
          <Select
            label="Sort by"
            testId="gallery-sort"
            value={f.sort}
            onChange={(v) => setF({ ...f, sort: v as typeof f.sort })}
            options={[['newest', 'Newest'], ['oldest', 'Oldest'], ['bits', 'Bits/token ↑'], ['bits-desc', 'Bits/token ↓'], ['confidence-desc', 'Confidence ↓'], ['confidence', 'Confidence ↑'], ['rating', 'Rating']]}
          />
        </Stack>

        <Stack direction="row" spacing={1} useFlexGap sx={{ flexWrap: 'wrap', alignItems: 'center' }} data-testid="collections-bar">
          <Typography variant="body2" sx={{ color: 'text.secondary' }}>
            Collections
          </Typography>
          {collections.map((c) => (
            <Chip key={c.id} label={`${c.name} · ${c.count}`} size="small" color={f.collection === c.id ? 'primary' : 'default'} onClick={() => setF({ ...f, collection: f.collection === c.id ? '' : c.id })} data-testid="collection-chip" />
          ))}
          <Button size="small" onClick={() => setNewCollection('')} data-testid="collection-new">
            New collection
          </Button>
          <Box sx={{ ml: 'auto !important' }}>
            <Select label="Send new outputs to" testId="send-to" width={200} value={cols.data?.sendTo ?? ''} onChange={(v) => sendTo.mutate({ collectionId: v || null })} options={[['', 'No collection'], ...collections.map((c): [string, string] => [c.id, c.name])]} />
          </Box>
        </Stack>

        {selected.size > 0 && (
          <Stack direction="row" spacing={1} useFlexGap sx={{ alignItems: 'center', flexWrap: 'wrap', p: 1, borderRadius: 1, bgcolor: 'action.selected' }} data-testid="bulk-bar">
            <Typography variant="body2" sx={{ fontWeight: 600 }} data-testid="bulk-count">
              {selected.size} selected
            </Typography>
            <Button size="small" onClick={() => star.mutate({ ids, starred: true })} data-testid="bulk-star">
              Star
            </Button>
            <Button size="small" onClick={() => star.mutate({ ids, starred: false })}>
              Unstar
            </Button>
            <Select
              label="Add to collection"
              testId="bulk-add"
              width={170}
              value=""
              onChange={(v) => v && addTo.mutate({ collectionId: v, ids }, { onSuccess: (r) => notify.success(`${r.updated} added to ${collections.find((c) => c.id === v)?.name}.`) })}
              options={[['', 'Choose…'], ...collections.map((c): [string, string] => [c.id, c.name])]}
            />
            <Select
              label="Move to collection"
              testId="bulk-move"
              width={170}
              value=""
              onChange={(v) => v && addTo.mutate({ collectionId: v, ids, move: true })}
              options={[['', 'Choose…'], ...collections.map((c): [string, string] => [c.id, c.name])]}
            />
            <Button size="small" onClick={() => setExportOpen(true)}>
              Export
            </Button>
            <Button size="small" onClick={() => setToDataset({ dataset: '', labelled: true, train: true })} data-testid="bulk-dataset">
              Add to dataset
            </Button>
            <Button size="small" disabled={selectedItems.length !== 2} onClick={() => setCompare([selectedItems[0]!, selectedItems[1]!])} data-testid="bulk-compare">
              Compare
            </Button>
            <Button size="small" color="error" onClick={() => setConfirmDelete(true)} data-testid="bulk-delete">
              Delete
            </Button>
            <Button size="small" color="inherit" onClick={() => setSelected(new Set())} sx={{ ml: 'auto !important' }}>
              Clear selection
            </Button>
          </Stack>
        )}

        <Stack direction="row" sx={{ flex: 1, minHeight: 0 }} spacing={2}>
          <GalleryGrid
            filters={filters}
            selected={selected}
            onSelect={setSelected}
            activeId={activeNow?.id ?? null}
            onOpen={setActive}
            onTotal={(t, items) => {
              setTotal(t)
              setLoaded(items)
            }}
          />
          {activeNow && <GalleryDetail item={activeNow} collections={collections} onClose={() => setActive(null)} />}
        </Stack>
      </Stack>

      <Dialog open={confirmDelete} onClose={() => setConfirmDelete(false)}>
        <DialogTitle>
          Delete {selected.size} image{selected.size === 1 ? '' : 's'}?
        </DialogTitle>
        <DialogContent>
          <Typography variant="body2">Their files are removed from the library too. This cannot be undone.</Typography>
        </DialogContent>
        <DialogActions>
          <Button onClick={() => setConfirmDelete(false)}>Keep them</Button>
          <Button
            color="error"
            variant="contained"
            data-testid="confirm-delete"
            onClick={() =>
              del.mutate(
                { ids },
                {
                  onSuccess: (r) => {
                    notify.success(`Deleted ${r.removed} image${r.removed === 1 ? '' : 's'}.`)
                    setSelected(new Set())
                    if (activeNow && selected.has(activeNow.id)) setActive(null)
                  },
                  onSettled: () => setConfirmDelete(false)
                }
              )
            }
          >
            Delete {selected.size}
          </Button>
        </DialogActions>
      </Dialog>

      <Dialog open={exportOpen} onClose={() => setExportOpen(false)}>
        <DialogTitle>Export {selected.size} images</DialogTitle>
        <DialogContent>
          <TextField autoFocus fullWidth size="small" label="Folder" placeholder="/path/to/folder" value={exportDir} onChange={(e) => setExportDir(e.target.value)} sx={{ mt: 1, minWidth: 360 }} />
          <Typography variant="caption" sx={{ color: 'text.secondary' }}>
            PNGs with their recipe inside; existing files are never overwritten.
          </Typography>
        </DialogContent>
        <DialogActions>
          <Button onClick={() => setExportOpen(false)}>Cancel</Button>
          <Button
            variant="contained"
            disabled={!exportDir.trim()}
            onClick={() => exp.mutate({ ids, out: exportDir.trim() }, { onSuccess: (r) => (notify.success(`Exported ${r.files.length} files.`), setExportOpen(false)) })}
          >
            Export
          </Button>
        </DialogActions>
      </Dialog>

      <Dialog open={newCollection !== null} onClose={() => setNewCollection(null)}>
        <DialogTitle>New collection</DialogTitle>
        <DialogContent>
          <TextField
            autoFocus
            fullWidth
            size="small"
            label="Name"
            value={newCollection ?? ''}
            onChange={(e) => setNewCollection(e.target.value)}
            sx={{ mt: 1, minWidth: 320 }}
            error={create.isError}
            helperText={create.isError ? create.error.message : ' '}
            slotProps={{ htmlInput: { 'data-testid': 'collection-name' } }}
          />
        </DialogContent>
        <DialogActions>
          <Button onClick={() => setNewCollection(null)}>Cancel</Button>
          <Button variant="contained" data-testid="collection-create" disabled={!newCollection?.trim()} onClick={() => create.mutate({ name: newCollection!.trim() }, { onSuccess: () => setNewCollection(null) })}>
            Create
          </Button>
        </DialogActions>
      </Dialog>

      <Dialog open={toDataset !== null} onClose={() => setToDataset(null)}>
        <DialogTitle>Add {selected.size} images to a dataset</DialogTitle>
        <DialogContent>
          <Stack spacing={1} sx={{ mt: 1, minWidth: 360 }}>
            <Select
              label="Dataset"
              testId="to-dataset"
              width={360}
              value={toDataset?.dataset ?? ''}
              onChange={(v) => toDataset && setToDataset({ ...toDataset, dataset: v })}
              options={[['', 'Choose…'], ...(datasets.data ?? []).map((d): [string, string] => [d.id, d.name])]}
            />
            <FormControlLabel control={<Checkbox checked={toDataset?.labelled ?? true} onChange={(e) => toDataset && setToDataset({ ...toDataset, labelled: e.target.checked })} />} label="Label each with its class (unconditioned images stay unlabelled)" />
            <FormControlLabel control={<Checkbox checked={toDataset?.train ?? true} onChange={(e) => toDataset && setToDataset({ ...toDataset, train: e.target.checked })} />} label="Put them in train (never in a test split)" />
            <Typography variant="caption" sx={{ color: 'text.secondary' }}>
              They are flagged “generated” in the dataset, so they can be filtered out.
            </Typography>
          </Stack>
        </DialogContent>
        <DialogActions>
          <Button onClick={() => setToDataset(null)}>Cancel</Button>
          <Button
            variant="contained"
            disabled={!toDataset?.dataset}
            onClick={() =>
              toDataset &&
              addToDataset.mutate(
                { ids, dataset: toDataset.dataset, labelled: toDataset.labelled, split: toDataset.train ? 'train' : 'none' },
                { onSuccess: (r) => (notify.success(`${r.added} added${r.already ? `, ${r.already} already there` : ''}; ${r.labelled} labelled.`), setToDataset(null)) }
              )
            }
          >
            Add
          </Button>
        </DialogActions>
      </Dialog>

      <CompareDialog items={compare} onClose={() => setCompare(null)} />
    </>
  )
}
