// Models: what the library holds. Import, export and details arrive with issues 6 and 11.

import Box from '@mui/material/Box'
import Chip from '@mui/material/Chip'
import LinearProgress from '@mui/material/LinearProgress'
import Table from '@mui/material/Table'
import TableBody from '@mui/material/TableBody'
import TableCell from '@mui/material/TableCell'
import TableHead from '@mui/material/TableHead'
import TableRow from '@mui/material/TableRow'
import Typography from '@mui/material/Typography'
import HubOutlinedIcon from '@mui/icons-material/HubOutlined'
import type { ModelSummary } from '../../../shared/contract'
import { useApiQuery } from '../api/hooks'
import { EmptyState, PanelBody, PanelHeader, formatDate } from '../components/common'

const sourceLabel: Record<ModelSummary['source'], string> = { builtin: 'Built-in', imported: 'Imported', trained: 'Trained' }

export function ModelsPanel() {
  const models = useApiQuery('models.list', {})
  const list = models.data ?? []
  const byId = new Map(list.map((m) => [m.id, m]))
  return (
    <>
      <PanelHeader title="Models" subtitle="ImageGPT models in this library: built-in, imported and fine-tuned." />
      {models.isFetching && <LinearProgress sx={{ borderRadius: 0, height: 2 }} />}
      <PanelBody>
        {models.isSuccess && list.length === 0 && (
          <EmptyState icon={<HubOutlinedIcon />} title="No models in the library" testId="models-empty">
            Models appear here once they are added to the library: built-in models, Hugging Face ImageGPT imports and models
            you fine-tune in Train. This build cannot import or train models yet.
          </EmptyState>
        )}
        {models.isError && <EmptyState title="Could not load models">{models.error.message}</EmptyState>}
        {list.length > 0 && (
          <Box sx={{ border: 1, borderColor: 'divider', borderRadius: 1.5, bgcolor: 'background.paper', overflowX: 'auto' }}>
            <Table data-testid="models-table" sx={{ minWidth: 640 }}>
              <TableHead>
                <TableRow>
                  <TableCell>Name</TableCell>
                  <TableCell>Kind</TableCell>
                  <TableCell>Source</TableCell>
                  <TableCell>Based on</TableCell>
                  <TableCell>Added</TableCell>
                </TableRow>
              </TableHead>
              <TableBody>
                {list.map((model) => (
                  <TableRow key={model.id} hover>
                    <TableCell>
                      <Typography sx={{ fontWeight: 500 }}>{model.name}</Typography>
                    </TableCell>
                    <TableCell sx={{ color: 'text.secondary' }}>{model.kind}</TableCell>
                    <TableCell>
                      <Chip label={sourceLabel[model.source]} variant="outlined" />
                    </TableCell>
                    <TableCell sx={{ color: 'text.secondary' }}>
                      {model.parentId ? (byId.get(model.parentId)?.name ?? model.parentId) : '–'}
                    </TableCell>
                    <TableCell sx={{ color: 'text.secondary', whiteSpace: 'nowrap' }}>{formatDate(model.createdAt)}</TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          </Box>
        )}
      </PanelBody>
    </>
  )
}
