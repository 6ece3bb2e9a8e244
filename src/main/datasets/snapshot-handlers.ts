// Handlers for snapshots.* methods, joined into the handler map in services/index.ts.

import { type Handlers } from '../services'
import { type AppContext } from '../context'
import { SnapshotsRepo } from './snapshots'

type SnapshotMethodName = 'snapshots.create' | 'snapshots.list' | 'snapshots.get' | 'snapshots.delete' | 'snapshots.diff'

export function snapshotServices(ctx: AppContext): Pick<Handlers, SnapshotMethodName> {
  const snapshots = new SnapshotsRepo(ctx.library.db)
  const datasetId = (ref: string): string => ctx.repos.datasets.get(ref).id
  const changed = (id: string): void => ctx.bus.emit('library.changed', { domain: 'datasets', id })
  return {
    'snapshots.create': (input) => {
      const id = datasetId(input.dataset)
      const s = snapshots.create(id, { name: input.name, note: input.note })
      changed(id)
      return s
    },
    'snapshots.list': (input) => snapshots.list(datasetId(input.dataset)),
    'snapshots.get': (input) => snapshots.get(datasetId(input.dataset), input.snapshot),
    'snapshots.delete': (input) => {
      const id = datasetId(input.dataset)
      const r = snapshots.delete(id, input.snapshot, input.force === true)
      changed(id)
      return r
    },
    'snapshots.diff': (input) => snapshots.diff(datasetId(input.dataset), input.from, input.to, { change: input.change, offset: input.offset, limit: input.limit })
  }
}
