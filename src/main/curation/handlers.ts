// Handlers for the curation.* methods, joined into the handler map in services/index.ts.

import { type AppContext } from '../context'
import { AppError } from '../errors'
import { LabelService } from '../labels/service'
import { type Handlers } from '../services'
import { CURATE_JOB, type CurateParams } from './job'
import { CurationStore } from './store'

type CurationMethods = 'curation.start' | 'curation.summary' | 'curation.mislabels' | 'curation.featureDuplicates' | 'curation.accept' | 'curation.dismiss'

export function curationServices(ctx: AppContext): Pick<Handlers, CurationMethods> {
  const store = new CurationStore(ctx.library.db)
  const labels = new LabelService(ctx.library.db)
  const changed = (datasetId: string, domain: 'items' | 'labels' = 'items'): void => ctx.bus.emit('library.changed', { domain, id: datasetId })
  return {
    'curation.start': async ({ dataset, model, ...opts }) => {
      const d = ctx.repos.datasets.get(dataset)
      const m = await ctx.models.get(model)
      if (m.onnx || !m.config) throw new AppError('UNSUPPORTED', `Model "${m.name}" is an imported ONNX model; curation needs an ImageGPT model (its features and bits per token).`, 'model')
      if (opts.layer !== undefined && opts.layer > m.config.layers)
        throw new AppError('VALIDATION', `Model "${m.name}" has ${m.config.layers} layers; choose a layer from 1 to ${m.config.layers}.`, 'layer')
      const params: CurateParams = { datasetId: d.id, modelId: m.id, datasetName: d.name, modelName: m.name, ...opts }
      return ctx.jobs.enqueue(CURATE_JOB, params)
    },
    'curation.summary': (input) => store.latestRun(ctx.repos.datasets.get(input.dataset).id)?.summary ?? null,
    'curation.mislabels': (input) => store.mislabels(ctx.repos.datasets.get(input.dataset).id, input.offset ?? 0, input.limit ?? 200),
    'curation.featureDuplicates': (input) => store.featureDuplicates(ctx.repos.datasets.get(input.dataset).id),
    'curation.accept': (input) => {
      const found = store.suggestions(input.ids).filter((s) => s.suggestedClassId !== null)
      if (found.length === 0) throw new AppError('NOT_FOUND', 'None of these items is a likely mislabel with a suggested label in its dataset’s latest curation run.', 'ids')
      const datasets = new Set(found.map((s) => s.datasetId))
      if (datasets.size > 1) throw new AppError('CONFLICT', 'These items belong to more than one dataset; accept suggestions one dataset at a time.', 'ids')
      // One undo step per suggested class (labels.assign sets one class at a time).
      const byClass = new Map<string, string[]>()
      for (const s of found) byClass.set(s.suggestedClassId as string, [...(byClass.get(s.suggestedClassId as string) ?? []), s.itemId])
      let changedCount = 0
      let history = labels.history([...datasets][0] as string)
      for (const [classId, ids] of byClass) {
        const r = labels.assign(ids, classId)
        changedCount += r.changed
        history = r.history
      }
      store.resolveMislabels(found.map((s) => s.itemId))
      changed(history.datasetId, 'labels')
      return { changed: changedCount, history }
    },
    'curation.dismiss': (input) => {
      const found = store.suggestions(input.ids)
      const updated = store.resolveMislabels(input.ids)
      for (const id of new Set(found.map((s) => s.datasetId))) changed(id)
      return { updated }
    }
  }
}
