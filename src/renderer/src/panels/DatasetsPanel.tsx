// Datasets: list, create (name + classes), import, rename, delete; `#/datasets/<id>`
// opens one dataset's page (grid, overview, duplicates).

import { useState, useSyncExternalStore, type FormEvent } from 'react'
import Box from '@mui/material/Box'
import Button from '@mui/material/Button'
import Chip from '@mui/material/Chip'
import Dialog from '@mui/material/Dialog'
import DialogActions from '@mui/material/DialogActions'
import DialogContent from '@mui/material/DialogContent'
import DialogContentText from '@mui/material/DialogContentText'
import DialogTitle from '@mui/material/DialogTitle'
import IconButton from '@mui/material/IconButton'
import LinearProgress from '@mui/material/LinearProgress'
import ListItemIcon from '@mui/material/ListItemIcon'
import Menu from '@mui/material/Menu'
import MenuItem from '@mui/material/MenuItem'
import Stack from '@mui/material/Stack'
import Table from '@mui/material/Table'
import TableBody from '@mui/material/TableBody'
import TableCell from '@mui/material/TableCell'
import TableHead from '@mui/material/TableHead'
import TableRow from '@mui/material/TableRow'
import TextField from '@mui/material/TextField'
import Tooltip from '@mui/material/Tooltip'
import Typography from '@mui/material/Typography'
import AddIcon from '@mui/icons-material/Add'
import DeleteOutlinedIcon from '@mui/icons-material/DeleteOutlined'
import RenameIcon from '@mui/icons-material/DriveFileRenameOutline'
import MoreVertIcon from '@mui/icons-material/MoreVert'
import PhotoLibraryOutlinedIcon from '@mui/icons-material/PhotoLibraryOutlined'
import FileUploadOutlinedIcon from '@mui/icons-material/FileUploadOutlined'
import type { Dataset } from '../../../shared/contract'
import { ApiError } from '../api/errors'
import { useApiMutation, useApiQuery } from '../api/hooks'
import { EmptyState, PanelBody, PanelHeader, formatDate } from '../components/common'
import { useNotify } from '../app/notify'
import { DatasetPage } from './datasets/DatasetPage'
import { ImportDialog } from './datasets/ImportDialog'
import { datasetIdFromHash, openDataset } from './datasets/format'

/** Splits "cat, dog\nbird" into trimmed, de-duplicated class names. */
export function parseClassNames(text: string): string[] {
  const seen = new Set<string>()
  const names: string[] = []
  for (const raw of text.split(/[,\n]/)) {
    const name = raw.trim()
    if (name && !seen.has(name.toLowerCase())) {
      seen.add(name.toLowerCase())
      names.push(name)
    }
  }
  return names
}

/** The message to show under `field`: its validation error, or (for the name) a name clash. */
function fieldError(error: Error | null, field: string): string | undefined {
  if (!(error instanceof ApiError)) return undefined
  if (error.code === 'VALIDATION' && error.field?.split('.')[0] === field) return error.message
  if (error.code === 'CONFLICT' && field === 'name') return error.message
  return undefined
}

function CreateDatasetDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const notify = useNotify()
  const [name, setName] = useState('')
  const [classes, setClasses] = useState('')
  const create = useApiMutation('datasets.create', {
    meta: { inlineError: true },
    onSuccess: (dataset) => {
      notify.success(`Created dataset “${dataset.name}”.`)
      setName('')
      setClasses('')
      onClose()
    }
  })
  const classNames = parseClassNames(classes)
  const nameError = fieldError(create.error, 'name')
  const classesError = fieldError(create.error, 'classes')
  const submit = (event: FormEvent) => {
    event.preventDefault()
    create.mutate({ name, classes: classNames })
  }
  return (
    <Dialog
      open={open}
      onClose={onClose}
      slotProps={{ paper: { component: 'form', onSubmit: submit } as object, transition: { onExited: () => create.reset() } }}
    >
      <DialogTitle>New dataset</DialogTitle>
      <DialogContent>
        <Stack spacing={2} sx={{ pt: 1 }}>
          <TextField
            autoFocus
            label="Name"
            value={name}
            onChange={(e) => {
              setName(e.target.value)
              if (create.error) create.reset()
            }}
            error={Boolean(nameError)}
            helperText={nameError ?? 'For example “Garden birds”.'}
            slotProps={{ htmlInput: { 'data-testid': 'dataset-name', maxLength: 200 } }}
          />
          <TextField
            label="Classes"
            value={classes}
            onChange={(e) => setClasses(e.target.value)}
            multiline
            minRows={2}
            error={Boolean(classesError)}
            helperText={classesError ?? 'Separated by commas or new lines. You can add more later.'}
            slotProps={{ htmlInput: { 'data-testid': 'dataset-classes' } }}
          />
          {classNames.length > 0 && (
            <Stack sx={{ flexWrap: 'wrap' }} direction="row" useFlexGap spacing={0.75}>
              {classNames.map((c) => (
                <Chip key={c} label={c} variant="outlined" />
              ))}
            </Stack>
          )}
          {create.error && !nameError && !classesError && (
            <Typography sx={{ color: 'error.main' }} variant="body2">
              {create.error.message}
            </Typography>
          )}
        </Stack>
      </DialogContent>
      <DialogActions sx={{ px: 3, pb: 2 }}>
        <Button onClick={onClose}>Cancel</Button>
        <Button type="submit" variant="contained" disabled={!name.trim() || create.isPending} data-testid="dataset-create-submit">
          Create dataset
        </Button>
      </DialogActions>
    </Dialog>
  )
}

function RenameDialog({ dataset, onClose }: { dataset: Dataset; onClose: () => void }) {
  const notify = useNotify()
  const [name, setName] = useState(dataset.name)
  const rename = useApiMutation('datasets.rename', {
    meta: { inlineError: true },
    onSuccess: (renamed) => {
      notify.success(`Renamed to “${renamed.name}”.`)
      onClose()
    }
  })
  const nameError = fieldError(rename.error, 'name')
  return (
    <Dialog
      open
      onClose={onClose}
      slotProps={{
        paper: {
          component: 'form',
          onSubmit: (event: FormEvent) => {
            event.preventDefault()
            rename.mutate({ ref: dataset.id, name })
          }
        } as object
      }}
    >
      <DialogTitle>Rename dataset</DialogTitle>
      <DialogContent>
        <TextField
          autoFocus
          fullWidth
          label="Name"
          value={name}
          onChange={(e) => {
            setName(e.target.value)
            if (rename.error) rename.reset()
          }}
          error={Boolean(nameError) || Boolean(rename.error)}
          helperText={nameError ?? rename.error?.message ?? ' '}
          sx={{ mt: 1 }}
          slotProps={{ htmlInput: { 'data-testid': 'dataset-rename-name', maxLength: 200 } }}
        />
      </DialogContent>
      <DialogActions sx={{ px: 3, pb: 2 }}>
        <Button onClick={onClose}>Cancel</Button>
        <Button type="submit" variant="contained" disabled={!name.trim() || name.trim() === dataset.name || rename.isPending}>
          Rename
        </Button>
      </DialogActions>
    </Dialog>
  )
}

function DeleteDialog({ dataset, onClose }: { dataset: Dataset; onClose: () => void }) {
  const notify = useNotify()
  const remove = useApiMutation('datasets.delete', {
    onSuccess: () => {
      notify.success(`Deleted dataset “${dataset.name}”.`)
      onClose()
    }
  })
  return (
    <Dialog open onClose={onClose}>
      <DialogTitle>Delete “{dataset.name}”?</DialogTitle>
      <DialogContent>
        <DialogContentText variant="body1">
          This removes the dataset with its {dataset.itemCount.toLocaleString()} items, labels and classes from the library. It
          cannot be undone.
        </DialogContentText>
      </DialogContent>
      <DialogActions sx={{ px: 3, pb: 2 }}>
        <Button onClick={onClose}>Cancel</Button>
        <Button color="error" variant="contained" onClick={() => remove.mutate({ ref: dataset.id })} disabled={remove.isPending}>
          Delete
        </Button>
      </DialogActions>
    </Dialog>
  )
}

/** Columns that only fit on a wide window. */
const wideOnly = { display: { xs: 'none', lg: 'table-cell' } } as const

function ClassChips({ dataset }: { dataset: Dataset }) {
  if (dataset.classes.length === 0)
    return (
      <Typography sx={{ color: 'text.secondary' }} variant="body2">
        No classes
      </Typography>
    )
  const shown = dataset.classes.slice(0, 5)
  const rest = dataset.classes.length - shown.length
  return (
    <Stack sx={{ flexWrap: 'wrap' }} direction="row" useFlexGap spacing={0.5}>
      {shown.map((c) => (
        <Chip
          key={c.id}
          label={c.name}
          variant="outlined"
          sx={{ height: 22, '& .MuiChip-label': { px: 1 } }}
          icon={<Box component="span" sx={{ width: 8, height: 8, borderRadius: '50%', bgcolor: c.color, ml: '8px !important' }} />}
        />
      ))}
      {rest > 0 && <Chip label={`+${rest}`} sx={{ height: 22 }} />}
    </Stack>
  )
}

function useOpenDatasetId(): string | null {
  const hash = useSyncExternalStore(
    (notify) => {
      window.addEventListener('hashchange', notify)
      return () => window.removeEventListener('hashchange', notify)
    },
    () => window.location.hash
  )
  return datasetIdFromHash(hash)
}

export function DatasetsPanel() {
  const openId = useOpenDatasetId()
  if (openId) return <DatasetPage key={openId} id={openId} />
  return <DatasetList />
}

function DatasetList() {
  const [importing, setImporting] = useState(false)
  const datasets = useApiQuery('datasets.list', {})
  const [creating, setCreating] = useState(false)
  const [menu, setMenu] = useState<{ anchor: HTMLElement; dataset: Dataset } | null>(null)
  const [renaming, setRenaming] = useState<Dataset | null>(null)
  const [deleting, setDeleting] = useState<Dataset | null>(null)
  const list = datasets.data ?? []

  return (
    <>
      <PanelHeader
        title="Datasets"
        subtitle="Collections of images with their classes and labels."
        actions={
          <>
            <Button variant="outlined" startIcon={<FileUploadOutlinedIcon />} onClick={() => setImporting(true)} data-testid="dataset-import">
              Import…
            </Button>
            <Button variant="contained" startIcon={<AddIcon />} onClick={() => setCreating(true)} data-testid="dataset-new">
              New dataset
            </Button>
          </>
        }
      />
      {datasets.isFetching && <LinearProgress sx={{ borderRadius: 0, height: 2 }} />}
      <PanelBody>
        {datasets.isSuccess && list.length === 0 && (
          <EmptyState
            icon={<PhotoLibraryOutlinedIcon />}
            title="No datasets yet"
            testId="datasets-empty"
            action={
              <Button variant="outlined" startIcon={<AddIcon />} onClick={() => setCreating(true)}>
                Create a dataset
              </Button>
            }
          >
            A dataset holds the images you label, train on and classify. Create one with its classes to begin.
          </EmptyState>
        )}
        {datasets.isError && (
          <EmptyState title="Could not load datasets">{datasets.error.message}</EmptyState>
        )}
        {list.length > 0 && (
          <Box sx={{ border: 1, borderColor: 'divider', borderRadius: 1.5, bgcolor: 'background.paper', overflowX: 'auto' }}>
            <Table data-testid="datasets-table" sx={{ minWidth: 600 }}>
              <TableHead>
                <TableRow>
                  <TableCell>Name</TableCell>
                  <TableCell>Classes</TableCell>
                  <TableCell align="right">Items</TableCell>
                  <TableCell align="right">Labelled</TableCell>
                  <TableCell sx={wideOnly}>Updated</TableCell>
                  <TableCell padding="checkbox" />
                </TableRow>
              </TableHead>
              <TableBody>
                {list.map((dataset) => (
                  <TableRow key={dataset.id} hover data-testid="dataset-row" onClick={() => openDataset(dataset.id)} sx={{ cursor: 'pointer' }}>
                    <TableCell sx={{ maxWidth: { xs: 200, lg: 320 } }}>
                      <Typography sx={{ fontWeight: 500 }} noWrap title={dataset.name}>
                        {dataset.name}
                      </Typography>
                      {dataset.description && (
                        <Typography sx={{ color: 'text.secondary' }} variant="body2" noWrap title={dataset.description}>
                          {dataset.description}
                        </Typography>
                      )}
                    </TableCell>
                    <TableCell sx={{ minWidth: 260 }}>
                      <ClassChips dataset={dataset} />
                    </TableCell>
                    <TableCell align="right" sx={{ fontVariantNumeric: 'tabular-nums' }}>
                      {dataset.itemCount.toLocaleString()}
                    </TableCell>
                    <TableCell align="right" sx={{ fontVariantNumeric: 'tabular-nums' }}>
                      {dataset.itemCount === 0
                        ? '–'
                        : `${Math.round((100 * dataset.labelledCount) / dataset.itemCount)}%`}
                    </TableCell>
                    <TableCell sx={{ ...wideOnly, color: 'text.secondary', whiteSpace: 'nowrap' }}>{formatDate(dataset.updatedAt)}</TableCell>
                    <TableCell padding="checkbox">
                      <Tooltip title="More actions">
                        <IconButton
                          aria-label={`Actions for ${dataset.name}`}
                          onClick={(e) => {
                            e.stopPropagation()
                            setMenu({ anchor: e.currentTarget, dataset })
                          }}
                        >
                          <MoreVertIcon fontSize="small" />
                        </IconButton>
                      </Tooltip>
                    </TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          </Box>
        )}
      </PanelBody>
      <Menu anchorEl={menu?.anchor} open={Boolean(menu)} onClose={() => setMenu(null)}>
        <MenuItem
          onClick={() => {
            setRenaming(menu?.dataset ?? null)
            setMenu(null)
          }}
        >
          <ListItemIcon>
            <RenameIcon fontSize="small" />
          </ListItemIcon>
          Rename…
        </MenuItem>
        <MenuItem
          onClick={() => {
            setDeleting(menu?.dataset ?? null)
            setMenu(null)
          }}
          sx={{ color: 'error.main' }}
        >
          <ListItemIcon sx={{ color: 'inherit' }}>
            <DeleteOutlinedIcon fontSize="small" />
          </ListItemIcon>
          Delete…
        </MenuItem>
      </Menu>
      <CreateDatasetDialog open={creating} onClose={() => setCreating(false)} />
      <ImportDialog open={importing} onClose={() => setImporting(false)} />
      {renaming && <RenameDialog dataset={renaming} onClose={() => setRenaming(null)} />}
      {deleting && <DeleteDialog dataset={deleting} onClose={() => setDeleting(null)} />}
    </>
  )
}
