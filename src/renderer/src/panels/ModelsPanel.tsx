// Models: the library's models as a lineage tree (base -> fine-tunes) beside the selected
// model's card (src/models/ModelCard.tsx); import dialog; the runtime report. The selection is
// in the address (#/models/<id>), so a reload keeps it.

import { useState, useSyncExternalStore } from 'react'
import Box from '@mui/material/Box'
import Button from '@mui/material/Button'
import Chip from '@mui/material/Chip'
import LinearProgress from '@mui/material/LinearProgress'
import List from '@mui/material/List'
import ListItemButton from '@mui/material/ListItemButton'
import Typography from '@mui/material/Typography'
import HubOutlinedIcon from '@mui/icons-material/HubOutlined'
import SubdirectoryArrowRightIcon from '@mui/icons-material/SubdirectoryArrowRight'
import type { ModelSummary } from '../../../shared/contract'
import { useApiQuery } from '../api/hooks'
import { EmptyState, PanelBody, PanelHeader, Section } from '../components/common'
import { ModelCard } from '../models/ModelCard'
import { ImportModelDialog } from '../models/dialogs'
import { RuntimeSummary } from '../models/RuntimeSection'
import { openModel } from '../models/nav'
import { lineageRows, modelIdFromHash } from '../../../shared/model-view'

const sourceLabel: Record<ModelSummary['source'], string> = { builtin: 'Built-in', imported: 'Imported', trained: 'Fine-tuned' }

function useSelectedModelId(): string | null {
  const hash = useSyncExternalStore(
    (notify) => {
      window.addEventListener('hashchange', notify)
      return () => window.removeEventListener('hashchange', notify)
    },
    () => window.location.hash
  )
  return modelIdFromHash(hash)
}

function SelectedCard({ id }: { id: string }) {
  const detail = useApiQuery('models.get', { ref: id })
  if (detail.isError) return <EmptyState title="This model is not in the library">{detail.error.message}</EmptyState>
  if (!detail.data) return <LinearProgress />
  return <ModelCard key={detail.data.id} model={detail.data} />
}

export function ModelsPanel() {
  const models = useApiQuery('models.list', {})
  const [importing, setImporting] = useState(false)
  const list = models.data ?? []
  const rows = lineageRows(list)
  const hashId = useSelectedModelId()
  const selected = hashId && list.some((m) => m.id === hashId) ? hashId : (rows[0]?.model.id ?? null)
  return (
    <>
      <PanelHeader
        title="Models"
        subtitle="Built-in, imported and fine-tuned models, with their lineage and model cards."
        actions={
          <Button variant="contained" onClick={() => setImporting(true)} data-testid="models-import">
            Import model…
          </Button>
        }
      />
      {models.isFetching && <LinearProgress sx={{ borderRadius: 0, height: 2 }} />}
      <PanelBody>
        {models.isSuccess && list.length === 0 && (
          <EmptyState icon={<HubOutlinedIcon />} title="No models in the library" testId="models-empty">
            Import a Hugging Face ImageGPT folder or an ONNX image model, fine-tune one in Train, or bring back the built-in models with Settings → Sample
            library.
          </EmptyState>
        )}
        {models.isError && <EmptyState title="Could not load models">{models.error.message}</EmptyState>}
        {list.length > 0 && (
          <Box sx={{ display: 'grid', gridTemplateColumns: { xs: '1fr', md: '260px 1fr' }, gap: 2.5, alignItems: 'start' }}>
            <Box sx={{ border: 1, borderColor: 'divider', borderRadius: 1.5, bgcolor: 'background.paper', position: { md: 'sticky' }, top: 0 }}>
              <List dense data-testid="models-table" aria-label="Models by lineage">
                {rows.map(({ model, depth }) => (
                  <ListItemButton
                    key={model.id}
                    selected={model.id === selected}
                    onClick={() => openModel(model.id)}
                    data-testid="model-row"
                    data-depth={depth}
                    sx={{ pl: 1.5 + depth * 2, gap: 0.75 }}
                  >
                    {depth > 0 && <SubdirectoryArrowRightIcon fontSize="small" sx={{ color: 'text.disabled' }} />}
                    <Box sx={{ minWidth: 0, flex: 1 }}>
                      <Typography variant="body2" sx={{ fontWeight: 500, overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }} title={model.name}>
                        {model.name}
                      </Typography>
                      <Typography variant="caption" sx={{ color: 'text.secondary' }}>
                        {model.kind}
                      </Typography>
                    </Box>
                    <Chip label={sourceLabel[model.source]} size="small" variant="outlined" />
                  </ListItemButton>
                ))}
              </List>
            </Box>
            <Box sx={{ minWidth: 0 }}>{selected && <SelectedCard id={selected} />}</Box>
          </Box>
        )}
        <Box sx={{ mt: 2.5 }}>
          <Section title="Runtime" description="The execution provider model sessions use (Settings → Execution provider).">
            <RuntimeSummary />
          </Section>
        </Box>
      </PanelBody>
      <ImportModelDialog open={importing} onClose={() => setImporting(false)} />
    </>
  )
}
