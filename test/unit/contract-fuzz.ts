// Seeded input generators for the contract fuzz tests: for a method's zod input schema, inputs
// that are near-valid (the schema's shape with some fields swapped for junk, keys dropped or
// added) or plain junk (wrong types, NaN/Infinity, huge strings, deep nesting, prototype keys).
// The same seed gives the same inputs, so a failure names its seed and case and reproduces.

import { type z } from 'zod'

/** mulberry32: a small, fast, seeded PRNG in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export type Rng = () => number
const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!

/** Strings worth trying anywhere a string goes; `extra` adds names and ids that exist in the library. */
export function stringPool(extra: string[] = []): string[] {
  return [
    '',
    ' ',
    'x',
    '0',
    '-1',
    'a'.repeat(201),
    'b'.repeat(5000),
    'c'.repeat(70_000),
    '../../../../x',
    '..\\..\\x',
    'nope/none.png',
    '/nonexistent/tessera-fuzz/file.png',
    '\u0000',
    'line\nbreak',
    '\r\n',
    '猫🐱\u202e',
    '\ud800',
    '__proto__',
    'constructor',
    'prototype',
    'toString',
    '%s%n%x',
    "'; DROP TABLE items; --",
    '#ff0000',
    '#zzzzzz',
    'AAAA',
    'iVBORw0KGgo=',
    '00000000-0000-4000-8000-000000000000',
    'a'.repeat(64),
    ...extra
  ]
}

const NUMBERS = [0, -0, 1, -1, 0.5, 2, 7, 100, 1e9, -1e9, 2 ** 53, Number.MAX_VALUE, Number.MIN_VALUE, NaN, Infinity, -Infinity]

function deep(depth: number, leaf: unknown, asArray: boolean): unknown {
  let v = leaf
  for (let i = 0; i < depth; i++) v = asArray ? [v] : { a: v }
  return v
}

/** A value of any type, often hostile. */
export function junk(r: Rng, strings: string[], depth = 0): unknown {
  const k = Math.floor(r() * 16)
  switch (k) {
    case 0:
      return null
    case 1:
      return undefined
    case 2:
      return pick(r, NUMBERS)
    case 3:
      return pick(r, strings)
    case 4:
      return r() < 0.5
    case 5:
      return []
    case 6:
      return {}
    case 7:
      return depth < 3 ? Array.from({ length: 1 + Math.floor(r() * 4) }, () => junk(r, strings, depth + 1)) : 1
    case 8:
      return depth < 3 ? { [pick(r, strings)]: junk(r, strings, depth + 1) } : 'leaf'
    case 9:
      return deep(50 + Math.floor(r() * 2000), pick(r, strings), r() < 0.5)
    case 10:
      return JSON.parse('{"__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted": "yes"}}}') as unknown
    case 11:
      return Array.from({ length: 5_000 }, (_, i) => i)
    case 12:
      return { toString: 'x', valueOf: 1, length: -1 }
    case 13:
      return BigInt(7) as unknown
    case 14:
      return new Date(0)
    default:
      return pick(r, ['true', 'null', '1e400', '{}', '[]', 'NaN'])
  }
}

type Def = { type: string; [k: string]: unknown }
const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def

/** A value shaped like `schema` (maybe valid), with junk swapped in at rate `junkRate`. */
export function shaped(schema: z.ZodType, r: Rng, strings: string[], junkRate: number, depth = 0): unknown {
  if (r() < junkRate || depth > 6) return junk(r, strings)
  const def = defOf(schema)
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'catch':
    case 'nonoptional':
      if (def.type === 'optional' && r() < 0.3) return undefined
      if (def.type === 'nullable' && r() < 0.2) return null
      return shaped(def.innerType as z.ZodType, r, strings, junkRate, depth + 1)
    case 'pipe':
      return shaped(def.in as z.ZodType, r, strings, junkRate, depth + 1)
    case 'string':
      return pick(r, strings)
    case 'number':
    case 'int':
      return r() < 0.7 ? Math.floor(r() * 12) - 1 : pick(r, NUMBERS)
    case 'boolean':
      return r() < 0.5
    case 'literal':
      return (def.values as unknown[])[0]
    case 'enum':
      return pick(r, Object.values(def.entries as Record<string, unknown>))
    case 'array': {
      const n = r() < 0.05 ? 300 : Math.floor(r() * 4)
      return Array.from({ length: n }, () => shaped(def.element as z.ZodType, r, strings, junkRate, depth + 1))
    }
    case 'tuple':
      return (def.items as z.ZodType[]).map((s) => shaped(s, r, strings, junkRate, depth + 1))
    case 'union':
      return shaped(pick(r, def.options as z.ZodType[]), r, strings, junkRate, depth + 1)
    case 'record':
      return { [pick(r, strings)]: shaped(def.valueType as z.ZodType, r, strings, junkRate, depth + 1) }
    case 'object': {
      const shape = (schema as unknown as { shape: Record<string, z.ZodType> }).shape
      const out: Record<string, unknown> = {}
      for (const [key, s] of Object.entries(shape)) {
        if (r() < 0.08) continue // a required key missing
        const v = shaped(s, r, strings, junkRate, depth + 1)
        if (v !== undefined) out[key] = v
      }
      if (r() < 0.12) out[pick(r, ['extra', 'admin', 'id', 'prototype', 'then', '$where'])] = junk(r, strings)
      if (r() < 0.06) Object.defineProperty(out, '__proto__', { value: { polluted: 'yes' }, enumerable: true, writable: true, configurable: true })
      if (r() < 0.04) Object.assign(out, { constructor: { prototype: { polluted: 'yes' } } })
      return out
    }
    default:
      return junk(r, strings)
  }
}

/** One input for a method: mostly shaped like its schema, sometimes anything at all. */
export function fuzzInput(schema: z.ZodType, r: Rng, strings: string[]): unknown {
  const mode = r()
  if (mode < 0.12) return junk(r, strings)
  if (mode < 0.35) return shaped(schema, r, strings, 0)
  return shaped(schema, r, strings, 0.2)
}

/** What `input` becomes after JSON (what the browser host receives): undefined dropped, NaN -> null. */
export function viaJson(input: unknown): { text: string; value: unknown } | null {
  let text: string | undefined
  try {
    text = JSON.stringify(input)
  } catch {
    return null // BigInt, cycles: cannot be sent as JSON at all
  }
  if (text === undefined) return null
  return { text, value: JSON.parse(text) as unknown }
}
