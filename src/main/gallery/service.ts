// Generation jobs and the gallery, main-process side. A `generate` job resolves the model and
// parameters, hands the sampling to the ML worker thread (so the main process never blocks),
// turns streamed rows into throttled `generate.preview` frames, and saves every finished image
// to the library: content-addressed PNG under outputs/ with the recipe in its "tessera" tEXt
// chunk, a gallery row with the same recipe, scores, and the "send new outputs to" collection.

import { randomInt, randomUUID } from 'node:crypto'
import { promises as fs, readFileSync } from 'node:fs'
import path from 'node:path'
import { type z } from 'zod'

import { type GalleryItem, type GenerationRecipe, type ModelDetail } from '../../shared/contract'
import { type GenerateStartInput } from '../../shared/gallery-contract'
import { ingestFile } from '../datasets/ingest'
import { describeFsError } from '../datasets/scan'
import { writeNewFile } from '../files'
import { AppError, NotFoundError } from '../errors'
import { type EventBus } from '../events'
import { type JobKind, type JobRunner } from '../jobs'
import { type Library } from '../library/library'
import { CLASS_COLORS, DatasetsRepo } from '../library/datasets'
import { ItemsRepo } from '../library/items'
import { storeBytes } from '../library/media'
import { type ModelsRepo } from '../library/models'
import { readPngText, tokensToPng } from '../ml/palette/palette'
import { type MlWorkerClient, spawnMlWorker } from '../ml/runtime/worker-client'
import { validateSampling } from '../ml/sample/sampler'
import { type ModelRegistry } from '../models/registry'
import { APP_VERSION } from '../services/version'
import { GalleryStore } from './repo'
import { type GenerateEvent, type GenerateWork } from './worker-generate'

export const GENERATE_JOB = 'generate'
/** The tEXt keyword that holds the recipe (the same as `tessera generate` writes). */
export const RECIPE_KEY = 'tessera'
/** Preview frames per second per job, besides the first row and the end of every batch. */
export const PREVIEW_FPS = 15

export type GenerateInput = z.output<typeof GenerateStartInput>
/** What a generate job stores as its params: the request with the seed fixed and the model resolved. */
export interface GenerateJobParams extends GenerateInput {
  seed: number
  modelId: string
  modelName: string
}
export interface GenerateJobResult {
  ids: string[]
  seed: number
  count: number
}

/** The recipe as text for a PNG tEXt chunk: JSON with every non-ASCII character escaped (tEXt is Latin-1). */
export function recipeText(recipe: GenerationRecipe): string {
  return JSON.stringify(recipe).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/** The recipe in a PNG's tEXt chunk, normalized (older `tessera generate` files lack some fields). */
export function readRecipe(png: Buffer): GenerationRecipe {
  let text: string | undefined
  try {
    text = readPngText(png)[RECIPE_KEY]
  } catch {
    text = undefined
  }
  if (png.subarray(1, 4).toString('latin1') !== 'PNG') throw new AppError('UNSUPPORTED', 'This file is not a PNG, so it carries no Tessera recipe.')
  if (!text) throw new AppError('UNSUPPORTED', 'This PNG has no Tessera recipe (no "tessera" text chunk); only images Tessera generated carry one.')
  let raw: Record<string, unknown>
  try {
    raw = JSON.parse(text) as Record<string, unknown>
  } catch {
    throw new AppError('UNSUPPORTED', "This PNG's Tessera recipe is not valid JSON.")
  }
  const num = (v: unknown, d: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : d)
  const model = (raw.model ?? {}) as Record<string, unknown>
  const complete = raw.complete as Record<string, unknown> | null | undefined
  if (typeof raw.seed !== 'number') throw new AppError('UNSUPPORTED', "This PNG's Tessera recipe has no seed.")
  return {
    generator: typeof raw.generator === 'string' ? raw.generator : 'Tessera Studio',
    model: { id: String(model.id ?? ''), name: String(model.name ?? ''), weightsSha256: String(model.weightsSha256 ?? '') },
    seed: raw.seed,
    index: num(raw.index, 0),
    greedy: raw.greedy === true,
    temperature: num(raw.temperature, 1),
    topK: num(raw.topK, 0),
    topP: num(raw.topP, 1),
    class: typeof raw.class === 'string' ? raw.class : null,
    keepRows: num(raw.keepRows, 0),
    complete: complete
      ? {
          sha256: typeof complete.sha256 === 'string' ? complete.sha256 : null,
          file: typeof complete.file === 'string' ? complete.file : null,
          keepRows: num(complete.keepRows, num(raw.keepRows, 0))
        }
      : null,
    count: num(raw.count, 1),
    batchSize: typeof raw.batchSize === 'number' ? raw.batchSize : null,
    durationMs: typeof raw.durationMs === 'number' ? raw.durationMs : null
  }
}

/** Images per batch: as many as keep the KV cache within 512 MB, at most 16 (as ml/sample/generate does). */
export function defaultBatch(detail: ModelDetail, count: number): number {
  const c = detail.config
  if (!c) return 1
  const perImage = c.layers * 2 * c.side * c.side * c.width * 4
  return Math.max(1, Math.min(16, count, Math.floor((512 * 2 ** 20) / perImage)))
}

export interface GalleryDeps {
  library: Library
  bus: EventBus
  jobs: JobRunner
  models: ModelRegistry
  modelsRepo: ModelsRepo
}

export class GalleryService {
  readonly store: GalleryStore
  private worker: MlWorkerClient | null = null

  constructor(private readonly deps: GalleryDeps) {
    this.store = new GalleryStore(deps.library.db)
  }

  /** The `generate` job kind (register it on the runner). */
  jobKind(): JobKind<GenerateJobParams, { next: number; ids: string[] }, GenerateJobResult> {
    return {
      heavy: true,
      title: (p) => `Generate ${p.count} image${p.count === 1 ? '' : 's'} with ${p.modelName}`,
      run: (jc) => this.runJob(jc.jobId, jc.params, jc.checkpoint, jc.signal, (next, ids, done, total) => jc.saveCheckpoint({ next, ids }, { phase: 'sampling', done, total }), (u) => jc.progress(u))
    }
  }

  /** Checks a request and fixes its seed and model; what `generate.start` queues. */
  async prepare(input: GenerateInput): Promise<GenerateJobParams> {
    const detail = await this.deps.models.get(input.model)
    this.check(detail, input)
    return { ...input, seed: input.seed ?? randomInt(0, 2 ** 32), modelId: detail.id, modelName: detail.name }
  }

  async start(input: GenerateInput) {
    return this.deps.jobs.enqueue(GENERATE_JOB, await this.prepare(input))
  }

  private check(detail: ModelDetail, p: GenerateInput): { classIndex: number | null; side: number } {
    const config = detail.config
    if (!detail.generative || !config) throw new AppError('UNSUPPORTED', `Model "${detail.name}" is a classifier without an lm_head, so it cannot generate images.`, 'model')
    try {
      validateSampling({ greedy: p.greedy, temperature: p.temperature, ...(p.topK > 0 ? { topK: p.topK } : {}), ...(p.topP < 1 ? { topP: p.topP } : {}) })
    } catch (err) {
      throw new AppError('VALIDATION', (err as Error).message)
    }
    let classIndex: number | null = null
    if (p.className) {
      classIndex = detail.conditionClasses.findIndex((c) => c.toLowerCase() === p.className!.toLowerCase())
      if (classIndex < 0) {
        throw new AppError(
          'VALIDATION',
          detail.conditionClasses.length
            ? `Model "${detail.name}" has no conditioning class "${p.className}"; it knows ${detail.conditionClasses.join(', ')}.`
            : `Model "${detail.name}" was not trained with class conditioning, so it cannot generate a chosen class.`,
          'className'
        )
      }
    }
    if (p.complete && p.complete.keepRows > config.side) {
      throw new AppError('VALIDATION', `Rows to keep must be from 0 to ${config.side} (the model's image side), got ${p.complete.keepRows}.`, 'complete.keepRows')
    }
    return { classIndex, side: config.side }
  }

  private client(): MlWorkerClient {
    // A worker that died (its reason went to the job that was using it) is replaced.
    if (!this.worker?.alive) this.worker = spawnMlWorker()
    return this.worker
  }

  /** The source image of a completion, kept in the library so the recipe can name it by hash. */
  private async completionSource(c: NonNullable<GenerateInput['complete']>): Promise<{ file: string; sha256: string; from: string | null }> {
    if (c.sha256) {
      const row = this.deps.library.db.prepare('SELECT path FROM media WHERE sha256 = ?').get(c.sha256) as { path: string } | undefined
      if (!row) throw new NotFoundError(`No image with sha256 ${c.sha256} in the library.`)
      return { file: this.deps.library.resolveInside(row.path), sha256: c.sha256, from: null }
    }
    const abs = path.resolve(c.path!)
    let data: Buffer
    try {
      data = await fs.readFile(abs)
    } catch {
      throw new AppError('NOT_FOUND', `The image to complete, ${abs}, cannot be read.`, 'complete.path')
    }
    const ext = (path.extname(abs).slice(1).toLowerCase() || 'png').replace(/[^a-z0-9]/g, '').slice(0, 8) || 'png'
    const row = storeBytes(this.deps.library, data, { ext, mime: ext === 'png' ? 'image/png' : `image/${ext === 'jpg' ? 'jpeg' : ext}` })
    return { file: this.deps.library.resolveInside(row.path), sha256: row.sha256, from: abs }
  }

  private async runJob(
    jobId: string,
    p: GenerateJobParams,
    checkpoint: { next: number; ids: string[] } | null,
    signal: AbortSignal,
    save: (next: number, ids: string[], done: number, total: number) => void,
    progress: (u: { phase?: string; done: number; total?: number | null }) => void
  ): Promise<GenerateJobResult> {
    const { library, bus, modelsRepo } = this.deps
    const detail = await this.deps.models.get(p.modelId)
    const { classIndex, side } = this.check(detail, p)
    const palette = Float32Array.from(detail.palette.flat())
    const batchSize = p.batchSize ?? defaultBatch(detail, p.count)
    const source = p.complete ? await this.completionSource(p.complete) : null
    const confidenceClass = p.className ? detail.classes.findIndex((c) => c.toLowerCase() === p.className!.toLowerCase()) : -1
    const ids = [...(checkpoint?.ids ?? [])]
    const startAt = checkpoint?.next ?? 0
    const total = p.count * side
    const work: GenerateWork = {
      modelDir: library.resolveInside(modelsRepo.record(p.modelId).path),
      weightsSha256: detail.weightsSha256,
      count: p.count,
      batchSize,
      seed: p.seed,
      firstIndex: p.firstIndex,
      greedy: p.greedy,
      temperature: p.temperature,
      topK: p.topK,
      topP: p.topP,
      classIndex,
      confidenceClass: confidenceClass >= 0 ? confidenceClass : null,
      complete: source && p.complete ? { file: source.file, keepRows: p.complete.keepRows } : null,
      startAt
    }
    const base: Omit<GenerationRecipe, 'index' | 'durationMs'> = {
      generator: `Tessera Studio ${APP_VERSION}`,
      model: { id: detail.id, name: detail.name, weightsSha256: detail.weightsSha256 },
      seed: p.seed,
      greedy: p.greedy,
      temperature: p.temperature,
      topK: p.topK,
      topP: p.topP,
      class: classIndex === null ? null : (detail.conditionClasses[classIndex] ?? null),
      keepRows: p.complete?.keepRows ?? 0,
      complete: source && p.complete ? { sha256: source.sha256, file: source.from, keepRows: p.complete.keepRows } : null,
      count: p.count,
      batchSize
    }

    const preview = new PreviewThrottle(1000 / PREVIEW_FPS, async (f) => {
      const images = await Promise.all(f.images.map(async (t) => `data:image/png;base64,${(await tokensToPng(t, palette, side)).toString('base64')}`))
      bus.emit('generate.preview', { jobId, batchStart: f.batchStart, images, rowsDone: f.rowsDone, rows: side, count: p.count, finished: f.finished })
    })
    let finished = startAt
    let chain: Promise<void> = Promise.resolve()
    const onEvent = (e: GenerateEvent): void => {
      if (e.kind === 'row') {
        // The first row of each batch always shows (the user sees it start); later rows at the frame rate.
        preview.push({ batchStart: e.batchStart, images: e.images, rowsDone: e.row + 1, finished }, e.row === 0 && e.rows > 1)
        progress({ phase: 'sampling', done: e.batchStart * side + (e.row + 1) * e.images.length, total })
        return
      }
      chain = chain.then(async () => {
        const n = e.images.length
        for (let i = 0; i < n; i++) {
          const recipe: GenerationRecipe = { ...base, index: p.firstIndex + e.batchStart + i, durationMs: e.ms / n }
          if (p.gallery) {
            // A kill after an image's row and before the checkpoint that counts it: the resumed job
            // makes that image again (same seed, same index); its row is kept, not doubled.
            const kept = this.deps.library.db.prepare('SELECT id FROM gallery_outputs WHERE job_id = ? AND image_index = ?').get(jobId, recipe.index) as { id: string } | undefined
            if (kept) {
              if (!ids.includes(kept.id)) ids.push(kept.id)
              continue
            }
            const item = await this.saveOutput(e.images[i]!, palette, side, recipe, {
              modelId: detail.id,
              bitsPerToken: e.bitsPerToken[i] ?? null,
              classConfidence: e.confidence[i] ?? null,
              sourceSha256: source?.sha256 ?? null,
              jobId
            })
            ids.push(item.id)
          }
        }
        finished = e.batchStart + n
        preview.push({ batchStart: e.batchStart, images: e.images, rowsDone: side, finished }, true)
        save(finished, ids, finished * side, total)
        if (p.gallery) bus.emit('library.changed', { domain: 'gallery' })
      })
    }
    progress({ phase: 'loading model', done: startAt * side, total })
    let completed: boolean
    try {
      completed = await this.client().generate(work, onEvent, signal)
    } catch (err) {
      // A crashed worker is replaced on the next request.
      if (/ML worker exited/.test((err as Error).message)) this.worker = null
      await chain.catch(() => undefined)
      throw err
    } finally {
      await chain.catch(() => undefined)
      await preview.close()
    }
    await chain
    if (!completed || signal.aborted) throw new AppError('CANCELLED', `Generation was cancelled; ${ids.length} finished image${ids.length === 1 ? '' : 's'} kept.`)
    return { ids, seed: p.seed, count: p.count }
  }

  /** Writes one image (recipe in tEXt) content-addressed under outputs/ and adds its gallery row. */
  async saveOutput(
    tokens: ArrayLike<number>,
    palette: Float32Array,
    side: number,
    recipe: GenerationRecipe,
    o: { modelId: string | null; bitsPerToken: number | null; classConfidence: number | null; sourceSha256: string | null; jobId: string | null }
  ): Promise<GalleryItem> {
    const png = await tokensToPng(tokens, palette, side, { text: { [RECIPE_KEY]: recipeText(recipe) } })
    const media = storeBytes(this.deps.library, png, { ext: 'png', mime: 'image/png', width: side, height: side, under: 'outputs' })
    return this.store.add({ sha256: media.sha256, recipe, ...o })
  }

  /**
   * Adds PNGs that carry a Tessera recipe (written by `tessera generate`, exported, or dragged
   * in) to the gallery, scored under their model when it is in the library. A file without a
   * recipe is refused with the reason.
   */
  async importFiles(files: readonly string[], jobId: string | null = null): Promise<GalleryItem[]> {
    // Every file read and its recipe checked first: a bad one refuses the batch with its name, before anything is added.
    const read: { abs: string; png: Buffer; recipe: GenerationRecipe }[] = []
    for (const file of files) {
      const abs = path.resolve(file)
      let png: Buffer
      try {
        png = await fs.readFile(abs)
      } catch (e) {
        throw new AppError('NOT_FOUND', `${file} ${describeFsError(e)}.`, 'paths')
      }
      try {
        read.push({ abs, png, recipe: readRecipe(png) })
      } catch (e) {
        throw e instanceof AppError ? new AppError(e.code, `${file}: ${e.message}`, 'paths') : e
      }
    }
    const out: GalleryItem[] = []
    for (const { abs, png, recipe } of read) {
      const model = recipe.model.id ? this.deps.modelsRepo.find(recipe.model.id) : undefined
      let bitsPerToken: number | null = null
      if (model) {
        const [score] = await this.deps.models.score(model.id, [abs]).catch(() => [])
        if (score && 'bitsPerToken' in score) bitsPerToken = score.bitsPerToken
      }
      // IHDR: width and height right after the signature and the chunk header.
      const media = storeBytes(this.deps.library, png, { ext: 'png', mime: 'image/png', width: png.readUInt32BE(16), height: png.readUInt32BE(20), under: 'outputs' })
      out.push(this.store.add({ sha256: media.sha256, recipe, modelId: model?.id ?? null, bitsPerToken, classConfidence: null, sourceSha256: recipe.complete?.sha256 ?? null, jobId }))
    }
    if (out.length) this.deps.bus.emit('library.changed', { domain: 'gallery' })
    return out
  }

  /**
   * Adds outputs to a dataset as items flagged "generated" (thumbnail and perceptual hashes made
   * like an import), labelled with their class (created in the dataset when missing) unless
   * `labelled` is false, and put in the train split so split assignment never moves them into test.
   */
  async addToDataset(ids: string[], datasetRef: string, opts: { labelled: boolean; split: 'train' | 'none' }): Promise<{ added: number; already: number; labelled: number }> {
    const { library } = this.deps
    const db = library.db
    const datasets = new DatasetsRepo(db)
    const items = new ItemsRepo(db)
    const dataset = datasets.get(datasetRef)
    const outputs = ids.map((id) => ({ item: this.store.get(id), media: this.store.mediaOf(id) }))
    let added = 0
    let already = 0
    let labelled = 0
    for (const { item, media } of outputs) {
      const ing = await ingestFile(library, library.resolveInside(media.path))
      const classId = opts.labelled && item.className ? this.classIn(dataset.id, item.className) : null
      db.transaction(() => {
        ing.record()
        const r = items.add(dataset.id, item.sha256, { originalName: `generated/${slug(item.modelName)}-${item.seed}-${String(item.index).padStart(3, '0')}.png` })
        if (r.added) added++
        else already++
        db.prepare("INSERT OR IGNORE INTO item_flags (item_id, flag) VALUES (?, 'generated')").run(r.item.id)
        if (classId) {
          items.setLabels([r.item.id], classId, 'human')
          labelled++
        }
        if (opts.split === 'train' && r.added) items.setSplit([r.item.id], 'train')
      })()
    }
    return { added, already, labelled }
  }

  /** The dataset's class of that name (case-insensitive), created when missing. */
  private classIn(datasetId: string, name: string): string {
    const db = this.deps.library.db
    const found = db.prepare('SELECT id FROM classes WHERE dataset_id = ? AND name = ? COLLATE NOCASE').get(datasetId, name) as { id: string } | undefined
    if (found) return found.id
    const position = (db.prepare('SELECT count(*) AS n FROM classes WHERE dataset_id = ?').get(datasetId) as { n: number }).n
    const id = randomUUID()
    db.prepare('INSERT INTO classes (id, dataset_id, name, color, position) VALUES (?, ?, ?, ?, ?)').run(id, datasetId, name, CLASS_COLORS[position % CLASS_COLORS.length]!, position)
    return id
  }

  /** Deletes rows and the files nothing else uses. */
  async delete(ids: string[]): Promise<{ removed: number; filesRemoved: number }> {
    const { removed, orphans } = this.store.remove(ids)
    let filesRemoved = 0
    for (const o of orphans) {
      try {
        await fs.rm(this.deps.library.resolveInside(o.path))
        filesRemoved++
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
      }
    }
    return { removed, filesRemoved }
  }

  /** Copies images into `out` as `<model>-<seed>-<index>.png`, never overwriting. */
  async export(ids: string[], out: string): Promise<{ files: string[] }> {
    const dir = path.resolve(out)
    const items = ids.map((id) => ({ item: this.store.get(id), media: this.store.mediaOf(id) }))
    await fs.mkdir(dir, { recursive: true })
    const files: string[] = []
    for (const { item, media } of items) {
      const stem = `${slug(item.modelName)}-${item.seed}-${String(item.index).padStart(3, '0')}`
      const data = await fs.readFile(this.deps.library.resolveInside(media.path))
      for (let n = 0; ; n++) {
        const file = path.join(dir, `${stem}${n ? `-${n}` : ''}.png`)
        try {
          await writeNewFile(file, data)
          files.push(file)
          break
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
        }
      }
    }
    return { files }
  }

  readRecipeFrom(input: { path?: string | undefined; pngBase64?: string | undefined }): GenerationRecipe {
    let png: Buffer
    if (input.path !== undefined) {
      try {
        png = readFileSync(path.resolve(input.path))
      } catch {
        throw new AppError('NOT_FOUND', `${input.path} cannot be read.`, 'path')
      }
    } else png = Buffer.from(input.pngBase64 ?? '', 'base64')
    return readRecipe(png)
  }

  async close(): Promise<void> {
    const w = this.worker
    this.worker = null
    await w?.close()
  }
}

interface Frame {
  batchStart: number
  images: Int32Array[]
  rowsDone: number
  finished: number
}

/** At most one frame per interval: the latest wins; a forced frame (a finished batch) goes out now. */
class PreviewThrottle {
  private last = 0
  private timer: NodeJS.Timeout | null = null
  private pending: Frame | null = null
  private sending: Promise<void> = Promise.resolve()

  constructor(
    private readonly intervalMs: number,
    private readonly emit: (f: Frame) => Promise<void>
  ) {}

  push(f: Frame, force = false): void {
    this.pending = f
    if (force) return this.fire()
    if (this.timer) return
    this.timer = setTimeout(() => this.fire(), Math.max(0, this.last + this.intervalMs - Date.now()))
  }

  private fire(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    const f = this.pending
    this.pending = null
    if (!f) return
    this.last = Date.now()
    this.sending = this.sending.then(() => this.emit(f)).catch((e: unknown) => console.error('[generate] preview failed:', e))
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    this.pending = null
    await this.sending
  }
}

export function slug(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 60) || 'model'
  )
}
