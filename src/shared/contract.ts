// The one contract between the studio's front ends (Electron renderer, browser host
// page, CLI) and its back end. Every method has a name, a zod input schema and a
// result type; every event has a name and a payload type. The back end validates
// every input against these schemas at its boundary (src/main/host/dispatch.ts).
// The renderer imports this module for types only.
//
// Later issues add methods here; keep names `<domain>.<verb>`.

import { z } from 'zod'
import type { Result } from './result'
import {
  DatasetDuplicatesInput,
  DatasetExportInput,
  DatasetImportInput,
  DatasetSplitInput,
  ItemsListInput,
  ItemsRemoveInput,
  ItemsSetLabelInput,
  ItemsSetSplitInput,
  type DatasetItem,
  type DatasetStats,
  type DuplicateGroup,
  type ExportResult,
  type ItemPage,
  type SplitResult
} from './datasets-contract'
import {
  GalleryAddToDatasetInput,
  GalleryCollectionAddInput,
  GalleryCollectionCreateInput,
  GalleryCollectionRemoveInput,
  GalleryExportInput,
  GalleryIdsInput,
  GalleryImportInput,
  GalleryListInput,
  GalleryRateInput,
  GalleryReadRecipeInput,
  GallerySendToInput,
  GalleryStarInput,
  GenerateStartInput,
  type GalleryCollection,
  type GalleryCollections,
  type GalleryItem,
  type GalleryPage,
  type GeneratePreview,
  type GenerationRecipe
} from './gallery-contract'
import { TrainStartInput, type TrainRunInfo } from './train-contract'
import { snapshotMethods } from './snapshots-contract'
import {
  ClassifyCorrectInput,
  ClassifyExportInput,
  ClassifyParams,
  ClassifyResultsQuery,
  ClassifyThumbInput,
  ClassifyToDatasetInput,
  type ClassifyRow,
  type ClassifyRunInfo,
  type ClassifyUndoReport
} from './classify-contract'
import {
  ClassCreateInput,
  ClassDeleteInput,
  ClassMergeInput,
  ClassRecolorInput,
  ClassRenameInput,
  ClassReorderInput,
  LabelsAcceptAboveInput,
  LabelsAcceptInput,
  LabelsAssignInput,
  LabelsDatasetInput,
  LabelsListInput,
  LabelsPredictInput,
  type AcceptAboveResult,
  type ClassImpact,
  type LabelChangeResult,
  type LabelHistory,
  type PredictedPage,
  type PredictionStatus
} from './labels-contract'

import {
  CurationDatasetInput,
  CurationIdsInput,
  CurationMislabelsInput,
  CurationStartInput,
  type CurationSummary,
  type FeatureDuplicateGroup,
  type MislabelRow
} from './curation-contract'

export * from './datasets-contract'
export * from './curation-contract'
export * from './gallery-contract'
export * from './train-contract'
export * from './labels-contract'
export * from './snapshots-contract'

// ---------------------------------------------------------------------------
// Shared schema pieces

/** Ids are opaque strings made by the back end (UUID v4 or content hashes). */
export const Id = z.string().min(1).max(128)
/** A human name: trimmed, non-empty, one line. */
export const Name = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters')
  .refine((s) => !/[\r\n\0]/.test(s), 'must be one line without control characters')
/** An id or a unique name, as the CLI accepts them. */
export const Ref = z.string().trim().min(1).max(200)

// ---------------------------------------------------------------------------
// Result types (plain data: what crosses IPC, WebSocket and CLI --json)

export interface AppInfo {
  name: 'Tessera Studio'
  version: string
  libraryPath: string
  host: 'electron' | 'browser' | 'cli'
  platform: string
  schemaVersion: number
}

export type JobState = 'queued' | 'running' | 'paused' | 'done' | 'failed' | 'cancelled' | 'interrupted'

export interface Job {
  id: string
  kind: string
  title: string
  state: JobState
  /** Heavy jobs (training, batch classify, generation) run one at a time. */
  heavy: boolean
  params: unknown
  phase: string | null
  done: number
  total: number | null
  /** Units per second over the recent window. */
  rate: number | null
  etaS: number | null
  error: string | null
  result: unknown
  createdAt: string
  startedAt: string | null
  finishedAt: string | null
}

export interface JobProgress {
  jobId: string
  phase: string
  done: number
  total: number | null
  rate: number | null
  etaS: number | null
  metrics?: Record<string, number>
}

export interface ClassInfo {
  id: string
  name: string
  color: string
  position: number
}

export interface Dataset {
  id: string
  name: string
  description: string
  createdAt: string
  updatedAt: string
  itemCount: number
  labelledCount: number
  classes: ClassInfo[]
}

export interface ModelSummary {
  id: string
  name: string
  kind: string
  source: 'builtin' | 'imported' | 'trained'
  createdAt: string
  parentId: string | null
  /** Labels of its classifier head; empty when it has none. */
  classes: string[]
  /** Classes it can be conditioned on when generating. */
  conditionClasses: string[]
}

/** An imported ONNX image model: how it is fed and read. */
export interface OnnxModelInfo {
  task: 'classifier' | 'features'
  input: { name: string; layout: 'nchw' | 'nhwc'; height: number; width: number; dynamicBatch: boolean }
  output: { name: string; dim: number }
  preprocess: { resize: number; crop: boolean; rescale: number; mean: number[]; std: number[] }
  /** Every declared input and output, as inspected. */
  inputs: { name: string; type: string; shape: (number | string)[] }[]
  outputs: { name: string; type: string; shape: (number | string)[] }[]
}

/** One model in full: what models.get, models.import and models.rename answer. */
export interface ModelDetail extends ModelSummary {
  /** 'ImageGPTForCausalImageModeling', 'ImageGPTForImageClassification', 'onnx-classifier' or 'onnx-feature-extractor'. */
  architecture: string
  /** The ImageGPT config; null for an ONNX model. */
  config: {
    side: number
    paletteSize: number
    width: number
    layers: number
    heads: number
    innerWidth: number
    eps: number
    numClasses: number
  } | null
  /** How an imported ONNX model is fed and read; null for ImageGPT models. */
  onnx: OnnxModelInfo | null
  parameters: number
  /** It can score and generate images (has an lm_head). */
  generative: boolean
  /** [K][3] palette colours in [-1, 1]. */
  palette: number[][]
  /** sha256 of weights.safetensors, hex. */
  weightsSha256: string
  /** Where it came from: import source, base model, dataset snapshot, training parameters, metrics. */
  lineage: Record<string, unknown>
  /** Models fine-tuned from this one (they lose their base link if it is removed). */
  children: { id: string; name: string }[]
  /** Other rows that name this model: training runs (as base or result), predicted labels, gallery images. They stay, without the link, if it is removed. */
  usage: { trainingRuns: number; labels: number; outputs: number }
}

/** Bits per token of one image under a model, or why it could not be scored. */
export type ModelScore = { file: string; bitsPerToken: number; nllNatsPerToken: number } | { file: string; error: string }

export interface ModelTryResult {
  file: string
  /** Top classes of a classifier head, most likely first. */
  top: { label: string; probability: number }[]
  /** Under the lm_head; null for a classifier-only model. */
  bitsPerToken: number | null
  /** The image as the model sees it, and its lower half regenerated (greedy from the top half), as PNG data URLs; null without an lm_head. */
  inputPng: string
  completionPng: string | null
  /** The embedding of an ONNX feature extractor. */
  embedding?: number[]
}

/** Which execution provider the model sessions really use. */
export interface RuntimeReport {
  /** The executionProvider setting this report is for. */
  setting: Settings['executionProvider']
  /** Providers tried in order (CPU last). */
  requested: string[]
  /** Backends this onnxruntime-node build offers. */
  available: string[]
  /** The provider sessions run on. */
  active: string
  /** Requested providers that could not be used, with the reason. */
  fallbacks: { provider: string; reason: string }[]
  intraOpThreads: number
  ortVersion: string
}

export interface Settings {
  theme: 'system' | 'light' | 'dark'
  executionProvider: 'auto' | 'cpu' | 'cuda' | 'dml' | 'coreml'
}

// ---------------------------------------------------------------------------
// Input schemas

const Empty = z.object({}).strict()
export const IdInput = z.object({ id: Id }).strict()
export const RefInput = z.object({ ref: Ref }).strict()

export const SettingsSetInput = z
  .object({
    theme: z.enum(['system', 'light', 'dark']).optional(),
    executionProvider: z.enum(['auto', 'cpu', 'cuda', 'dml', 'coreml']).optional()
  })
  .strict()

export const JobsListInput = z
  .object({
    states: z.array(z.enum(['queued', 'running', 'paused', 'done', 'failed', 'cancelled', 'interrupted'])).optional(),
    limit: z.number().int().min(1).max(1000).optional()
  })
  .strict()

export const DatasetCreateInput = z
  .object({
    name: Name,
    description: z.string().max(10_000).optional(),
    classes: z.array(Name).max(1000).optional()
  })
  .strict()

export const DatasetRenameInput = z.object({ ref: Ref, name: Name }).strict()

/** An absolute or working-directory-relative path on the back end's machine. */
const FilePath = z.string().trim().min(1).max(4096)

const Triple = z.tuple([z.number(), z.number(), z.number()])
export const ModelImportInput = z
  .object({
    path: FilePath,
    name: Name.optional(),
    /** ONNX models: a label file (JSON array, id2label object, or one label per line); without one the model is a feature extractor. */
    labels: FilePath.optional(),
    /** ONNX models: preprocessing when the folder has no preprocessor_config.json (or to override it). */
    size: z.number().int().min(1).max(4096).optional(),
    mean: Triple.optional(),
    std: Triple.optional(),
    crop: z.boolean().optional()
  })
  .strict()
export const ModelRenameInput = z.object({ ref: Ref, name: Name }).strict()
export const ModelRemoveInput = z
  .object({ ref: Ref, force: z.boolean().optional() })
  .strict()
export const ModelExportInput = z.object({ ref: Ref, out: FilePath, format: z.enum(['hf', 'onnx']).default('hf') }).strict()
export const ModelScoreInput = z.object({ ref: Ref, paths: z.array(FilePath).min(1).max(10_000) }).strict()
export const ModelProbeInput = z
  .object({ backbone: Ref, dataset: Ref, name: Name.optional(), steps: z.number().int().min(1).max(100_000).optional() })
  .strict()
export const ModelTryInput = z.object({ ref: Ref, path: FilePath, topK: z.number().int().min(1).max(100).optional() }).strict()
/** Largest image models.tryImage accepts (decoded bytes). */
export const TRY_IMAGE_MAX_BYTES = 8 * 1024 * 1024
/** Try an image sent as bytes (the browser host cannot name a file on the back end's machine). */
export const ModelTryImageInput = z
  .object({
    ref: Ref,
    /** The file's bytes, base64 (no data: prefix). */
    data: z.string().min(4).max(Math.ceil(TRY_IMAGE_MAX_BYTES / 3) * 4, `the image must be at most ${TRY_IMAGE_MAX_BYTES / 1024 / 1024} MB`).regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be base64'),
    /** The file's name, for messages. */
    name: z.string().trim().min(1).max(255).optional(),
    topK: z.number().int().min(1).max(100).optional()
  })
  .strict()

/** The first-run sample library (built-in models + sample datasets) and what of it is present. */
export interface SampleStatus {
  models: { name: string; present: boolean; modelId: string | null }[]
  /** Each sample dataset this build ships (items: in the library now; shipped: images shipped). */
  datasets: { name: string; present: boolean; datasetId: string | null; items: number; shipped: number }[]
  /** When the library was seeded on first start; null when it never was. */
  seededAt: string | null
}
export interface SampleSeedResult {
  /** Built-in models imported now. */
  modelsImported: string[]
  /** The dataset import jobs started now, one per sample dataset that was missing or missing images (empty when none was). */
  datasetJobs: { dataset: string; job: Job }[]
}

// ---------------------------------------------------------------------------
// Methods

/**
 * Declares a method with result type R: `method<R>()(inputSchema, description)`.
 * `result` is a phantom field that carries R for the type-level maps below.
 */
function method<R>() {
  return <I extends z.ZodType>(input: I, description: string) => ({
    input,
    description,
    result: undefined as unknown as R
  })
}

export const methods = {
  'app.info': method<AppInfo>()(Empty, 'What this studio is and where its library lives.'),

  'settings.get': method<Settings>()(Empty, 'Current settings.'),
  'settings.set': method<Settings>()(SettingsSetInput, 'Change settings; returns the new settings.'),

  'jobs.list': method<Job[]>()(JobsListInput, 'Jobs, newest first.'),
  'jobs.get': method<Job>()(IdInput, 'One job.'),
  'jobs.cancel': method<Job>()(IdInput, 'Cancel a queued, running or paused job.'),
  'jobs.pause': method<Job>()(IdInput, 'Pause a running job at its next checkpoint.'),
  'jobs.resume': method<Job>()(IdInput, 'Resume a paused or interrupted job from its checkpoint.'),

  'datasets.list': method<Dataset[]>()(Empty, 'All datasets.'),
  'datasets.get': method<Dataset>()(RefInput, 'One dataset by id or unique name.'),
  'datasets.create': method<Dataset>()(DatasetCreateInput, 'Create an empty dataset, optionally with classes.'),
  'datasets.rename': method<Dataset>()(DatasetRenameInput, 'Rename a dataset.'),
  'datasets.delete': method<{ id: string }>()(RefInput, 'Delete a dataset with its items and labels.'),
  'datasets.import': method<Job>()(DatasetImportInput, 'Create a dataset and start a job importing a folder or CSV into it.'),
  'datasets.stats': method<DatasetStats>()(RefInput, 'Item counts per class, split, label source and flag.'),
  'datasets.split': method<SplitResult>()(DatasetSplitInput, 'Stratified, seeded train/val/test for items without a split.'),
  'datasets.duplicates': method<DuplicateGroup[]>()(DatasetDuplicatesInput, 'Near-duplicate groups by perceptual hash; flags their items.'),
  'datasets.export': method<ExportResult>()(DatasetExportInput, 'Export items (now or as a snapshot froze them) as a folder-per-class tree, a CSV with images, or a zip; never overwriting.'),
  ...snapshotMethods,

  'curation.start': method<Job>()(CurationStartInput, 'Start a curation job: likely mislabels, outliers and feature near-duplicates of a dataset under an ImageGPT model.'),
  'curation.summary': method<CurationSummary | null>()(CurationDatasetInput, "The dataset's latest finished curation run: counts, thresholds, notes."),
  'curation.mislabels': method<{ total: number; rows: MislabelRow[] }>()(CurationMislabelsInput, 'Items still flagged as likely mislabels, given vs suggested label, least self-confident first.'),
  'curation.featureDuplicates': method<FeatureDuplicateGroup[]>()(CurationDatasetInput, "Groups of items whose model features are near-identical (the latest run's)."),
  'curation.accept': method<LabelChangeResult>()(CurationIdsInput, 'Take the suggested label of likely mislabels as their human label (undoable) and clear the flag.'),
  'curation.dismiss': method<{ updated: number }>()(CurationIdsInput, 'Keep the given label of likely mislabels and clear the flag.'),

  'items.list': method<ItemPage>()(ItemsListInput, 'A filtered, sorted page of a dataset’s items.'),
  'items.get': method<DatasetItem>()(IdInput, 'One item with its file facts.'),
  'items.setLabel': method<{ updated: number }>()(ItemsSetLabelInput, 'Set (or clear) the human label of items.'),
  'items.setSplit': method<{ updated: number }>()(ItemsSetSplitInput, 'Move items to a split (out of test only when allowed).'),
  'items.remove': method<{ removed: number }>()(ItemsRemoveInput, 'Remove items from their dataset (files stay in the library).'),

  'models.list': method<ModelSummary[]>()(Empty, 'All models in the library.'),
  'models.get': method<ModelDetail>()(RefInput, 'One model by id or unique name, with its config, palette, classes and lineage.'),
  'models.import': method<ModelDetail>()(
    ModelImportInput,
    'Import a Hugging Face ImageGPT folder (config.json, preprocessor_config.json, model.safetensors), or an ONNX image classifier / feature extractor (a .onnx file or a folder with model.onnx).'
  ),
  'models.rename': method<ModelDetail>()(ModelRenameInput, 'Rename a model.'),
  'models.remove': method<{ id: string; orphaned: { id: string; name: string }[]; usage: ModelDetail['usage'] }>()(
    ModelRemoveInput,
    'Remove a model and its files; refused while fine-tuned models name it as their base, unless force is set.'
  ),
  'models.export': method<{ path: string; files: string[] }>()(
    ModelExportInput,
    'Write a model to a new folder: Hugging Face layout for ImageGPT models, model.onnx + labels.json + preprocess.json for ONNX models; never overwrites.'
  ),
  'models.score': method<ModelScore[]>()(ModelScoreInput, 'Bits per token of each image under a generative model; a bad image gets an error entry.'),
  'models.probe': method<{
    model: ModelDetail
    metrics: { trainLoss: number; trainAccuracy: number | null; testAccuracy: number | null; trainImages: number; testImages: number; skippedImages: number }
  }>()(ModelProbeInput, "Fit a linear probe on an imported ONNX feature extractor over a dataset's labelled images (test split held out): a new classifier based on it."),
  'runtime.report': method<RuntimeReport>()(Empty, 'The execution provider model sessions use under the current setting, and why any requested one fell back.'),
  'models.try': method<ModelTryResult>()(ModelTryInput, "One image through a model: its top classes, bits per token and a completion of its lower half."),
  'models.tryImage': method<ModelTryResult>()(ModelTryImageInput, 'models.try on an image sent as base64 bytes (at most 8 MB).'),
  'samples.status': method<SampleStatus>()(Empty, 'Which parts of the sample library (built-in models, sample datasets) are in this library.'),
  'samples.reset': method<SampleSeedResult>()(Empty, 'Re-import the missing parts of the sample library; removes nothing.'),

  'labels.assign': method<LabelChangeResult>()(LabelsAssignInput, 'Set (or with null clear) the human label of items: one undo step, saved at once.'),
  'labels.accept': method<LabelChangeResult>()(LabelsAcceptInput, "Accept a model's cached prediction as the human label of items (one undo step)."),
  'labels.acceptAbove': method<AcceptAboveResult>()(LabelsAcceptAboveInput, 'Model labels for every item without a human label predicted at or above a confidence (dryRun: only count).'),
  'labels.undo': method<LabelChangeResult>()(LabelsDatasetInput, "Undo the dataset's latest label change."),
  'labels.redo': method<LabelChangeResult>()(LabelsDatasetInput, "Redo the dataset's latest undone label change."),
  'labels.history': method<LabelHistory>()(LabelsDatasetInput, 'Where undo and redo stand for a dataset.'),
  'labels.list': method<PredictedPage>()(LabelsListInput, "A page of items with a model's cached predictions: any Datasets filter, the disagreement queue or low confidence."),
  'labels.predict': method<Job>()(LabelsPredictInput, "Start a job caching a classifier's predictions for a dataset's items."),
  'labels.predictionStatus': method<PredictionStatus>()(LabelsPredictInput, 'How many of a dataset’s items have a cached prediction from a model.'),
  'classes.create': method<ClassInfo>()(ClassCreateInput, 'Add a class to a dataset.'),
  'classes.rename': method<ClassInfo>()(ClassRenameInput, 'Rename a class.'),
  'classes.recolor': method<ClassInfo>()(ClassRecolorInput, 'Change the colour of a class.'),
  'classes.reorder': method<ClassInfo[]>()(ClassReorderInput, 'Put classes in a new order (keys 1-9, 0 follow it).'),
  'classes.merge': method<ClassImpact>()(ClassMergeInput, 'Merge a class into another: its labels move, it goes (dryRun: only say what happens).'),
  'classes.delete': method<ClassImpact>()(ClassDeleteInput, 'Delete a class; its items stay, unlabelled (dryRun: only say what happens).'),

  'library.verify': method<Job>()(Empty, 'Start a job that re-hashes every library file and reports missing or changed ones.'),

  'train.start': method<{ runId: string; jobId: string }>()(TrainStartInput, 'Start a fine-tuning run (a train job): dataset + base model, everything else optional (auto).'),
  'train.runs': method<TrainRunInfo[]>()(Empty, 'Training runs, newest first, with history and test metrics.'),
  'train.run': method<TrainRunInfo>()(IdInput, 'One training run (by run or job id).'),
  'train.resume': method<{ runId: string; jobId: string }>()(IdInput, 'Resume a paused or interrupted run from its last checkpoint.'),
  'classify.start': method<{ runId: string; jobId: string }>()(ClassifyParams, 'Start a classify job over folders (a run): model, threshold, report / copy / move into class folders, dry run.'),
  'classify.runs': method<ClassifyRunInfo[]>()(Empty, 'Classify runs, newest first, with counts, plan and job state.'),
  'classify.run': method<ClassifyRunInfo>()(IdInput, 'One classify run.'),
  'classify.results': method<{ total: number; rows: ClassifyRow[] }>()(ClassifyResultsQuery, "A filtered, sorted page of a run's results."),
  'classify.resume': method<{ runId: string; jobId: string }>()(IdInput, 'Resume a paused or interrupted classify run; files already classified are skipped.'),
  'classify.undo': method<ClassifyUndoReport>()(IdInput, "Put a run's moved files back and remove its unchanged copies."),
  'classify.correct': method<{ updated: number }>()(ClassifyCorrectInput, 'Set (or with null clear) the corrected label of files in a run.'),
  'classify.toDataset': method<{ added: number; already: number; labelled: number; skipped: { path: string; reason: string }[] }>()(
    ClassifyToDatasetInput,
    "Add a run's corrected (or chosen) images to a dataset as labelled training data."
  ),
  'classify.export': method<{ path: string; rows: number }>()(ClassifyExportInput, "Write a run's results as CSV or JSON."),
  'classify.thumb': method<{ dataUrl: string | null }>()(ClassifyThumbInput, 'A small PNG of a file in a run (where it is now).'),

  'generate.start': method<Job>()(GenerateStartInput, 'Queue a generation job (runs in the ML worker); images are saved to the gallery with their recipe.'),
  'gallery.list': method<GalleryPage>()(GalleryListInput, 'A filtered, searched, sorted page of generated images.'),
  'gallery.get': method<GalleryItem>()(IdInput, 'One generated image with its recipe and scores.'),
  'gallery.facets': method<{ models: { id: string | null; name: string; count: number }[]; classes: string[] }>()(Empty, 'Models and classes the gallery holds (for its filters).'),
  'gallery.star': method<{ updated: number }>()(GalleryStarInput, 'Star or unstar images.'),
  'gallery.rate': method<{ updated: number }>()(GalleryRateInput, 'Rate images 1-5 (0 clears).'),
  'gallery.delete': method<{ removed: number; filesRemoved: number }>()(GalleryIdsInput, 'Delete images and their files (a file still used elsewhere stays).'),
  'gallery.export': method<{ files: string[] }>()(GalleryExportInput, 'Copy images (recipe in each PNG) into a folder, never overwriting.'),
  'gallery.readRecipe': method<GenerationRecipe>()(GalleryReadRecipeInput, "The recipe in a PNG's tessera tEXt chunk (a file path or the bytes in base64)."),
  'gallery.import': method<GalleryItem[]>()(GalleryImportInput, 'Add PNGs that carry a Tessera recipe (generated, exported, dragged in) to the gallery.'),
  'gallery.addToDataset': method<{ added: number; already: number; labelled: number }>()(
    GalleryAddToDatasetInput,
    'Add images to a dataset as items flagged generated, labelled with their class or unlabelled, in the train split by default.'
  ),
  'gallery.collections': method<GalleryCollections>()(Empty, 'Collections with their counts, and where new outputs go.'),
  'gallery.createCollection': method<GalleryCollection>()(GalleryCollectionCreateInput, 'Create a collection.'),
  'gallery.addToCollection': method<{ updated: number }>()(GalleryCollectionAddInput, 'Put images in a collection (move: out of the others).'),
  'gallery.removeFromCollection': method<{ updated: number }>()(GalleryCollectionRemoveInput, 'Take images out of a collection.'),
  'gallery.setSendTo': method<GalleryCollections>()(GallerySendToInput, 'Send new outputs to this collection too (null: none).')
} as const

export type Methods = typeof methods
export type MethodName = keyof Methods
export type MethodInput<M extends MethodName> = z.input<Methods[M]['input']>
export type MethodParsedInput<M extends MethodName> = z.output<Methods[M]['input']>
export type MethodResult<M extends MethodName> = Methods[M]['result']
export const methodNames = Object.keys(methods) as MethodName[]

// ---------------------------------------------------------------------------
// Events (back end -> front ends)

export interface Events {
  /** A job moved: progress within its current phase. Throttled by the back end. */
  'job.progress': JobProgress
  /** A job changed state (queued, running, done, ...). Carries the whole job. */
  'job.state': Job
  /** Something in the library changed; front ends refetch queries of that domain. */
  'library.changed': { domain: 'datasets' | 'items' | 'labels' | 'models' | 'runs' | 'gallery' | 'settings' | 'classify'; id?: string }
  /** Rows of a running generation, throttled to a steady frame rate. */
  'generate.preview': GeneratePreview
}
export type EventName = keyof Events
export const eventNames: EventName[] = ['job.progress', 'job.state', 'library.changed', 'generate.preview']

// ---------------------------------------------------------------------------
// The API both front ends see: `call` for methods, `on` for events.


export interface TesseraApi {
  call<M extends MethodName>(method: M, input: MethodInput<M>): Promise<Result<MethodResult<M>>>
  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void
}
