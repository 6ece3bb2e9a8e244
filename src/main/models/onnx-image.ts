// Generic ONNX image models users bring: a classifier (logits output) or a feature extractor
// (embedding output). The graph is inspected from its ModelProto (no session needed): exactly
// one float image input, NCHW [N, 3, H, W] or NHWC [N, H, W, 3], and a [N, D] output.
// Preprocessing comes from a Hugging Face preprocessor_config.json when present (size, crop,
// mean, std, rescale) or from the caller, and is applied with sharp.

import { onnx } from 'onnx-proto'
import sharp from 'sharp'

import { AppError } from '../errors'
import { decodeToModelRgb } from '../imaging/decode'

export const ONNX_FORMAT = 'tessera-onnx'
export const ONNX_VERSION = 1
export const ONNX_FILE = 'model.onnx'

export interface IoInfo {
  name: string
  /** 'float32', 'int64' …, or 'non-tensor'. */
  type: string
  shape: (number | string)[]
}

export interface OnnxPreprocess {
  /** Resize so the short side is `resize`, then cut the centre `height` x `width` (crop), or squash straight to it. */
  resize: number
  crop: boolean
  /** Pixel bytes are multiplied by `rescale` (1/255 usually), then (x - mean) / std per channel. */
  rescale: number
  mean: [number, number, number]
  std: [number, number, number]
}

export interface OnnxImageSpec {
  format: typeof ONNX_FORMAT
  version: number
  task: 'classifier' | 'features'
  input: { name: string; layout: 'nchw' | 'nhwc'; height: number; width: number; dynamicBatch: boolean }
  output: { name: string; dim: number }
  preprocess: OnnxPreprocess
  labels: string[]
  /** Everything the graph declares, as inspected (shown in the model card). */
  inputs: IoInfo[]
  outputs: IoInfo[]
  parameters: number
  meta: Record<string, unknown>
}

const ELEM: Record<number, string> = { 1: 'float32', 2: 'uint8', 3: 'int8', 5: 'int16', 6: 'int32', 7: 'int64', 9: 'bool', 10: 'float16', 11: 'float64', 16: 'bfloat16' }

function ioInfo(v: onnx.IValueInfoProto): IoInfo {
  const t = v.type?.tensorType
  if (!t) return { name: v.name ?? '', type: 'non-tensor', shape: [] }
  const shape = (t.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : d.dimValue !== undefined && d.dimValue !== null ? Number(d.dimValue) : '?'))
  return { name: v.name ?? '', type: ELEM[t.elemType ?? 0] ?? `type ${t.elemType}`, shape }
}

const shapeText = (s: (number | string)[]): string => `[${s.join(', ')}]`

/** Graph inputs (initializers excluded), outputs and parameter count of ONNX bytes. */
export function inspectOnnx(bytes: Uint8Array, label: string): { inputs: IoInfo[]; outputs: IoInfo[]; parameters: number } {
  let model: onnx.ModelProto
  try {
    model = onnx.ModelProto.decode(bytes)
  } catch (err) {
    throw new AppError('UNSUPPORTED', `${label} is not an ONNX model (${(err as Error).message.replace(/\.$/, '')}).`)
  }
  const g = model.graph
  if (!g || !g.node?.length) throw new AppError('UNSUPPORTED', `${label} is not an ONNX model: it holds no graph.`)
  const inits = new Set((g.initializer ?? []).map((t) => t.name))
  let parameters = 0
  for (const t of g.initializer ?? []) parameters += (t.dims ?? []).reduce<number>((a, d) => a * Number(d), 1)
  return {
    inputs: (g.input ?? []).filter((v) => !inits.has(v.name ?? '')).map(ioInfo),
    outputs: (g.output ?? []).map(ioInfo),
    parameters
  }
}

export interface OnnxImportOptions {
  labels?: string[]
  /** A Hugging Face preprocessor_config.json, parsed. */
  preprocessor?: Record<string, unknown>
  /** Overrides (an import dialog): square input side, mean, std, crop. */
  size?: number
  mean?: [number, number, number]
  std?: [number, number, number]
  crop?: boolean
}

const triple = (v: unknown): [number, number, number] | undefined =>
  Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number' && Number.isFinite(x)) ? (v as [number, number, number]) : undefined

function sizeOf(v: unknown): { height?: number; width?: number; shortest?: number } {
  if (typeof v === 'number') return { height: v, width: v }
  if (v && typeof v === 'object') {
    const s = v as Record<string, unknown>
    const num = (k: string): number | undefined => (typeof s[k] === 'number' ? (s[k] as number) : undefined)
    return { height: num('height'), width: num('width'), shortest: num('shortest_edge') }
  }
  return {}
}

/** Decides how to feed and read the model, or refuses it with the reason. */
export function planOnnxImport(bytes: Uint8Array, label: string, opts: OnnxImportOptions = {}): OnnxImageSpec {
  const { inputs, outputs, parameters } = inspectOnnx(bytes, label)
  if (inputs.length !== 1) {
    throw new AppError(
      'UNSUPPORTED',
      `${label} has ${inputs.length} inputs (${inputs.map((i) => `${i.name} ${i.type} ${shapeText(i.shape)}`).join('; ')}); Tessera imports image models with exactly one image input.`
    )
  }
  const inp = inputs[0] as IoInfo
  const s = inp.shape
  const isChannels = (d: number | string | undefined): boolean => d === 3
  const layout = s.length === 4 && isChannels(s[1]) ? 'nchw' : s.length === 4 && isChannels(s[3]) ? 'nhwc' : null
  if (!inp.type.startsWith('float32') || layout === null) {
    throw new AppError(
      'UNSUPPORTED',
      `${label}: input "${inp.name}" is ${inp.type} ${shapeText(s)}, not an image tensor; Tessera needs float32 [N, 3, H, W] or [N, H, W, 3].`
    )
  }
  const [hDim, wDim] = layout === 'nchw' ? [s[2], s[3]] : [s[1], s[2]]
  const pre = opts.preprocessor ?? {}
  const crop = sizeOf(pre.crop_size)
  const size = sizeOf(pre.size)
  const fixed = (d: number | string | undefined): number | undefined => (typeof d === 'number' && d > 0 ? d : undefined)
  const height = opts.size ?? fixed(hDim) ?? crop.height ?? size.height ?? size.shortest
  const width = opts.size ?? fixed(wDim) ?? crop.width ?? size.width ?? size.shortest
  if (!height || !width) {
    throw new AppError('UNSUPPORTED', `${label}: input "${inp.name}" ${shapeText(s)} has no fixed image size and no preprocessor_config.json says one; give the size.`)
  }
  if ((fixed(hDim) && fixed(hDim) !== height) || (fixed(wDim) && fixed(wDim) !== width)) {
    throw new AppError('UNSUPPORTED', `${label}: input "${inp.name}" is ${shapeText(s)}, but the size given is ${width}x${height}.`)
  }
  const doCrop = opts.crop ?? (pre.do_center_crop === true || crop.height !== undefined)
  const resize = doCrop ? (size.shortest ?? size.height ?? Math.max(height, width)) : Math.max(height, width)
  const normalize = pre.do_normalize !== false
  const mean = opts.mean ?? (normalize ? triple(pre.image_mean) : undefined) ?? [0, 0, 0]
  const std = opts.std ?? (normalize ? triple(pre.image_std) : undefined) ?? [1, 1, 1]
  if (std.some((v) => v === 0)) throw new AppError('VALIDATION', `${label}: a standard deviation of 0 cannot normalise an image.`)
  const rescale = pre.do_rescale === false ? 1 : typeof pre.rescale_factor === 'number' ? pre.rescale_factor : 1 / 255

  const out = outputs.find((o) => o.type === 'float32' && o.shape.length === 2)
  if (!out) {
    throw new AppError(
      'UNSUPPORTED',
      `${label} has no float32 [N, D] output (it has ${outputs.map((o) => `${o.name} ${o.type} ${shapeText(o.shape)}`).join('; ')}); Tessera reads logits or embeddings of that shape.`
    )
  }
  const dim = typeof out.shape[1] === 'number' ? out.shape[1] : 0
  const labels = opts.labels ?? []
  if (labels.length > 0 && dim > 0 && labels.length !== dim) {
    throw new AppError('UNSUPPORTED', `${label}: output "${out.name}" has ${dim} values per image but the label file names ${labels.length} classes.`)
  }
  return {
    format: ONNX_FORMAT,
    version: ONNX_VERSION,
    task: labels.length > 0 ? 'classifier' : 'features',
    input: { name: inp.name, layout, height, width, dynamicBatch: typeof s[0] !== 'number' },
    output: { name: out.name, dim },
    preprocess: { resize, crop: doCrop, rescale, mean, std },
    labels,
    inputs,
    outputs,
    parameters,
    meta: {}
  }
}

/** Labels from a JSON array, an {id2label} / {"0": "cat"} object, or a text file with one label per line. */
export function parseLabels(text: string, label: string): string[] {
  const trimmed = text.trim()
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    let v: unknown
    try {
      v = JSON.parse(trimmed)
    } catch {
      throw new AppError('UNSUPPORTED', `${label} is not valid JSON.`)
    }
    if (Array.isArray(v)) return v.map(String)
    const obj = ((v as Record<string, unknown>).id2label ?? v) as Record<string, unknown>
    const entries = Object.entries(obj).filter(([k]) => /^\d+$/.test(k))
    if (!entries.length) throw new AppError('UNSUPPORTED', `${label} has no labels (a JSON array, an id2label object or one label per line).`)
    const out: string[] = []
    for (const [k, name] of entries) out[Number(k)] = String(name)
    for (let i = 0; i < out.length; i++) if (out[i] === undefined) throw new AppError('UNSUPPORTED', `${label} has no label for class ${i}.`)
    return out
  }
  const lines = trimmed.split(/\r?\n/).map((l) => l.trim()).filter(Boolean)
  if (!lines.length) throw new AppError('UNSUPPORTED', `${label} is empty.`)
  return lines
}

/** One image as the model's input tensor data (1 image: 3*H*W floats in the spec's layout), and its RGB bytes at that size. */
export async function onnxImageInput(file: string, spec: OnnxImageSpec, label: string): Promise<{ data: Float32Array; rgb: Uint8Array }> {
  const { height: H, width: W } = spec.input
  const p = spec.preprocess
  let rgb: Uint8Array
  if (H === W && (!p.crop || p.resize === H)) {
    rgb = (await decodeToModelRgb(file, H, { resize: p.crop ? 'crop' : 'squash', label })).rgb
  } else {
    // Short side to `resize`, then the centre H x W.
    const base = await decodeToModelRgb(file, Math.max(p.resize, H, W), { resize: 'crop', label })
    const side = base.side
    const buf = await sharp(Buffer.from(base.rgb), { raw: { width: side, height: side, channels: 3 } })
      .extract({ left: Math.floor((side - W) / 2), top: Math.floor((side - H) / 2), width: W, height: H })
      .raw()
      .toBuffer()
    rgb = new Uint8Array(buf)
  }
  const data = new Float32Array(3 * H * W)
  for (let i = 0; i < H * W; i++) {
    for (let c = 0; c < 3; c++) {
      const v = ((rgb[i * 3 + c] as number) * p.rescale - p.mean[c]!) / p.std[c]!
      data[spec.input.layout === 'nchw' ? c * H * W + i : i * 3 + c] = v
    }
  }
  return { data, rgb }
}
