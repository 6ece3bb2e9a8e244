// The Jobs drawer: every job with its state and progress, live from job.state / job.progress.

import Box from '@mui/material/Box'
import Chip from '@mui/material/Chip'
import Divider from '@mui/material/Divider'
import Drawer from '@mui/material/Drawer'
import IconButton from '@mui/material/IconButton'
import LinearProgress from '@mui/material/LinearProgress'
import Stack from '@mui/material/Stack'
import Tooltip from '@mui/material/Tooltip'
import Typography from '@mui/material/Typography'
import CloseIcon from '@mui/icons-material/Close'
import PauseRoundedIcon from '@mui/icons-material/PauseRounded'
import PlayArrowRoundedIcon from '@mui/icons-material/PlayArrowRounded'
import StopRoundedIcon from '@mui/icons-material/StopRounded'
import WorkHistoryOutlinedIcon from '@mui/icons-material/WorkHistoryOutlined'
import type { Job, JobState } from '../../../shared/contract'
import { useApiMutation, useApiQuery } from '../api/hooks'
import { EmptyState, formatDate, formatDuration } from '../components/common'

export const JOBS_LIST_INPUT = { limit: 200 } as const

const stateLabel: Record<JobState, string> = {
  queued: 'Queued',
  running: 'Running',
  paused: 'Paused',
  done: 'Done',
  failed: 'Failed',
  cancelled: 'Cancelled',
  interrupted: 'Interrupted'
}

const stateColor: Record<JobState, 'default' | 'primary' | 'success' | 'error' | 'warning' | 'info'> = {
  queued: 'default',
  running: 'primary',
  paused: 'info',
  done: 'success',
  failed: 'error',
  cancelled: 'default',
  interrupted: 'warning'
}

export function isActive(state: JobState): boolean {
  return state === 'queued' || state === 'running' || state === 'paused'
}

function JobRow({ job }: { job: Job }) {
  const cancel = useApiMutation('jobs.cancel')
  const pause = useApiMutation('jobs.pause')
  const resume = useApiMutation('jobs.resume')
  const busy = cancel.isPending || pause.isPending || resume.isPending
  const fraction = job.total && job.total > 0 ? Math.min(1, job.done / job.total) : null
  const showBar = job.state === 'running' || job.state === 'paused' || job.state === 'interrupted' || job.state === 'queued'
  const details: string[] = []
  const finished = !isActive(job.state) && job.state !== 'interrupted'
  if (job.phase && !(finished && job.phase === job.state)) details.push(job.phase)
  if (job.total !== null) details.push(`${job.done.toLocaleString()} / ${job.total.toLocaleString()}`)
  else if (job.done > 0) details.push(job.done.toLocaleString())
  if (job.state === 'running' && job.rate !== null) details.push(`${job.rate < 10 ? job.rate.toFixed(2) : Math.round(job.rate)}/s`)
  if (job.state === 'running' && job.etaS !== null) details.push(`${formatDuration(job.etaS)} left`)
  if (finished && job.startedAt && job.finishedAt) {
    const seconds = (Date.parse(job.finishedAt) - Date.parse(job.startedAt)) / 1000
    if (Number.isFinite(seconds)) details.push(`took ${formatDuration(seconds)}`)
  }

  return (
    <Box sx={{ px: 2, py: 1.5 }} data-testid="job-row" data-job-state={job.state}>
      <Stack sx={{ alignItems: 'center' }} direction="row" spacing={1}>
        <Typography noWrap sx={{ fontWeight: 500, flex: 1, minWidth: 0 }} title={job.title}>
          {job.title}
        </Typography>
        <Chip label={stateLabel[job.state]} color={stateColor[job.state]} variant={job.state === 'running' ? 'filled' : 'outlined'} sx={{ height: 20 }} />
      </Stack>
      <Typography sx={{ color: 'text.secondary' }} variant="caption" component="div" noWrap>
        {formatDate(job.createdAt)}
        {job.heavy && job.state === 'queued' ? ' · waits for the model job running now (one runs at a time)' : ''}
      </Typography>
      {showBar && (
        <LinearProgress
          sx={{ mt: 1 }}
          variant={fraction === null && job.state === 'running' ? 'indeterminate' : 'determinate'}
          value={fraction === null ? 0 : fraction * 100}
          color={job.state === 'interrupted' ? 'warning' : 'primary'}
        />
      )}
      <Stack direction="row" spacing={1} sx={{ alignItems: 'center', mt: 0.5, minHeight: 28 }}>
        <Typography variant="caption" sx={{ color: 'text.secondary', flex: 1, fontVariantNumeric: 'tabular-nums' }} noWrap>
          {details.join(' · ')}
        </Typography>
        {job.state === 'running' && (
          <Tooltip title="Pause">
            <span>
              <IconButton aria-label="Pause job" disabled={busy} onClick={() => pause.mutate({ id: job.id })}>
                <PauseRoundedIcon fontSize="small" />
              </IconButton>
            </span>
          </Tooltip>
        )}
        {(job.state === 'paused' || job.state === 'interrupted') && (
          <Tooltip title="Resume">
            <span>
              <IconButton aria-label="Resume job" disabled={busy} onClick={() => resume.mutate({ id: job.id })}>
                <PlayArrowRoundedIcon fontSize="small" />
              </IconButton>
            </span>
          </Tooltip>
        )}
        {isActive(job.state) && (
          <Tooltip title="Cancel">
            <span>
              <IconButton aria-label="Cancel job" disabled={busy} onClick={() => cancel.mutate({ id: job.id })}>
                <StopRoundedIcon fontSize="small" />
              </IconButton>
            </span>
          </Tooltip>
        )}
      </Stack>
      {job.error && (
        <Typography variant="body2" sx={{ color: 'error.main', mt: 0.5 }}>
          {job.error}
        </Typography>
      )}
    </Box>
  )
}

export function JobsDrawer({ open, onClose }: { open: boolean; onClose: () => void }) {
  const jobs = useApiQuery('jobs.list', JOBS_LIST_INPUT)
  const list = jobs.data ?? []
  const active = list.filter((j) => isActive(j.state))
  const finished = list.filter((j) => !isActive(j.state))
  return (
    <Drawer anchor="right" open={open} onClose={onClose} slotProps={{ paper: { sx: { width: 380 }, 'data-testid': 'jobs-drawer' } as object }}>
      <Stack direction="row" sx={{ alignItems: 'center', px: 2, py: 1.5, minHeight: 64, borderBottom: 1, borderColor: 'divider' }}>
        <Box sx={{ flex: 1 }}>
          <Typography variant="h2">Jobs</Typography>
          <Typography sx={{ color: 'text.secondary' }} variant="body2">
            {active.length === 0 ? 'Nothing running' : `${active.length} active`}
          </Typography>
        </Box>
        <IconButton aria-label="Close jobs" onClick={onClose}>
          <CloseIcon fontSize="small" />
        </IconButton>
      </Stack>
      <Box sx={{ flex: 1, overflow: 'auto' }}>
        {jobs.isSuccess && list.length === 0 && (
          <EmptyState icon={<WorkHistoryOutlinedIcon />} title="No jobs yet" testId="jobs-empty">
            Training, batch classification and generation run as jobs. They show up here with their progress, and keep
            running while you work in other panels.
          </EmptyState>
        )}
        {jobs.isError && <EmptyState title="Could not load jobs">{jobs.error.message}</EmptyState>}
        {active.length > 0 && (
          <>
            <Typography variant="overline" sx={{ color: 'text.secondary', display: 'block', px: 2, pt: 1.5 }}>
              Active
            </Typography>
            {active.map((job) => (
              <JobRow key={job.id} job={job} />
            ))}
          </>
        )}
        {finished.length > 0 && (
          <>
            {active.length > 0 && <Divider />}
            <Typography variant="overline" sx={{ color: 'text.secondary', display: 'block', px: 2, pt: 1.5 }}>
              History
            </Typography>
            {finished.map((job) => (
              <JobRow key={job.id} job={job} />
            ))}
          </>
        )}
      </Box>
    </Drawer>
  )
}
