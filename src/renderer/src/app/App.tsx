// The studio's frame: left rail with the panels, the current panel, the Jobs drawer.

import { useEffect, useState, useSyncExternalStore, type ReactNode } from 'react'
import Alert from '@mui/material/Alert'
import Badge from '@mui/material/Badge'
import Box from '@mui/material/Box'
import Divider from '@mui/material/Divider'
import List from '@mui/material/List'
import ListItemButton from '@mui/material/ListItemButton'
import ListItemIcon from '@mui/material/ListItemIcon'
import ListItemText from '@mui/material/ListItemText'
import Stack from '@mui/material/Stack'
import Typography from '@mui/material/Typography'
import WorkHistoryOutlinedIcon from '@mui/icons-material/WorkHistoryOutlined'
import { useApiQuery, useLiveEvents } from '../api/hooks'
import type { ConnectionState } from '../api/ws-client'
import { JOBS_LIST_INPUT, JobsDrawer, isActive } from '../jobs/JobsDrawer'
import { panelFromHash, panels, type PanelDef, type PanelId } from './nav'

function useHashPanel(): [PanelId, (id: PanelId) => void] {
  const hash = useSyncExternalStore(
    (notify) => {
      window.addEventListener('hashchange', notify)
      return () => window.removeEventListener('hashchange', notify)
    },
    () => window.location.hash
  )
  return [panelFromHash(hash), (id) => (window.location.hash = `#/${id}`)]
}

function Brand() {
  return (
    <Stack direction="row" spacing={1.25} sx={{ alignItems: 'center', px: 2, height: 64 }}>
      {/* A 3x3 mosaic: the palette-token grid the models work on. */}
      <Box
        aria-hidden
        sx={{
          width: 22,
          height: 22,
          display: 'grid',
          gridTemplateColumns: 'repeat(3, 1fr)',
          gap: '2px',
          '& span': { borderRadius: '2px' }
        }}
      >
        {['#2f5fd0', '#6b8fe8', '#a9bff5', '#6b4fc8', '#2f5fd0', '#6b8fe8', '#b9a3ff', '#6b4fc8', '#2f5fd0'].map((c, i) => (
          <Box component="span" key={i} sx={{ bgcolor: c }} />
        ))}
      </Box>
      <Box>
        <Typography sx={{ fontSize: 14, fontWeight: 700, lineHeight: 1.1, letterSpacing: -0.1 }}>Tessera</Typography>
        <Typography variant="caption" sx={{ color: 'text.secondary', lineHeight: 1 }}>
          Studio
        </Typography>
      </Box>
    </Stack>
  )
}

function NavList({
  items,
  current,
  onSelect,
  before
}: {
  items: PanelDef[]
  current: PanelId
  onSelect: (id: PanelId) => void
  before?: ReactNode
}) {
  return (
    <List sx={{ px: 1, py: 0.5 }}>
      {before}
      {items.map((panel) => (
        <ListItemButton
          key={panel.id}
          selected={panel.id === current}
          onClick={() => onSelect(panel.id)}
          data-testid={`nav-${panel.id}`}
          aria-current={panel.id === current ? 'page' : undefined}
          sx={{ mb: 0.25, py: 0.6 }}
        >
          <ListItemIcon sx={{ '& svg': { fontSize: 19 } }}>{panel.icon}</ListItemIcon>
          <ListItemText primary={panel.label} slotProps={{ primary: { sx: { fontSize: 13, fontWeight: panel.id === current ? 600 : 500 } } }} />
        </ListItemButton>
      ))}
    </List>
  )
}

export function App({ connection }: { connection?: { get: () => ConnectionState; subscribe: (l: () => void) => () => void } }) {
  useLiveEvents()
  const [current, select] = useHashPanel()
  const [jobsOpen, setJobsOpen] = useState(false)
  const jobs = useApiQuery('jobs.list', JOBS_LIST_INPUT)
  const activeJobs = (jobs.data ?? []).filter((j) => isActive(j.state)).length
  const state = useSyncExternalStore(connection?.subscribe ?? (() => () => {}), connection?.get ?? (() => 'open' as const))
  const panel = panels.find((p) => p.id === current) ?? panels[0]

  useEffect(() => {
    document.title = panel ? `${panel.label} · Tessera Studio` : 'Tessera Studio'
  }, [panel])

  return (
    <Box sx={{ display: 'flex', height: '100vh', overflow: 'hidden', bgcolor: 'background.default' }}>
      <Box
        component="nav"
        aria-label="Panels"
        sx={{
          width: 208,
          flexShrink: 0,
          display: 'flex',
          flexDirection: 'column',
          borderRight: 1,
          borderColor: 'divider',
          bgcolor: 'background.paper'
        }}
      >
        <Brand />
        <Divider />
        <Box sx={{ flex: 1, overflow: 'auto', pt: 1 }}>
          <Typography variant="overline" sx={{ color: 'text.secondary', display: 'block', px: 2.5, pt: 0.5 }}>
            Work
          </Typography>
          <NavList items={panels.filter((p) => p.group === 'work')} current={current} onSelect={select} />
          <Typography variant="overline" sx={{ color: 'text.secondary', display: 'block', px: 2.5, pt: 1 }}>
            Library
          </Typography>
          <NavList items={panels.filter((p) => p.group === 'library')} current={current} onSelect={select} />
        </Box>
        <Divider />
        <NavList
          items={panels.filter((p) => p.group === 'system')}
          current={current}
          onSelect={select}
          before={
            <ListItemButton onClick={() => setJobsOpen(true)} data-testid="jobs-open" sx={{ mb: 0.25, py: 0.6 }}>
            <ListItemIcon sx={{ '& svg': { fontSize: 19 } }}>
              <Badge badgeContent={activeJobs} color="primary" max={99}>
                <WorkHistoryOutlinedIcon />
              </Badge>
            </ListItemIcon>
            <ListItemText primary="Jobs" slotProps={{ primary: { sx: { fontSize: 13, fontWeight: 500 } } }} />
          </ListItemButton>
          }
        />
      </Box>
      <Box component="main" sx={{ flex: 1, minWidth: 0, display: 'flex', flexDirection: 'column' }} data-testid={`panel-${current}`}>
        {state !== 'open' && state !== 'connecting' && (
          <Alert severity="warning" sx={{ borderRadius: 0 }} data-testid="connection-lost">
            Lost the connection to the Tessera host; reconnecting. Changes made now are sent once it is back. If you restarted{' '}
            <code>tessera serve</code>, open the new link it printed.
          </Alert>
        )}
        {panel?.render()}
      </Box>
      <JobsDrawer open={jobsOpen} onClose={() => setJobsOpen(false)} />
    </Box>
  )
}
