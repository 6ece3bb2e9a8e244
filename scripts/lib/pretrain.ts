// The generative pretraining loop shared by `npm run pretrain:digits` and
// `npm run pretrain:emoji`: a class-conditional ImageGPT (keeping the unconditional
// SOS path) trained with AdamW, linear warmup and cosine decay, on the project's own
// engine. Seeded and resumable: the data order and the conditioning drops are
// functions of (seed, step), and a checkpoint holds weights, optimizer state and the
// step, so an interrupted run continues exactly where it stopped.

import { appendFileSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { exportHfImageGpt } from '../../src/main/ml/interop/hf-imagegpt'
import { parseSafetensors, serializeSafetensors, type TensorMap } from '../../src/main/ml/interop/safetensors'
import { initPixelGpt, seqLen, sosToken, classToken, type PixelGptConfig, type PixelGptModel } from '../../src/main/ml/pixelgpt/model'
import { buildPixelGptTrainStep } from '../../src/main/ml/pixelgpt/train'
import { buildForward } from '../../src/main/ml/pixelgpt/graphs'
import { Prng } from '../../src/main/ml/sample/prng'
import { hostTensor, Runtime, Trainer, type HostTensor } from '../../src/main/ml/runtime'

export interface TokenSet {
  /** count * T palette tokens. */
  tokens: Int32Array
  /** Class index per image (0..numClasses-1). */
  labels: Int32Array
  count: number
}

export interface PretrainOptions {
  name: string
  config: PixelGptConfig
  palette: Float32Array
  conditionClasses: string[]
  train: TokenSet
  val: TokenSet
  outDir: string
  seed: number
  steps: number
  batchSize: number
  peakLr: number
  warmupSteps: number
  minLrRatio: number
  weightDecay: number
  clipNorm: number
  /** Share of sequences that start with SOS instead of their class token. */
  uncondRate: number
  /** Token-space augmentation applied to a training image in place (e.g. a horizontal flip). */
  augment?: (tokens: Int32Array, rng: Prng) => void
  evalEvery: number
  checkpointEveryS: number
  /** Stop (with a checkpoint) after this many seconds; run again to continue. */
  budgetS?: number
  /** Stop (with a checkpoint) once this step is reached, as an interruption would. */
  stopAtStep?: number
  /**
   * A continuation after the first `steps`: this many more steps on a second warmup + cosine
   * schedule peaking at `extendPeakLr` (a warm restart), so a finished run can be trained longer
   * without starting over. 0 or absent: none.
   */
  extendSteps?: number
  extendPeakLr?: number
}

/** The last step of the whole run, continuation included. */
export function totalSteps(o: Pick<PretrainOptions, 'steps' | 'extendSteps'>): number {
  return o.steps + (o.extendSteps ?? 0)
}

export function lrAt(step: number, o: Pick<PretrainOptions, 'steps' | 'peakLr' | 'warmupSteps' | 'minLrRatio' | 'extendSteps' | 'extendPeakLr'>): number {
  if (step >= o.steps && (o.extendSteps ?? 0) > 0) {
    return lrAt(step - o.steps, { steps: o.extendSteps as number, peakLr: o.extendPeakLr ?? o.peakLr / 2, warmupSteps: Math.min(o.warmupSteps, Math.ceil((o.extendSteps as number) / 10)), minLrRatio: o.minLrRatio })
  }
  if (step < o.warmupSteps) return (o.peakLr * (step + 1)) / o.warmupSteps
  const t = Math.min(1, (step - o.warmupSteps) / Math.max(1, o.steps - o.warmupSteps))
  return o.peakLr * (o.minLrRatio + (1 - o.minLrRatio) * 0.5 * (1 + Math.cos(Math.PI * t)))
}

/** A seeded permutation of 0..n-1 for one epoch. */
function permutation(n: number, seed: number, epoch: number): Int32Array {
  const rng = new Prng(seed * 7919 + epoch)
  const p = new Int32Array(n)
  for (let i = 0; i < n; i++) p[i] = i
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1)
    const t = p[i] as number
    p[i] = p[j] as number
    p[j] = t
  }
  return p
}

/** The batch for one step: ids = [start, t1..t_{T-1}], targets = [t1..tT]. */
export function batchAt(o: PretrainOptions, step: number, perms: Map<number, Int32Array>): { ids: BigInt64Array; targets: BigInt64Array } {
  const T = seqLen(o.config)
  const B = o.batchSize
  const n = o.train.count
  const ids = new BigInt64Array(B * T)
  const targets = new BigInt64Array(B * T)
  const rng = new Prng(o.seed * 104729 + step)
  const img = new Int32Array(T)
  for (let b = 0; b < B; b++) {
    const k = step * B + b
    const epoch = Math.floor(k / n)
    let perm = perms.get(epoch)
    if (!perm) {
      perms.clear()
      perm = permutation(n, o.seed, epoch)
      perms.set(epoch, perm)
    }
    const idx = perm[k % n] as number
    img.set(o.train.tokens.subarray(idx * T, idx * T + T))
    o.augment?.(img, rng)
    const label = o.train.labels[idx] as number
    const start = rng.next() < o.uncondRate || o.config.numClasses === 0 ? sosToken(o.config) : classToken(o.config, label)
    ids[b * T] = BigInt(start)
    for (let t = 0; t < T; t++) {
      if (t > 0) ids[b * T + t] = BigInt(img[t - 1] as number)
      targets[b * T + t] = BigInt(img[t] as number)
    }
  }
  return { ids, targets }
}

function toHost(w: TensorMap): Record<string, HostTensor> {
  const out: Record<string, HostTensor> = {}
  for (const [k, t] of w) out[k] = hostTensor('float32', t.shape, t.data)
  return out
}

function saveTensors(path: string, values: Record<string, HostTensor>, meta: Record<string, string>): void {
  const map: TensorMap = new Map()
  for (const [k, v] of Object.entries(values)) map.set(k, { shape: [...v.dims], data: v.data as Float32Array })
  const tmp = path + '.tmp'
  writeFileSync(tmp, serializeSafetensors(map, meta))
  renameSync(tmp, path)
}

export interface EvalResult {
  /** Mean NLL in nats per token with the class token as start. */
  condNll: number
  /** Mean NLL in nats per token with SOS as start. */
  uncondNll: number
}

/** Bits per token on (up to `limit` of) the validation set, conditioned and unconditioned. */
export async function evaluate(rt: Runtime, model: PixelGptModel, val: TokenSet, limit: number, batch = 50): Promise<EvalResult> {
  const c = model.config
  const T = seqLen(c)
  const built = buildForward(c, { loss: true })
  const session = await rt.compile(built.graph)
  const weights = toHost(model.weights)
  const feedsW: Record<string, HostTensor> = {}
  for (const p of built.params) feedsW[p] = weights[p] as HostTensor
  const n = Math.min(limit, val.count)
  let cond = 0
  let uncond = 0
  for (let s = 0; s < n; s += batch) {
    const B = Math.min(batch, n - s)
    for (const conditioned of [true, false]) {
      const ids = new BigInt64Array(B * T)
      const targets = new BigInt64Array(B * T)
      for (let b = 0; b < B; b++) {
        const i = s + b
        const start = conditioned && c.numClasses > 0 ? classToken(c, val.labels[i] as number) : sosToken(c)
        ids[b * T] = BigInt(start)
        for (let t = 0; t < T; t++) {
          const tok = val.tokens[i * T + t] as number
          if (t + 1 < T) ids[b * T + t + 1] = BigInt(tok)
          targets[b * T + t] = BigInt(tok)
        }
      }
      const out = await session.runHost({ ...feedsW, ids: hostTensor('int64', [B, T], ids), targets: hostTensor('int64', [B, T], targets) })
      const loss = Number((out.loss as HostTensor).data[0]) * B
      if (conditioned) cond += loss
      else uncond += loss
    }
  }
  return { condNll: cond / n, uncondNll: uncond / n }
}

export interface PretrainResult {
  model: PixelGptModel
  finished: boolean
  step: number
}

/** Runs (or continues) pretraining; writes checkpoints and a JSONL run record under outDir. */
export async function pretrain(o: PretrainOptions): Promise<PretrainResult> {
  mkdirSync(o.outDir, { recursive: true })
  const ckptWeights = join(o.outDir, 'checkpoint.safetensors')
  const ckptMeta = join(o.outDir, 'checkpoint.json')
  const record = join(o.outDir, 'run.jsonl')
  const rt = new Runtime({})
  const base = initPixelGpt(o.config, { seed: o.seed, conditionClasses: o.conditionClasses, palette: o.palette })
  const spec = buildPixelGptTrainStep(o.config, { kind: 'lm' }, {
    optimizer: { kind: 'adamw', beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: o.weightDecay },
    clipNorm: o.clipNorm
  })
  const trainer = await Trainer.create(rt, spec, toHost(base.weights))
  let step = 0
  if (existsSync(ckptMeta) && existsSync(ckptWeights)) {
    const meta = JSON.parse(readFileSync(ckptMeta, 'utf8')) as { step: number; steps: number; seed: number; extendSteps?: number }
    if (meta.seed !== o.seed || meta.steps !== o.steps) {
      throw new Error(`The checkpoint in ${o.outDir} belongs to a run with seed ${meta.seed} and ${meta.steps} steps; delete it or use those settings.`)
    }
    // A continuation's length is part of its schedule: it can be chosen (or changed) only before it starts.
    if (meta.step > o.steps && (meta.extendSteps ?? 0) !== (o.extendSteps ?? 0)) {
      throw new Error(`The checkpoint in ${o.outDir} is ${meta.step - o.steps} steps into a continuation of ${meta.extendSteps ?? 0} steps; use --extend-steps ${meta.extendSteps ?? 0}.`)
    }
    if (meta.step > totalSteps(o)) throw new Error(`The checkpoint in ${o.outDir} is at step ${meta.step}, past this run's ${totalSteps(o)} steps.`)
    const file = parseSafetensors(readFileSync(ckptWeights), ckptWeights)
    const values: Record<string, HostTensor> = {}
    for (const [k, t] of file.tensors) values[k] = hostTensor('float32', t.shape, t.data)
    trainer.restore(values, meta.step)
    step = meta.step
    console.error(`Resuming ${o.name} at step ${step} of ${totalSteps(o)}.`)
    if (step === o.steps && totalSteps(o) > o.steps) {
      appendFileSync(record, JSON.stringify({ event: 'extend', fromStep: step, extendSteps: o.extendSteps, extendPeakLr: o.extendPeakLr ?? o.peakLr / 2, at: new Date().toISOString() }) + '\n')
    }
  } else {
    appendFileSync(record, JSON.stringify({ event: 'start', name: o.name, config: o.config, seed: o.seed, steps: o.steps, batchSize: o.batchSize, peakLr: o.peakLr, warmupSteps: o.warmupSteps, weightDecay: o.weightDecay, uncondRate: o.uncondRate, trainCount: o.train.count, valCount: o.val.count, at: new Date().toISOString() }) + '\n')
  }

  const checkpoint = (): void => {
    saveTensors(ckptWeights, { ...trainer.params(), ...trainer.state() }, { format: 'pt' })
    const tmp = ckptMeta + '.tmp'
    writeFileSync(tmp, JSON.stringify({ step: trainer.steps, steps: o.steps, seed: o.seed, extendSteps: o.extendSteps ?? 0 }))
    renameSync(tmp, ckptMeta)
  }
  const currentModel = (): PixelGptModel => {
    const weights: TensorMap = new Map()
    for (const [k, v] of Object.entries(trainer.params())) weights.set(k, { shape: [...v.dims], data: v.data as Float32Array })
    return { ...base, weights }
  }

  const perms = new Map<number, Int32Array>()
  const T = seqLen(o.config)
  const started = Date.now()
  let lastCkpt = Date.now()
  let windowStart = Date.now()
  let windowLoss = 0
  let windowSteps = 0
  const last = totalSteps(o)
  while (step < last) {
    const { ids, targets } = batchAt(o, step, perms)
    const lr = lrAt(step, o)
    const r = await trainer.step({ ids: hostTensor('int64', [o.batchSize, T], ids), targets: hostTensor('int64', [o.batchSize, T], targets) }, lr)
    step = r.step
    windowLoss += r.metrics.loss ?? NaN
    windowSteps++
    if (step % 50 === 0 || step === last) {
      const dt = (Date.now() - windowStart) / 1000
      const entry = { step, loss: windowLoss / windowSteps, bitsPerToken: windowLoss / windowSteps / Math.LN2, lr, gradNorm: r.metrics.grad_norm, tokensPerS: (windowSteps * o.batchSize * T) / dt, elapsedS: (Date.now() - started) / 1000 }
      appendFileSync(record, JSON.stringify(entry) + '\n')
      console.error(`${o.name} step ${step}/${last} loss ${entry.loss.toFixed(4)} (${entry.bitsPerToken.toFixed(3)} bits/token) lr ${lr.toExponential(2)} ${entry.tokensPerS.toFixed(0)} tokens/s`)
      windowStart = Date.now()
      windowLoss = 0
      windowSteps = 0
    }
    if (step % o.evalEvery === 0 && step < last) {
      const ev = await evaluate(rt, currentModel(), o.val, 1000)
      appendFileSync(record, JSON.stringify({ step, valBitsPerTokenConditional: ev.condNll / Math.LN2, valBitsPerTokenUnconditional: ev.uncondNll / Math.LN2 }) + '\n')
      console.error(`${o.name} step ${step}: validation ${(ev.condNll / Math.LN2).toFixed(4)} bits/token conditioned, ${(ev.uncondNll / Math.LN2).toFixed(4)} unconditioned`)
    }
    if (Date.now() - lastCkpt > o.checkpointEveryS * 1000) {
      checkpoint()
      lastCkpt = Date.now()
    }
    const outOfTime = o.budgetS !== undefined && (Date.now() - started) / 1000 > o.budgetS
    if ((outOfTime || step === o.stopAtStep) && step < last) {
      checkpoint()
      console.error(`${o.name}: stopped at step ${step}; run the same command again to continue.`)
      return { model: currentModel(), finished: false, step }
    }
  }
  checkpoint()
  return { model: currentModel(), finished: true, step }
}

/**
 * Writes a finished pretraining run as a built-in model folder: the Hugging Face layout, the run
 * record, and a summary with bits per token measured on `evalSet` (under `evalKey`).
 */
export async function publishPretrained(
  res: PretrainResult,
  o: { work: string; out: string; evalSet: TokenSet; evalLimit: number; evalKey: string; summary: Record<string, unknown> }
): Promise<void> {
  const ev = await evaluate(new Runtime({}), res.model, o.evalSet, o.evalLimit)
  mkdirSync(o.out, { recursive: true })
  await exportHfImageGpt(res.model, o.out)
  copyFileSync(join(o.work, 'run.jsonl'), join(o.out, 'pretrain-run.jsonl'))
  const summary = {
    ...o.summary,
    steps: res.step,
    [o.evalKey]: { bitsPerTokenConditional: ev.condNll / Math.LN2, bitsPerTokenUnconditional: ev.uncondNll / Math.LN2 }
  }
  writeFileSync(join(o.out, 'pretrain-summary.json'), JSON.stringify(summary, null, 2) + '\n')
  console.log(JSON.stringify(summary))
}
