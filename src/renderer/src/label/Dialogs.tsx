// Dialogs of the Label panel: every key (with each class's key editable), and the
// class manager (create, rename, recolour, reorder, merge, delete; merge and delete
// say what happens to labelled items before anything changes).

import { useState } from 'react'
import Box from '@mui/material/Box'
import Button from '@mui/material/Button'
import Dialog from '@mui/material/Dialog'
import DialogActions from '@mui/material/DialogActions'
import DialogContent from '@mui/material/DialogContent'
import DialogTitle from '@mui/material/DialogTitle'
import IconButton from '@mui/material/IconButton'
import MenuItem from '@mui/material/MenuItem'
import Stack from '@mui/material/Stack'
import Table from '@mui/material/Table'
import TableBody from '@mui/material/TableBody'
import TableCell from '@mui/material/TableCell'
import TableRow from '@mui/material/TableRow'
import TextField from '@mui/material/TextField'
import Typography from '@mui/material/Typography'
import ArrowDownwardIcon from '@mui/icons-material/ArrowDownward'
import ArrowUpwardIcon from '@mui/icons-material/ArrowUpward'
import type { ClassImpact, ClassInfo } from '../../../shared/contract'
import { callOrThrow, useApi } from '../api/hooks'
import { useNotify } from '../app/notify'
import { COMMAND_KEYS, RESERVED } from './keys'

export function KeysDialog({ open, onClose, classes, keys, onKey }: {
  open: boolean
  onClose: () => void
  classes: ClassInfo[]
  keys: Map<string, string>
  onKey: (classId: string, key: string) => void
}) {
  return (
    <Dialog open={open} onClose={onClose} maxWidth="md" fullWidth data-testid="keys-dialog">
      <DialogTitle>Keys</DialogTitle>
      <DialogContent sx={{ display: 'flex', gap: 4 }}>
        <Box sx={{ flex: 1 }}>
          <Typography variant="subtitle2" sx={{ mb: 1 }}>Commands</Typography>
          <Table size="small">
            <TableBody>
              {COMMAND_KEYS.map(([k, what]) => (
                <TableRow key={k}>
                  <TableCell sx={{ whiteSpace: 'nowrap', width: '1%' }}>
                    <Box component="kbd" sx={{ fontFamily: 'monospace', fontWeight: 700 }}>{k}</Box>
                  </TableCell>
                  <TableCell>{what}</TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </Box>
        <Box sx={{ flex: 1 }}>
          <Typography variant="subtitle2" sx={{ mb: 1 }}>Classes (type a key to change it)</Typography>
          <Table size="small">
            <TableBody>
              {classes.map((c) => (
                <TableRow key={c.id}>
                  <TableCell sx={{ width: 70 }}>
                    <TextField
                      size="small"
                      value={(keys.get(c.id) ?? '').toUpperCase()}
                      slotProps={{ htmlInput: { maxLength: 1, 'aria-label': `Key for ${c.name}`, style: { textAlign: 'center', fontFamily: 'monospace', width: 28 } } }}
                      onKeyDown={(e) => {
                        const k = e.key.toLowerCase()
                        e.preventDefault()
                        e.stopPropagation()
                        if (k.length === 1 && !RESERVED.has(k)) onKey(c.id, k)
                      }}
                    />
                  </TableCell>
                  <TableCell>
                    <Box component="span" sx={{ display: 'inline-block', width: 10, height: 10, borderRadius: '50%', bgcolor: c.color, mr: 1 }} />
                    {c.name}
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
          <Typography variant="caption" sx={{ color: 'text.secondary' }}>
            x, v, Enter, ? and the arrows are taken by commands. A key given to one class is taken from another.
          </Typography>
        </Box>
      </DialogContent>
      <DialogActions>
        <Button onClick={onClose}>Close</Button>
      </DialogActions>
    </Dialog>
  )
}

export function ClassesDialog({ open, onClose, datasetId, classes }: { open: boolean; onClose: () => void; datasetId: string; classes: ClassInfo[] }) {
  const api = useApi()
  const notify = useNotify()
  const [name, setName] = useState('')
  const [confirm, setConfirm] = useState<{ impact: ClassImpact; run: () => Promise<unknown> } | null>(null)
  const [mergeFrom, setMergeFrom] = useState<string>('')
  const [mergeInto, setMergeInto] = useState<string>('')
  const run = async (f: () => Promise<unknown>) => {
    try {
      await f()
    } catch (e) {
      notify.error(e)
    }
  }
  const move = (i: number, d: number) => {
    const ids = classes.map((c) => c.id)
    const j = i + d
    if (j < 0 || j >= ids.length) return
    ;[ids[i], ids[j]] = [ids[j] as string, ids[i] as string]
    void run(() => callOrThrow(api, 'classes.reorder', { dataset: datasetId, ids }))
  }
  return (
    <Dialog open={open} onClose={onClose} maxWidth="sm" fullWidth data-testid="classes-dialog">
      <DialogTitle>Classes</DialogTitle>
      <DialogContent>
        <Stack spacing={1} sx={{ mt: 0.5 }}>
          {classes.map((c, i) => (
            <Stack key={c.id} direction="row" spacing={1} sx={{ alignItems: 'center' }}>
              <input type="color" value={c.color} aria-label={`Colour of ${c.name}`} onChange={(e) => void run(() => callOrThrow(api, 'classes.recolor', { id: c.id, color: e.target.value }))} />
              <TextField
                size="small"
                defaultValue={c.name}
                key={`${c.id}:${c.name}`}
                slotProps={{ htmlInput: { 'aria-label': `Name of ${c.name}` } }}
                onBlur={(e) => {
                  const v = e.target.value.trim()
                  if (v && v !== c.name) void run(() => callOrThrow(api, 'classes.rename', { id: c.id, name: v }))
                }}
                sx={{ flex: 1 }}
              />
              <IconButton size="small" aria-label={`Move ${c.name} up`} onClick={() => move(i, -1)} disabled={i === 0}>
                <ArrowUpwardIcon fontSize="small" />
              </IconButton>
              <IconButton size="small" aria-label={`Move ${c.name} down`} onClick={() => move(i, 1)} disabled={i === classes.length - 1}>
                <ArrowDownwardIcon fontSize="small" />
              </IconButton>
              <Button
                size="small"
                color="error"
                onClick={() =>
                  void run(async () => {
                    const impact = await callOrThrow(api, 'classes.delete', { id: c.id, dryRun: true })
                    setConfirm({ impact, run: () => callOrThrow(api, 'classes.delete', { id: c.id }) })
                  })
                }
              >
                Delete…
              </Button>
            </Stack>
          ))}
          <Stack direction="row" spacing={1} sx={{ pt: 1 }}>
            <TextField size="small" label="New class" value={name} onChange={(e) => setName(e.target.value)} sx={{ flex: 1 }} />
            <Button
              variant="outlined"
              disabled={!name.trim()}
              onClick={() =>
                void run(async () => {
                  await callOrThrow(api, 'classes.create', { dataset: datasetId, name: name.trim() })
                  setName('')
                })
              }
            >
              Add
            </Button>
          </Stack>
          <Stack direction="row" spacing={1} sx={{ pt: 1, alignItems: 'center' }}>
            <TextField select size="small" label="Merge" value={mergeFrom} onChange={(e) => setMergeFrom(e.target.value)} sx={{ flex: 1 }}>
              {classes.map((c) => (
                <MenuItem key={c.id} value={c.id}>{c.name}</MenuItem>
              ))}
            </TextField>
            <Typography variant="body2">into</Typography>
            <TextField select size="small" label="Into" value={mergeInto} onChange={(e) => setMergeInto(e.target.value)} sx={{ flex: 1 }}>
              {classes.filter((c) => c.id !== mergeFrom).map((c) => (
                <MenuItem key={c.id} value={c.id}>{c.name}</MenuItem>
              ))}
            </TextField>
            <Button
              variant="outlined"
              disabled={!mergeFrom || !mergeInto || mergeFrom === mergeInto}
              onClick={() =>
                void run(async () => {
                  const impact = await callOrThrow(api, 'classes.merge', { from: mergeFrom, into: mergeInto, dryRun: true })
                  const [from, into] = [mergeFrom, mergeInto]
                  setConfirm({ impact, run: () => callOrThrow(api, 'classes.merge', { from, into }) })
                })
              }
            >
              Merge…
            </Button>
          </Stack>
        </Stack>
      </DialogContent>
      <DialogActions>
        <Button onClick={onClose}>Done</Button>
      </DialogActions>
      <Dialog open={!!confirm} onClose={() => setConfirm(null)} data-testid="class-confirm">
        <DialogTitle>Are you sure?</DialogTitle>
        <DialogContent>
          <Typography>{confirm?.impact.message}</Typography>
        </DialogContent>
        <DialogActions>
          <Button onClick={() => setConfirm(null)}>Cancel</Button>
          <Button
            color="error"
            variant="contained"
            onClick={() =>
              void run(async () => {
                await confirm?.run()
                setConfirm(null)
                setMergeFrom('')
                setMergeInto('')
              })
            }
          >
            Go ahead
          </Button>
        </DialogActions>
      </Dialog>
    </Dialog>
  )
}
