// Confusion matrix (rows: true class, columns: predicted) with cells shaded by their share of
// the row, and the per-class precision / recall / F1 beside it.

import Box from '@mui/material/Box'
import Table from '@mui/material/Table'
import TableBody from '@mui/material/TableBody'
import TableCell from '@mui/material/TableCell'
import TableHead from '@mui/material/TableHead'
import TableRow from '@mui/material/TableRow'
import Tooltip from '@mui/material/Tooltip'
import Typography from '@mui/material/Typography'
import { alpha, useTheme } from '@mui/material/styles'
import type { TrainClassificationMetrics } from '../../../shared/contract'

export function ConfusionMatrix({
  metrics,
  selected,
  onSelect
}: {
  metrics: TrainClassificationMetrics
  /** The clicked off-diagonal cell [true, predicted]. */
  selected?: [number, number] | null
  onSelect?: (cell: [number, number] | null) => void
}) {
  const theme = useTheme()
  const names = metrics.perClass.map((c) => c.name)
  return (
    <Box data-testid="confusion-matrix" sx={{ overflowX: 'auto' }}>
      <Table size="small" sx={{ width: 'auto' }}>
        <TableHead>
          <TableRow>
            <TableCell sx={{ color: 'text.secondary' }}>true ↓ / predicted →</TableCell>
            {names.map((n) => (
              <TableCell key={n} align="center" sx={{ fontWeight: 500 }}>
                {n}
              </TableCell>
            ))}
            <TableCell align="right">Precision</TableCell>
            <TableCell align="right">Recall</TableCell>
            <TableCell align="right">F1</TableCell>
          </TableRow>
        </TableHead>
        <TableBody>
          {metrics.confusion.map((row, i) => {
            const total = row.reduce((a, b) => a + b, 0)
            const pc = metrics.perClass[i]!
            return (
              <TableRow key={names[i]}>
                <TableCell sx={{ fontWeight: 500 }}>{names[i]}</TableCell>
                {row.map((v, j) => (
                  <Tooltip key={j} title={`${v} image${v === 1 ? '' : 's'} of “${names[i]}” predicted as “${names[j]}”`}>
                    <TableCell
                      align="center"
                      data-testid={`cell-${i}-${j}`}
                      onClick={() => onSelect?.(i !== j && v > 0 && !(selected?.[0] === i && selected?.[1] === j) ? [i, j] : null)}
                      sx={{
                        cursor: i !== j && v > 0 ? 'pointer' : undefined,
                        outline: selected?.[0] === i && selected?.[1] === j ? `2px solid ${theme.palette.text.primary}` : undefined,
                        outlineOffset: -2,
                        fontVariantNumeric: 'tabular-nums',
                        bgcolor: total > 0 && v > 0 ? alpha(i === j ? theme.palette.success.main : theme.palette.error.main, 0.12 + 0.5 * (v / total)) : undefined
                      }}
                    >
                      {v}
                    </TableCell>
                  </Tooltip>
                ))}
                <TableCell align="right">{pc.precision.toFixed(2)}</TableCell>
                <TableCell align="right">{pc.recall.toFixed(2)}</TableCell>
                <TableCell align="right">{pc.f1.toFixed(2)}</TableCell>
              </TableRow>
            )
          })}
        </TableBody>
      </Table>
      <Typography variant="caption" sx={{ color: 'text.secondary' }}>
        {onSelect ? 'Click an off-diagonal cell to see those images. ' : ''}
        {metrics.count} images · accuracy {(metrics.accuracy * 100).toFixed(1)}% · macro F1 {metrics.macroF1.toFixed(3)} · calibration error (ECE) {metrics.ece.toFixed(3)}
      </Typography>
    </Box>
  )
}
