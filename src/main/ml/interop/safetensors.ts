// safetensors read and write (https://github.com/huggingface/safetensors, format section):
//   [u64 little-endian header length N][N bytes of JSON header][data]
// The header maps each tensor name to {dtype, shape, data_offsets: [begin, end]} with offsets
// relative to the start of the data; an optional "__metadata__" maps strings to strings.
// We read F32, F16, BF16 and F64 into Float32Array (the dtype the ONNX graphs use) and write F32.

import { promises as fs } from 'node:fs'
import path from 'node:path'

import { randomBytes } from 'node:crypto'

/** A bad or unsupported file; the message is a sentence for the user. */
export class InteropError extends Error {
  readonly code = 'UNSUPPORTED' as const
  constructor(message: string) {
    super(message)
    this.name = 'InteropError'
  }
}

export interface NamedTensor {
  shape: number[]
  data: Float32Array
}

export type TensorMap = Map<string, NamedTensor>

export interface SafetensorsFile {
  tensors: TensorMap
  /** The dtype each tensor had on disk, before conversion to float32. */
  dtypes: Map<string, string>
  metadata: Record<string, string>
}

const BYTES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2 }
/** Sizes of dtypes we only skip over (buffers such as boolean attention masks). */
const OTHER_BYTES: Record<string, number> = { BOOL: 1, U8: 1, I8: 1, I16: 2, U16: 2, I32: 4, U32: 4, I64: 8, U64: 8 }
/** Larger headers than this are refused as corrupt (the format's own reference limit is 100 MB). */
const MAX_HEADER_BYTES = 100_000_000

export function numel(shape: readonly number[]): number {
  let n = 1
  for (const d of shape) n *= d
  return n
}

export interface ParseOptions {
  /** Tensors to leave out (any dtype, not decoded); their offsets are still checked. */
  skip?: (name: string) => boolean
}

/** Decodes safetensors bytes. `label` names the file in error messages. */
export function parseSafetensors(bytes: Uint8Array, label = 'the safetensors file', opts: ParseOptions = {}): SafetensorsFile {
  if (bytes.byteLength < 8) {
    throw new InteropError(`${label} is truncated: it has ${bytes.byteLength} bytes, fewer than the 8-byte header length.`)
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const headerLen = Number(view.getBigUint64(0, true))
  if (headerLen > MAX_HEADER_BYTES) {
    throw new InteropError(`${label} is not a safetensors file: its header length field says ${headerLen} bytes.`)
  }
  if (8 + headerLen > bytes.byteLength) {
    throw new InteropError(
      `${label} is truncated: its header needs ${headerLen} bytes but only ${bytes.byteLength - 8} follow the length field.`
    )
  }
  let header: unknown
  try {
    header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, headerLen).toString('utf8'))
  } catch {
    throw new InteropError(`${label} is not a safetensors file: its header is not valid JSON.`)
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw new InteropError(`${label} is not a safetensors file: its header is not a JSON object.`)
  }
  const dataStart = 8 + headerLen
  const dataLen = bytes.byteLength - dataStart
  const tensors: TensorMap = new Map()
  const dtypes = new Map<string, string>()
  let metadata: Record<string, string> = {}
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (entry !== null && typeof entry === 'object') metadata = entry as Record<string, string>
      continue
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown }
    if (e === null || typeof e !== 'object' || typeof e.dtype !== 'string' || !Array.isArray(e.shape) || !Array.isArray(e.data_offsets)) {
      throw new InteropError(`${label} has a malformed header entry for tensor "${name}".`)
    }
    const shape = e.shape as unknown[]
    if (!shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) {
      throw new InteropError(`${label} gives tensor "${name}" an invalid shape ${JSON.stringify(shape)}.`)
    }
    const skipped = opts.skip?.(name) === true
    const width = BYTES[e.dtype] ?? (skipped ? OTHER_BYTES[e.dtype] : undefined)
    if (width === undefined) {
      throw new InteropError(`${label} stores tensor "${name}" as ${e.dtype}; only F32, F16, BF16 and F64 can be read.`)
    }
    const [begin, end] = e.data_offsets as unknown[]
    if (!Number.isInteger(begin) || !Number.isInteger(end) || (begin as number) < 0 || (end as number) < (begin as number)) {
      throw new InteropError(`${label} gives tensor "${name}" invalid data offsets ${JSON.stringify(e.data_offsets)}.`)
    }
    const b = begin as number
    const en = end as number
    const dims = shape as number[]
    const expected = numel(dims) * width
    if (en - b !== expected) {
      throw new InteropError(
        `${label} gives tensor "${name}" (${e.dtype} ${JSON.stringify(dims)}) ${en - b} bytes of data where ${expected} are needed.`
      )
    }
    if (en > dataLen) {
      throw new InteropError(
        `${label} is truncated: tensor "${name}" ends at data byte ${en} but the file holds only ${dataLen} bytes of data.`
      )
    }
    if (skipped) continue
    tensors.set(name, { shape: dims, data: decode(bytes, dataStart + b, numel(dims), e.dtype) })
    dtypes.set(name, e.dtype)
  }
  return { tensors, dtypes, metadata }
}

function decode(bytes: Uint8Array, offset: number, n: number, dtype: string): Float32Array {
  const out = new Float32Array(n)
  const abs = bytes.byteOffset + offset
  if (dtype === 'F32') {
    // Copy through bytes: the source may not be 4-byte aligned.
    new Uint8Array(out.buffer).set(bytes.subarray(offset, offset + n * 4))
    return out
  }
  const view = new DataView(bytes.buffer, abs, n * (BYTES[dtype] ?? 0))
  if (dtype === 'F64') {
    for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, true)
  } else if (dtype === 'F16') {
    for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(i * 2, true))
  } else {
    // bfloat16 is the top half of a float32.
    const u32 = new Uint32Array(out.buffer)
    for (let i = 0; i < n; i++) u32[i] = view.getUint16(i * 2, true) << 16
  }
  return out
}

export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1
  const exp = (h >> 10) & 0x1f
  const frac = h & 0x3ff
  if (exp === 0) return sign * frac * 2 ** -24
  if (exp === 31) return frac === 0 ? sign * Infinity : NaN
  return sign * (1 + frac / 1024) * 2 ** (exp - 15)
}

/**
 * Encodes float32 tensors, names sorted, header in the spacing Python's json.dumps uses and
 * padded with spaces to a multiple of 8 so that data starts aligned.
 */
export function serializeSafetensors(tensors: ReadonlyMap<string, NamedTensor>, metadata: Record<string, string> = { format: 'pt' }): Buffer {
  const names = [...tensors.keys()].sort()
  const parts: string[] = []
  if (Object.keys(metadata).length > 0) {
    const meta = Object.entries(metadata).map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`)
    parts.push(`"__metadata__": {${meta.join(', ')}}`)
  }
  let offset = 0
  for (const name of names) {
    const t = tensors.get(name) as NamedTensor
    if (t.data.length !== numel(t.shape)) {
      throw new Error(`Tensor "${name}" has ${t.data.length} values but shape ${JSON.stringify(t.shape)}.`)
    }
    const end = offset + t.data.length * 4
    parts.push(`${JSON.stringify(name)}: {"dtype": "F32", "shape": [${t.shape.join(', ')}], "data_offsets": [${offset}, ${end}]}`)
    offset = end
  }
  let header = `{${parts.join(', ')}}`
  const headerBytes = Buffer.byteLength(header, 'utf8')
  header += ' '.repeat((8 - (headerBytes % 8)) % 8)
  const hb = Buffer.from(header, 'utf8')
  const out = Buffer.alloc(8 + hb.length + offset)
  out.writeBigUInt64LE(BigInt(hb.length), 0)
  hb.copy(out, 8)
  let pos = 8 + hb.length
  for (const name of names) {
    const t = tensors.get(name) as NamedTensor
    const src = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)
    out.set(src, pos)
    pos += src.byteLength
  }
  return out
}

export async function readSafetensors(file: string, opts: ParseOptions = {}): Promise<SafetensorsFile> {
  let bytes: Buffer
  try {
    bytes = await fs.readFile(file)
  } catch (err) {
    throw new InteropError(`Could not read ${file}: ${(err as Error).message}`)
  }
  return parseSafetensors(bytes, path.basename(file), opts)
}

/** Writes atomically: a temporary file beside the target, then rename. */
export async function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`)
  try {
    await fs.writeFile(tmp, data)
    await fs.rename(tmp, file)
  } catch (err) {
    await fs.rm(tmp, { force: true })
    throw err
  }
}

export async function writeSafetensors(file: string, tensors: ReadonlyMap<string, NamedTensor>, metadata?: Record<string, string>): Promise<void> {
  await writeFileAtomic(file, serializeSafetensors(tensors, metadata))
}
