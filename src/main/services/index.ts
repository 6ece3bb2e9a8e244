// One handler per contract method. Handlers get input already validated by the
// dispatcher, throw AppError subclasses for expected failures, and return plain data.

import { platform } from 'node:process'
import { type MethodName, type MethodParsedInput, type MethodResult } from '../../shared/contract'
import { type AppContext } from '../context'
import { datasetServices } from '../datasets/services'
import { snapshotServices } from '../datasets/snapshot-handlers'
import { galleryServices } from '../gallery/handlers'
import { labelServices } from '../labels/handlers'
import { trainServices } from '../ml/train/handlers'
import { classifyServices } from '../classify/handlers'
import { curationServices } from '../curation/handlers'
import { APP_VERSION } from './version'
import { importMissingSamples, sampleStatus } from '../samples'
import { tryImageBytes } from '../samples/try-image'

export type Handler<M extends MethodName> = (input: MethodParsedInput<M>) => MethodResult<M> | Promise<MethodResult<M>>
export type Handlers = { [M in MethodName]: Handler<M> }

export function createServices(ctx: AppContext): Handlers {
  const { repos, jobs, bus, library } = ctx
  return {
    'app.info': () => ({
      name: 'Tessera Studio',
      version: APP_VERSION,
      libraryPath: library.paths.root,
      host: ctx.host,
      platform,
      schemaVersion: library.schemaVersion
    }),

    'settings.get': () => repos.settings.get(),
    'settings.set': (input) => {
      const s = repos.settings.set(input)
      bus.emit('library.changed', { domain: 'settings' })
      return s
    },

    'jobs.list': (input) => jobs.list(input.states, input.limit),
    'jobs.get': (input) => jobs.get(input.id),
    'jobs.cancel': (input) => jobs.cancel(input.id),
    'jobs.pause': (input) => jobs.pause(input.id),
    'jobs.resume': (input) => jobs.resume(input.id),

    'datasets.list': () => repos.datasets.list(),
    'datasets.get': (input) => repos.datasets.get(input.ref),
    'datasets.create': (input) => {
      const d = repos.datasets.create(input)
      bus.emit('library.changed', { domain: 'datasets', id: d.id })
      return d
    },
    'datasets.rename': (input) => {
      const d = repos.datasets.rename(input.ref, input.name)
      bus.emit('library.changed', { domain: 'datasets', id: d.id })
      return d
    },
    'datasets.delete': (input) => {
      const r = repos.datasets.delete(input.ref)
      bus.emit('library.changed', { domain: 'datasets', id: r.id })
      return r
    },

    'models.list': () => repos.models.list(),
    'models.get': (input) => ctx.models.get(input.ref),
    'models.import': ({ path, ...opts }) => ctx.models.import(path, opts),
    'models.rename': (input) => ctx.models.rename(input.ref, input.name),
    'models.remove': (input) => ctx.models.remove(input.ref, input.force === true),
    'models.export': (input) => (input.format === 'onnx' ? ctx.models.exportOnnx(input.ref, input.out) : ctx.models.exportHf(input.ref, input.out)),
    'models.score': (input) => ctx.models.score(input.ref, input.paths),
    'models.probe': (input) => ctx.models.probe(input.backbone, input.dataset, { ...(input.name ? { name: input.name } : {}), ...(input.steps ? { steps: input.steps } : {}) }),
    'runtime.report': () => ctx.models.runtimeReport(),
    'models.try': (input) => ctx.models.try(input.ref, input.path, input.topK),
    'models.tryImage': (input) => tryImageBytes(ctx, input),
    'samples.status': () => sampleStatus(ctx),
    'samples.reset': () => importMissingSamples(ctx),

    'library.verify': () => jobs.enqueue('library.verify', {}),

    ...datasetServices(ctx),
    ...snapshotServices(ctx),
    ...galleryServices(ctx),
    ...trainServices(ctx),
    ...classifyServices(ctx),
    ...labelServices(ctx),
    ...curationServices(ctx)
  }
}
