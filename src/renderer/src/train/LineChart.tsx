// A small SVG line chart (no chart library is installed): one or more series over a shared x
// axis, min/max labels on y, the last value of each series in the legend.

import Box from '@mui/material/Box'
import Stack from '@mui/material/Stack'
import Typography from '@mui/material/Typography'
import { useTheme } from '@mui/material/styles'

export interface Series {
  name: string
  color: string
  points: { x: number; y: number }[]
  /** Draw dots (sparse series such as validation). */
  dots?: boolean
}

const fmt = (v: number): string => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(2))

export function LineChart({ title, series, height = 160, yFormat = fmt, testId }: { title: string; series: Series[]; height?: number; yFormat?: (v: number) => string; testId?: string }) {
  const theme = useTheme()
  const W = 480
  const H = height
  const pad = { l: 44, r: 10, t: 8, b: 22 }
  const all = series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.y))
  const xs = all.map((p) => p.x)
  const ys = all.map((p) => p.y)
  const x0 = Math.min(...xs, 0)
  const x1 = Math.max(...xs, 1)
  let y0 = Math.min(...ys)
  let y1 = Math.max(...ys)
  if (!Number.isFinite(y0)) [y0, y1] = [0, 1]
  if (y1 - y0 < 1e-9) [y0, y1] = [y0 - 0.5, y1 + 0.5]
  const sx = (x: number): number => pad.l + ((x - x0) / (x1 - x0 || 1)) * (W - pad.l - pad.r)
  const sy = (y: number): number => pad.t + (1 - (y - y0) / (y1 - y0)) * (H - pad.t - pad.b)
  const axis = theme.palette.divider
  const text = theme.palette.text.secondary
  return (
    <Box data-testid={testId} sx={{ border: 1, borderColor: 'divider', borderRadius: 1.5, bgcolor: 'background.paper', p: 1.5 }}>
      <Stack direction="row" spacing={2} sx={{ alignItems: 'baseline', mb: 0.5 }}>
        <Typography variant="subtitle2" sx={{ flex: 1 }}>
          {title}
        </Typography>
        {series.map((s) => {
          const last = s.points[s.points.length - 1]
          return (
            <Stack key={s.name} direction="row" spacing={0.75} sx={{ alignItems: 'center' }}>
              <Box sx={{ width: 10, height: 3, bgcolor: s.color, borderRadius: 1 }} />
              <Typography variant="caption" sx={{ color: 'text.secondary' }}>
                {s.name}
                {last ? ` ${yFormat(last.y)}` : ''}
              </Typography>
            </Stack>
          )
        })}
      </Stack>
      <svg viewBox={`0 0 ${W} ${H}`} width="100%" role="img" aria-label={title} style={{ display: 'block' }}>
        <line x1={pad.l} y1={H - pad.b} x2={W - pad.r} y2={H - pad.b} stroke={axis} />
        <line x1={pad.l} y1={pad.t} x2={pad.l} y2={H - pad.b} stroke={axis} />
        <text x={pad.l - 6} y={sy(y1) + 4} textAnchor="end" fontSize="10" fill={text}>
          {yFormat(y1)}
        </text>
        <text x={pad.l - 6} y={sy(y0)} textAnchor="end" fontSize="10" fill={text}>
          {yFormat(y0)}
        </text>
        <text x={pad.l} y={H - 6} fontSize="10" fill={text}>
          {x0}
        </text>
        <text x={W - pad.r} y={H - 6} textAnchor="end" fontSize="10" fill={text}>
          step {x1}
        </text>
        {all.length === 0 && (
          <text x={W / 2} y={H / 2} textAnchor="middle" fontSize="12" fill={text}>
            No points yet
          </text>
        )}
        {series.map((s) => {
          const pts = s.points.filter((p) => Number.isFinite(p.y))
          return (
            <g key={s.name}>
              {pts.length > 1 && <polyline fill="none" stroke={s.color} strokeWidth={1.6} points={pts.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ')} />}
              {(s.dots || pts.length === 1) && pts.map((p) => <circle key={p.x} cx={sx(p.x)} cy={sy(p.y)} r={2.6} fill={s.color} />)}
            </g>
          )
        })}
      </svg>
    </Box>
  )
}
