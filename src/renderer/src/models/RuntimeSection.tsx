// Which execution provider model sessions really run on under the current setting, and why any
// requested provider fell back (runtime.report compiles a one-node probe graph first).

import Alert from '@mui/material/Alert'
import Box from '@mui/material/Box'
import Chip from '@mui/material/Chip'
import Stack from '@mui/material/Stack'
import Typography from '@mui/material/Typography'
import { useApiQuery } from '../api/hooks'

export function RuntimeSummary() {
  const report = useApiQuery('runtime.report', {})
  const r = report.data
  if (report.isError) return <Alert severity="error">{report.error.message}</Alert>
  if (!r) return <Typography variant="body2">Checking the execution providers…</Typography>
  return (
    <Stack spacing={1} data-testid="runtime-report">
      <Stack direction="row" spacing={1} sx={{ alignItems: 'center', flexWrap: 'wrap' }}>
        <Typography variant="body2">Every model session (generation, scoring, Try it, training) runs on</Typography>
        <Chip label={r.active.toUpperCase()} color="primary" size="small" data-testid="runtime-active" />
        <Typography variant="body2" sx={{ color: 'text.secondary' }}>
          setting “{r.setting}”, tried {r.requested.join(' → ')}; {r.intraOpThreads} threads; onnxruntime {r.ortVersion}
        </Typography>
      </Stack>
      {r.fallbacks.length > 0 ? (
        <Alert severity="warning" data-testid="runtime-fallbacks">
          {r.fallbacks.map((f) => (
            <Box key={f.provider}>
              {f.provider.toUpperCase()} fell back to CPU: {f.reason}
            </Box>
          ))}
        </Alert>
      ) : (
        <Typography variant="body2" sx={{ color: 'text.secondary' }}>
          No provider fell back. Available in this build: {r.available.join(', ')}.
        </Typography>
      )}
    </Stack>
  )
}
