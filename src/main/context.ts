// Everything a front end (Electron window, browser host, CLI) needs from the back
// end, opened once per process: the library, its repositories, the event bus and
// the job runner with the built-in job kinds registered.

import { type AppInfo } from '../shared/contract'
import { datasetImportKind } from './datasets/import-job'
import { EventBus } from './events'
import { GENERATE_JOB, GalleryService } from './gallery/service'
import { JobRunner, libraryVerifyKind } from './jobs'
import { trainJobKind } from './ml/train/kind'
import { CLASSIFY_JOB, classifyJobKind } from './classify/job'
import { PREDICT_JOB, predictJobKind } from './labels/predict'
import { CURATE_JOB, curateJobKind } from './curation/job'
import { DatasetsRepo } from './library/datasets'
import { GalleryRepo } from './library/gallery'
import { ItemsRepo } from './library/items'
import { type Library, openLibrary } from './library/library'
import { MediaRepo } from './library/media'
import { ModelsRepo } from './library/models'
import { RunsRepo } from './library/runs'
import { SettingsRepo } from './library/settings'
import { ModelRegistry } from './models/registry'

export interface AppContext {
  host: AppInfo['host']
  library: Library
  bus: EventBus
  jobs: JobRunner
  repos: {
    datasets: DatasetsRepo
    settings: SettingsRepo
    models: ModelsRepo
    media: MediaRepo
    items: ItemsRepo
    gallery: GalleryRepo
    runs: RunsRepo
  }
  /** Model packages: import, export, load for inference (src/main/models). */
  models: ModelRegistry
  /** Generation jobs and the gallery (src/main/gallery). */
  gallery: GalleryService
  close(): Promise<void>
}

export interface CreateContextOptions {
  libraryDir: string
  host: AppInfo['host']
  /** Start taking queued jobs now (app, browser host). The CLI starts jobs itself. */
  startJobs?: boolean
}

export function createContext(options: CreateContextOptions): AppContext {
  const library = openLibrary(options.libraryDir)
  const bus = new EventBus()
  const jobs = new JobRunner(library.db, bus)
  jobs.register('library.verify', libraryVerifyKind(library))
  jobs.register('datasets.import', datasetImportKind(library, bus))
  jobs.register('train', trainJobKind({ library, bus, models: () => models }))
  const modelsRepo = new ModelsRepo(library.db)
  const settings = new SettingsRepo(library.db)
  const datasets = new DatasetsRepo(library.db)
  const items = new ItemsRepo(library.db)
  const media = new MediaRepo(library.db)
  const models = new ModelRegistry(library, modelsRepo, { bus, providerSetting: () => settings.get().executionProvider, data: { datasets, items, media } })
  const gallery = new GalleryService({ library, bus, jobs, models, modelsRepo })
  jobs.register(GENERATE_JOB, gallery.jobKind())
  jobs.register(CLASSIFY_JOB, classifyJobKind({ library, bus, models: () => models, modelsRepo: () => modelsRepo }))
  jobs.register(PREDICT_JOB, predictJobKind({ library, bus, models: () => models }))
  jobs.register(CURATE_JOB, curateJobKind({ library, bus, models: () => models }))
  jobs.recover()
  if (options.startJobs) jobs.start()
  return {
    host: options.host,
    library,
    bus,
    jobs,
    repos: {
      datasets,
      settings,
      models: modelsRepo,
      media,
      items,
      gallery: new GalleryRepo(library.db),
      runs: new RunsRepo(library.db)
    },
    models,
    gallery,
    async close() {
      await jobs.close()
      await gallery.close()
      await models.close()
      library.close()
    }
  }
}
