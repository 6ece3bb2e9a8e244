// Reads PyTorch state-dict checkpoints (`pytorch_model.bin`, the zip format torch.save has
// written since 1.6) without Python: a small zip reader, and a pickle reader that understands
// just what torch.save emits for a state dict (OrderedDict of tensors rebuilt from storages).
// Many Hugging Face ImageGPT checkpoints (openai/imagegpt-*) ship only this file.
//
// Nothing in the pickle is executed: the few globals torch uses are recognised by name and
// anything else is refused.

import { promises as fs } from 'node:fs'
import path from 'node:path'
import { inflateRawSync } from 'node:zlib'

import { halfToFloat, InteropError, numel, type ParseOptions, type SafetensorsFile, type TensorMap } from './safetensors'

// ---- zip ----

interface ZipEntry {
  name: string
  method: number
  compressedSize: number
  offset: number
}

function zipEntries(buf: Buffer, label: string): Map<string, ZipEntry> {
  // End of central directory: signature 0x06054b50 within the last 64 KiB + 22 bytes.
  let eocd = -1
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65557); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i
      break
    }
  }
  if (eocd < 0) throw new InteropError(`${label} is not a PyTorch zip checkpoint (no zip directory found; the file may be truncated or in the pre-1.6 format).`)
  let count = buf.readUInt16LE(eocd + 10)
  let dirOffset = buf.readUInt32LE(eocd + 16)
  if (dirOffset === 0xffffffff || count === 0xffff) {
    // zip64: the locator sits just before the EOCD and points at the zip64 EOCD record.
    const loc = eocd - 20
    if (loc < 0 || buf.readUInt32LE(loc) !== 0x07064b50) throw new InteropError(`${label} has a damaged zip64 directory.`)
    const rec = Number(buf.readBigUInt64LE(loc + 8))
    if (buf.readUInt32LE(rec) !== 0x06064b50) throw new InteropError(`${label} has a damaged zip64 directory.`)
    count = Number(buf.readBigUInt64LE(rec + 32))
    dirOffset = Number(buf.readBigUInt64LE(rec + 48))
  }
  const entries = new Map<string, ZipEntry>()
  let p = dirOffset
  for (let i = 0; i < count; i++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== 0x02014b50) throw new InteropError(`${label} has a damaged zip directory.`)
    const method = buf.readUInt16LE(p + 10)
    let compressedSize = buf.readUInt32LE(p + 20)
    const nameLen = buf.readUInt16LE(p + 28)
    const extraLen = buf.readUInt16LE(p + 30)
    const commentLen = buf.readUInt16LE(p + 32)
    let offset = buf.readUInt32LE(p + 42)
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen)
    // zip64 extra field (id 1) carries the 64-bit sizes/offset that are 0xffffffff above.
    let e = p + 46 + nameLen
    const eEnd = e + extraLen
    while (e + 4 <= eEnd) {
      const id = buf.readUInt16LE(e)
      const size = buf.readUInt16LE(e + 2)
      if (id === 1) {
        let q = e + 4
        if (buf.readUInt32LE(p + 24) === 0xffffffff) q += 8
        if (compressedSize === 0xffffffff) {
          compressedSize = Number(buf.readBigUInt64LE(q))
          q += 8
        }
        if (offset === 0xffffffff) offset = Number(buf.readBigUInt64LE(q))
      }
      e += 4 + size
    }
    entries.set(name, { name, method, compressedSize, offset })
    p = eEnd + commentLen
  }
  return entries
}

function zipRead(buf: Buffer, e: ZipEntry, label: string): Buffer {
  if (e.offset + 30 > buf.length || buf.readUInt32LE(e.offset) !== 0x04034b50) throw new InteropError(`${label} is damaged: entry ${e.name} has no local header.`)
  const start = e.offset + 30 + buf.readUInt16LE(e.offset + 26) + buf.readUInt16LE(e.offset + 28)
  const end = start + e.compressedSize
  if (end > buf.length) throw new InteropError(`${label} is truncated: entry ${e.name} runs past the end of the file.`)
  const raw = buf.subarray(start, end)
  if (e.method === 0) return raw
  if (e.method === 8) return inflateRawSync(raw)
  throw new InteropError(`${label} compresses ${e.name} with zip method ${e.method}, which Tessera cannot read.`)
}

// ---- pickle (the subset torch.save produces) ----

class Global {
  constructor(readonly name: string) {}
}
class Mark {}
const MARK = new Mark()

interface StorageRef {
  kind: 'storage'
  dtype: string
  key: string
}
interface TensorRef {
  kind: 'tensor'
  storage: StorageRef
  offset: number
  size: number[]
  stride: number[]
}

const STORAGE_DTYPES: Record<string, string> = {
  'torch.FloatStorage': 'F32',
  'torch.HalfStorage': 'F16',
  'torch.BFloat16Storage': 'BF16',
  'torch.DoubleStorage': 'F64',
  'torch.LongStorage': 'I64',
  'torch.IntStorage': 'I32',
  'torch.ShortStorage': 'I16',
  'torch.CharStorage': 'I8',
  'torch.ByteStorage': 'U8',
  'torch.BoolStorage': 'BOOL'
}
const ITEM_BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 }

type PValue = unknown

function unpickle(data: Buffer, label: string): PValue {
  const stack: PValue[] = []
  const memo = new Map<number, PValue>()
  let p = 0
  const fail = (why: string): never => {
    throw new InteropError(`${label} holds a pickle Tessera cannot read safely (${why}).`)
  }
  const popMark = (): PValue[] => {
    let i = stack.length - 1
    while (i >= 0 && stack[i] !== MARK) i--
    if (i < 0) fail('mark missing')
    const items = stack.splice(i)
    items.shift()
    return items
  }
  const reduce = (fn: PValue, args: PValue): PValue => {
    if (!(fn instanceof Global)) return fail('call of a non-global')
    const a = args as PValue[]
    switch (fn.name) {
      case 'collections.OrderedDict':
        return new Map()
      case 'torch._utils._rebuild_tensor_v2':
      case 'torch._utils._rebuild_tensor': {
        const storage = a[0] as StorageRef
        if (storage?.kind !== 'storage') fail('tensor without storage')
        return { kind: 'tensor', storage, offset: a[1] as number, size: a[2] as number[], stride: a[3] as number[] } satisfies TensorRef
      }
      case 'torch._utils._rebuild_parameter':
        return a[0]
      default:
        return fail(`call of ${fn.name}`)
    }
  }
  for (;;) {
    if (p >= data.length) fail('ends without STOP')
    const op = data[p++] as number
    switch (op) {
      case 0x80: // PROTO
        p += 1
        break
      case 0x95: // FRAME
        p += 8
        break
      case 0x2e: // STOP
        return stack.pop()
      case 0x28: // MARK
        stack.push(MARK)
        break
      case 0x7d: // EMPTY_DICT
        stack.push(new Map())
        break
      case 0x5d: // EMPTY_LIST
        stack.push([])
        break
      case 0x29: // EMPTY_TUPLE
        stack.push([])
        break
      case 0x4e: // NONE
        stack.push(null)
        break
      case 0x88: // NEWTRUE
        stack.push(true)
        break
      case 0x89: // NEWFALSE
        stack.push(false)
        break
      case 0x4b: // BININT1
        stack.push(data[p++])
        break
      case 0x4d: // BININT2
        stack.push(data.readUInt16LE(p))
        p += 2
        break
      case 0x4a: // BININT
        stack.push(data.readInt32LE(p))
        p += 4
        break
      case 0x8a: {
        // LONG1
        const n = data[p++] as number
        let v = 0n
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(data[p + i] as number)
        if (n > 0 && ((data[p + n - 1] as number) & 0x80) !== 0) v -= 1n << BigInt(8 * n)
        stack.push(Number(v))
        p += n
        break
      }
      case 0x47: // BINFLOAT
        stack.push(data.readDoubleBE(p))
        p += 8
        break
      case 0x58: {
        // BINUNICODE
        const n = data.readUInt32LE(p)
        stack.push(data.toString('utf8', p + 4, p + 4 + n))
        p += 4 + n
        break
      }
      case 0x8c: {
        // SHORT_BINUNICODE
        const n = data[p++] as number
        stack.push(data.toString('utf8', p, p + n))
        p += n
        break
      }
      case 0x55: {
        // SHORT_BINSTRING
        const n = data[p++] as number
        stack.push(data.toString('latin1', p, p + n))
        p += n
        break
      }
      case 0x54: {
        // BINSTRING
        const n = data.readUInt32LE(p)
        stack.push(data.toString('latin1', p + 4, p + 4 + n))
        p += 4 + n
        break
      }
      case 0x43: {
        // SHORT_BINBYTES
        const n = data[p++] as number
        stack.push(data.subarray(p, p + n))
        p += n
        break
      }
      case 0x42: {
        // BINBYTES
        const n = data.readUInt32LE(p)
        stack.push(data.subarray(p + 4, p + 4 + n))
        p += 4 + n
        break
      }
      case 0x63: {
        // GLOBAL "module\nname\n"
        const nl1 = data.indexOf(0x0a, p)
        const nl2 = data.indexOf(0x0a, nl1 + 1)
        stack.push(new Global(`${data.toString('utf8', p, nl1)}.${data.toString('utf8', nl1 + 1, nl2)}`))
        p = nl2 + 1
        break
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = stack.pop() as string
        const mod = stack.pop() as string
        stack.push(new Global(`${mod}.${name}`))
        break
      }
      case 0x71: // BINPUT
        memo.set(data[p++] as number, stack[stack.length - 1])
        break
      case 0x72: // LONG_BINPUT
        memo.set(data.readUInt32LE(p), stack[stack.length - 1])
        p += 4
        break
      case 0x94: // MEMOIZE
        memo.set(memo.size, stack[stack.length - 1])
        break
      case 0x68: // BINGET
        stack.push(memo.get(data[p++] as number))
        break
      case 0x6a: // LONG_BINGET
        stack.push(memo.get(data.readUInt32LE(p)))
        p += 4
        break
      case 0x74: // TUPLE
        stack.push(popMark())
        break
      case 0x85: // TUPLE1
        stack.push([stack.pop()])
        break
      case 0x86: {
        // TUPLE2
        const b = stack.pop()
        const a = stack.pop()
        stack.push([a, b])
        break
      }
      case 0x87: {
        // TUPLE3
        const c = stack.pop()
        const b = stack.pop()
        const a = stack.pop()
        stack.push([a, b, c])
        break
      }
      case 0x6c: // LIST
        stack.push(popMark())
        break
      case 0x64: {
        // DICT
        const items = popMark()
        const m = new Map<PValue, PValue>()
        for (let i = 0; i + 1 < items.length; i += 2) m.set(items[i], items[i + 1])
        stack.push(m)
        break
      }
      case 0x61: {
        // APPEND
        const v = stack.pop()
        ;(stack[stack.length - 1] as PValue[]).push(v)
        break
      }
      case 0x65: {
        // APPENDS
        const items = popMark()
        ;(stack[stack.length - 1] as PValue[]).push(...items)
        break
      }
      case 0x73: {
        // SETITEM
        const v = stack.pop()
        const k = stack.pop()
        const m = stack[stack.length - 1]
        if (m instanceof Map) m.set(k, v)
        break
      }
      case 0x75: {
        // SETITEMS
        const items = popMark()
        const m = stack[stack.length - 1]
        if (m instanceof Map) for (let i = 0; i + 1 < items.length; i += 2) m.set(items[i], items[i + 1])
        break
      }
      case 0x52: {
        // REDUCE
        const args = stack.pop()
        const fn = stack.pop()
        stack.push(reduce(fn, args))
        break
      }
      case 0x81: {
        // NEWOBJ (cls, args): only OrderedDict-like containers are expected
        const args = stack.pop()
        const cls = stack.pop()
        stack.push(reduce(cls, args))
        break
      }
      case 0x62: // BUILD: state for an object (OrderedDict metadata, parameter hooks); ignored
        stack.pop()
        break
      case 0x51: {
        // BINPERSID: ('storage', storage_type, key, location, numel)
        const pid = stack.pop() as PValue[]
        if (!Array.isArray(pid) || pid[0] !== 'storage' || !(pid[1] instanceof Global)) fail('unknown persistent id')
        const dtype = STORAGE_DTYPES[(pid[1] as Global).name]
        if (!dtype) fail(`storage type ${(pid[1] as Global).name}`)
        stack.push({ kind: 'storage', dtype: dtype as string, key: String(pid[2]) } satisfies StorageRef)
        break
      }
      default:
        fail(`opcode 0x${op.toString(16)} at byte ${p - 1}`)
    }
  }
}

function tensorData(t: TensorRef, bytes: Buffer, name: string, label: string): Float32Array {
  const n = numel(t.size)
  const out = new Float32Array(n)
  const width = ITEM_BYTES[t.storage.dtype] as number
  const contiguous = t.size.every((_, i) => t.stride[i] === t.size.slice(i + 1).reduce((a, b) => a * b, 1) || t.size[i] === 1)
  const maxIndex = t.offset + t.size.reduce((acc, d, i) => acc + (d - 1) * (t.stride[i] as number), 0)
  if (n > 0 && (maxIndex + 1) * width > bytes.length) {
    throw new InteropError(`${label} is truncated: tensor "${name}" needs ${(maxIndex + 1) * width} bytes of storage ${t.storage.key}, which has ${bytes.length}.`)
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const read = (i: number): number => {
    const o = i * width
    switch (t.storage.dtype) {
      case 'F32':
        return view.getFloat32(o, true)
      case 'F16':
        return halfToFloat(view.getUint16(o, true))
      case 'BF16':
        return new Float32Array(new Uint32Array([view.getUint16(o, true) << 16]).buffer)[0] as number
      case 'F64':
        return view.getFloat64(o, true)
      default:
        throw new InteropError(`${label} stores tensor "${name}" as ${t.storage.dtype}; only float tensors can be read.`)
    }
  }
  if (contiguous) {
    if (t.storage.dtype === 'F32') new Uint8Array(out.buffer).set(bytes.subarray(t.offset * 4, (t.offset + n) * 4))
    else for (let i = 0; i < n; i++) out[i] = read(t.offset + i)
    return out
  }
  const idx = new Array<number>(t.size.length).fill(0)
  for (let i = 0; i < n; i++) {
    let src = t.offset
    for (let d = 0; d < idx.length; d++) src += (idx[d] as number) * (t.stride[d] as number)
    out[i] = read(src)
    for (let d = idx.length - 1; d >= 0; d--) {
      idx[d] = (idx[d] as number) + 1
      if ((idx[d] as number) < (t.size[d] as number)) break
      idx[d] = 0
    }
  }
  return out
}

/** Parses the bytes of a torch.save'd state dict into float32 tensors (same shape as safetensors reading). */
export function parseTorchCheckpoint(buf: Buffer, label = 'the PyTorch checkpoint', opts: ParseOptions = {}): SafetensorsFile {
  const entries = zipEntries(buf, label)
  const pkl = [...entries.values()].find((e) => e.name.endsWith('/data.pkl') || e.name === 'data.pkl')
  if (!pkl) throw new InteropError(`${label} is a zip file but not a PyTorch checkpoint (no data.pkl).`)
  const prefix = pkl.name.slice(0, pkl.name.length - 'data.pkl'.length)
  const root = unpickle(zipRead(buf, pkl, label), label)
  let dict = root
  // Some checkpoints wrap the weights: {"state_dict": {...}} or {"model": {...}}.
  if (dict instanceof Map && !([...dict.values()].some((v) => (v as TensorRef)?.kind === 'tensor'))) {
    dict = dict.get('state_dict') ?? dict.get('model') ?? dict
  }
  if (!(dict instanceof Map)) throw new InteropError(`${label} does not hold a state dict of tensors.`)
  const tensors: TensorMap = new Map()
  const dtypes = new Map<string, string>()
  const storages = new Map<string, Buffer>()
  for (const [k, v] of dict) {
    const name = String(k)
    const t = v as TensorRef
    if (t?.kind !== 'tensor') continue
    if (opts.skip?.(name)) continue
    let bytes = storages.get(t.storage.key)
    if (!bytes) {
      const e = entries.get(`${prefix}data/${t.storage.key}`)
      if (!e) throw new InteropError(`${label} is damaged: storage ${t.storage.key} of tensor "${name}" is missing.`)
      bytes = zipRead(buf, e, label)
      storages.set(t.storage.key, bytes)
    }
    tensors.set(name, { shape: [...t.size], data: tensorData(t, bytes, name, label) })
    dtypes.set(name, t.storage.dtype)
  }
  return { tensors, dtypes, metadata: {} }
}

export async function readTorchCheckpoint(file: string, opts: ParseOptions = {}): Promise<SafetensorsFile> {
  let bytes: Buffer
  try {
    bytes = await fs.readFile(file)
  } catch (err) {
    throw new InteropError(`Could not read ${file}: ${(err as Error).message}`)
  }
  return parseTorchCheckpoint(bytes, path.basename(file), opts)
}
