// Small building blocks shared by the panels: page header, empty state, "not yet" notice.

import type { ReactNode } from 'react'
import Box from '@mui/material/Box'
import MenuItem from '@mui/material/MenuItem'
import TextField from '@mui/material/TextField'
import Stack from '@mui/material/Stack'
import Typography from '@mui/material/Typography'

export function PanelHeader({ title, subtitle, actions }: { title: string; subtitle?: string; actions?: ReactNode }) {
  return (
    <Stack
      direction="row"
     
      spacing={2}
      sx={{ alignItems: 'center', px: 3, py: 2, borderBottom: 1, borderColor: 'divider', minHeight: 64, bgcolor: 'background.paper' }}
    >
      <Box sx={{ flex: 1, minWidth: 0 }}>
        <Typography variant="h1" component="h1">
          {title}
        </Typography>
        {subtitle && (
          <Typography sx={{ color: 'text.secondary' }} variant="body2" noWrap>
            {subtitle}
          </Typography>
        )}
      </Box>
      {actions && (
        <Stack sx={{ alignItems: 'center' }} direction="row" spacing={1}>
          {actions}
        </Stack>
      )}
    </Stack>
  )
}

export function PanelBody({ children }: { children: ReactNode }) {
  return <Box sx={{ flex: 1, overflow: 'auto', px: 3, py: 2.5 }}>{children}</Box>
}

/** A centred message for an empty list or an unavailable feature: what this is, and what to do next. */
export function EmptyState({
  icon,
  title,
  children,
  action,
  testId
}: {
  icon?: ReactNode
  title: string
  children?: ReactNode
  action?: ReactNode
  testId?: string
}) {
  return (
    <Stack
     
     
      spacing={1.25}
      data-testid={testId}
      sx={{ alignItems: 'center', justifyContent: 'center',
        textAlign: 'center',
        py: 8,
        px: 3,
        mx: 'auto',
        maxWidth: 520,
        color: 'text.secondary'
      }}
    >
      {icon && <Box sx={{ fontSize: 40, lineHeight: 0, opacity: 0.55, mb: 0.5, '& svg': { fontSize: 40 } }}>{icon}</Box>}
      <Typography sx={{ color: 'text.primary' }} variant="h3">
        {title}
      </Typography>
      {children && (
        <Typography variant="body1" component="div" sx={{ color: 'text.secondary', lineHeight: 1.6 }}>
          {children}
        </Typography>
      )}
      {action && <Box sx={{ pt: 1 }}>{action}</Box>}
    </Stack>
  )
}

/** A section card with a title, for settings-like pages. */
export function Section({ title, description, children }: { title: string; description?: string; children: ReactNode }) {
  return (
    <Box
      component="section"
      sx={{ border: 1, borderColor: 'divider', borderRadius: 1.5, bgcolor: 'background.paper', mb: 2.5, overflow: 'hidden' }}
    >
      <Box sx={{ px: 2.5, pt: 2, pb: description ? 0.5 : 1.5 }}>
        <Typography variant="subtitle1" component="h2">
          {title}
        </Typography>
        {description && (
          <Typography variant="body2" sx={{ color: 'text.secondary', mt: 0.25 }}>
            {description}
          </Typography>
        )}
      </Box>
      <Box sx={{ px: 2.5, pb: 2, pt: 1 }}>{children}</Box>
    </Box>
  )
}

export function formatDate(iso: string): string {
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return iso
  const sameYear = date.getFullYear() === new Date().getFullYear()
  return date.toLocaleString(undefined, {
    ...(sameYear ? {} : { year: 'numeric' }),
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit'
  })
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '–'
  const s = Math.round(seconds)
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`
  const h = Math.floor(m / 60)
  return `${h}h ${String(m % 60).padStart(2, '0')}m`
}

/**
 * A small labelled select over [value, label] pairs, its label always shown (empty values
 * display), with `data-testid` on the part a test clicks. `width` fixes the width; `minWidth`
 * lets it grow with its text.
 */
export function OptionSelect({
  label,
  value,
  onChange,
  options,
  testId,
  width,
  minWidth
}: {
  label: string
  value: string
  onChange: (v: string) => void
  options: [string, string][]
  testId: string
  width?: number
  minWidth?: number
}) {
  return (
    <TextField
      select
      size="small"
      label={label}
      value={value}
      onChange={(e) => onChange(e.target.value)}
      sx={width !== undefined ? { width } : { minWidth }}
      slotProps={{ select: { displayEmpty: true, SelectDisplayProps: { 'data-testid': testId } as object }, inputLabel: { shrink: true } }}
    >
      {options.map(([v, l]) => (
        <MenuItem key={v} value={v}>
          {l}
        </MenuItem>
      ))}
    </TextField>
  )
}
