// Handlers for the labels.* and classes.* methods, joined into the handler map in
// services/index.ts. Every change emits library.changed (labels) with the dataset id,
// so other windows refetch their grids, progress and undo state.

import { type AppContext } from '../context'
import { type Handlers } from '../services'
import { PREDICT_JOB, type PredictParams } from './predict'
import { LabelService } from './service'

type LabelMethods =
  | 'labels.assign'
  | 'labels.accept'
  | 'labels.acceptAbove'
  | 'labels.undo'
  | 'labels.redo'
  | 'labels.history'
  | 'labels.list'
  | 'labels.predict'
  | 'labels.predictionStatus'
  | 'classes.create'
  | 'classes.rename'
  | 'classes.recolor'
  | 'classes.reorder'
  | 'classes.merge'
  | 'classes.delete'

export function labelServices(ctx: AppContext): Pick<Handlers, LabelMethods> {
  const labels = new LabelService(ctx.library.db)
  const changed = (datasetId: string, domain: 'labels' | 'datasets' = 'labels'): void => ctx.bus.emit('library.changed', { domain, id: datasetId })
  const after = <T>(datasetId: string, value: T, domain: 'labels' | 'datasets' = 'labels'): T => {
    changed(datasetId, domain)
    return value
  }
  return {
    'labels.assign': (input) => after(labels.datasetOf(input.ids), labels.assign(input.ids, input.classId)),
    'labels.accept': (input) => after(labels.datasetOf(input.ids), labels.accept(input.ids, input.model)),
    'labels.acceptAbove': (input) => {
      const r = labels.acceptAbove(input.dataset, input.model, input.threshold, input.dryRun === true)
      if (r.applied) changed(r.history.datasetId)
      return r
    },
    'labels.undo': (input) => after(labels.datasetId(input.dataset), labels.undo(input.dataset)),
    'labels.redo': (input) => after(labels.datasetId(input.dataset), labels.redo(input.dataset)),
    'labels.history': (input) => labels.history(labels.datasetId(input.dataset)),
    'labels.list': ({ dataset, ...q }) => labels.list(dataset, q),
    'labels.predict': (input) => {
      const datasetId = labels.datasetId(input.dataset)
      const modelId = labels.modelId(input.model)
      const params: PredictParams = { datasetId, modelId, modelName: ctx.repos.models.get(modelId).name, datasetName: ctx.repos.datasets.get(datasetId).name }
      return ctx.jobs.enqueue(PREDICT_JOB, params)
    },
    'labels.predictionStatus': (input) => labels.predictionStatus(input.dataset, input.model),
    'classes.create': (input) => {
      const c = labels.createClass(input.dataset, input.name, input.color)
      return after(labels.datasetOfClass(c.id), c, 'datasets')
    },
    'classes.rename': (input) => after(labels.datasetOfClass(input.id), labels.renameClass(input.id, input.name), 'datasets'),
    'classes.recolor': (input) => after(labels.datasetOfClass(input.id), labels.recolorClass(input.id, input.color), 'datasets'),
    'classes.reorder': (input) => after(labels.datasetId(input.dataset), labels.reorderClasses(input.dataset, input.ids), 'datasets'),
    'classes.merge': (input) => {
      const datasetId = labels.datasetOfClass(input.from)
      const r = labels.mergeClasses(input.from, input.into, input.dryRun === true)
      if (r.applied) changed(datasetId)
      return r.applied ? after(datasetId, r, 'datasets') : r
    },
    'classes.delete': (input) => {
      const datasetId = labels.datasetOfClass(input.id)
      const r = labels.deleteClass(input.id, input.dryRun === true)
      if (r.applied) changed(datasetId)
      return r.applied ? after(datasetId, r, 'datasets') : r
    }
  }
}
