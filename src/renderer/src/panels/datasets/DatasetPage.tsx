// One dataset: header with counts, import progress while an import runs, and tabs
// for the item grid, the overview (balance, splits, last import, export) and the
// near-duplicate review.

import { useState } from 'react'
import Box from '@mui/material/Box'
import IconButton from '@mui/material/IconButton'
import LinearProgress from '@mui/material/LinearProgress'
import Stack from '@mui/material/Stack'
import Tab from '@mui/material/Tab'
import Tabs from '@mui/material/Tabs'
import Tooltip from '@mui/material/Tooltip'
import Typography from '@mui/material/Typography'
import Button from '@mui/material/Button'
import ArrowBackIcon from '@mui/icons-material/ArrowBack'
import type { Job } from '../../../../shared/contract'
import { useApiMutation, useApiQuery } from '../../api/hooks'
import { EmptyState, PanelHeader } from '../../components/common'
import { JOBS_LIST_INPUT, isActive } from '../../jobs/JobsDrawer'
import { Curation } from './Curation'
import { Duplicates } from './Duplicates'
import { ItemGrid, type ItemFilters } from './ItemGrid'
import { ImportReport, Overview } from './Overview'
import { openDataset } from './format'
import { Snapshots } from './Snapshots'

type TabId = 'items' | 'overview' | 'duplicates' | 'curation' | 'snapshots'

function ImportProgress({ job }: { job: Job }) {
  const cancel = useApiMutation('jobs.cancel')
  const fraction = job.total ? Math.min(1, job.done / job.total) : null
  return (
    <Box sx={{ px: 3, py: 1.25, borderBottom: 1, borderColor: 'divider', bgcolor: 'background.paper' }} data-testid="import-progress">
      <Stack direction="row" spacing={2} sx={{ alignItems: 'center' }}>
        <Typography variant="body2" sx={{ minWidth: 220 }}>
          {job.state === 'running' ? `Importing: ${job.phase ?? 'starting'}` : `Import ${job.state}`}
          {job.total !== null ? ` ${job.done.toLocaleString()} / ${job.total.toLocaleString()}` : ''}
          {job.rate ? ` · ${Math.round(job.rate)}/s` : ''}
        </Typography>
        <Box sx={{ flex: 1 }}>
          <LinearProgress variant={fraction === null ? 'indeterminate' : 'determinate'} value={(fraction ?? 0) * 100} />
        </Box>
        <Button size="small" onClick={() => cancel.mutate({ id: job.id })} disabled={cancel.isPending}>
          Cancel
        </Button>
      </Stack>
    </Box>
  )
}

export function DatasetPage({ id }: { id: string }) {
  const dataset = useApiQuery('datasets.get', { ref: id })
  const jobs = useApiQuery('jobs.list', JOBS_LIST_INPUT)
  const [tab, setTab] = useState<TabId>('items')
  // A finding opened from the Curation tab: the grid starts with its filter (a new key remounts it).
  const [gridFilters, setGridFilters] = useState<{ filters: ItemFilters; n: number } | null>(null)
  const imports = (jobs.data ?? []).filter((j) => j.kind === 'datasets.import' && (j.params as { datasetId?: string } | null)?.datasetId === id)
  const running = imports.find((j) => isActive(j.state) || j.state === 'interrupted') ?? null
  const lastImport = imports[0] ?? null

  if (dataset.isError)
    return (
      <>
        <PanelHeader title="Dataset" />
        <EmptyState title="Could not open this dataset">{dataset.error.message}</EmptyState>
      </>
    )
  const d = dataset.data
  return (
    <>
      <PanelHeader
        title={d?.name ?? 'Dataset'}
        subtitle={d ? `${d.itemCount.toLocaleString()} items · ${d.classes.length} classes · ${d.labelledCount.toLocaleString()} labelled` : ' '}
        actions={
          <Tooltip title="All datasets">
            <IconButton aria-label="Back to all datasets" onClick={() => openDataset(null)} data-testid="dataset-back">
              <ArrowBackIcon />
            </IconButton>
          </Tooltip>
        }
      />
      {running && <ImportProgress job={running} />}
      {!running && lastImport?.state === 'failed' && (
        <Box sx={{ px: 3, py: 1, color: 'error.main' }}>Import failed: {lastImport.error}</Box>
      )}
      <Box sx={{ borderBottom: 1, borderColor: 'divider', px: 2, bgcolor: 'background.paper' }}>
        <Tabs value={tab} onChange={(_, v: TabId) => setTab(v)}>
          <Tab value="items" label="Items" data-testid="tab-items" />
          <Tab value="overview" label="Overview" data-testid="tab-overview" />
          <Tab value="duplicates" label="Duplicates" data-testid="tab-duplicates" />
          <Tab value="curation" label="Curation" data-testid="tab-curation" />
          <Tab value="snapshots" label="Snapshots" data-testid="tab-snapshots" />
        </Tabs>
      </Box>
      <Box sx={{ flex: 1, minHeight: 0, display: 'flex', flexDirection: 'column', px: 3, py: 2 }}>
        {d && tab === 'items' && (
          <>
            {d.itemCount === 0 && !running && lastImport?.state === 'done' && <ImportReport job={lastImport} />}
            <ItemGrid key={`${d.id}:${gridFilters?.n ?? 0}`} dataset={d} {...(gridFilters ? { initialFilters: gridFilters.filters } : {})} />
          </>
        )}
        {d && tab === 'overview' && <Overview dataset={d} lastImport={lastImport} />}
        {d && tab === 'duplicates' && <Duplicates dataset={d} />}
        {d && tab === 'curation' && (
          <Curation
            dataset={d}
            onOpenGrid={(filters) => {
              setGridFilters({ filters, n: (gridFilters?.n ?? 0) + 1 })
              setTab('items')
            }}
          />
        )}
        {d && tab === 'snapshots' && <Snapshots dataset={d} />}
      </Box>
    </>
  )
}
