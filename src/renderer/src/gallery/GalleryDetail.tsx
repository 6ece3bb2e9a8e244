// One gallery image in detail: big and crisp, its recipe and scores, star and rating, and
// recall (recipe -> Generate form), remix (same recipe, new seed) and "complete this image".
// Also the side-by-side compare of two images.

import Box from '@mui/material/Box'
import Button from '@mui/material/Button'
import Dialog from '@mui/material/Dialog'
import DialogContent from '@mui/material/DialogContent'
import DialogTitle from '@mui/material/DialogTitle'
import IconButton from '@mui/material/IconButton'
import Rating from '@mui/material/Rating'
import Stack from '@mui/material/Stack'
import Tooltip from '@mui/material/Tooltip'
import Typography from '@mui/material/Typography'
import CloseIcon from '@mui/icons-material/Close'
import ContentCopyIcon from '@mui/icons-material/ContentCopy'
import StarIcon from '@mui/icons-material/Star'
import StarBorderIcon from '@mui/icons-material/StarBorder'
import type { GalleryCollection, GalleryItem } from '../../../shared/contract'
import { useApiMutation, useApiQuery } from '../api/hooks'
import { formatDate } from '../components/common'
import { handOver, mediaUrl, pixelated } from './recall'

export function recipeRows(item: GalleryItem): [string, string][] {
  const r = item.recipe
  return [
    ['Model', `${r.model.name} (${r.model.weightsSha256.slice(0, 10)}…)`],
    ['Seed', `${r.seed}, image #${r.index}`],
    ['Class', r.class ?? 'any'],
    ['Sampling', r.greedy ? 'greedy' : `temperature ${r.temperature}, top-k ${r.topK || 'off'}, top-p ${r.topP === 1 ? 'off' : r.topP}`],
    ['Completion', r.complete ? `kept ${r.keepRows} rows of ${r.complete.file ?? r.complete.sha256?.slice(0, 12) ?? 'an image'}` : 'none'],
    ['Batch', `${r.count} image${r.count === 1 ? '' : 's'}${r.batchSize ? `, ${r.batchSize} per batch` : ''}`],
    ['Time', r.durationMs === null ? '–' : `${Math.round(r.durationMs)} ms per image`],
    ['Bits per token', item.bitsPerToken === null ? '–' : item.bitsPerToken.toFixed(3)],
    ['Class confidence', item.classConfidence === null ? '–' : `${(item.classConfidence * 100).toFixed(1)}%`],
    ['Created', formatDate(item.createdAt)]
  ]
}

export function RecipeTable({ item }: { item: GalleryItem }) {
  return (
    <Box component="dl" sx={{ display: 'grid', gridTemplateColumns: 'auto 1fr', columnGap: 1.5, rowGap: 0.5, m: 0, fontSize: 12 }} data-testid="gallery-recipe">
      {recipeRows(item).map(([k, v]) => (
        <Box key={k} sx={{ display: 'contents' }}>
          <Box component="dt" sx={{ color: 'text.secondary' }}>
            {k}
          </Box>
          <Box component="dd" sx={{ m: 0, wordBreak: 'break-word' }}>
            {v}
          </Box>
        </Box>
      ))}
    </Box>
  )
}

export function GalleryDetail({ item: initial, collections, onClose }: { item: GalleryItem; collections: GalleryCollection[]; onClose: () => void }) {
  // Fetched by id so stars, ratings and collections show at once (gallery.* queries refetch on library.changed).
  const fresh = useApiQuery('gallery.get', { id: initial.id }, { placeholderData: initial, retry: false })
  const item = fresh.data ?? initial
  const star = useApiMutation('gallery.star')
  const rate = useApiMutation('gallery.rate')
  const names = item.collections.map((id) => collections.find((c) => c.id === id)?.name).filter(Boolean)
  return (
    <Stack spacing={1.5} sx={{ width: 300, flexShrink: 0, borderLeft: 1, borderColor: 'divider', pl: 2, overflow: 'auto' }} data-testid="gallery-detail">
      <Stack direction="row" sx={{ alignItems: 'center' }}>
        <Typography variant="h2" sx={{ flex: 1, fontSize: 15, fontWeight: 600 }}>
          Seed {item.seed} · #{item.index}
        </Typography>
        <Tooltip title="Copy seed">
          <IconButton size="small" aria-label="Copy seed" onClick={() => void navigator.clipboard?.writeText(String(item.seed)).catch(() => undefined)}>
            <ContentCopyIcon sx={{ fontSize: 14 }} />
          </IconButton>
        </Tooltip>
        <IconButton size="small" aria-label="Close details" onClick={onClose}>
          <CloseIcon fontSize="small" />
        </IconButton>
      </Stack>
      <Box component="img" src={mediaUrl(item.sha256)} alt={`seed ${item.seed} #${item.index}`} sx={{ width: 256, height: 256, display: 'block', borderRadius: 1, ...pixelated }} data-testid="gallery-detail-image" />
      <Stack direction="row" spacing={1} sx={{ alignItems: 'center' }}>
        <Tooltip title={item.starred ? 'Unstar' : 'Star'}>
          <IconButton aria-label={item.starred ? 'Unstar' : 'Star'} data-testid="detail-star" onClick={() => star.mutate({ ids: [item.id], starred: !item.starred })}>
            {item.starred ? <StarIcon sx={{ color: '#f5c518' }} /> : <StarBorderIcon />}
          </IconButton>
        </Tooltip>
        <Rating value={item.rating || null} onChange={(_, v) => rate.mutate({ ids: [item.id], rating: v ?? 0 })} data-testid="detail-rating" />
      </Stack>
      <Stack direction="row" spacing={1} useFlexGap sx={{ flexWrap: 'wrap' }}>
        <Button size="small" variant="contained" onClick={() => handOver({ kind: 'recall', recipe: item.recipe })} data-testid="detail-recall">
          Recall
        </Button>
        <Button size="small" variant="outlined" onClick={() => handOver({ kind: 'remix', recipe: item.recipe })} data-testid="detail-remix">
          Remix
        </Button>
        <Button size="small" onClick={() => handOver({ kind: 'complete', sha256: item.sha256, side: item.width })}>
          Complete this
        </Button>
      </Stack>
      <RecipeTable item={item} />
      {names.length > 0 && (
        <Typography variant="caption" sx={{ color: 'text.secondary' }}>
          In {names.join(', ')}
        </Typography>
      )}
    </Stack>
  )
}

export function CompareDialog({ items, onClose }: { items: [GalleryItem, GalleryItem] | null; onClose: () => void }) {
  return (
    <Dialog open={items !== null} onClose={onClose} maxWidth="lg" data-testid="compare-dialog">
      <DialogTitle>Compare</DialogTitle>
      <DialogContent>
        {items && (
          <Stack direction="row" spacing={3}>
            {items.map((item) => (
              <Stack key={item.id} spacing={1.5} sx={{ width: 320 }}>
                <Box component="img" src={mediaUrl(item.sha256)} alt={`seed ${item.seed} #${item.index}`} sx={{ width: 320, height: 320, display: 'block', borderRadius: 1, ...pixelated }} />
                <RecipeTable item={item} />
              </Stack>
            ))}
          </Stack>
        )}
      </DialogContent>
    </Dialog>
  )
}
