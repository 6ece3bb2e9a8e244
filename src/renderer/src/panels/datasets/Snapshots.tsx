// Snapshots of a dataset: take one (name, note), the list (newest first, automatic ones taken
// by training marked, the runs that used each), delete, and a diff view between any two
// snapshots or a snapshot and the current state: counts per change and the changed items.

import { useEffect, useMemo, useState } from 'react'
import Box from '@mui/material/Box'
import Button from '@mui/material/Button'
import Chip from '@mui/material/Chip'
import MenuItem from '@mui/material/MenuItem'
import Stack from '@mui/material/Stack'
import Table from '@mui/material/Table'
import TableBody from '@mui/material/TableBody'
import TableCell from '@mui/material/TableCell'
import TableHead from '@mui/material/TableHead'
import TableRow from '@mui/material/TableRow'
import TextField from '@mui/material/TextField'
import Typography from '@mui/material/Typography'
import type { Dataset, SnapshotChange, SnapshotDiffEntry, SnapshotInfo } from '../../../../shared/contract'
import { useApiMutation, useApiQuery } from '../../api/hooks'
import { useNotify } from '../../app/notify'
import { Section, formatDate } from '../../components/common'
import { SPLIT_COLORS, thumbUrl } from './format'

const CHANGES: SnapshotChange[] = ['added', 'removed', 'relabelled', 'moved']
const CHANGE_COLORS: Record<SnapshotChange, 'success' | 'error' | 'warning' | 'info'> = { added: 'success', removed: 'error', relabelled: 'warning', moved: 'info' }
const PAGE = 200

function TakeSnapshot({ dataset }: { dataset: Dataset }) {
  const notify = useNotify()
  const [name, setName] = useState('')
  const [note, setNote] = useState('')
  const create = useApiMutation('snapshots.create', {
    onSuccess: (s) => {
      notify.success(`Snapshot “${s.name}” saved: ${s.itemCount.toLocaleString()} items.`)
      setName('')
      setNote('')
    },
    onError: (e) => notify.error(e)
  })
  return (
    <Stack direction="row" spacing={1.5} sx={{ alignItems: 'center' }}>
      <TextField size="small" label="Name" placeholder="default: date and time" value={name} onChange={(e) => setName(e.target.value)} sx={{ width: 240 }} slotProps={{ htmlInput: { 'data-testid': 'snapshot-name' } }} />
      <TextField size="small" label="Note" value={note} onChange={(e) => setNote(e.target.value)} sx={{ flex: 1 }} />
      <Button
        variant="contained"
        disabled={create.isPending}
        data-testid="snapshot-create"
        onClick={() => create.mutate({ dataset: dataset.id, ...(name.trim() ? { name: name.trim() } : {}), ...(note.trim() ? { note: note.trim() } : {}) })}
      >
        Take snapshot
      </Button>
    </Stack>
  )
}

function SplitBar({ s }: { s: SnapshotInfo }) {
  const keys = ['train', 'val', 'test', 'none'] as const
  return (
    <Box sx={{ display: 'flex', height: 8, width: 120, borderRadius: 0.5, overflow: 'hidden', bgcolor: 'action.hover' }} title={keys.map((k) => `${k}: ${s.splits[k]}`).join(', ')}>
      {keys.map((k) => (s.splits[k] ? <Box key={k} sx={{ flex: s.splits[k], bgcolor: SPLIT_COLORS[k] }} /> : null))}
    </Box>
  )
}

function SnapshotTable({ dataset, list, onDiff }: { dataset: Dataset; list: SnapshotInfo[]; onDiff: (from: string, to: string) => void }) {
  const notify = useNotify()
  const del = useApiMutation('snapshots.delete', { onSuccess: () => notify.success('Snapshot deleted.'), onError: (e) => notify.error(e) })
  const remove = (s: SnapshotInfo) => {
    const used = s.usedBy.length
    const question = used
      ? `“${s.name}” is recorded by ${used} training run${used === 1 ? '' : 's'}; they keep its name and hash. Delete it anyway?`
      : `Delete snapshot “${s.name}”?`
    if (window.confirm(question)) del.mutate({ dataset: dataset.id, snapshot: s.id, force: used > 0 })
  }
  if (list.length === 0) return <Typography sx={{ color: 'text.secondary' }}>No snapshots yet. Training takes one automatically when it starts.</Typography>
  return (
    <Table size="small" data-testid="snapshot-table">
      <TableHead>
        <TableRow>
          <TableCell>Name</TableCell>
          <TableCell sx={{ whiteSpace: 'nowrap' }}>Taken</TableCell>
          <TableCell align="right">Items</TableCell>
          <TableCell align="right">Labelled</TableCell>
          <TableCell>Splits</TableCell>
          <TableCell sx={{ whiteSpace: 'nowrap' }}>Used by</TableCell>
          <TableCell />
        </TableRow>
      </TableHead>
      <TableBody>
        {list.map((s, i) => (
          <TableRow key={s.id} hover data-testid="snapshot-row">
            <TableCell>
              <Stack direction="row" spacing={1} sx={{ alignItems: 'center' }}>
                <Typography variant="body2" sx={{ fontWeight: 500 }}>
                  {s.name}
                </Typography>
                {s.auto && <Chip size="small" label="auto" variant="outlined" />}
              </Stack>
              {s.note && (
                <Typography variant="caption" sx={{ color: 'text.secondary' }}>
                  {s.note}
                </Typography>
              )}
            </TableCell>
            <TableCell sx={{ whiteSpace: 'nowrap' }}>{formatDate(s.createdAt)}</TableCell>
            <TableCell align="right">{s.itemCount.toLocaleString()}</TableCell>
            <TableCell align="right">{s.labelled.toLocaleString()}</TableCell>
            <TableCell>
              <SplitBar s={s} />
            </TableCell>
            <TableCell>{s.usedBy.length ? `${s.usedBy.length} run${s.usedBy.length === 1 ? '' : 's'}` : '—'}</TableCell>
            <TableCell align="right" sx={{ whiteSpace: 'nowrap' }}>
              <Button size="small" onClick={() => onDiff(s.id, 'current')} data-testid="snapshot-diff-current">
                vs now
              </Button>
              {i + 1 < list.length && (
                <Button size="small" onClick={() => onDiff(list[i + 1]!.id, s.id)} title="What changed since the snapshot before this one">
                  vs previous
                </Button>
              )}
              <Button size="small" color="error" onClick={() => remove(s)} disabled={del.isPending}>
                Delete
              </Button>
            </TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  )
}

const side = (x: SnapshotDiffEntry['from']): string => (x ? `${x.className ?? 'no label'} · ${x.split ?? 'no split'}` : '—')

function DiffView({ dataset, list, from, to, setFrom, setTo }: { dataset: Dataset; list: SnapshotInfo[]; from: string; to: string; setFrom: (v: string) => void; setTo: (v: string) => void }) {
  const [change, setChange] = useState<SnapshotChange | null>(null)
  const [limit, setLimit] = useState(PAGE)
  useEffect(() => setLimit(PAGE), [from, to, change])
  useEffect(() => setChange(null), [from, to])
  const diff = useApiQuery('snapshots.diff', { dataset: dataset.id, from, to, limit, ...(change ? { change } : {}) }, { enabled: !!from })
  const options = (withCurrent: boolean) => [
    ...(withCurrent ? [<MenuItem key="current" value="current">Current state</MenuItem>] : []),
    ...list.map((s) => (
      <MenuItem key={s.id} value={s.id}>
        {s.name}
      </MenuItem>
    ))
  ]
  const d = diff.data
  const shown = d?.items.length ?? 0
  const total = d ? (change ? d.counts[change] : d.counts.changed) : 0
  return (
    <Box data-testid="snapshot-diff">
      <Stack direction="row" spacing={1.5} sx={{ alignItems: 'center', mb: 1.5 }}>
        <TextField select size="small" label="From" value={from} onChange={(e) => setFrom(e.target.value)} sx={{ minWidth: 220 }}>
          {options(false)}
        </TextField>
        <Typography>→</Typography>
        <TextField select size="small" label="To" value={to} onChange={(e) => setTo(e.target.value)} sx={{ minWidth: 220 }}>
          {options(true)}
        </TextField>
      </Stack>
      {diff.isError && <Typography sx={{ color: 'error.main' }}>{diff.error.message}</Typography>}
      {d && (
        <>
          <Stack direction="row" spacing={1} useFlexGap sx={{ flexWrap: 'wrap', mb: 1.5 }} data-testid="snapshot-diff-counts">
            {CHANGES.map((c) => (
              <Chip
                key={c}
                label={`${d.counts[c].toLocaleString()} ${c}`}
                color={CHANGE_COLORS[c]}
                variant={change === c ? 'filled' : 'outlined'}
                onClick={() => setChange(change === c ? null : c)}
                disabled={d.counts[c] === 0 && change !== c}
              />
            ))}
            <Chip label={`${d.counts.unchanged.toLocaleString()} unchanged`} variant="outlined" />
          </Stack>
          {d.counts.changed === 0 ? (
            <Typography sx={{ color: 'text.secondary' }}>
              No differences: {d.from.name} and {d.to.name === 'current' ? 'the current state' : d.to.name} hold the same items, labels and splits.
            </Typography>
          ) : (
            <Table size="small" data-testid="snapshot-diff-items">
              <TableHead>
                <TableRow>
                  <TableCell sx={{ width: 56 }} />
                  <TableCell>Item</TableCell>
                  <TableCell>Change</TableCell>
                  <TableCell>{d.from.name}</TableCell>
                  <TableCell>{d.to.name === 'current' ? 'Now' : d.to.name}</TableCell>
                </TableRow>
              </TableHead>
              <TableBody>
                {d.items.map((e) => (
                  <TableRow key={e.itemId} hover>
                    <TableCell>
                      <Box component="img" src={thumbUrl(e.sha256)} alt="" loading="lazy" sx={{ width: 40, height: 40, objectFit: 'cover', borderRadius: 0.5, display: 'block', bgcolor: 'action.hover' }} />
                    </TableCell>
                    <TableCell sx={{ maxWidth: 320, overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }} title={e.name}>
                      {e.name}
                    </TableCell>
                    <TableCell>
                      <Stack direction="row" spacing={0.5}>
                        {e.changes.map((c) => (
                          <Chip key={c} size="small" label={c} color={CHANGE_COLORS[c]} variant="outlined" />
                        ))}
                      </Stack>
                    </TableCell>
                    <TableCell sx={{ color: 'text.secondary' }}>{side(e.from)}</TableCell>
                    <TableCell>{side(e.to)}</TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          )}
          {shown < total && (
            <Button size="small" sx={{ mt: 1 }} onClick={() => setLimit(limit + PAGE * 5)}>
              Show more ({(total - shown).toLocaleString()} not shown)
            </Button>
          )}
        </>
      )}
    </Box>
  )
}

export function Snapshots({ dataset }: { dataset: Dataset }) {
  const list = useApiQuery('snapshots.list', { dataset: dataset.id })
  const [from, setFrom] = useState('')
  const [to, setTo] = useState('current')
  const snaps = useMemo(() => list.data ?? [], [list.data])
  // Default diff: the newest snapshot against the current state; a deleted choice falls back to it.
  useEffect(() => {
    if (snaps.length && !snaps.some((s) => s.id === from)) setFrom(snaps[0]!.id)
    if (to !== 'current' && !snaps.some((s) => s.id === to)) setTo('current')
  }, [snaps, from, to])
  return (
    <Box sx={{ overflow: 'auto', flex: 1 }}>
      <Section title="Take a snapshot" description="Freezes every item with its human label and split under a name. Training runs record the snapshot they used.">
        <TakeSnapshot dataset={dataset} />
      </Section>
      <Section title="Snapshots" description="Newest first. “auto” ones were taken by training runs.">
        <SnapshotTable
          dataset={dataset}
          list={snaps}
          onDiff={(f, t) => {
            setFrom(f)
            setTo(t)
          }}
        />
      </Section>
      {snaps.length > 0 && from && (
        <Section title="Differences" description="Items matched by id: added, removed, relabelled (human label), moved between splits.">
          <DiffView dataset={dataset} list={snaps} from={from} to={to} setFrom={setFrom} setTo={setTo} />
        </Section>
      )}
    </Box>
  )
}
