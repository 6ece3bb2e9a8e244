// The model registry: model packages in the library (models/<id>/model.json +
// weights.safetensors, written by ml/pixelgpt/package) and their rows in the models table.
// Import, export, rename, remove, scoring and loading for inference all go through here.
//
// Inference runs in an ML worker thread (one per execution-provider setting, spawned on first
// use, closed with the registry), so an ORT run never blocks the thread that answers the UI:
// ImageGPT models as WorkerPixelGptRunners (weights put into the worker once), imported ONNX
// models as WorkerSessions. `inference: 'thread'` (or TESSERA_INFERENCE=thread) runs them in
// this thread instead, through the same interfaces.
//
// A package is assembled under a temporary name and renamed into place before its row is
// inserted; a failure at any step removes what was written, so nothing half-written is ever
// listed. Leftover temporary folders (a crash mid-import) are swept when the registry opens.

import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { existsSync, promises as fs, readdirSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import sharp from 'sharp'

import { type ModelDetail, type ModelScore, type ModelSummary, type ModelTryResult, type OnnxModelInfo, type RuntimeReport, type Settings } from '../../shared/contract'
import { AppError, ConflictError, NotFoundError } from '../errors'
import { type EventBus } from '../events'
import { type Library } from '../library/library'
import { type DatasetsRepo } from '../library/datasets'
import { type ItemsRepo } from '../library/items'
import { type MediaRepo, mediaFilePath } from '../library/media'
import { type ModelRecord, type ModelsRepo } from '../library/models'
import { exportHfImageGpt, importHfImageGpt } from '../ml/interop/hf-imagegpt'
import { numel } from '../ml/interop/safetensors'
import { modelImageTokens, tokensToPng } from '../ml/palette/palette'
import { type PixelGptConfig, type PixelGptModel, hasClassifier, hasLmHead } from '../ml/pixelgpt/model'
import { MODEL_JSON, type ModelJson, WEIGHTS_FILE, readModelPackage, writeModelPackage } from '../ml/pixelgpt/package'
import { type PixelGptInference } from '../ml/pixelgpt/runner'
import { type WorkerPixelGptRunner } from '../ml/pixelgpt/worker-runner'
import { scoreImageFiles } from '../ml/pixelgpt/tasks'
import { type HostSession, type HostTensor, type ProviderName, type ProviderReport, type Runtime } from '../ml/runtime/session'
import { type MlWorkerClient } from '../ml/runtime/worker-client'
import { asAppError } from './errors'
import { CLASSIFIER_INPUT, CLASSIFIER_OUTPUT, imageGptClassifierOnnx } from './onnx-export'
import { PROBE_OUTPUT, attachProbeHead, fitProbe, probePredict } from './probe'
import { ONNX_FILE, type OnnxImageSpec, onnxImageInput, parseLabels, planOnnxImport } from './onnx-image'

const CAUSAL = 'ImageGPTForCausalImageModeling'
const CLASSIFY = 'ImageGPTForImageClassification'
/** Images scored per forward run. */
const SCORE_BATCH = 16

/** What the models table keeps in its config column, so listing never reads model files. */
export interface StoredModelInfo {
  architecture: string
  /** null for ONNX models */
  config: PixelGptConfig | null
  onnx?: OnnxModelInfo
  parameters: number
  generative: boolean
  classes: string[]
  conditionClasses: string[]
  weightsSha256: string
}

export interface LoadedModel {
  record: ModelRecord
  info: StoredModelInfo
  model: PixelGptModel
  /** Runs in the ML worker (the default) or in this thread (`inference: 'thread'`). */
  runner: PixelGptInference
}

export function parameterCount(m: PixelGptModel): number {
  let n = 0
  for (const t of m.weights.values()) n += numel(t.shape)
  return n
}

function infoOf(model: PixelGptModel, weightsSha256: string): StoredModelInfo {
  return {
    architecture: hasLmHead(model) ? CAUSAL : CLASSIFY,
    config: model.config,
    parameters: parameterCount(model),
    generative: hasLmHead(model),
    classes: model.classes,
    conditionClasses: model.conditionClasses,
    weightsSha256
  }
}

function kindOf(model: PixelGptModel): string {
  if (hasLmHead(model) && hasClassifier(model)) return 'imagegpt (generate + classify)'
  return hasLmHead(model) ? 'imagegpt (generate)' : 'imagegpt (classify)'
}

async function sha256File(file: string): Promise<string> {
  return createHash('sha256')
    .update(await fs.readFile(file))
    .digest('hex')
}

type ProviderSetting = Settings['executionProvider']

export interface ImportOptions {
  name?: string
  /** ONNX models: a label file, and preprocessing overrides. */
  labels?: string
  size?: number
  mean?: [number, number, number]
  std?: [number, number, number]
  crop?: boolean
}

function onnxFeed(spec: OnnxImageSpec, data: Float32Array): HostTensor {
  const { height: H, width: W, layout } = spec.input
  return { dtype: 'float32', dims: layout === 'nchw' ? [1, 3, H, W] : [1, H, W, 3], data }
}

function softmax(x: number[]): number[] {
  const m = Math.max(...x)
  const e = x.map((v) => Math.exp(v - m))
  const sum = e.reduce((a, b) => a + b, 0)
  return e.map((v) => v / sum)
}

/**
 * Whether `npm run setup:cuda` has put onnxruntime's CUDA provider library beside the binding.
 * 'auto' tries CUDA only then: without it, onnxruntime logs a loud load error before falling back.
 */
export function cudaProviderInstalled(): boolean {
  try {
    const req = createRequire(typeof __filename === 'string' ? __filename : path.join(process.cwd(), 'index.js'))
    const root = path.dirname(req.resolve('onnxruntime-node/package.json'))
    const lib = process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so'
    return existsSync(path.join(root, 'bin', 'napi-v6', process.platform, process.arch, lib))
  } catch {
    return false
  }
}

/** Providers to try for a setting; CPU is always the last resort. A named provider is always tried (and reported if it fails). */
export function providersFor(setting: ProviderSetting, platform: NodeJS.Platform = process.platform, cuda = cudaProviderInstalled()): ProviderName[] {
  if (setting === 'cpu') return ['cpu']
  if (setting !== 'auto') return [setting, 'cpu']
  if (platform === 'darwin') return ['coreml', 'cpu']
  const gpu: ProviderName[] = cuda ? ['cuda'] : []
  if (platform === 'win32') return [...gpu, 'dml', 'cpu']
  return [...gpu, 'cpu']
}

export interface ProbeResult {
  model: ModelDetail
  metrics: { trainLoss: number; trainAccuracy: number | null; testAccuracy: number | null; trainImages: number; testImages: number; skippedImages: number }
}

export interface ModelRegistryOptions {
  bus?: EventBus
  /** Dataset access, for probes. */
  data?: { datasets: DatasetsRepo; items: ItemsRepo; media: MediaRepo }
  /** The executionProvider setting, read whenever a model is loaded (default: CPU). */
  providerSetting?: () => ProviderSetting
  /**
   * Where models run: 'worker' (an ML worker thread, so this thread stays free) or 'thread'.
   * Default: $TESSERA_INFERENCE when it is one of those, else 'worker'.
   */
  inference?: 'worker' | 'thread'
}

/** Where the registry runs inference unless told: $TESSERA_INFERENCE, else the ML worker. */
export function defaultInference(): 'worker' | 'thread' {
  const env = process.env.TESSERA_INFERENCE
  return env === 'thread' || env === 'worker' ? env : 'worker'
}

export class ModelRegistry {
  /** Loaded models by id and provider list (weights in memory, compiled graphs); a couple at most. */
  private readonly loaded = new Map<string, Promise<LoadedModel>>()
  private readonly maxLoaded = 2
  /** One runtime (session cache, provider report) per provider list, for inference in this thread. */
  private readonly runtimes = new Map<string, Runtime>()
  /** One ML worker per provider list, for inference off this thread. */
  private readonly workers = new Map<string, Promise<MlWorkerClient>>()
  /** Imported ONNX models' sessions by id and provider list; a few at most. */
  private readonly onnxSessions = new Map<string, { session: Promise<HostSession>; client: MlWorkerClient | null }>()
  private readonly bus: EventBus | undefined
  private readonly data: ModelRegistryOptions['data']
  private readonly providerSetting: () => ProviderSetting
  readonly inference: 'worker' | 'thread'

  constructor(
    private readonly library: Library,
    private readonly repo: ModelsRepo,
    options: ModelRegistryOptions = {}
  ) {
    this.bus = options.bus
    this.data = options.data
    this.providerSetting = options.providerSetting ?? (() => 'cpu')
    this.inference = options.inference ?? defaultInference()
    this.sweepTemporaries()
  }

  /** The in-thread runtime for the current setting (training in this thread uses it too). */
  async threadRuntime(): Promise<Runtime> {
    return (await this.runtime()).runtime
  }

  /** The ML worker for the current setting, spawned and configured on first use; a worker that died is replaced. */
  private async worker(): Promise<{ client: MlWorkerClient; key: string }> {
    const providers = providersFor(this.providerSetting())
    const key = providers.join(',')
    let hit = this.workers.get(key)
    if (hit && !(await hit.then((c) => c.alive).catch(() => false))) {
      this.workers.delete(key)
      hit = undefined
    }
    if (!hit) {
      hit = (async () => {
        const { spawnMlWorker } = await import('../ml/runtime/worker-client')
        const client = spawnMlWorker()
        try {
          await client.configure({ providers })
        } catch (err) {
          await client.close()
          throw err
        }
        return client
      })()
      this.workers.set(key, hit)
    }
    return { client: await hit, key }
  }

  /** A session for ONNX bytes: in the ML worker, or in this thread's runtime. */
  private async onnxSession(bytes: Uint8Array): Promise<{ session: HostSession; client: MlWorkerClient | null }> {
    if (this.inference === 'worker') {
      const { client } = await this.worker()
      return { session: await client.session(bytes), client }
    }
    const { runtime } = await this.runtime()
    return { session: await runtime.load(bytes), client: null }
  }

  /** The runtime for the current setting; onnxruntime-node is loaded here, on first use. */
  private async runtime(): Promise<{ runtime: Runtime; key: string }> {
    const providers = providersFor(this.providerSetting())
    const key = providers.join(',')
    let runtime = this.runtimes.get(key)
    if (!runtime) {
      const { Runtime } = await import('../ml/runtime/session')
      runtime = new Runtime({ providers })
      this.runtimes.set(key, runtime)
    }
    return { runtime, key }
  }

  /**
   * Which provider sessions use under the current setting. A one-node probe graph is compiled
   * first, so a requested provider that cannot start shows up as a fallback with its reason.
   */
  async runtimeReport(): Promise<RuntimeReport> {
    const { Graph, identity } = await import('../ml/graph')
    const g = new Graph('provider-probe')
    g.output(identity(g.input('x', 'float32', [1])), 'y')
    let r: ProviderReport
    if (this.inference === 'worker') {
      const { client } = await this.worker()
      const { toOnnx } = await import('../ml/graph/serialize')
      await client.load(toOnnx(g))
      r = await client.report()
    } else {
      const { runtime } = await this.runtime()
      await runtime.compile(g)
      r = runtime.report()
    }
    return {
      setting: this.providerSetting(),
      requested: r.requested,
      available: r.available.map((b) => b.name),
      active: r.active,
      fallbacks: r.fallbacks,
      intraOpThreads: r.intraOpThreads,
      ortVersion: r.ortVersion
    }
  }

  /** Releases every session and closes the ML workers. */
  async close(): Promise<void> {
    this.loaded.clear()
    this.onnxSessions.clear()
    const all = [...this.runtimes.values()]
    this.runtimes.clear()
    for (const r of all) await r.dispose()
    const workers = [...this.workers.values()]
    this.workers.clear()
    for (const w of workers) await (await w.catch(() => null))?.close()
  }

  /** Removes temporary package folders a crashed import or export left behind. */
  private sweepTemporaries(): void {
    let names: string[]
    try {
      names = readdirSync(this.library.paths.models)
    } catch {
      return
    }
    for (const n of names) if (n.startsWith('.') && n.endsWith('.tmp')) rmSync(path.join(this.library.paths.models, n), { recursive: true, force: true })
  }

  list(): ModelSummary[] {
    return this.repo.list()
  }

  async get(ref: string): Promise<ModelDetail> {
    return this.detail(this.repo.record(ref))
  }

  private folder(record: ModelRecord): string {
    return this.library.resolveInside(record.path)
  }

  private async detail(record: ModelRecord): Promise<ModelDetail> {
    const info = record.config as StoredModelInfo
    let palette: number[][] = []
    let lineage: Record<string, unknown> = {}
    try {
      const json = JSON.parse(await fs.readFile(path.join(this.folder(record), MODEL_JSON), 'utf8')) as ModelJson
      palette = Array.isArray(json.palette) ? json.palette : []
      lineage = json.meta ?? {}
    } catch {
      // A missing or unreadable package shows as a model without palette; loading it says why.
    }
    return {
      id: record.id,
      name: record.name,
      kind: record.kind,
      source: record.source,
      createdAt: record.createdAt,
      parentId: record.parentId,
      architecture: info.architecture,
      config: info.config,
      onnx: info.onnx ?? null,
      parameters: info.parameters,
      generative: info.generative,
      classes: info.classes,
      conditionClasses: info.conditionClasses,
      palette,
      weightsSha256: info.weightsSha256,
      lineage,
      children: this.repo.children(record.id),
      usage: this.repo.usage(record.id)
    }
  }

  /**
   * Adds an in-memory model to the library as a package and a row. `meta` is the lineage kept in
   * model.json (import source, base model, dataset snapshot, training parameters, metrics).
   */
  async add(
    model: PixelGptModel,
    opts: { name: string; source: ModelSummary['source']; parentId?: string | null; meta?: Record<string, unknown>; uniqueName?: boolean }
  ): Promise<ModelDetail> {
    const name = opts.uniqueName ? this.repo.freeName(opts.name) : opts.name
    if (this.repo.nameTaken(name)) throw new ConflictError(`A model named "${name}" already exists; choose another name.`, 'name')
    const id = randomUUID()
    const rel = `models/${id}`
    const dir = this.library.resolveInside(rel)
    try {
      await writeModelPackage(dir, model, opts.meta ?? {})
      const sha = await sha256File(path.join(dir, WEIGHTS_FILE))
      const record = this.repo.insert({ id, name, kind: kindOf(model), source: opts.source, path: rel, config: infoOf(model, sha), parentId: opts.parentId ?? null })
      this.bus?.emit('library.changed', { domain: 'models', id })
      return await this.detail(record)
    } catch (err) {
      await fs.rm(dir, { recursive: true, force: true })
      throw asAppError(err)
    }
  }

  /** Imports a Hugging Face ImageGPT folder (causal LM or classifier). */
  async importHf(folder: string, name?: string): Promise<ModelDetail> {
    const abs = path.resolve(folder)
    const st = await fs.stat(abs).catch(() => null)
    if (!st) throw new NotFoundError(`There is no folder ${abs} to import.`)
    if (!st.isDirectory()) throw new AppError('UNSUPPORTED', `${abs} is a file; import needs a Hugging Face model folder (config.json, preprocessor_config.json, model.safetensors).`)
    let imported: Awaited<ReturnType<typeof importHfImageGpt>>
    try {
      imported = await importHfImageGpt(abs)
    } catch (err) {
      const e = asAppError(err)
      throw new AppError(e.code, `Cannot import ${abs}: ${e.message}`)
    }
    const meta = {
      importedFrom: { format: 'huggingface', path: abs, architecture: imported.architecture, ignoredTensors: imported.ignored, at: new Date().toISOString() },
      baseModel: null,
      datasetSnapshot: null,
      training: null,
      metrics: null
    }
    return this.add(imported.model, { name: name ?? path.basename(abs), uniqueName: name === undefined, source: 'imported', meta })
  }

  /**
   * Imports whatever `p` is: a Hugging Face ImageGPT folder (model.safetensors or
   * pytorch_model.bin), or an ONNX image model (a .onnx file, or a folder with model.onnx and
   * optionally preprocessor_config.json and labels.json / labels.txt / config.json id2label).
   */
  async import(p: string, opts: ImportOptions = {}): Promise<ModelDetail> {
    const abs = path.resolve(p)
    const st = await fs.stat(abs).catch(() => null)
    if (!st) throw new NotFoundError(`There is no file or folder ${abs} to import.`)
    if (st.isFile()) {
      if (abs.toLowerCase().endsWith('.onnx')) return this.importOnnx(abs, path.dirname(abs), opts)
      throw new AppError('UNSUPPORTED', `${abs} is neither a .onnx file nor a model folder (Hugging Face ImageGPT: config.json, preprocessor_config.json, model.safetensors).`)
    }
    const has = (f: string): Promise<boolean> => fs.stat(path.join(abs, f)).then(
      () => true,
      () => false
    )
    const weights = (await has('model.safetensors')) || (await has('pytorch_model.bin'))
    if (!weights && (await has(ONNX_FILE))) return this.importOnnx(path.join(abs, ONNX_FILE), abs, opts)
    return this.importHf(abs, opts.name)
  }

  private async importOnnx(file: string, folder: string, opts: ImportOptions): Promise<ModelDetail> {
    const label = path.basename(file)
    const readIf = (f: string): Promise<string | null> => fs.readFile(f, 'utf8').catch(() => null)
    let labels: string[] | undefined
    if (opts.labels) {
      const text = await readIf(path.resolve(opts.labels))
      if (text === null) throw new NotFoundError(`The label file ${path.resolve(opts.labels)} cannot be read.`)
      labels = parseLabels(text, path.basename(opts.labels))
    } else {
      for (const f of ['labels.json', 'labels.txt']) {
        const text = await readIf(path.join(folder, f))
        if (text !== null) {
          labels = parseLabels(text, f)
          break
        }
      }
      const cfg = labels ? null : await readIf(path.join(folder, 'config.json'))
      if (cfg) {
        try {
          const id2label = (JSON.parse(cfg) as { id2label?: unknown }).id2label
          if (id2label && typeof id2label === 'object') labels = parseLabels(JSON.stringify(id2label), 'config.json')
        } catch {
          // a config.json without labels is not ours to judge
        }
      }
    }
    let preprocessor: Record<string, unknown> | undefined
    const preText = await readIf(path.join(folder, 'preprocessor_config.json'))
    if (preText !== null) {
      try {
        preprocessor = JSON.parse(preText) as Record<string, unknown>
      } catch {
        throw new AppError('UNSUPPORTED', `preprocessor_config.json beside ${label} is not valid JSON.`)
      }
    }
    const bytes = await fs.readFile(file)
    const spec = planOnnxImport(bytes, label, {
      ...(labels ? { labels } : {}),
      ...(preprocessor ? { preprocessor } : {}),
      ...(opts.size !== undefined ? { size: opts.size } : {}),
      ...(opts.mean ? { mean: opts.mean } : {}),
      ...(opts.std ? { std: opts.std } : {}),
      ...(opts.crop !== undefined ? { crop: opts.crop } : {})
    })
    // Tessera's own export carries its preprocessing in preprocess.json: a round trip keeps it.
    const own = await readIf(path.join(folder, 'preprocess.json'))
    if (own !== null && opts.mean === undefined && opts.std === undefined) {
      try {
        const p = JSON.parse(own) as Partial<OnnxImageSpec['preprocess']>
        const ok3 = (v: unknown): v is [number, number, number] => Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number')
        if (ok3(p.mean) && ok3(p.std) && typeof p.rescale === 'number' && typeof p.resize === 'number' && typeof p.crop === 'boolean') {
          spec.preprocess = { resize: p.resize, crop: p.crop, rescale: p.rescale, mean: p.mean, std: p.std }
        }
      } catch {
        throw new AppError('UNSUPPORTED', `preprocess.json beside ${label} is not valid JSON.`)
      }
    }
    // Run it once on a blank image: a graph onnxruntime cannot load or run is refused here, not later.
    try {
      const { session } = await this.onnxSession(bytes)
      const out = await session.runHost({ [spec.input.name]: onnxFeed(spec, new Float32Array(3 * spec.input.height * spec.input.width)) })
      const y = out[spec.output.name]
      const dim = y?.dims[1] ?? 0
      if (!y || y.dims.length !== 2 || y.dims[0] !== 1 || !(dim > 0)) throw new Error(`output "${spec.output.name}" came back as [${y?.dims.join(', ') ?? ''}], not [1, D]`)
      if (spec.labels.length > 0 && dim !== spec.labels.length) throw new Error(`output "${spec.output.name}" has ${dim} values but there are ${spec.labels.length} labels`)
      spec.output.dim = dim
    } catch (err) {
      if (err instanceof AppError) throw err
      throw new AppError('UNSUPPORTED', `${label} could not be run by onnxruntime: ${(err as Error).message.split('\n')[0]}`)
    }
    const name = opts.name ?? this.repo.freeName(path.basename(file, path.extname(file)) === 'model' ? path.basename(folder) : path.basename(file, path.extname(file)))
    const meta = { importedFrom: { format: 'onnx', path: file, at: new Date().toISOString() }, baseModel: null, datasetSnapshot: null, training: null, metrics: null }
    return this.storeOnnx(bytes, spec, { name, source: 'imported', meta })
  }

  /** Writes an ONNX package (model.onnx + model.json) atomically and registers it. */
  private async storeOnnx(
    bytes: Uint8Array,
    spec: OnnxImageSpec,
    opts: { name: string; source: ModelSummary['source']; parentId?: string; meta: Record<string, unknown> }
  ): Promise<ModelDetail> {
    const { name } = opts
    if (this.repo.nameTaken(name)) throw new ConflictError(`A model named "${name}" already exists; choose another name.`, 'name')
    const id = randomUUID()
    const rel = `models/${id}`
    const dir = this.library.resolveInside(rel)
    const tmp = path.join(path.dirname(dir), `.${id}.${randomBytes(4).toString('hex')}.tmp`)
    const json: OnnxImageSpec = { ...spec, meta: opts.meta }
    try {
      await fs.mkdir(tmp)
      await fs.writeFile(path.join(tmp, ONNX_FILE), bytes)
      await fs.writeFile(path.join(tmp, MODEL_JSON), JSON.stringify(json, null, 2) + '\n')
      await fs.rename(tmp, dir)
      const info: StoredModelInfo = {
        architecture: spec.task === 'classifier' ? 'onnx-classifier' : 'onnx-feature-extractor',
        config: null,
        onnx: { task: spec.task, input: spec.input, output: spec.output, preprocess: spec.preprocess, inputs: spec.inputs, outputs: spec.outputs },
        parameters: spec.parameters,
        generative: false,
        classes: spec.labels,
        conditionClasses: [],
        weightsSha256: createHash('sha256').update(bytes).digest('hex')
      }
      const kind = spec.task === 'classifier' ? 'onnx (classify)' : 'onnx (features)'
      const record = this.repo.insert({ id, name, kind, source: opts.source, path: rel, config: info, parentId: opts.parentId ?? null })
      this.bus?.emit('library.changed', { domain: 'models', id })
      return await this.detail(record)
    } catch (err) {
      await fs.rm(tmp, { recursive: true, force: true })
      await fs.rm(dir, { recursive: true, force: true })
      throw asAppError(err)
    }
  }

  /**
   * A linear probe on an imported ONNX feature extractor over a dataset's labelled images:
   * a new ONNX classifier (backbone + head in one graph) whose base is the backbone. Items in
   * the test split are held out and reported; an image that cannot be read is skipped and counted.
   */
  async probe(backboneRef: string, datasetRef: string, opts: { name?: string; steps?: number } = {}): Promise<ProbeResult> {
    const d = this.data
    if (!d) throw new Error('The registry was opened without dataset access.')
    const { record, spec, session } = await this.loadOnnx(backboneRef)
    const dataset = d.datasets.get(datasetRef)
    const classes = [...dataset.classes].sort((a, b) => a.position - b.position)
    const classIndex = new Map(classes.map((c, i) => [c.id, i]))
    const items: { id: string; sha256: string; y: number; test: boolean }[] = []
    for (let page = d.items.list(dataset.id, { limit: 500 }); page.length; ) {
      for (const it of page) {
        const y = it.classId === null ? undefined : classIndex.get(it.classId)
        if (y !== undefined) items.push({ id: it.id, sha256: it.sha256, y, test: it.split === 'test' })
      }
      const last = page[page.length - 1] as (typeof page)[number]
      page = d.items.list(dataset.id, { limit: 500, after: { addedAt: last.addedAt, id: last.id } })
    }
    const train = items.filter((i) => !i.test)
    const used = new Set(train.map((i) => i.y))
    if (used.size < 2) throw new AppError('UNSUPPORTED', `Dataset "${dataset.name}" needs labelled images (outside the test split) of at least two classes for a probe; it has ${train.length} in ${used.size} class${used.size === 1 ? '' : 'es'}.`)
    const D = spec.output.dim
    const embed = async (sha: string): Promise<Float32Array | null> => {
      const media = d.media.get(sha)
      if (!media) return null
      try {
        const { data } = await onnxImageInput(mediaFilePath(this.library, media.path), spec, media.path)
        const out = await session.runHost({ [spec.input.name]: onnxFeed(spec, data) })
        return Float32Array.from(out[spec.output.name]?.data as Float32Array)
      } catch {
        return null
      }
    }
    const collect = async (list: typeof items): Promise<{ x: Float32Array; y: Int32Array; n: number; skipped: number }> => {
      const x = new Float32Array(list.length * D)
      const y = new Int32Array(list.length)
      let n = 0
      for (const it of list) {
        const e = await embed(it.sha256)
        if (!e) continue
        x.set(e, n * D)
        y[n++] = it.y
      }
      return { x: x.subarray(0, n * D), y: y.subarray(0, n), n, skipped: list.length - n }
    }
    const tr = await collect(train)
    const te = await collect(items.filter((i) => i.test))
    const steps = opts.steps ?? 300
    const { head, loss } = fitProbe({ x: tr.x, y: tr.y, n: tr.n, d: D, k: classes.length }, { steps })
    const accuracy = (s: { x: Float32Array; y: Int32Array; n: number }): number | null => {
      if (!s.n) return null
      let ok = 0
      for (let i = 0; i < s.n; i++) if (probePredict(head, s.x.subarray(i * D, i * D + D)) === s.y[i]) ok++
      return ok / s.n
    }
    const metrics = { trainLoss: loss, trainAccuracy: accuracy(tr), testAccuracy: accuracy(te), trainImages: tr.n, testImages: te.n, skippedImages: tr.skipped + te.skipped }
    const bytes = attachProbeHead(await fs.readFile(path.join(this.folder(record), ONNX_FILE)), spec.output.name, head)
    const probeSpec: OnnxImageSpec = {
      ...spec,
      task: 'classifier',
      output: { name: PROBE_OUTPUT, dim: classes.length },
      labels: classes.map((c) => c.name),
      outputs: [{ name: PROBE_OUTPUT, type: 'float32', shape: [spec.input.dynamicBatch ? 'N' : 1, classes.length] }],
      parameters: spec.parameters + D * classes.length + classes.length
    }
    const detail = await this.storeOnnx(bytes, probeSpec, {
      name: opts.name ?? this.repo.freeName(`${record.name} probe on ${dataset.name}`),
      source: 'trained',
      parentId: record.id,
      meta: {
        baseModel: { id: record.id, name: record.name },
        datasetSnapshot: { id: dataset.id, name: dataset.name, classes: classes.map((c) => c.name), items: items.map((i) => i.id).sort(), at: new Date().toISOString() },
        training: { objective: 'probe', optimizer: 'full-batch gradient descent', steps, lr: 0.5, l2: 1e-4, standardised: true },
        metrics
      }
    })
    return { model: detail, metrics }
  }

  /** An imported ONNX model's spec and session. */
  async loadOnnx(ref: string): Promise<{ record: ModelRecord; spec: OnnxImageSpec; session: HostSession }> {
    const record = this.repo.record(ref)
    if (!(record.config as StoredModelInfo).onnx) throw new AppError('UNSUPPORTED', `Model "${record.name}" is not an imported ONNX model.`)
    const dir = this.folder(record)
    try {
      const spec = JSON.parse(await fs.readFile(path.join(dir, MODEL_JSON), 'utf8')) as OnnxImageSpec
      // Kept per model and provider list, so labelling one image at a time does not send the graph again.
      const key = `${record.id}|${providersFor(this.providerSetting()).join(',')}`
      let hit = this.onnxSessions.get(key)
      if (hit && hit.client && !hit.client.alive) hit = undefined
      if (hit) {
        this.onnxSessions.delete(key)
        this.onnxSessions.set(key, hit)
      } else {
        const made = fs.readFile(path.join(dir, ONNX_FILE)).then((bytes) => this.onnxSession(bytes))
        const entry = { session: made.then((m) => m.session), client: null as MlWorkerClient | null }
        void made.then((m) => (entry.client = m.client)).catch(() => this.onnxSessions.delete(key))
        this.onnxSessions.set(key, entry)
        while (this.onnxSessions.size > 4) this.onnxSessions.delete(this.onnxSessions.keys().next().value as string)
        hit = entry
      }
      return { record, spec, session: await hit.session }
    } catch (err) {
      const e = err instanceof SyntaxError ? new AppError('UNSUPPORTED', `${MODEL_JSON} is not valid JSON.`) : asAppError(err)
      throw new AppError(e.code, `Model "${record.name}" cannot be loaded: ${e.message}`)
    }
  }

  /** Writes an imported ONNX model with its labels and preprocessing to a new folder. */
  async exportOnnx(ref: string, out: string): Promise<{ path: string; files: string[] }> {
    const record = this.repo.record(ref)
    if (!(record.config as StoredModelInfo).onnx) return this.exportImageGptOnnx(ref, out)
    const { spec } = await this.loadOnnx(ref)
    return this.writeNewFolder(out, async (tmp) => {
      await fs.copyFile(path.join(this.folder(record), ONNX_FILE), path.join(tmp, ONNX_FILE))
      if (spec.labels.length) await fs.writeFile(path.join(tmp, 'labels.json'), JSON.stringify(spec.labels, null, 2) + '\n')
      await fs.writeFile(path.join(tmp, 'preprocess.json'), JSON.stringify({ input: spec.input, output: spec.output, ...spec.preprocess }, null, 2) + '\n')
    })
  }

  /**
   * An ImageGPT classifier as model.onnx (palette tokenizer + forward + score head, weights
   * inside) with labels.json and preprocess.json, so it runs outside Tessera on plain pixels.
   */
  private async exportImageGptOnnx(ref: string, out: string): Promise<{ path: string; files: string[] }> {
    const { model, record } = await this.load(ref)
    if (!hasClassifier(model)) {
      throw new AppError('UNSUPPORTED', `Model "${record.name}" has no classifier head; ONNX export is for classifiers. Export it with format hf.`)
    }
    const bytes = imageGptClassifierOnnx(model)
    const S = model.config.side
    const preprocess = {
      input: { name: CLASSIFIER_INPUT, layout: 'nchw', height: S, width: S, dynamicBatch: true },
      output: { name: CLASSIFIER_OUTPUT, dim: model.classes.length },
      // (x / 255 - 0.5) / 0.5 = x / 127.5 - 1: the [-1, 1] space the palette lives in
      resize: S,
      crop: true,
      rescale: 1 / 255,
      mean: [0.5, 0.5, 0.5],
      std: [0.5, 0.5, 0.5]
    }
    return this.writeNewFolder(out, async (tmp) => {
      await fs.writeFile(path.join(tmp, ONNX_FILE), bytes)
      await fs.writeFile(path.join(tmp, 'labels.json'), JSON.stringify(model.classes, null, 2) + '\n')
      await fs.writeFile(path.join(tmp, 'preprocess.json'), JSON.stringify(preprocess, null, 2) + '\n')
    })
  }

  /** Fills a temporary sibling of `out` and renames it into place; `out` must not exist or be empty. */
  private async writeNewFolder(out: string, fill: (tmp: string) => Promise<void>): Promise<{ path: string; files: string[] }> {
    const abs = path.resolve(out)
    const existing = await fs.readdir(abs).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? null : Promise.reject(e)))
    if (existing && existing.length > 0) throw new ConflictError(`${abs} already exists and is not empty; export never overwrites. Choose a new folder.`, 'out')
    await fs.mkdir(path.dirname(abs), { recursive: true })
    const tmp = path.join(path.dirname(abs), `.${path.basename(abs)}.${randomBytes(4).toString('hex')}.tmp`)
    try {
      await fs.mkdir(tmp)
      await fill(tmp)
      if (existing) await fs.rmdir(abs)
      await fs.rename(tmp, abs)
    } catch (err) {
      await fs.rm(tmp, { recursive: true, force: true })
      throw asAppError(err)
    }
    return { path: abs, files: (await fs.readdir(abs)).sort() }
  }

  private async tryOnnx(ref: string, file: string, topK: number): Promise<ModelTryResult> {
    const { spec, session } = await this.loadOnnx(ref)
    let input: { data: Float32Array; rgb: Uint8Array }
    try {
      input = await onnxImageInput(path.resolve(file), spec, path.basename(file))
    } catch (err) {
      throw asAppError(err)
    }
    const out = await session.runHost({ [spec.input.name]: onnxFeed(spec, input.data) })
    const y = Array.from(out[spec.output.name]?.data as Float32Array)
    const { width: W, height: H } = spec.input
    const png = await sharp(Buffer.from(input.rgb), { raw: { width: W, height: H, channels: 3 } })
      .png()
      .toBuffer()
    const top =
      spec.task === 'classifier'
        ? softmax(y)
            .map((probability, i) => ({ label: spec.labels[i] as string, probability }))
            .sort((a, b) => b.probability - a.probability)
            .slice(0, topK)
        : []
    return { file, top, bitsPerToken: null, inputPng: `data:image/png;base64,${png.toString('base64')}`, completionPng: null, ...(spec.task === 'features' ? { embedding: y } : {}) }
  }

  async rename(ref: string, name: string): Promise<ModelDetail> {
    const r = this.repo.rename(ref, name)
    this.bus?.emit('library.changed', { domain: 'models', id: r.id })
    return this.detail(r)
  }

  /**
   * Removes the row and the package. Fine-tuned children keep working (their own weights are
   * complete) but lose their base link, so removal is refused while any exist unless `force`.
   */
  async remove(ref: string, force = false): Promise<{ id: string; orphaned: { id: string; name: string }[]; usage: ModelDetail['usage'] }> {
    const r = this.repo.record(ref)
    const children = this.repo.children(r.id)
    const usage = this.repo.usage(r.id)
    if (children.length > 0 && !force) {
      throw new ConflictError(
        `"${r.name}" is the base of ${children.length} fine-tuned model${children.length === 1 ? '' : 's'} (${children.map((c) => c.name).join(', ')}); they keep their weights but lose the link. Remove with force to go ahead.`
      )
    }
    const dir = this.folder(r)
    // Rename first so the folder disappears at once, then delete at leisure.
    const doomed = path.join(path.dirname(dir), `.${path.basename(dir)}.${randomBytes(4).toString('hex')}.tmp`)
    const moved = await fs.rename(dir, doomed).then(
      () => true,
      () => false
    )
    this.repo.delete(r.id)
    for (const k of [...this.loaded.keys()]) if (k.startsWith(`${r.id}|`)) this.unload(k)
    for (const k of [...this.onnxSessions.keys()]) if (k.startsWith(`${r.id}|`)) this.onnxSessions.delete(k)
    if (moved) await fs.rm(doomed, { recursive: true, force: true })
    this.bus?.emit('library.changed', { domain: 'models', id: r.id })
    return { id: r.id, orphaned: children, usage }
  }

  /** Writes the model as a Hugging Face ImageGPT folder. The folder must not exist (or be empty). */
  async exportHf(ref: string, out: string): Promise<{ path: string; files: string[] }> {
    const abs = path.resolve(out)
    const existing = await fs.readdir(abs).catch(() => null)
    if (existing && existing.length > 0) throw new ConflictError(`${abs} already exists and is not empty; export never overwrites. Choose a new folder.`, 'out')
    const { model } = await this.load(ref)
    return this.writeNewFolder(abs, (tmp) => exportHfImageGpt(model, tmp))
  }

  /** The model's weights and graphs, loaded once and kept for the next call. */
  async load(ref: string): Promise<LoadedModel> {
    const record = this.repo.record(ref)
    if ((record.config as StoredModelInfo).onnx) {
      throw new AppError('UNSUPPORTED', `Model "${record.name}" is an imported ONNX model; only ImageGPT models can score, generate or be exported in the Hugging Face layout.`)
    }
    const providers = providersFor(this.providerSetting()).join(',')
    const key = `${record.id}|${providers}`
    let hit = this.loaded.get(key)
    // A model whose worker died is loaded again into a new worker.
    if (hit && !(await hit.then((m) => m.runner.where === 'thread' || (m.runner as WorkerPixelGptRunner).client.alive).catch(() => false))) this.unload(key)
    else if (hit) {
      this.loaded.delete(key)
      this.loaded.set(key, hit)
      return hit
    }
    const info = record.config as StoredModelInfo
    hit = (async () => {
      try {
        const { model } = await readModelPackage(this.folder(record))
        if (this.inference === 'worker') {
          const { client } = await this.worker()
          const { WorkerPixelGptRunner } = await import('../ml/pixelgpt/worker-runner')
          const runner = new WorkerPixelGptRunner(model, client, `${record.id}:${info.weightsSha256}`)
          await runner.ready()
          return { record, info, model, runner }
        }
        // onnxruntime-node loads with the runner: only when a model is first run, not with every context.
        const { runtime } = await this.runtime()
        const { PixelGptRunner } = await import('../ml/pixelgpt/runner')
        return { record, info, model, runner: new PixelGptRunner(model, runtime) }
      } catch (err) {
        const e = asAppError(err)
        throw new AppError(e.code, `Model "${record.name}" cannot be loaded: ${e.message}`)
      }
    })()
    hit.catch(() => this.loaded.delete(key))
    this.loaded.set(key, hit)
    while (this.loaded.size > this.maxLoaded) this.unload(this.loaded.keys().next().value as string)
    return hit
  }

  /** Forgets a loaded model and releases what its runner holds (a caller still using it gets the weights put back on demand). */
  private unload(key: string): void {
    const hit = this.loaded.get(key)
    this.loaded.delete(key)
    void hit?.then((m) => m.runner.dispose()).catch(() => undefined)
  }

  /** Palette tokens of an image file at the model's side (centre-cropped). */
  async tokenize(model: PixelGptModel, file: string): Promise<Int32Array> {
    try {
      return await modelImageTokens(path.resolve(file), model, { label: path.basename(file) })
    } catch (err) {
      throw asAppError(err)
    }
  }

  /** Bits per token of each image; an image that cannot be read gets an error entry and the rest go on. */
  async score(ref: string, files: readonly string[], onResult?: (s: ModelScore) => void): Promise<ModelScore[]> {
    const { model, runner, record } = await this.load(ref)
    if (!hasLmHead(model)) throw new AppError('UNSUPPORTED', `Model "${record.name}" is a classifier without an lm_head, so it cannot score images.`)
    const out: ModelScore[] = []
    // Chunk by chunk, so a long list streams its results.
    for (let i = 0; i < files.length; i += SCORE_BATCH) {
      const chunk = files.slice(i, i + SCORE_BATCH)
      for (const s of await scoreImageFiles(runner, chunk.map((f) => path.resolve(f)), { batchSize: SCORE_BATCH })) {
        const j = out.length - i
        const r: ModelScore = { ...s, file: chunk[j] as string }
        out.push(r)
        onResult?.(r)
      }
    }
    return out
  }

  /** One image through the model: top classes, bits per token, and its lower half completed greedily. */
  async try(ref: string, file: string, topK = 5): Promise<ModelTryResult> {
    if ((this.repo.record(ref).config as StoredModelInfo).onnx) return this.tryOnnx(ref, file, topK)
    const { model, runner } = await this.load(ref)
    const tokens = await this.tokenize(model, file)
    const c = model.config
    let top: ModelTryResult['top'] = []
    if (hasClassifier(model)) {
      const probs = (await runner.classProbabilities([tokens]))[0] as number[]
      top = probs
        .map((probability, i) => ({ label: model.classes[i] as string, probability }))
        .sort((a, b) => b.probability - a.probability)
        .slice(0, topK)
    }
    const png = async (t: ArrayLike<number>): Promise<string> => `data:image/png;base64,${(await tokensToPng(t, model.palette, c.side)).toString('base64')}`
    let bitsPerToken: number | null = null
    let completionPng: string | null = null
    if (hasLmHead(model)) {
      bitsPerToken = ((await runner.nll([tokens]))[0] as number) / Math.LN2
      const [done] = await runner.generate({ count: 1, seed: 0, greedy: true, complete: { tokens, keepRows: Math.floor(c.side / 2) } })
      completionPng = await png(done as Int32Array)
    }
    return { file, top, bitsPerToken, inputPng: await png(tokens), completionPng }
  }
}
