// Resolving a training request into a full plan: `auto` picks objective, layer, learning rate,
// batch size, steps and early stopping from dataset size, model size and device, and says why in
// one sentence (kept in the run record). Every explicit choice of the user wins.

import { AppError } from '../../errors'
import { type ObjectiveName } from './objectives'

export interface TrainRequest {
  dataset: string
  base: string
  objective?: 'auto' | ObjectiveName
  optimizer?: 'adamw' | 'sgd'
  lr?: number
  steps?: number
  epochs?: number
  batchSize?: number | 'all'
  weightDecay?: number
  augment?: boolean
  /** Left-right flips in the augmentation; default: the base model's `mirror` (true when it does not say). */
  flip?: boolean
  balanced?: boolean
  seed?: number
  name?: string
  /** Probe layer (1..L). */
  layer?: number
  clipNorm?: number
  evalEvery?: number
  /** Evaluations without improvement before stopping; 0 = never stop early. */
  patience?: number
  /** Checkpoint every this many steps (in addition to every checkpointEveryS seconds). */
  checkpointEvery?: number
  checkpointEveryS?: number
  /** Share of SOS starts in class-conditional generative training. */
  uncondRate?: number
  /** Items per forward/backward; bigger batches accumulate gradients over micro-batches (default 32). */
  microBatch?: number
}

export interface TrainPlan {
  objective: ObjectiveName
  layer: number
  optimizer: 'adamw' | 'sgd'
  lr: number
  schedule: 'cosine' | 'constant'
  warmupSteps: number
  steps: number
  batchSize: number
  weightDecay: number
  clipNorm: number | null
  augment: boolean
  /** Flips are part of the augmentation (absent in plans of older checkpoints: true). */
  flip?: boolean
  balanced: boolean
  seed: number
  evalEvery: number
  patience: number
  checkpointEvery: number
  checkpointEveryS: number
  uncondRate: number
  microBatch: number
  conditional: boolean
  reason: string
}

export interface PlanFacts {
  trainCount: number
  valCount: number
  /** Classes with at least one labelled train item. */
  trainClasses: number
  labelledTrain: number
  layers: number
  width: number
  parameters: number
  device: string
  /** The base model's config.mirror: false when mirror images mean something else (digits). */
  mirror?: boolean
}

/** 24k, 1.3M, 76M: parameter counts in words. */
export function paramWords(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(n >= 1e7 ? 0 : 1)}M` : `${Math.max(1, Math.round(n / 1e3))}k`
}

export function makePlan(r: TrainRequest, f: PlanFacts): TrainPlan {
  const labelled = f.trainClasses >= 2
  let objective: ObjectiveName
  let why: string
  if (r.objective && r.objective !== 'auto') {
    objective = r.objective
    why = `${objective} as asked`
  } else if (!labelled) {
    objective = 'generative'
    why = `generative, because the dataset has ${f.trainClasses === 0 ? 'no labels' : 'a single class'}, so the model learns to generate images like these`
  } else if (f.labelledTrain < 200 || f.device === 'cpu' && (f.parameters > 20e6 || f.labelledTrain > 5000)) {
    objective = 'probe'
    why =
      f.labelledTrain < 200
        ? `a linear probe, because ${f.labelledTrain} labelled images are too few to fine-tune ${paramWords(f.parameters)} parameters without overfitting`
        : `a linear probe, because fine-tuning ${paramWords(f.parameters)} parameters on ${f.labelledTrain} images would take too long on the ${f.device.toUpperCase()}`
  } else {
    objective = 'joint'
    why = `joint fine-tuning (classification + generation, as iGPT), because ${f.labelledTrain} labelled images are enough to adapt the whole model on the ${f.device.toUpperCase()}`
  }
  if (objective !== 'generative' && f.trainClasses < 2) {
    throw new AppError('VALIDATION', `The ${objective} objective needs at least two classes with labelled train images; this dataset has ${f.trainClasses === 0 ? 'no labelled ones' : 'only one class'}. Label more classes, or train the generative objective.`)
  }
  const n = objective === 'generative' ? f.trainCount : f.labelledTrain
  const optimizer = r.optimizer ?? 'adamw'
  const batchSize = r.batchSize === 'all' ? n : Math.max(1, Math.min(n, r.batchSize ?? (objective === 'probe' ? 256 : 16)))
  const perEpoch = Math.ceil(n / batchSize)
  let steps: number
  if (r.steps !== undefined) steps = r.steps
  else if (r.epochs !== undefined) steps = r.epochs * perEpoch
  else if (objective === 'probe') steps = Math.min(2000, Math.max(200, 20 * perEpoch))
  else steps = Math.min(3000, Math.max(30, (n < 1000 ? 10 : 3) * perEpoch))
  if (!Number.isInteger(steps) || steps < 1) throw new AppError('VALIDATION', `Training needs at least one step, not ${steps}.`)
  const lr = r.lr ?? (objective === 'probe' ? 1e-2 : f.width <= 256 ? 3e-4 : 1e-4)
  const layer = objective === 'probe' ? (r.layer ?? (f.layers <= 2 ? f.layers : Math.round(f.layers / 2))) : f.layers
  if (!Number.isInteger(layer) || layer < 1 || layer > f.layers) throw new AppError('VALIDATION', `Layer ${layer} is outside 1..${f.layers}.`)
  const evalEvery = r.evalEvery ?? Math.max(1, Math.min(200, Math.ceil(steps / 10)))
  const hasVal = f.valCount > 0
  const plan: TrainPlan = {
    objective,
    layer,
    optimizer,
    lr,
    schedule: optimizer === 'adamw' ? 'cosine' : 'constant',
    warmupSteps: optimizer === 'adamw' ? Math.min(100, Math.floor(steps * 0.05)) : 0,
    steps,
    batchSize,
    weightDecay: r.weightDecay ?? (optimizer === 'adamw' ? (objective === 'probe' ? 1e-4 : 0.01) : 0),
    clipNorm: r.clipNorm ?? (optimizer === 'adamw' ? 1 : null),
    augment: objective === 'probe' ? false : (r.augment ?? true),
    flip: r.flip ?? f.mirror !== false,
    balanced: r.balanced ?? false,
    seed: r.seed ?? 0,
    evalEvery,
    patience: hasVal ? (r.patience ?? 5) : 0,
    checkpointEvery: r.checkpointEvery ?? 0,
    checkpointEveryS: r.checkpointEveryS ?? 120,
    uncondRate: r.uncondRate ?? 0.2,
    microBatch: Math.max(1, r.microBatch ?? 32),
    conditional: objective === 'generative' && labelled,
    reason: ''
  }
  plan.reason =
    `Training ${why}: ${plan.optimizer === 'adamw' ? 'AdamW' : 'SGD'} at lr ${plan.lr}` +
    `${plan.objective === 'probe' ? ` on layer ${plan.layer} features` : ''}, batch ${plan.batchSize}, ${plan.steps} step${plan.steps === 1 ? '' : 's'}` +
    `${plan.patience ? `, stopping early after ${plan.patience} validations without improvement` : ''}` +
    `${plan.augment && !plan.flip && r.flip === undefined ? '; augmented by shifts only, since the base model is for images whose mirror image means something else' : ''}.`
  return plan
}
