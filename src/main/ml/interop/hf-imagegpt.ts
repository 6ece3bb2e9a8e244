// Hugging Face ImageGPT folders <-> PixelGptModel.
// A folder holds config.json, preprocessor_config.json (with `clusters`, the palette) and
// model.safetensors (or a PyTorch pytorch_model.bin, read without Python). Both
// ImageGPTForCausalImageModeling (lm_head) and ImageGPTForImageClassification (score) are read;
// export writes the same layout back (safetensors).
//
// Class conditioning is a Tessera extension stored in config.json as `tessera_condition_labels`:
// the embedding table then has K + 1 + C rows. Hugging Face sizes lm_head as vocab_size - 1 rows,
// so export pads lm_head with C zero rows (the file loads in Python) and import drops them.

import { promises as fs } from 'node:fs'
import path from 'node:path'

import type { ResampleKernel } from '../../imaging/decode'
import { type PixelGptConfig, type PixelGptModel, bodyShapes, validateModel } from '../pixelgpt/model'
import { InteropError, type SafetensorsFile, type TensorMap, readSafetensors, writeFileAtomic, writeSafetensors } from './safetensors'
import { readTorchCheckpoint } from './torch-checkpoint'

const CAUSAL = 'ImageGPTForCausalImageModeling'
const CLASSIFY = 'ImageGPTForImageClassification'
const BASE = 'ImageGPTModel'

export interface ImportResult {
  model: PixelGptModel
  /** Tensors in the file that Tessera does not use (attention-mask buffers of old checkpoints and the like). */
  ignored: string[]
  architecture: string
}

async function readJson(file: string, what: string): Promise<Record<string, unknown>> {
  let text: string
  try {
    text = await fs.readFile(file, 'utf8')
  } catch {
    throw new InteropError(`The folder has no readable ${what} (${file}).`)
  }
  try {
    const v = JSON.parse(text) as unknown
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object')
    return v as Record<string, unknown>
  } catch {
    throw new InteropError(`${what} is not a valid JSON object (${file}).`)
  }
}

function intField(cfg: Record<string, unknown>, key: string): number {
  const v = cfg[key]
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new InteropError(`config.json has no valid "${key}" (a positive integer is needed, got ${JSON.stringify(v)}).`)
  }
  return v
}

/** Reads a Hugging Face ImageGPT folder. */
export async function importHfImageGpt(folder: string): Promise<ImportResult> {
  const cfg = await readJson(path.join(folder, 'config.json'), 'config.json')
  const archs = Array.isArray(cfg.architectures) ? (cfg.architectures as unknown[]).map(String) : []
  const modelType = typeof cfg.model_type === 'string' ? cfg.model_type : undefined
  const architecture = archs.find((a) => a === CAUSAL || a === CLASSIFY || a === BASE)
  if (modelType !== 'imagegpt' || architecture === undefined) {
    const what = archs.length > 0 ? archs.join(', ') : `model_type "${modelType ?? 'unknown'}"`
    throw new InteropError(
      `config.json describes ${what}, not an ImageGPT model; Tessera imports ${CAUSAL} and ${CLASSIFY} folders only.`
    )
  }
  const act = cfg.activation_function ?? 'quick_gelu'
  if (act !== 'quick_gelu') {
    throw new InteropError(`config.json uses activation "${String(act)}"; Tessera's ImageGPT graphs implement quick_gelu only.`)
  }
  if (cfg.scale_attn_by_inverse_layer_idx === true || cfg.reorder_and_upcast_attn === true || cfg.scale_attn_weights === false) {
    throw new InteropError('config.json changes the attention scaling (scale_attn_weights / scale_attn_by_inverse_layer_idx / reorder_and_upcast_attn); Tessera supports the standard 1/sqrt(head_dim) scaling only.')
  }
  const vocabSize = intField(cfg, 'vocab_size')
  const nPositions = intField(cfg, 'n_positions')
  const width = intField(cfg, 'n_embd')
  const layers = intField(cfg, 'n_layer')
  const heads = intField(cfg, 'n_head')
  const innerWidth = cfg.n_inner === null || cfg.n_inner === undefined ? 4 * width : intField(cfg, 'n_inner')
  const eps = typeof cfg.layer_norm_epsilon === 'number' ? cfg.layer_norm_epsilon : 1e-5
  const conditionClasses = Array.isArray(cfg.tessera_condition_labels) ? (cfg.tessera_condition_labels as unknown[]).map(String) : []
  const K = vocabSize - 1 - conditionClasses.length
  if (width % heads !== 0) throw new InteropError(`config.json has n_embd ${width}, which ${heads} heads do not divide.`)

  const pre = await readJson(path.join(folder, 'preprocessor_config.json'), 'preprocessor_config.json')
  const clusters = pre.clusters
  const okClusters =
    Array.isArray(clusters) &&
    clusters.every((c) => Array.isArray(c) && c.length === 3 && c.every((x) => typeof x === 'number' && Number.isFinite(x)))
  if (!okClusters || (clusters as unknown[]).length !== K) {
    const shape = Array.isArray(clusters)
      ? `[${clusters.length}, ${Array.isArray(clusters[0]) ? (clusters[0] as unknown[]).length : '?'}]`
      : 'missing'
    throw new InteropError(
      `preprocessor_config.json has clusters of shape ${shape}; they must be [${K}, 3] (one RGB colour per palette entry, vocab_size - 1 = ${K}).`
    )
  }
  const palette = new Float32Array(K * 3)
  ;(clusters as number[][]).forEach((c, i) => palette.set(c, i * 3))

  const side = sideFrom(pre, nPositions)
  const resample = resampleFrom(pre.resample)
  if (cfg.tessera_mirror !== undefined && typeof cfg.tessera_mirror !== 'boolean') throw new InteropError(`config.json has tessera_mirror ${JSON.stringify(cfg.tessera_mirror)}; it must be true or false.`)
  const config: PixelGptConfig = {
    side,
    paletteSize: K,
    width,
    layers,
    heads,
    innerWidth,
    eps,
    numClasses: conditionClasses.length,
    ...(resample === 'linear' ? {} : { resample }),
    ...(cfg.tessera_mirror === false ? { mirror: false } : {})
  }

  // Attention-mask buffers of old checkpoints (often bool or uint8) are skipped unread.
  const isBuffer = (n: string): boolean => /(^|\.)attn\.(bias|masked_bias)$/.test(n)
  const ignored: string[] = []
  const skip = (n: string): boolean => isBuffer(n) && ignored.push(n) > 0
  const exists = (f: string): Promise<boolean> =>
    fs.access(path.join(folder, f)).then(
      () => true,
      () => false
    )
  let st: SafetensorsFile
  if (await exists('model.safetensors')) st = await readSafetensors(path.join(folder, 'model.safetensors'), { skip })
  else if (await exists('pytorch_model.bin')) st = await readTorchCheckpoint(path.join(folder, 'pytorch_model.bin'), { skip })
  else throw new InteropError('The folder has neither model.safetensors nor pytorch_model.bin.')
  const weights: TensorMap = new Map()
  for (const [rawName, t] of st.tensors) {
    // A bare ImageGPTModel checkpoint stores the body without the "transformer." prefix.
    const name = rawName.startsWith('transformer.') || rawName === 'lm_head.weight' || rawName === 'score.weight' ? rawName : `transformer.${rawName}`
    weights.set(name, t)
  }
  const expected = bodyShapes(config)
  for (const name of [...weights.keys()]) {
    if (!expected.has(name) && name !== 'lm_head.weight' && name !== 'score.weight') {
      ignored.push(name)
      weights.delete(name)
    }
  }
  for (const [name, shape] of expected) {
    const t = weights.get(name)
    if (!t) throw new InteropError(`model.safetensors lacks tensor "${name}", which the config implies.`)
    if (t.shape.join(',') !== shape.join(',')) {
      throw new InteropError(`model.safetensors has "${name}" of shape [${t.shape.join(', ')}]; config.json implies [${shape.join(', ')}].`)
    }
  }
  const lm = weights.get('lm_head.weight')
  if (architecture === CAUSAL && !lm) throw new InteropError(`model.safetensors lacks lm_head.weight, which ${CAUSAL} needs.`)
  if (lm) {
    const rows = vocabSize - 1
    if (lm.shape.join(',') !== `${rows},${width}`) {
      throw new InteropError(`model.safetensors has lm_head.weight of shape [${lm.shape.join(', ')}]; config.json implies [${rows}, ${width}].`)
    }
    if (rows !== K) weights.set('lm_head.weight', { shape: [K, width], data: lm.data.slice(0, K * width) })
  }
  let classes: string[] = []
  const score = weights.get('score.weight')
  if (architecture === CLASSIFY && !score) throw new InteropError(`model.safetensors lacks score.weight, which ${CLASSIFY} needs.`)
  if (score) {
    if (score.shape.length !== 2 || score.shape[1] !== width) {
      throw new InteropError(`model.safetensors has score.weight of shape [${score.shape.join(', ')}]; it must be [labels, ${width}].`)
    }
    classes = labelsFrom(cfg, score.shape[0] as number)
  }
  if (!lm && !score) throw new InteropError('model.safetensors has neither lm_head.weight nor score.weight, so the model can neither generate nor classify.')
  const model: PixelGptModel = { config, palette, weights, classes, conditionClasses }
  validateModel(model)
  return { model, ignored, architecture }
}

/**
 * PIL resample codes (Hugging Face image processors) as Tessera's kernels: 0 NEAREST, 1 LANCZOS,
 * 2 BILINEAR, 3 BICUBIC, 4 BOX, 5 HAMMING (no Tessera kernel: bilinear, the nearest in effect).
 * Absent means the ImageGPT processor's default, bilinear.
 */
const PIL_RESAMPLE: Record<number, ResampleKernel> = { 0: 'nearest', 1: 'lanczos3', 2: 'linear', 3: 'cubic', 4: 'box', 5: 'linear' }

function resampleFrom(v: unknown): ResampleKernel {
  if (v === undefined || v === null) return 'linear'
  const k = typeof v === 'number' ? PIL_RESAMPLE[v] : undefined
  if (!k) throw new InteropError(`preprocessor_config.json has resample ${JSON.stringify(v)}; Tessera reads PIL's codes 0-5 (2 = bilinear, 4 = box).`)
  return k
}

function pilResample(k: ResampleKernel | undefined): number {
  return { nearest: 0, lanczos3: 1, linear: 2, cubic: 3, box: 4 }[k ?? 'linear']
}

function sideFrom(pre: Record<string, unknown>, nPositions: number): number {
  const size = pre.size
  let side: number | undefined
  if (typeof size === 'number') side = size
  else if (size !== null && typeof size === 'object') {
    const s = size as { height?: unknown; width?: unknown; shortest_edge?: unknown }
    if (typeof s.height === 'number' && typeof s.width === 'number') {
      if (s.height !== s.width) throw new InteropError(`preprocessor_config.json asks for ${s.width}x${s.height} images; Tessera handles square images only.`)
      side = s.height
    }
  }
  side ??= Math.round(Math.sqrt(nPositions))
  if (side * side !== nPositions) {
    throw new InteropError(`config.json has n_positions ${nPositions}, which is not the ${side}x${side} image the preprocessor describes.`)
  }
  return side
}

function labelsFrom(cfg: Record<string, unknown>, n: number): string[] {
  const id2label = cfg.id2label
  const labels = Array.from({ length: n }, (_, i) => `LABEL_${i}`)
  if (id2label !== null && typeof id2label === 'object') {
    for (const [k, v] of Object.entries(id2label as Record<string, unknown>)) {
      const i = Number(k)
      if (Number.isInteger(i) && i >= 0 && i < n) labels[i] = String(v)
    }
  }
  return labels
}

/**
 * Writes a Hugging Face ImageGPT folder. A model with an lm_head is exported as
 * ImageGPTForCausalImageModeling (a classifier head, if any, rides along in the same file and
 * id2label); a classifier-only model as ImageGPTForImageClassification. Refuses a folder that
 * already holds any of the three files.
 */
export async function exportHfImageGpt(model: PixelGptModel, folder: string): Promise<void> {
  validateModel(model)
  const c = model.config
  await fs.mkdir(folder, { recursive: true })
  for (const f of ['config.json', 'preprocessor_config.json', 'model.safetensors']) {
    const exists = await fs.access(path.join(folder, f)).then(
      () => true,
      () => false
    )
    if (exists) throw new InteropError(`${folder} already has ${f}; export writes into a new or empty folder and never overwrites files.`)
  }
  const weights: TensorMap = new Map(model.weights)
  const lm = model.weights.get('lm_head.weight')
  if (lm && c.numClasses > 0) {
    const padded = new Float32Array((c.paletteSize + c.numClasses) * c.width)
    padded.set(lm.data)
    weights.set('lm_head.weight', { shape: [c.paletteSize + c.numClasses, c.width], data: padded })
  }
  const config: Record<string, unknown> = {
    architectures: [lm ? CAUSAL : CLASSIFY],
    model_type: 'imagegpt',
    vocab_size: c.paletteSize + 1 + c.numClasses,
    n_positions: c.side * c.side,
    n_embd: c.width,
    n_layer: c.layers,
    n_head: c.heads,
    n_inner: c.innerWidth === 4 * c.width ? null : c.innerWidth,
    activation_function: 'quick_gelu',
    layer_norm_epsilon: c.eps,
    scale_attn_weights: true,
    scale_attn_by_inverse_layer_idx: false,
    reorder_and_upcast_attn: false,
    tie_word_embeddings: false,
    resid_pdrop: 0.1,
    embd_pdrop: 0.1,
    attn_pdrop: 0.1,
    initializer_range: 0.02
  }
  if (model.classes.length > 0) {
    config.id2label = Object.fromEntries(model.classes.map((l, i) => [String(i), l]))
    config.label2id = Object.fromEntries(model.classes.map((l, i) => [l, i]))
  }
  if (c.numClasses > 0) config.tessera_condition_labels = model.conditionClasses
  if (c.mirror === false) config.tessera_mirror = false
  const clusters: number[][] = []
  for (let k = 0; k < c.paletteSize; k++) clusters.push([...model.palette.subarray(k * 3, k * 3 + 3)])
  const pre = {
    clusters,
    do_normalize: true,
    do_resize: true,
    resample: pilResample(c.resample),
    size: { height: c.side, width: c.side },
    image_processor_type: 'ImageGPTImageProcessor'
  }
  await writeSafetensors(path.join(folder, 'model.safetensors'), weights, { format: 'pt' })
  await writeFileAtomic(path.join(folder, 'config.json'), JSON.stringify(config, null, 2) + '\n')
  await writeFileAtomic(path.join(folder, 'preprocessor_config.json'), JSON.stringify(pre, null, 2) + '\n')
}
