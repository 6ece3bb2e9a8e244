// Handlers for the dataset item, import and curation methods. Joined into the one
// handler map in services/index.ts; the window, browser host and CLI all call these.

import { statSync } from 'node:fs'
import { resolve } from 'node:path'
import { type Handlers } from '../services'
import { type AppContext } from '../context'
import { AppError, ConflictError, NotFoundError } from '../errors'
import { findNearDuplicates, DEFAULT_THRESHOLD } from './duplicates'
import { exportDataset, exportRows } from './export'
import { type ImportParams, isCsvSource } from './import-job'
import { SnapshotsRepo } from './snapshots'
import { assignSplits } from './splits'
import { DatasetItemsStore } from './store'

export const DATASET_IMPORT_JOB = 'datasets.import'

type DatasetMethods =
  | 'datasets.import'
  | 'datasets.stats'
  | 'datasets.split'
  | 'datasets.duplicates'
  | 'datasets.export'
  | 'items.list'
  | 'items.get'
  | 'items.setLabel'
  | 'items.setSplit'
  | 'items.remove'

export function datasetServices(ctx: AppContext): Pick<Handlers, DatasetMethods> {
  const { repos, jobs, bus, library } = ctx
  const store = new DatasetItemsStore(library.db)
  const changed = (domain: 'items' | 'labels' | 'datasets', id?: string): void => bus.emit('library.changed', { domain, ...(id ? { id } : {}) })
  const datasetsOf = (ids: string[]): string[] => [...new Set(store.getMany(ids).map((i) => i.datasetId))]

  return {
    'datasets.import': (input) => {
      const source = resolve(input.source)
      let isDir: boolean
      try {
        isDir = statSync(source).isDirectory()
      } catch {
        throw new AppError('NOT_FOUND', `There is no file or folder at ${source}.`, 'source')
      }
      if (!isDir && !isCsvSource(source)) throw new AppError('VALIDATION', 'Choose a folder of images or a .csv file of path,label[,split] rows.', 'source')
      const dataset = repos.datasets.create({ name: input.name })
      changed('datasets', dataset.id)
      const params: ImportParams = { datasetId: dataset.id, source, splitFromFolders: !!input.splitFromFolders, reference: !!input.reference }
      return jobs.enqueue(DATASET_IMPORT_JOB, params, `Import ${source} into “${dataset.name}”`)
    },

    'datasets.stats': (input) => store.stats(repos.datasets.get(input.ref).id),

    'datasets.split': (input) => {
      const d = repos.datasets.get(input.ref)
      const assigned = assignSplits(library.db, d.id, input, input.seed ?? 0)
      changed('items', d.id)
      return { assigned, stats: store.stats(d.id) }
    },

    'datasets.duplicates': (input) => {
      const d = repos.datasets.get(input.ref)
      const groups = findNearDuplicates(library.db, d.id, input.threshold ?? DEFAULT_THRESHOLD)
      changed('items', d.id)
      return groups.map((g) => ({ maxDistance: g.maxDistance, items: store.getMany(g.itemIds) }))
    },

    'datasets.export': async (input) => {
      const d = repos.datasets.get(input.ref)
      const frozen = input.snapshot ? new SnapshotsRepo(library.db).load(d.id, input.snapshot).rows : undefined
      return exportDataset(library, { format: input.format ?? 'folder', out: input.folder, datasetName: d.name, rows: exportRows(library.db, d.id, frozen) })
    },

    'items.list': (input) => {
      const d = repos.datasets.get(input.dataset)
      const { dataset: _ref, ...query } = input
      return store.list(d.id, query)
    },

    'items.get': (input) => store.get(input.id),

    'items.setLabel': (input) => {
      if (input.classId !== null) {
        const owner = library.db.prepare('SELECT dataset_id FROM classes WHERE id = ?').get(input.classId) as { dataset_id: string } | undefined
        if (!owner) throw new NotFoundError(`No class with id "${input.classId}".`)
      }
      repos.items.setLabels(input.ids, input.classId, 'human')
      for (const id of datasetsOf(input.ids)) changed('labels', id)
      return { updated: input.ids.length }
    },

    'items.setSplit': (input) => {
      const missing = library.db.prepare(`SELECT value FROM json_each(?) WHERE value NOT IN (SELECT id FROM items)`).get(JSON.stringify(input.ids)) as { value: string } | undefined
      if (missing) throw new NotFoundError(`No item with id "${missing.value}".`)
      if (!input.allowTestMove && input.split !== 'test') {
        const inTest = library.db
          .prepare(`SELECT count(*) AS n FROM splits WHERE split = 'test' AND item_id IN (SELECT value FROM json_each(?))`)
          .get(JSON.stringify(input.ids)) as { n: number }
        if (inTest.n > 0)
          throw new ConflictError(`${inTest.n} of these items are in the test split; moving them out needs allowTestMove, so test data never leaks into training silently.`, 'split')
      }
      repos.items.setSplit(input.ids, input.split)
      for (const id of datasetsOf(input.ids)) changed('items', id)
      return { updated: input.ids.length }
    },

    'items.remove': (input) => {
      const owners = datasetsOf(input.ids)
      const removed = repos.items.remove(input.ids)
      for (const id of owners) changed('items', id)
      return { removed }
    }
  }
}
