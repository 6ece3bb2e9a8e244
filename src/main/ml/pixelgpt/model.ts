// The ImageGPT model as Tessera holds it in memory: one config, a colour palette, and float32
// weights under their Hugging Face names (so import and export are a rename-free copy).

import { RESAMPLE_KERNELS, type ResampleKernel } from '../../imaging/decode'
import { numel, type NamedTensor, type TensorMap } from '../interop/safetensors'
import { Prng } from '../sample/prng'

export interface PixelGptConfig {
  /** Image side in pixels; the sequence has side * side tokens. */
  side: number
  /** Number of palette colours K; token K is SOS. */
  paletteSize: number
  /** n_embd */
  width: number
  layers: number
  heads: number
  /** n_inner (Hugging Face default: 4 * width) */
  innerWidth: number
  /** layer_norm_epsilon */
  eps: number
  /** Class-conditioning classes: embedding rows K+1 .. K+numClasses; 0 for an unconditioned model. */
  numClasses: number
  /**
   * How images are resized to side x side before tokenizing (absent = 'linear'). A model keeps
   * the resample of the pixels it was pretrained on; fine-tunes inherit it with the config.
   */
  resample?: ResampleKernel
  /**
   * false when a left-right mirror image means something else in the model's domain (digits,
   * letters): fine-tunes then augment with shifts only. Absent = mirroring is a safe augmentation.
   */
  mirror?: boolean
}

export interface PixelGptModel {
  config: PixelGptConfig
  /** [K, 3] colours in [-1, 1]. */
  palette: Float32Array
  /** Hugging Face names: transformer.wte.weight, transformer.h.0.attn.c_attn.weight, lm_head.weight, score.weight … */
  weights: TensorMap
  /** Labels of the classifier head (`score.weight` rows); empty when the model has none. */
  classes: string[]
  /** Names of the conditioning classes, numClasses of them. */
  conditionClasses: string[]
}

export function seqLen(c: PixelGptConfig): number {
  return c.side * c.side
}
export function sosToken(c: PixelGptConfig): number {
  return c.paletteSize
}
/** Token that starts a sequence conditioned on class `index`. */
export function classToken(c: PixelGptConfig, index: number): number {
  if (!Number.isInteger(index) || index < 0 || index >= c.numClasses) {
    throw new RangeError(`Class ${index} is outside this model's ${c.numClasses} conditioning classes.`)
  }
  return c.paletteSize + 1 + index
}
export function vocabRows(c: PixelGptConfig): number {
  return c.paletteSize + 1 + c.numClasses
}
export function hasLmHead(m: PixelGptModel): boolean {
  return m.weights.has('lm_head.weight')
}
export function hasClassifier(m: PixelGptModel): boolean {
  return m.weights.has('score.weight')
}

/** Shapes of the transformer body (no heads), in Hugging Face names. */
export function bodyShapes(c: PixelGptConfig): Map<string, number[]> {
  const s = new Map<string, number[]>()
  s.set('transformer.wte.weight', [vocabRows(c), c.width])
  s.set('transformer.wpe.weight', [seqLen(c), c.width])
  for (let l = 0; l < c.layers; l++) {
    const p = `transformer.h.${l}.`
    s.set(p + 'ln_1.weight', [c.width])
    s.set(p + 'attn.c_attn.weight', [c.width, 3 * c.width])
    s.set(p + 'attn.c_attn.bias', [3 * c.width])
    s.set(p + 'attn.c_proj.weight', [c.width, c.width])
    s.set(p + 'attn.c_proj.bias', [c.width])
    s.set(p + 'ln_2.weight', [c.width])
    s.set(p + 'mlp.c_fc.weight', [c.width, c.innerWidth])
    s.set(p + 'mlp.c_fc.bias', [c.innerWidth])
    s.set(p + 'mlp.c_proj.weight', [c.innerWidth, c.width])
    s.set(p + 'mlp.c_proj.bias', [c.width])
  }
  s.set('transformer.ln_f.weight', [c.width])
  return s
}

export function validateConfig(c: PixelGptConfig): void {
  const ints: (keyof PixelGptConfig)[] = ['side', 'paletteSize', 'width', 'layers', 'heads', 'innerWidth']
  for (const k of ints) {
    if (!Number.isInteger(c[k]) || (c[k] as number) < 1) throw new RangeError(`Model config ${k} must be a positive integer, got ${c[k]}.`)
  }
  if (!Number.isInteger(c.numClasses) || c.numClasses < 0) throw new RangeError(`Model config numClasses must be 0 or more, got ${c.numClasses}.`)
  if (c.width % c.heads !== 0) throw new RangeError(`Model width ${c.width} is not divisible by ${c.heads} heads.`)
  if (!(c.eps > 0)) throw new RangeError(`Model config eps must be positive, got ${c.eps}.`)
  if (c.resample !== undefined && !(RESAMPLE_KERNELS as readonly string[]).includes(c.resample)) {
    throw new RangeError(`Model config resample must be one of ${RESAMPLE_KERNELS.join(', ')}, got ${String(c.resample)}.`)
  }
}

/** Checks that every weight the config implies is present with its shape. */
export function validateModel(m: PixelGptModel): void {
  validateConfig(m.config)
  for (const [name, shape] of bodyShapes(m.config)) checkShape(m.weights, name, shape)
  if (hasLmHead(m)) checkShape(m.weights, 'lm_head.weight', [m.config.paletteSize, m.config.width])
  if (hasClassifier(m)) checkShape(m.weights, 'score.weight', [m.classes.length, m.config.width])
  if (!hasLmHead(m) && !hasClassifier(m)) throw new RangeError('The model has neither an lm_head nor a classifier head.')
  if (m.palette.length !== m.config.paletteSize * 3) throw new RangeError(`The palette has ${m.palette.length / 3} colours; the config says ${m.config.paletteSize}.`)
  if (m.conditionClasses.length !== m.config.numClasses) throw new RangeError(`The model names ${m.conditionClasses.length} conditioning classes; the config says ${m.config.numClasses}.`)
}

function checkShape(w: TensorMap, name: string, shape: number[]): void {
  const t = w.get(name)
  if (!t) throw new RangeError(`The weights lack tensor "${name}".`)
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new RangeError(`Tensor "${name}" has shape [${t.shape.join(', ')}]; the config needs [${shape.join(', ')}].`)
  }
  if (t.data.length !== numel(shape)) throw new RangeError(`Tensor "${name}" holds ${t.data.length} values for shape [${shape.join(', ')}].`)
}

export interface InitOptions {
  seed: number
  lmHead?: boolean
  /** Labels of a classifier head to create (zero-initialised like a fresh probe would be random; we use N(0, 0.02)). */
  classes?: string[]
  conditionClasses?: string[]
  palette?: Float32Array
}

/** Hugging Face initialisation: N(0, 0.02) matrices and embeddings, zero biases, unit norms. */
export function initPixelGpt(config: PixelGptConfig, opts: InitOptions): PixelGptModel {
  validateConfig(config)
  const rng = new Prng(opts.seed)
  const weights: TensorMap = new Map()
  const normal = (shape: number[]): NamedTensor => {
    const data = new Float32Array(numel(shape))
    for (let i = 0; i < data.length; i++) data[i] = 0.02 * rng.normal()
    return { shape, data }
  }
  for (const [name, shape] of bodyShapes(config)) {
    if (name.endsWith('ln_1.weight') || name.endsWith('ln_2.weight') || name.endsWith('ln_f.weight')) {
      weights.set(name, { shape, data: new Float32Array(numel(shape)).fill(1) })
    } else if (name.endsWith('.bias')) {
      weights.set(name, { shape, data: new Float32Array(numel(shape)) })
    } else {
      weights.set(name, normal(shape))
    }
  }
  if (opts.lmHead !== false) weights.set('lm_head.weight', normal([config.paletteSize, config.width]))
  const classes = opts.classes ?? []
  if (classes.length > 0) weights.set('score.weight', normal([classes.length, config.width]))
  let palette = opts.palette
  if (!palette) {
    palette = new Float32Array(config.paletteSize * 3)
    for (let i = 0; i < palette.length; i++) palette[i] = rng.next() * 2 - 1
  }
  const conditionClasses = opts.conditionClasses ?? Array.from({ length: config.numClasses }, (_, i) => `class_${i}`)
  const model: PixelGptModel = { config, palette, weights, classes, conditionClasses }
  validateModel(model)
  return model
}

/** Deep copy of the weights (the graphs' training step returns new arrays; this is for callers that mutate). */
export function cloneWeights(w: TensorMap): TensorMap {
  const out: TensorMap = new Map()
  for (const [k, t] of w) out.set(k, { shape: [...t.shape], data: new Float32Array(t.data) })
  return out
}
