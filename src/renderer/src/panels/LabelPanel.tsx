// The Label panel (issue 8): one filtered item list of a dataset seen as a grid (bulk
// work) or one image at a time (zoom / pan), labelled mostly from the keyboard.
// Every change goes to the back end at once (labels.* — one transaction and one undo
// step each, in the library), one at a time in the order made; the views refetch on
// library.changed. A chosen classifier adds suggestions (computed by a job, cached).

import { useCallback, useEffect, useMemo, useRef, useState } from 'react'
import Box from '@mui/material/Box'
import Button from '@mui/material/Button'
import ButtonGroup from '@mui/material/ButtonGroup'
import Dialog from '@mui/material/Dialog'
import DialogActions from '@mui/material/DialogActions'
import DialogContent from '@mui/material/DialogContent'
import DialogTitle from '@mui/material/DialogTitle'
import IconButton from '@mui/material/IconButton'
import Menu from '@mui/material/Menu'
import MenuItem from '@mui/material/MenuItem'
import Slider from '@mui/material/Slider'
import Stack from '@mui/material/Stack'
import Tooltip from '@mui/material/Tooltip'
import Typography from '@mui/material/Typography'
import KeyboardIcon from '@mui/icons-material/KeyboardOutlined'
import RedoIcon from '@mui/icons-material/Redo'
import UndoIcon from '@mui/icons-material/Undo'
import { useQueries } from '@tanstack/react-query'
import type { ClassInfo, MethodInput } from '../../../shared/contract'
import { callOrThrow, queryKey, useApi, useApiQuery } from '../api/hooks'
import { useNotify } from '../app/notify'
import { EmptyState, OptionSelect, PanelHeader } from '../components/common'
import { ClassChips, ProgressBar } from '../label/ClassBar'
import { ClassesDialog, KeysDialog } from '../label/Dialogs'
import { LabelGrid, pct } from '../label/LabelGrid'
import { SingleView, type ZoomHandle } from '../label/SingleView'
import { pagesFor, useLabelPages, type LabelListInput } from '../label/data'
import { classKeys, loadCustomKeys, saveCustomKeys } from '../label/keys'
import { FilterBar, type ItemFilters } from './datasets/ItemGrid'

type Mode = 'all' | 'disagree' | 'lowConfidence'

function datasetFromHash(): string | null {
  const m = /^#\/label\/([^/?]+)/.exec(window.location.hash)
  return m?.[1] ? decodeURIComponent(m[1]) : null
}

export function LabelPanel() {
  const api = useApi()
  const notify = useNotify()
  const datasets = useApiQuery('datasets.list', {})
  const [datasetId, setDatasetId] = useState<string | null>(datasetFromHash)
  useEffect(() => {
    if (!datasetId && datasets.data?.[0]) setDatasetId(datasets.data[0].id)
  }, [datasetId, datasets.data])
  const chooseDataset = (id: string) => {
    setDatasetId(id)
    window.location.hash = `#/label/${encodeURIComponent(id)}`
  }
  if (datasets.data && datasets.data.length === 0) {
    return (
      <Box sx={{ display: 'flex', flexDirection: 'column', flex: 1 }}>
        <PanelHeader title="Label" subtitle="Keyboard-first labelling with model suggestions." />
        <EmptyState title="No datasets yet" testId="label-empty">
          Import images in the Datasets panel, then label them here.
        </EmptyState>
      </Box>
    )
  }
  const current = datasets.data?.find((d) => d.id === datasetId)
  return (
    <Box sx={{ display: 'flex', flexDirection: 'column', flex: 1, minHeight: 0 }}>
      {current ? <LabelWorkspace key={current.id} datasetId={current.id} datasets={datasets.data ?? []} onDataset={chooseDataset} api={api} notify={notify} /> : <PanelHeader title="Label" />}
    </Box>
  )
}

function LabelWorkspace({ datasetId, datasets, onDataset, api, notify }: {
  datasetId: string
  datasets: { id: string; name: string }[]
  onDataset: (id: string) => void
  api: ReturnType<typeof useApi>
  notify: ReturnType<typeof useNotify>
}) {
  const dataset = useApiQuery('datasets.get', { ref: datasetId })
  const stats = useApiQuery('datasets.stats', { ref: datasetId })
  const history = useApiQuery('labels.history', { dataset: datasetId })
  const modelList = useApiQuery('models.list', {})
  const details = useQueries({
    queries: (modelList.data ?? []).map((m) => ({ queryKey: queryKey('models.get', { ref: m.id }), queryFn: () => callOrThrow(api, 'models.get', { ref: m.id }), staleTime: 60_000 }))
  })
  const classifiers = details.map((q) => q.data).filter((m): m is NonNullable<typeof m> => !!m && m.classes.length > 0)
  const [modelId, setModelId] = useState<string>(() => localStorage.getItem(`tessera.labelModel.${datasetId}`) ?? '')
  const model = classifiers.find((m) => m.id === modelId)
  const chooseModel = (id: string) => {
    setModelId(id)
    localStorage.setItem(`tessera.labelModel.${datasetId}`, id)
  }
  const predStatus = useApiQuery('labels.predictionStatus', { dataset: datasetId, model: modelId || 'none' }, { enabled: !!model })

  const [mode, setMode] = useState<Mode>('all')
  // `#/label/<dataset>?flag=<flag>` (a curation finding opened from the Datasets panel) starts filtered.
  const [filters, setFilters] = useState<ItemFilters>(() => {
    const flag = new URLSearchParams(window.location.hash.split('?')[1] ?? '').get('flag')
    return flag ? { sort: flag === 'likely-mislabel' ? 'selfConfidence' : 'name', flag } : { sort: 'name' }
  })
  const [lowThreshold, setLowThreshold] = useState(0.5)
  const [view, setView] = useState<'grid' | 'single'>('grid')
  const [cursor, setCursorState] = useState<{ index: number; id: string | null }>({ index: 0, id: null })
  // Key presses can come faster than renders: handlers read the latest cursor and list from refs.
  const cursorRef = useRef(cursor)
  const setCursor = useCallback((c: { index: number; id: string | null }) => {
    cursorRef.current = c
    setCursorState(c)
  }, [])
  const [selected, setSelected] = useState<Set<string>>(new Set())
  const anchor = useRef<number>(0)
  const [visible, setVisible] = useState<[number, number]>([0, 0])
  const [columns, setColumns] = useState(6)
  const [keysOpen, setKeysOpen] = useState(false)
  const [classesOpen, setClassesOpen] = useState(false)
  const [custom, setCustom] = useState<Record<string, string>>(() => loadCustomKeys(datasetId))
  const [acceptAt, setAcceptAt] = useState(0.9)
  const [confirmDelete, setConfirmDelete] = useState(false)
  const [assignMenu, setAssignMenu] = useState<HTMLElement | null>(null)
  const [splitMenu, setSplitMenu] = useState<HTMLElement | null>(null)
  const zoomRef = useRef<ZoomHandle | null>(null)

  const classes = useMemo(() => dataset.data?.classes ?? [], [dataset.data])
  const classById = useMemo(() => new Map(classes.map((c) => [c.id, c])), [classes])
  const keys = useMemo(() => classKeys(classes, custom), [classes, custom])

  const listInput: LabelListInput | null = useMemo(() => {
    const base = { dataset: datasetId, ...(model ? { model: model.id } : {}) }
    if (mode === 'all') return { ...base, ...filters }
    if (!model) return null
    return { ...base, mode, ...(mode === 'lowConfidence' ? { threshold: lowThreshold } : {}) }
  }, [datasetId, model, mode, filters, lowThreshold])
  const pageIndexes = useMemo(
    () => pagesFor(view === 'grid' ? [visible[0], visible[1], cursor.index, cursor.index + 1] : [cursor.index - 1, cursor.index, cursor.index + 1]),
    [view, visible, cursor.index]
  )
  const { loaded, total, indexOf } = useLabelPages(listInput, pageIndexes)
  const count = total ?? 0
  const listRef = useRef({ loaded, indexOf, count })
  listRef.current = { loaded, indexOf, count }

  // The current item follows its id when the list shifts (an item labelled out of an "unlabelled" filter).
  // It reads the cursor from the ref: when key presses outrun renders, the rendered cursor is
  // older than the one the handlers already moved, and restoring it would label an item twice.
  useEffect(() => {
    const c = cursorRef.current
    if (c.id) {
      const at = indexOf(c.id)
      if (at >= 0 && at !== c.index) setCursor({ index: at, id: c.id })
      return
    }
    const item = loaded.get(c.index)
    if (item) setCursor({ index: c.index, id: item.id })
  }, [loaded, indexOf, cursor, setCursor])
  useEffect(() => {
    if (total !== null && cursor.index >= total && total > 0) setCursor({ index: total - 1, id: null })
  }, [total, cursor.index, setCursor])

  const resetList = () => {
    setCursor({ index: 0, id: null })
    setSelected(new Set())
  }

  // One change at a time, in the order made, so undo steps follow the key presses.
  const queue = useRef<Promise<unknown>>(Promise.resolve())
  const enqueue = useCallback(
    <T,>(f: () => Promise<T>): Promise<T | undefined> => {
      const p = queue.current.then(f).catch((e: unknown) => {
        notify.error(e)
        return undefined
      })
      queue.current = p
      return p
    },
    [notify]
  )

  /** Where the current item is now: by its id when the list has it, else by index. */
  const cursorIndex = useCallback((): number => {
    const c = cursorRef.current
    const at = c.id ? listRef.current.indexOf(c.id) : -1
    return at >= 0 ? at : c.index
  }, [])

  const moveTo = useCallback(
    (index: number) => {
      const { count: n, loaded: l } = listRef.current
      const i = Math.max(0, Math.min(n - 1, index))
      setCursor({ index: i, id: l.get(i)?.id ?? null })
    },
    [setCursor]
  )

  /** The items a command works on: the selection, else the current item. */
  const targets = useCallback((): { ids: string[]; fromCursor: boolean } => {
    if (selected.size > 0) return { ids: [...selected], fromCursor: false }
    const item = listRef.current.loaded.get(cursorIndex())
    return { ids: item ? [item.id] : [], fromCursor: true }
  }, [selected, cursorIndex])

  const afterChange = useCallback(
    (fromCursor: boolean) => {
      if (fromCursor) moveTo(cursorIndex() + 1)
      else setSelected(new Set())
    },
    [moveTo, cursorIndex]
  )

  const assign = useCallback(
    (classId: string | null) => {
      const t = targets()
      if (t.ids.length === 0) return
      void enqueue(() => callOrThrow(api, 'labels.assign', { ids: t.ids, classId }))
      afterChange(t.fromCursor)
    },
    [targets, enqueue, api, afterChange]
  )

  const accept = useCallback(() => {
    if (!model) return
    const t = targets()
    if (t.ids.length === 0) return
    void enqueue(() => callOrThrow(api, 'labels.accept', { ids: t.ids, model: model.id }))
    afterChange(t.fromCursor)
  }, [model, targets, enqueue, api, afterChange])

  const undo = useCallback(() => void enqueue(() => callOrThrow(api, 'labels.undo', { dataset: datasetId })), [enqueue, api, datasetId])
  const redo = useCallback(() => void enqueue(() => callOrThrow(api, 'labels.redo', { dataset: datasetId })), [enqueue, api, datasetId])

  const clickCell = useCallback(
    (index: number, e: { shift: boolean; toggle: boolean }) => {
      const item = loaded.get(index)
      if (!item) return
      if (e.shift) {
        const [a, b] = [Math.min(anchor.current, index), Math.max(anchor.current, index)]
        const next = new Set(selected)
        for (let i = a; i <= b; i++) {
          const it = loaded.get(i)
          if (it) next.add(it.id)
        }
        setSelected(next)
      } else if (e.toggle) {
        const next = new Set(selected)
        if (next.has(item.id)) next.delete(item.id)
        else next.add(item.id)
        setSelected(next)
        anchor.current = index
      } else {
        setSelected(new Set())
        anchor.current = index
      }
      setCursor({ index, id: item.id })
    },
    [loaded, selected, setCursor]
  )

  const band = useCallback(
    (indexes: number[], add: boolean) => {
      const next = new Set(add ? selected : [])
      for (const i of indexes) {
        const it = loaded.get(i)
        if (it) next.add(it.id)
      }
      setSelected(next)
    },
    [loaded, selected]
  )

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (keysOpen || classesOpen || confirmDelete || assignMenu || splitMenu) return
      const t = e.target as HTMLElement | null
      if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.isContentEditable || t.getAttribute('role') === 'combobox')) return
      if (document.querySelector('.MuiPopover-root, .MuiDialog-root')) return
      const k = e.key.toLowerCase()
      const mod = e.ctrlKey || e.metaKey
      let handled = true
      if (mod && k === 'z') (e.shiftKey ? redo : undo)()
      else if (mod && k === 'y') redo()
      else if (mod && k === 'a') {
        setSelected(new Set([...loaded.values()].map((i) => i.id)))
      } else if (mod && view === 'single' && (k === '+' || k === '=')) zoomRef.current?.zoomBy(1.5)
      else if (mod && view === 'single' && k === '-') zoomRef.current?.zoomBy(1 / 1.5)
      else if (mod && view === 'single' && k === '0') zoomRef.current?.fit()
      else if (mod || e.altKey) handled = false
      else if (e.key === '?') setKeysOpen(true)
      else if (e.key === 'ArrowRight') moveTo(cursorIndex() + 1)
      else if (e.key === 'ArrowLeft') moveTo(cursorIndex() - 1)
      else if (e.key === 'ArrowDown') moveTo(cursorIndex() + (view === 'grid' ? columns : 1))
      else if (e.key === 'ArrowUp') moveTo(cursorIndex() - (view === 'grid' ? columns : 1))
      else if (e.key === 'Enter') accept()
      else if (e.key === 'Escape') setSelected(new Set())
      else if (k === 'x') assign(null)
      else if (k === 'v') setView((v) => (v === 'grid' ? 'single' : 'grid'))
      else {
        const c = classes.find((cl) => keys.get(cl.id) === k)
        if (c) assign(c.id)
        else handled = false
      }
      if (handled) e.preventDefault()
    }
    window.addEventListener('keydown', onKey)
    return () => window.removeEventListener('keydown', onKey)
  }, [keysOpen, classesOpen, confirmDelete, assignMenu, splitMenu, undo, redo, loaded, view, moveTo, cursorIndex, columns, accept, assign, classes, keys])

  const predict = () => model && void enqueue(() => callOrThrow(api, 'labels.predict', { dataset: datasetId, model: model.id }))
  const preview = useApiQuery('labels.acceptAbove', { dataset: datasetId, model: model?.id ?? 'none', threshold: acceptAt, dryRun: true }, { enabled: !!model })
  const applyAbove = () =>
    model &&
    void enqueue(async () => {
      const r = await callOrThrow(api, 'labels.acceptAbove', { dataset: datasetId, model: model.id, threshold: acceptAt })
      notify.success(`${r.count} item${r.count === 1 ? '' : 's'} got a model label${r.skippedHuman ? `; ${r.skippedHuman} with a human label were left alone` : ''}.`)
    })

  const setSplit = (split: MethodInput<'items.setSplit'>['split']) => {
    const ids = [...selected]
    setSplitMenu(null)
    void enqueue(async () => {
      await callOrThrow(api, 'items.setSplit', { ids, split })
      setSelected(new Set())
    })
  }
  const removeSelected = () => {
    const ids = [...selected]
    setConfirmDelete(false)
    void enqueue(async () => {
      await callOrThrow(api, 'items.remove', { ids })
      setSelected(new Set())
    })
  }

  const onVisible = useCallback((a: number, b: number) => setVisible((v) => (v[0] === a && v[1] === b ? v : [a, b])), [])
  const cur = loaded.get(cursor.index)
  const h = history.data
  return (
    <>
      <PanelHeader
        title="Label"
        subtitle={dataset.data ? `${dataset.data.name}: ${count.toLocaleString()} item${count === 1 ? '' : 's'} in this view` : undefined}
        actions={
          <>
            <OptionSelect minWidth={170} label="Dataset" testId="label-dataset" value={datasetId} onChange={onDataset} options={datasets.map((d): [string, string] => [d.id, d.name])} />
            <OptionSelect minWidth={170}
              label="Model"
              testId="label-model"
              value={model ? model.id : ''}
              onChange={chooseModel}
              options={[['', 'No model'], ...classifiers.map((m): [string, string] => [m.id, m.name])]}
            />
            <Tooltip title={h?.undoAction ? `Undo: ${h.undoAction} (Ctrl+Z)` : 'Nothing to undo'}>
              <span>
                <IconButton aria-label="Undo" onClick={undo} disabled={!h?.canUndo} data-testid="label-undo">
                  <UndoIcon />
                </IconButton>
              </span>
            </Tooltip>
            <Tooltip title={h?.redoAction ? `Redo: ${h.redoAction} (Ctrl+Shift+Z)` : 'Nothing to redo'}>
              <span>
                <IconButton aria-label="Redo" onClick={redo} disabled={!h?.canRedo} data-testid="label-redo">
                  <RedoIcon />
                </IconButton>
              </span>
            </Tooltip>
            <Tooltip title="Keys (?)">
              <IconButton aria-label="Keys" onClick={() => setKeysOpen(true)} data-testid="label-keys">
                <KeyboardIcon />
              </IconButton>
            </Tooltip>
          </>
        }
      />
      <Box sx={{ px: 3, pt: 1.5, pb: 1, display: 'flex', flexDirection: 'column', gap: 1.25, borderBottom: 1, borderColor: 'divider' }}>
        <ProgressBar stats={stats.data} />
        <Stack direction="row" spacing={1} sx={{ alignItems: 'center' }}>
          <ClassChips classes={classes} keys={keys} stats={stats.data} onPick={(c: ClassInfo) => assign(c.id)} />
          <Button size="small" onClick={() => setClassesOpen(true)} data-testid="label-classes" sx={{ ml: 'auto', flexShrink: 0 }}>
            Classes…
          </Button>
        </Stack>
        {model && (
          <Stack direction="row" spacing={2} sx={{ alignItems: 'center', flexWrap: 'wrap' }} data-testid="model-assist">
            <Typography variant="body2" data-testid="prediction-status">
              Suggestions: {predStatus.data ? `${predStatus.data.predicted} / ${predStatus.data.total}` : '…'}
            </Typography>
            <Button size="small" variant="outlined" onClick={predict} disabled={!!predStatus.data && predStatus.data.predicted >= predStatus.data.total} data-testid="label-predict">
              Compute suggestions
            </Button>
            <Typography variant="body2" sx={{ ml: 2 }}>Label all above</Typography>
            <Slider size="small" min={0.5} max={1} step={0.01} value={acceptAt} onChange={(_, v) => setAcceptAt(v as number)} sx={{ width: 140 }} aria-label="Confidence threshold" data-testid="accept-threshold" />
            <Typography variant="body2" sx={{ fontVariantNumeric: 'tabular-nums', width: 40 }}>{pct(acceptAt)}</Typography>
            <Typography variant="body2" sx={{ color: 'text.secondary' }} data-testid="accept-preview">
              {preview.data ? `${preview.data.count} item${preview.data.count === 1 ? '' : 's'} would get a model label${preview.data.skippedHuman ? ` (${preview.data.skippedHuman} human-labelled left alone)` : ''}` : ''}
            </Typography>
            <Button size="small" variant="contained" disabled={!preview.data?.count} onClick={applyAbove} data-testid="accept-apply">
              Apply
            </Button>
          </Stack>
        )}
      </Box>
      <Box sx={{ px: 3, pt: 1.5, flex: 1, minHeight: 0, display: 'flex', flexDirection: 'column' }}>
        <Stack direction="row" spacing={1.5} sx={{ alignItems: 'center', mb: 1 }}>
          <ButtonGroup size="small">
            <Button variant={view === 'grid' ? 'contained' : 'outlined'} onClick={() => setView('grid')} data-testid="view-grid">
              Grid
            </Button>
            <Button variant={view === 'single' ? 'contained' : 'outlined'} onClick={() => setView('single')} data-testid="view-single">
              Single
            </Button>
          </ButtonGroup>
          <OptionSelect minWidth={170}
            label="Show"
            testId="label-mode"
            value={mode}
            onChange={(v) => {
              setMode(v as Mode)
              resetList()
            }}
            options={[
              ['all', 'Items (filters)'],
              ...(model ? ([['disagree', 'Review: model disagrees'], ['lowConfidence', 'Low confidence']] as [string, string][]) : [])
            ]}
          />
          {mode === 'lowConfidence' && (
            <>
              <Typography variant="body2">under</Typography>
              <Slider size="small" min={0.1} max={1} step={0.05} value={lowThreshold} onChange={(_, v) => setLowThreshold(v as number)} sx={{ width: 120 }} aria-label="Low confidence threshold" />
              <Typography variant="body2">{pct(lowThreshold)}</Typography>
            </>
          )}
          {selected.size > 0 && (
            <Stack direction="row" spacing={1} sx={{ alignItems: 'center', ml: 'auto !important' }} data-testid="bulk-bar">
              <Typography variant="body2" sx={{ fontWeight: 600 }} data-testid="selection-count">
                {selected.size} selected
              </Typography>
              <Button size="small" variant="contained" onClick={(e) => setAssignMenu(e.currentTarget)} data-testid="bulk-assign">
                Assign…
              </Button>
              <Button size="small" onClick={() => assign(null)} data-testid="bulk-clear">
                Clear label
              </Button>
              <Button size="small" onClick={(e) => setSplitMenu(e.currentTarget)} data-testid="bulk-split">
                Move to split…
              </Button>
              <Button size="small" color="error" onClick={() => setConfirmDelete(true)} data-testid="bulk-delete">
                Delete…
              </Button>
            </Stack>
          )}
        </Stack>
        {mode === 'all' && dataset.data && (
          <FilterBar
            dataset={dataset.data}
            filters={filters}
            onChange={(f) => {
              setFilters(f)
              resetList()
            }}
            total={total}
          />
        )}
        {mode !== 'all' && (
          <Typography variant="body2" sx={{ color: 'text.secondary', mb: 1 }} data-testid="queue-note">
            {mode === 'disagree'
              ? `${count} item${count === 1 ? '' : 's'} where a person's label and ${model?.name ?? 'the model'} disagree, surest model first. A key keeps or changes the label; Enter takes the model's.`
              : `${count} item${count === 1 ? '' : 's'} the model is least sure of, least sure first.`}
          </Typography>
        )}
        {view === 'grid' ? (
          <LabelGrid
            total={count}
            loaded={loaded}
            classes={classById}
            cursor={cursor.index}
            selected={selected}
            onVisible={onVisible}
            onColumns={setColumns}
            onClick={clickCell}
            onBand={band}
            onOpen={(i) => {
              moveTo(i)
              setView('single')
            }}
          />
        ) : (
          <SingleView item={cur} index={cursor.index} total={count} classes={classById} zoomRef={zoomRef} />
        )}
        <Box sx={{ height: 12 }} />
      </Box>
      <Menu anchorEl={assignMenu} open={!!assignMenu} onClose={() => setAssignMenu(null)}>
        {classes.map((c) => (
          <MenuItem
            key={c.id}
            onClick={() => {
              setAssignMenu(null)
              assign(c.id)
            }}
          >
            {c.name}
          </MenuItem>
        ))}
      </Menu>
      <Menu anchorEl={splitMenu} open={!!splitMenu} onClose={() => setSplitMenu(null)}>
        {(['train', 'val', 'test'] as const).map((s) => (
          <MenuItem key={s} onClick={() => setSplit(s)}>
            {s}
          </MenuItem>
        ))}
        <MenuItem onClick={() => setSplit(null)}>no split</MenuItem>
      </Menu>
      <Dialog open={confirmDelete} onClose={() => setConfirmDelete(false)}>
        <DialogTitle>Delete {selected.size} item{selected.size === 1 ? '' : 's'}?</DialogTitle>
        <DialogContent>
          <Typography>They leave this dataset with their labels and split; the image files stay in the library. This cannot be undone.</Typography>
        </DialogContent>
        <DialogActions>
          <Button onClick={() => setConfirmDelete(false)}>Cancel</Button>
          <Button color="error" variant="contained" onClick={removeSelected} data-testid="bulk-delete-confirm">
            Delete
          </Button>
        </DialogActions>
      </Dialog>
      <KeysDialog
        open={keysOpen}
        onClose={() => setKeysOpen(false)}
        classes={classes}
        keys={keys}
        onKey={(classId, key) => {
          const next: Record<string, string> = {}
          for (const [id, k] of Object.entries(custom)) if (k !== key) next[id] = k
          next[classId] = key
          setCustom(next)
          saveCustomKeys(datasetId, next)
        }}
      />
      <ClassesDialog open={classesOpen} onClose={() => setClassesOpen(false)} datasetId={datasetId} classes={classes} />
    </>
  )
}

