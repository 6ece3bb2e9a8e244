import { readFileSync } from 'node:fs'
import { mkdtemp, readFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

import { describe, expect, it } from 'vitest'

import { InteropError, parseSafetensors, readSafetensors, serializeSafetensors, writeSafetensors, type TensorMap } from '../../../../src/main/ml/interop/safetensors'
import { LM_DIR } from '../pixelgpt/fixtures'

function rawFile(header: Record<string, unknown>, data: Uint8Array): Uint8Array {
  const h = Buffer.from(JSON.stringify(header), 'utf8')
  const out = Buffer.alloc(8 + h.length + data.length)
  out.writeBigUInt64LE(BigInt(h.length), 0)
  h.copy(out, 8)
  out.set(data, 8 + h.length)
  return out
}

describe('safetensors', () => {
  it('reads the fixture and writes it back byte for byte', () => {
    const bytes = readFileSync(path.join(LM_DIR, 'model.safetensors'))
    const st = parseSafetensors(bytes)
    expect(st.tensors.size).toBe(24)
    expect(st.tensors.get('lm_head.weight')?.shape).toEqual([16, 32])
    expect(st.metadata).toEqual({ format: 'pt' })
    // First lm_head value straight from the bytes after the header.
    const headerLen = Number(bytes.readBigUInt64LE(0))
    expect(st.tensors.get('lm_head.weight')?.data[0]).toBe(bytes.readFloatLE(8 + headerLen))
    const again = serializeSafetensors(st.tensors, st.metadata)
    expect(Buffer.compare(again, bytes)).toBe(0)
  })

  it('round-trips float32 tensors through a file, including NaN payloads and -0', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'st-'))
    const a = new Float32Array([1.5, -0, NaN, Infinity, 3.4028234663852886e38, 1e-45])
    const tensors: TensorMap = new Map([
      ['b', { shape: [2, 3], data: a }],
      ['a.scalar', { shape: [], data: new Float32Array([7]) }],
      ['odd', { shape: [3], data: new Float32Array([1, 2, 3]) }]
    ])
    const file = path.join(dir, 'x.safetensors')
    await writeSafetensors(file, tensors)
    const bytes = await readFile(file)
    expect((Number(bytes.readBigUInt64LE(0)) + 8) % 8).toBe(0)
    const back = await readSafetensors(file)
    for (const [k, t] of tensors) {
      const b = back.tensors.get(k)
      expect(b?.shape).toEqual(t.shape)
      expect(Buffer.from(b!.data.buffer).equals(Buffer.from(t.data.buffer))).toBe(true)
    }
  })

  it('reads F16 and BF16 (and F64) into float32', () => {
    const f16 = new Uint16Array([0x3c00, 0xc000, 0x3555, 0x0001, 0x7bff, 0xfc00, 0x8000])
    const bf16 = new Uint16Array([0x3f80, 0x4049, 0xc2f7])
    const f64 = new Float64Array([0.1, -2.5])
    const data = new Uint8Array(14 + 6 + 16)
    data.set(new Uint8Array(f16.buffer), 0)
    data.set(new Uint8Array(bf16.buffer), 14)
    data.set(new Uint8Array(f64.buffer), 20)
    const st = parseSafetensors(
      rawFile(
        {
          h: { dtype: 'F16', shape: [7], data_offsets: [0, 14] },
          b: { dtype: 'BF16', shape: [3], data_offsets: [14, 20] },
          d: { dtype: 'F64', shape: [2], data_offsets: [20, 36] }
        },
        data
      )
    )
    expect([...st.tensors.get('h')!.data]).toEqual([1, -2, 0.333251953125, 2 ** -24, 65504, -Infinity, -0])
    expect([...st.tensors.get('b')!.data]).toEqual([1, 3.140625, -123.5])
    expect([...st.tensors.get('d')!.data]).toEqual([Math.fround(0.1), -2.5])
    expect(st.dtypes.get('h')).toBe('F16')
  })

  it('refuses truncated files, bad offsets and unknown dtypes with a sentence', () => {
    const bytes = readFileSync(path.join(LM_DIR, 'model.safetensors'))
    expect(() => parseSafetensors(bytes.subarray(0, bytes.length - 100), 'model.safetensors')).toThrow(/model\.safetensors is truncated: tensor "transformer\.wte\.weight" ends at/)
    expect(() => parseSafetensors(bytes.subarray(0, 1000), 'model.safetensors')).toThrow(/truncated: its header needs 2440 bytes/)
    expect(() => parseSafetensors(bytes.subarray(0, 5))).toThrow(InteropError)
    const data = new Uint8Array(16)
    expect(() => parseSafetensors(rawFile({ x: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 12] } }, data))).toThrow(/12 bytes of data where 16 are needed/)
    expect(() => parseSafetensors(rawFile({ x: { dtype: 'F32', shape: [2], data_offsets: [8, 4] } }, data))).toThrow(/invalid data offsets/)
    expect(() => parseSafetensors(rawFile({ x: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }, data))).toThrow(/stores tensor "x" as I64/)
    const garbage = Buffer.alloc(64, 0x41)
    garbage.writeBigUInt64LE(16n, 0)
    expect(() => parseSafetensors(garbage)).toThrow(/header is not valid JSON/)
  })
})
