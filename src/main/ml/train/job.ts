// The `train` job kind: one fine-tuning run from a dataset and a base model to a new model in
// the registry, with lineage and test-split metrics.
//
// Exact resume: batches and augmentation/conditioning draws are pure functions of (seed, step),
// so a checkpoint is the step, the trainer's parameters and optimizer state (a safetensors file
// under runs/<run>/), and the bookkeeping (best validation, history). Pause, cancel, crash and
// SIGKILL all continue from the last checkpoint and end with the same weights as an
// uninterrupted run.
//
// Where ORT runs (compute.ts): in the CLI, in this thread (its own process, nothing to block);
// in the Electron main process, in an ML worker thread of the run's own, so neither training
// steps nor evaluation forwards block the main event loop. Same graphs, same Trainer, same
// numbers either way (tested).

import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { AppError } from '../../errors'
import { type EventBus } from '../../events'
import { type JobContext } from '../../jobs/runner'
import { type Library } from '../../library/library'
import { RunsRepo } from '../../library/runs'
import { SnapshotsRepo } from '../../datasets/snapshots'
import { type ModelRegistry, parameterCount } from '../../models/registry'
import { type StepGraph, stepSpec } from '../graph/optim'
import { parseSafetensors, serializeSafetensors, type TensorMap } from '../interop/safetensors'
import { buildForward, type ForwardOptions } from '../pixelgpt/graphs'
import { classToken, type PixelGptModel, seqLen, sosToken } from '../pixelgpt/model'
import { type HostTensor, hostTensor } from '../runtime'
import { type Compute, defaultComputeKind, type StepRunner, threadCompute, workerCompute } from './compute'
import { Prng } from '../sample/prng'
import { type Standardizer, standardizer } from './standardize'
import { BatchPlan, augmentTokens, type DatasetView, loadDatasetView, TokenCache, type TrainItem } from './data'
import { classificationMetrics, type ClassificationMetrics, softmax } from './metrics'
import { accumulatingSteps, classifyStep, generativeStep, jointStep, probeStep } from './objectives'
import { makePlan, type TrainPlan, type TrainRequest } from './plan'
import { lrAt } from './schedule'

export interface TrainJobParams extends TrainRequest {
  runId: string
}

export interface TrainDeps {
  library: Library
  bus: EventBus
  models: () => ModelRegistry
  /** Where ORT runs: this thread, or an ML worker of the run's own (default: defaultComputeKind()). */
  compute?: 'thread' | 'worker'
}

export interface HistoryPoint {
  step: number
  loss: number
  lr: number
}

export interface ValPoint {
  step: number
  loss: number
  accuracy?: number
}

export interface TrainCheckpoint {
  step: number
  plan: TrainPlan
  snapshotHash: string
  best: { metric: number; step: number } | null
  sinceBest: number
  history: HistoryPoint[]
  val: ValPoint[]
  elapsedS: number
  stoppedEarly: boolean
}

export interface Misclassified {
  itemId: string
  sha256: string
  name: string
  /** Class indices into the dataset's classes. */
  trueClass: number
  predictedClass: number
  confidence: number
}

export interface TestMetrics {
  split: 'test' | 'val' | 'train'
  classification?: ClassificationMetrics
  /** The evaluated items the model got wrong (up to 500), for click-through from the confusion matrix. */
  misclassified?: Misclassified[]
  /** Generative objectives: mean bits per token, conditioned on the class when the model is. */
  bitsPerToken?: number
  bitsPerTokenUnconditional?: number
}

export interface TrainResult {
  modelId: string
  modelName: string
  runId: string
  plan: TrainPlan
  steps: number
  /** Step of the kept (best validation) weights; null when there was no validation. */
  bestStep: number | null
  stoppedEarly: boolean
  metrics: TestMetrics
  durationS: number
}

const toHost = (w: TensorMap): Record<string, HostTensor> => Object.fromEntries([...w].map(([k, t]) => [k, hostTensor('float32', t.shape, t.data)]))

function writeTensors(file: string, values: Record<string, HostTensor>): void {
  const map: TensorMap = new Map()
  for (const [k, v] of Object.entries(values)) map.set(k, { shape: [...v.dims], data: v.data as Float32Array })
  const tmp = `${file}.tmp`
  writeFileSync(tmp, serializeSafetensors(map, {}))
  renameSync(tmp, file)
}

function readTensors(file: string): Record<string, HostTensor> {
  const buf = readFileSync(file)
  const { tensors } = parseSafetensors(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength))
  return toHost(tensors)
}

function normal(n: number, rng: Prng, std = 0.02): Float32Array {
  const a = new Float32Array(n)
  for (let i = 0; i < n; i++) a[i] = std * rng.normal()
  return a
}

/** Runs a forward graph over rows of items in batches; `feed` fills each batch's inputs. */
async function forwardBatches(
  compute: Compute,
  model: PixelGptModel,
  weights: Record<string, HostTensor>,
  opts: ForwardOptions,
  count: number,
  feed: (start: number, B: number) => Record<string, HostTensor>,
  onBatch: (start: number, B: number, out: Record<string, HostTensor>) => void,
  batch = 32
): Promise<void> {
  const built = buildForward(model.config, opts)
  const run = await compute.graph(built.graph)
  const w: Record<string, HostTensor> = {}
  for (const p of built.params) {
    const t = weights[p]
    if (!t) throw new AppError('INTERNAL', `The model has no weight "${p}".`)
    w[p] = t
  }
  for (let s = 0; s < count; s += batch) {
    const B = Math.min(batch, count - s)
    onBatch(s, B, await run({ ...w, ...feed(s, B) }))
  }
}

/** Pooled features (items x C) of `layer` for the items' plain pixel tokens, with progress under `phase`. */
async function pooledFeatures(
  compute: Compute,
  model: PixelGptModel,
  weights: Record<string, HostTensor>,
  items: TrainItem[],
  cache: TokenCache,
  layer: number,
  phase: string,
  ctx: JobContext<TrainJobParams, TrainCheckpoint>
): Promise<Float32Array> {
  const c = model.config
  const T = seqLen(c)
  const out = new Float32Array(items.length * c.width)
  await forwardBatches(
    compute,
    model,
    weights,
    { featureLayers: [layer] },
    items.length,
    (s, B) => {
      const ids = new BigInt64Array(B * T)
      for (let b = 0; b < B; b++) {
        const t = cache.get(items[s + b]!)
        for (let i = 0; i < T; i++) ids[b * T + i] = BigInt(t[i]!)
      }
      return { ids: hostTensor('int64', [B, T], ids) }
    },
    (s, B, o) => {
      out.set(o[`features_${layer}`]!.data as Float32Array, s * c.width)
      ctx.progress({ phase, done: s + B, total: items.length })
    }
  )
  return out
}

/**
 * A linear probe on the final pooled ln_f features of the train items, folded into a bias-free
 * Hugging Face score head (N, C): the warm start of a fine-tune's new head. Full-batch-ish AdamW
 * on standardized features, seeded; weight decay keeps the head's scale modest so fine-tuning
 * can still move it.
 */
async function probeHead(
  compute: Compute,
  model: PixelGptModel,
  weights: Record<string, HostTensor>,
  items: TrainItem[],
  cache: TokenCache,
  seed: number,
  ctx: JobContext<TrainJobParams, TrainCheckpoint>
): Promise<Float32Array> {
  const c = model.config
  const N = model.classes.length
  const f = await pooledFeatures(compute, model, weights, items, cache, c.layers, 'head warm start (features)', ctx)
  const norm = standardizer(f, c.width)
  norm.apply(f)
  const runner = await compute.trainer(probeStep(c.width, N, { optimizer: { kind: 'adamw', weightDecay: 1e-2 } }), {
    'score.weight': hostTensor('float32', [N, c.width], new Float32Array(N * c.width))
  })
  try {
    const steps = 200
    const B = Math.min(items.length, 512)
    const rng = new Prng(seed * 7 + 3)
    for (let s = 0; s < steps; s++) {
      ctx.signal.throwIfAborted()
      const x = new Float32Array(B * c.width)
      const y = new BigInt64Array(B)
      for (let b = 0; b < B; b++) {
        const k = B === items.length ? b : rng.int(items.length)
        x.set(f.subarray(k * c.width, (k + 1) * c.width), b * c.width)
        y[b] = BigInt(items[k]!.label)
      }
      await runner.step({ features: hostTensor('float32', [B, c.width], x), labels: hostTensor('int64', [B], y) }, 1e-2 * 0.5 * (1 + Math.cos((Math.PI * s) / steps)))
    }
    const { params } = await runner.read()
    return norm.fold(params['score.weight']!.data as Float32Array, N)
  } finally {
    await runner.dispose()
  }
}


export async function runTraining(deps: TrainDeps, ctx: JobContext<TrainJobParams, TrainCheckpoint>): Promise<TrainResult> {
  const p = ctx.params
  const runs = new RunsRepo(deps.library.db)
  const registry = deps.models()
  const runDir = join(deps.library.paths.root, 'runs', p.runId)
  mkdirSync(runDir, { recursive: true })
  const started = Date.now()
  const holder: { compute?: Compute } = {}
  try {
    const result = await train(deps, ctx, registry, runDir, holder)
    runs.updateMetrics(p.runId, { test: result.metrics, durationS: result.durationS, steps: result.steps, bestStep: result.bestStep, stoppedEarly: result.stoppedEarly, plan: result.plan })
    runs.finish(p.runId, { state: 'done', modelId: result.modelId })
    return result
  } catch (err) {
    if (!ctx.signal.aborted) {
      runs.updateMetrics(p.runId, { error: (err as Error).message, failedAfterS: (Date.now() - started) / 1000 })
      runs.finish(p.runId, { state: 'failed' })
    } else if (ctx.signal.reason === 'cancel') runs.finish(p.runId, { state: 'cancelled' })
    throw err
  } finally {
    await holder.compute?.close()
  }
}

async function train(deps: TrainDeps, ctx: JobContext<TrainJobParams, TrainCheckpoint>, registry: ModelRegistry, runDir: string, holder: { compute?: Compute }): Promise<TrainResult> {
  const p = ctx.params
  const runs = new RunsRepo(deps.library.db)
  ctx.progress({ phase: 'preparing', done: 0, total: null })
  const loaded = await registry.load(p.base)
  const base = loaded.model
  const runtime = await registry.threadRuntime()
  const compute = (holder.compute = (deps.compute ?? defaultComputeKind()) === 'worker' ? workerCompute() : threadCompute(runtime))
  runs.updateMetrics(p.runId, { compute: compute.where })
  const c0 = base.config
  const T = seqLen(c0)
  const view: DatasetView = loadDatasetView(deps.library.db, p.dataset, p.seed ?? 0)
  if (ctx.checkpoint && ctx.checkpoint.snapshotHash !== view.snapshotHash) {
    throw new AppError('CONFLICT', `Dataset "${view.datasetName}" changed since this run started (items, labels or splits), so it cannot resume exactly; start a new run.`)
  }
  // The named snapshot this run trains on: the dataset's latest one when identical, else a new
  // automatic one; a resumed run keeps the one it recorded (same content, checked above).
  const recorded = runs.get(p.runId).metrics.snapshot as { id?: string; name?: string } | undefined
  const snapshotRef =
    ctx.checkpoint && recorded?.id
      ? { id: recorded.id, name: recorded.name ?? '' }
      : (({ snapshot: s }) => ({ id: s.id, name: s.name }))(new SnapshotsRepo(deps.library.db).forTraining(view.datasetId))
  runs.updateMetrics(p.runId, { snapshot: { datasetId: view.datasetId, hash: view.snapshotHash, items: view.items.length, ...snapshotRef } })
  const train = view.items.filter((i) => i.split === 'train')
  const val = view.items.filter((i) => i.split === 'val')
  const test = view.items.filter((i) => i.split === 'test')
  if (train.length === 0) throw new AppError('VALIDATION', `Dataset "${view.datasetName}" has no items in its train split; move some items to train.`)
  const trainClasses = new Set(train.filter((i) => i.label >= 0).map((i) => i.label)).size
  const device = runtime.report().active
  const plan: TrainPlan =
    ctx.checkpoint?.plan ??
    makePlan(p, {
      trainCount: train.length,
      valCount: val.length,
      trainClasses,
      labelledTrain: train.filter((i) => i.label >= 0).length,
      layers: c0.layers,
      width: c0.width,
      parameters: parameterCount(base),
      device,
      ...(c0.mirror === false ? { mirror: false } : {})
    })
  const classify = plan.objective !== 'generative'
  // Items each part uses: labelled ones for classification objectives.
  const use = (xs: TrainItem[]): TrainItem[] => (classify ? xs.filter((i) => i.label >= 0) : xs)
  const trainSet = use(train)
  const valSet = use(val)
  const testSet = use(test)

  const cache = new TokenCache(deps.library, base.palette, c0.side, c0.resample)
  const all = [...trainSet, ...valSet, ...testSet]
  await cache.ensure(all, (done, total) => ctx.progress({ phase: 'tokenizing', done, total }), ctx.signal)

  // The model that trains: conditioning rows / a classifier head added as the objective needs.
  const rng0 = new Prng(plan.seed * 7 + 3)
  const weights: TensorMap = new Map(base.weights)
  let model: PixelGptModel = { ...base, weights }
  if (plan.conditional) {
    const have = base.conditionClasses
    const add = view.classes.filter((n) => !have.includes(n))
    if (add.length) {
      const wte = base.weights.get('transformer.wte.weight')!
      const C = c0.width
      const rows = wte.shape[0]!
      const data = new Float32Array((rows + add.length) * C)
      data.set(wte.data)
      const sos = wte.data.subarray(sosToken(c0) * C, sosToken(c0) * C + C)
      for (let r = 0; r < add.length; r++) data.set(sos, (rows + r) * C) // a new class starts as the unconditional start
      weights.set('transformer.wte.weight', { shape: [rows + add.length, C], data })
      model = { ...model, config: { ...c0, numClasses: c0.numClasses + add.length }, conditionClasses: [...have, ...add] }
    }
  }
  /** A fresh classifier head: warm-started from a linear probe below (LP-FT) before fine-tuning. */
  let freshHead = false
  if (classify && plan.objective !== 'probe') {
    const same = base.classes.length === view.classes.length && base.classes.every((n, i) => n === view.classes[i])
    if (!same || !weights.has('score.weight')) {
      weights.set('score.weight', { shape: [view.classes.length, c0.width], data: normal(view.classes.length * c0.width, rng0) })
      freshHead = true
    }
    model = { ...model, classes: [...view.classes] }
  }
  if (plan.objective === 'joint' && !weights.has('lm_head.weight')) {
    throw new AppError('VALIDATION', `Base model "${loaded.record.name}" has no lm_head, so it cannot learn the generative half of the joint objective; use classify or probe.`)
  }
  if (plan.objective === 'generative' && !weights.has('lm_head.weight')) {
    throw new AppError('VALIDATION', `Base model "${loaded.record.name}" is a classifier without an lm_head, so it cannot be trained to generate.`)
  }
  const c = model.config
  const classToIndex = (label: number): number => model.conditionClasses.indexOf(view.classes[label]!)
  // Generation sequences start with the item's class token when the model is class-conditional:
  // generative training adds the dataset's classes as conditioning rows; the joint objective
  // uses the rows a conditional base model already has (matched by class name), so its
  // generative half keeps class-conditional generation working.
  const conditionalStarts = plan.conditional || (plan.objective === 'joint' && model.config.numClasses > 0)
  /** The conditioning row an item's generation sequence starts with, or -1 for SOS (unlabelled, unconditional, or a class the model has no row for). */
  const conditionOf = (item: TrainItem): number => (conditionalStarts && item.label >= 0 ? classToIndex(item.label) : -1)

  // Probe: features of the chosen layer, extracted once.
  let feats: { train: Float32Array; val: Float32Array; test: Float32Array } | null = null
  let probeNorm: Standardizer | null = null
  if (plan.objective === 'probe') {
    const host = toHost(weights)
    const extract = (items: TrainItem[], phase: string): Promise<Float32Array> => pooledFeatures(compute, model, host, items, cache, plan.layer, `features (${phase})`, ctx)
    ctx.signal.throwIfAborted()
    feats = { train: await extract(trainSet, 'train'), val: await extract(valSet, 'val'), test: await extract(testSet, 'test') }
    probeNorm = standardizer(feats.train, c.width)
    for (const f of [feats.train, feats.val, feats.test]) probeNorm.apply(f)
  }

  // The step graph and its initial values.
  const trainOpts = {
    optimizer: plan.optimizer === 'adamw' ? ({ kind: 'adamw', weightDecay: plan.weightDecay } as const) : ({ kind: 'sgd', weightDecay: plan.weightDecay } as const),
    ...(plan.clipNorm !== null ? { clipNorm: plan.clipNorm } : {})
  }
  const N = view.classes.length
  // Batches bigger than the micro-batch accumulate gradients over micro-batches (in this thread).
  const micro = plan.objective !== 'probe' && plan.batchSize > plan.microBatch && compute.accumulating ? plan.microBatch : 0
  const steps =
    micro > 0
      ? accumulatingSteps(plan.objective as Exclude<typeof plan.objective, 'probe'>, c, N, trainOpts)
      : null
  const step: StepGraph =
    steps?.grad ??
    (plan.objective === 'probe'
      ? probeStep(c.width, N, trainOpts)
      : plan.objective === 'classify'
        ? classifyStep(c, N, trainOpts)
        : plan.objective === 'joint'
          ? jointStep(c, N, trainOpts)
          : generativeStep(c, trainOpts))
  // LP-FT (Kumar et al. 2022): a new head starts as the linear probe of the pooled ln_f features the
  // head reads, so fine-tuning begins from a good classifier instead of a random one and the
  // pretrained features are not pulled around by a random head's gradients. Deterministic, so a
  // run resumed before its first checkpoint gets the same head.
  if (freshHead && !ctx.checkpoint) {
    ctx.signal.throwIfAborted()
    weights.set('score.weight', { shape: [view.classes.length, c.width], data: await probeHead(compute, model, toHost(weights), trainSet, cache, plan.seed, ctx) })
  }
  const init: Record<string, HostTensor> = {}
  if (plan.objective === 'probe') init['score.weight'] = hostTensor('float32', [N, c.width], new Float32Array(N * c.width))
  else for (const s of stepSpec(step).params) init[s.name] = hostTensor('float32', weights.get(s.name)!.shape, weights.get(s.name)!.data)
  const acc = steps ? await compute.accumulating!(steps.grad, steps.apply, init) : null
  const trainer = acc ?? (await compute.trainer(step, init))

  const ckptFile = join(runDir, 'checkpoint.safetensors')
  const bestFile = join(runDir, 'best.safetensors')
  const cp: TrainCheckpoint = ctx.checkpoint ?? { step: 0, plan, snapshotHash: view.snapshotHash, best: null, sinceBest: 0, history: [], val: [], elapsedS: 0, stoppedEarly: false }
  try {
    if (cp.step > 0) await trainer.restore(readTensors(ckptFile), cp.step)
    else runs.updateMetrics(p.runId, { plan, reason: plan.reason, snapshot: { datasetId: view.datasetId, hash: view.snapshotHash, items: all.length, ...snapshotRef } })

    const labelsOf = (items: TrainItem[]): number[] => items.map((i) => i.label)
    const sampler = new BatchPlan(trainSet.length, plan.batchSize, plan.seed, labelsOf(trainSet), plan.balanced)
    const schedule = { kind: plan.schedule, peakLr: plan.lr, warmupSteps: plan.warmupSteps, totalSteps: plan.steps, minLrRatio: 0.1 }

    const rngAt = (s: number): Prng => new Prng(plan.seed * 104729 + s * 31 + 1)
    const batchAt = (s: number): Record<string, HostTensor> => rowsOf(sampler.indices(s), rngAt(s))
    /** The feeds for train items `idx`; augmentation and conditioning draws come from `rng` in item order. */
    const rowsOf = (idx: number[], rng: Prng): Record<string, HostTensor> => {
      const B = idx.length
      if (plan.objective === 'probe') {
        const x = new Float32Array(B * c.width)
        idx.forEach((k, b) => x.set(feats!.train.subarray(k * c.width, (k + 1) * c.width), b * c.width))
        return { features: hostTensor('float32', [B, c.width], x), labels: hostTensor('int64', [B], BigInt64Array.from(idx.map((k) => BigInt(trainSet[k]!.label)))) }
      }
      const img = new Int32Array(T)
      const joint = plan.objective === 'joint'
      // joint: two rows per item, interleaved (its pixels, then its generation sequence).
      const ids = new BigInt64Array((joint ? 2 : 1) * B * T)
      const targets = new BigInt64Array(B * T)
      const labels = new BigInt64Array(B)
      /** The start token of an item's generation sequence: its class (a share of SOS kept) or SOS. */
      const startOf = (item: TrainItem): number => {
        const ci = conditionOf(item)
        return ci >= 0 && rng.next() >= plan.uncondRate ? classToken(c, ci) : sosToken(c)
      }
      idx.forEach((k, b) => {
        const item = trainSet[k]!
        img.set(cache.get(item))
        if (plan.augment) augmentTokens(img, c.side, { flip: plan.flip !== false, shift: 1 }, rng)
        labels[b] = BigInt(Math.max(0, item.label))
        if (plan.objective === 'generative' || joint) {
          const row = joint ? (2 * b + 1) * T : b * T
          ids[row] = BigInt(startOf(item))
          for (let t = 0; t < T; t++) {
            if (t > 0) ids[row + t] = BigInt(img[t - 1]!)
            targets[b * T + t] = BigInt(img[t]!)
          }
        }
        if (plan.objective !== 'generative') {
          const row = joint ? 2 * b * T : b * T
          for (let t = 0; t < T; t++) ids[row + t] = BigInt(img[t]!)
        }
      })
      const out: Record<string, HostTensor> = { ids: hostTensor('int64', [(joint ? 2 : 1) * B, T], ids) }
      if (plan.objective === 'generative' || joint) out.targets = hostTensor('int64', [B, T], targets)
      if (plan.objective !== 'generative') out.labels = hostTensor('int64', [B], labels)
      return out
    }

    /** The trained model from the step runner's parameters. */
    const modelFrom = (params: Record<string, HostTensor>): PixelGptModel => {
      if (plan.objective === 'probe') {
        const w: TensorMap = new Map(weights)
        w.set('score.weight', { shape: [N, c.width], data: probeNorm!.fold(params['score.weight']!.data as Float32Array, N) })
        if (plan.layer === c.layers) return { ...model, weights: w, classes: [...view.classes] }
        // Truncate to the probed layer: ln_f takes that block's norm, so score reads exactly the probed features.
        const t: TensorMap = new Map()
        for (const [k, v] of w) {
          const m = /^transformer\.h\.(\d+)\./.exec(k)
          if (m && Number(m[1]) >= plan.layer) continue
          if (k === 'lm_head.weight') continue
          t.set(k, v)
        }
        t.set('transformer.ln_f.weight', w.get(`transformer.h.${plan.layer}.ln_1.weight`)!)
        return { ...model, config: { ...c, layers: plan.layer }, weights: t, classes: [...view.classes] }
      }
      const w: TensorMap = new Map(weights)
      for (const [k, v] of Object.entries(params)) w.set(k, { shape: [...v.dims], data: v.data as Float32Array })
      return { ...model, weights: w }
    }

    /**
     * Validation/test evaluation of a parameter set on items. `withBits`: a classifying objective's
     * bits per token as well (the joint objective's generative half, at the final test).
     */
    const evaluate = async (
      params: Record<string, HostTensor>,
      items: TrainItem[],
      which: 'val' | 'test' | 'train',
      withBits = false
    ): Promise<{ loss: number; accuracy?: number; cls?: ClassificationMetrics; probs?: number[][]; bpt?: number; bptUncond?: number }> => {
      if (plan.objective === 'probe') {
        const f = which === 'val' ? feats!.val : which === 'test' ? feats!.test : feats!.train
        const W = params['score.weight']!.data as Float32Array
        const probs = items.map((_, i) => {
          const row = new Array<number>(N).fill(0)
          for (let k = 0; k < N; k++) for (let j = 0; j < c.width; j++) row[k]! += f[i * c.width + j]! * W[k * c.width + j]!
          return softmax(row)
        })
        const cls = classificationMetrics(probs, items.map((i) => i.label), view.classes)
        return { loss: cls.loss, accuracy: cls.accuracy, cls, probs }
      }
      const m = modelFrom(params)
      const w = toHost(m.weights)
      const tokensOf = (s: number, B: number, start?: (item: TrainItem) => number): Record<string, HostTensor> => {
        const ids = new BigInt64Array(B * T)
        const targets = new BigInt64Array(B * T)
        for (let b = 0; b < B; b++) {
          const item = items[s + b]!
          const t = cache.get(item)
          if (start) {
            ids[b * T] = BigInt(start(item))
            for (let i = 0; i < T; i++) {
              if (i > 0) ids[b * T + i] = BigInt(t[i - 1]!)
              targets[b * T + i] = BigInt(t[i]!)
            }
          } else for (let i = 0; i < T; i++) ids[b * T + i] = BigInt(t[i]!)
        }
        return start ? { ids: hostTensor('int64', [B, T], ids), targets: hostTensor('int64', [B, T], targets) } : { ids: hostTensor('int64', [B, T], ids) }
      }
      const nll = async (start: (item: TrainItem) => number): Promise<number> => {
        let sum = 0
        await forwardBatches(compute, m, w, { loss: true }, items.length, (s, B) => tokensOf(s, B, start), (_s, _B, o) => {
          for (const v of o.nll!.data as Float32Array) sum += v
        })
        return sum / Math.max(1, items.length)
      }
      /** Mean NLL per image with the generation starts training used (class token when conditional; a class the model has no row for starts with SOS), and with SOS. */
      const bits = async (): Promise<{ cond: number; uncond: number }> => {
        const uncond = await nll(() => sosToken(m.config))
        const startOf = (it: TrainItem): number => {
          const ci = conditionOf(it)
          return ci >= 0 ? classToken(m.config, ci) : sosToken(m.config)
        }
        return { uncond, cond: conditionalStarts ? await nll(startOf) : uncond }
      }
      if (classify) {
        const probs: number[][] = []
        await forwardBatches(compute, m, w, { classLabels: N }, items.length, (s, B) => tokensOf(s, B), (_s, B, o) => {
          const d = o.class_logits!.data as Float32Array
          for (let b = 0; b < B; b++) probs.push(softmax(d.subarray(b * N, (b + 1) * N)))
        })
        const cls = classificationMetrics(probs, items.map((i) => i.label), view.classes)
        const b = withBits ? await bits() : null
        return { loss: cls.loss, accuracy: cls.accuracy, cls, probs, ...(b ? { bpt: b.cond / Math.LN2, bptUncond: b.uncond / Math.LN2 } : {}) }
      }
      const b = await bits()
      return { loss: b.cond, bpt: b.cond / Math.LN2, bptUncond: b.uncond / Math.LN2 }
    }

    const saveCheckpoint = async (): Promise<void> => {
      const r = await trainer.read()
      writeTensors(ckptFile, { ...r.params, ...r.state })
      runs.updateMetrics(p.runId, { history: cp.history, val: cp.val })
      ctx.saveCheckpoint({ ...cp }, { phase: 'training', done: cp.step, total: plan.steps })
    }

    const segmentStart = Date.now()
    const startStep = cp.step
    const elapsedBefore = cp.elapsedS
    let lastCkpt = Date.now()
    const tokensPerStep = plan.objective === 'probe' ? plan.batchSize : plan.batchSize * T * (plan.objective === 'joint' ? 2 : 1)
    while (cp.step < plan.steps && !cp.stoppedEarly) {
      if (ctx.signal.aborted) {
        await saveCheckpoint()
        ctx.signal.throwIfAborted()
      }
      const lr = lrAt(schedule, cp.step)
      let r: { metrics: Record<string, number> }
      if (acc) {
        // Micro-batches of the step's items, built in order from one RNG (same draws as one batch).
        const idx = sampler.indices(cp.step)
        const rng = rngAt(cp.step)
        const parts = Math.ceil(idx.length / micro)
        for (let i = 0; i < idx.length; i += micro) {
          const part = idx.slice(i, i + micro)
          await acc.accumulate({ ...rowsOf(part, rng), loss_scale: hostTensor('float32', [], [(parts * part.length) / idx.length]) })
        }
        r = await acc.step(lr)
      } else r = await (trainer as StepRunner).step(batchAt(cp.step), lr)
      const loss = r.metrics.loss ?? NaN
      if (!Number.isFinite(loss)) throw new AppError('INTERNAL', `The loss became ${loss} at step ${cp.step + 1}; lower the learning rate (now ${lr}).`)
      cp.step++
      cp.history.push({ step: cp.step, loss, lr })
      if (cp.history.length > 4000) cp.history = cp.history.filter((_, i) => i % 2 === 0)
      let valMetric: { loss: number; accuracy?: number } | null = null
      if (valSet.length > 0 && (cp.step % plan.evalEvery === 0 || cp.step === plan.steps)) {
        const cur = await trainer.read()
        const v = await evaluate(cur.params, valSet, 'val')
        valMetric = v
        cp.val.push({ step: cp.step, loss: v.loss, ...(v.accuracy !== undefined ? { accuracy: v.accuracy } : {}) })
        // Best = highest validation accuracy for classifiers (loss breaks ties), lowest loss otherwise.
        const score = v.accuracy !== undefined ? -v.accuracy + v.loss * 1e-6 : v.loss
        if (!cp.best || score < cp.best.metric) {
          cp.best = { metric: score, step: cp.step }
          cp.sinceBest = 0
          writeTensors(bestFile, cur.params)
        } else {
          cp.sinceBest++
          if (plan.patience > 0 && cp.sinceBest >= plan.patience) cp.stoppedEarly = true
        }
      }
      cp.elapsedS = elapsedBefore + (Date.now() - segmentStart) / 1000
      const segS = (Date.now() - segmentStart) / 1000
      const metrics: Record<string, number> = { loss, lr, tokensPerS: segS > 0 ? (tokensPerStep * (cp.step - startStep)) / segS : 0 }
      if (valMetric) {
        metrics.valLoss = valMetric.loss
        if (valMetric.accuracy !== undefined) metrics.valAccuracy = valMetric.accuracy
      }
      for (const [k, v] of Object.entries(r.metrics)) if (k !== 'loss') metrics[k] = v
      ctx.progress({ phase: 'training', done: cp.step, total: plan.steps, metrics })
      const due = (plan.checkpointEvery > 0 && cp.step % plan.checkpointEvery === 0) || Date.now() - lastCkpt >= plan.checkpointEveryS * 1000
      if (due && cp.step < plan.steps) {
        await saveCheckpoint()
        lastCkpt = Date.now()
      }
    }

    runs.updateMetrics(p.runId, { history: cp.history, val: cp.val })
    // The best validation checkpoint when there was validation, else the final weights.
    ctx.progress({ phase: 'testing', done: cp.step, total: plan.steps })
    const final = cp.best ? readTensors(bestFile) : (await trainer.read()).params
    const trained = modelFrom(final)
    const split: TestMetrics['split'] = testSet.length > 0 ? 'test' : valSet.length > 0 ? 'val' : 'train'
    const evalItems = split === 'test' ? testSet : split === 'val' ? valSet : trainSet
    // The joint objective also trained generation: its bits per token are reported too.
    const ev = await evaluate(final, evalItems, split, plan.objective === 'joint')
    const metrics: TestMetrics = { split }
    if (ev.cls) metrics.classification = ev.cls
    if (ev.probs) {
      const wrong: Misclassified[] = []
      ev.probs.forEach((pr, i) => {
        const predicted = pr.indexOf(Math.max(...pr))
        const it = evalItems[i]!
        if (predicted !== it.label && wrong.length < 500) wrong.push({ itemId: it.id, sha256: it.sha256, name: it.name, trueClass: it.label, predictedClass: predicted, confidence: pr[predicted]! })
      })
      metrics.misclassified = wrong
    }
    if (ev.bpt !== undefined) metrics.bitsPerToken = ev.bpt
    if (ev.bptUncond !== undefined && conditionalStarts) metrics.bitsPerTokenUnconditional = ev.bptUncond
    const durationS = cp.elapsedS
    const name = p.name ?? `${loaded.record.name} · ${view.datasetName} (${plan.objective})`
    const meta = {
      baseModel: { id: loaded.record.id, name: loaded.record.name },
      datasetSnapshot: { datasetId: view.datasetId, name: view.datasetName, snapshotId: snapshotRef.id, snapshotName: snapshotRef.name, hash: view.snapshotHash, items: { train: trainSet.length, val: valSet.length, test: testSet.length }, classes: view.classes },
      training: { runId: p.runId, objective: plan.objective, plan, reason: plan.reason, steps: cp.step, bestStep: cp.best?.step ?? null, stoppedEarly: cp.stoppedEarly, durationS },
      metrics
    }
    // A name taken while this run trained gets a numbered variant rather than losing the run.
    const detail = await registry.add(trained, { name, uniqueName: true, source: 'trained', parentId: loaded.record.id, meta })
    return { modelId: detail.id, modelName: detail.name, runId: p.runId, plan, steps: cp.step, bestStep: cp.best?.step ?? null, stoppedEarly: cp.stoppedEarly, metrics, durationS }
  } finally {
    await trainer.dispose()
  }
}
