// The core of the graph builder: typed values, nodes, constants, inputs, parameters and
// outputs. Ops (ops.ts) build nodes through `Graph.node`; serialise.ts turns a Graph into
// ONNX ModelProto bytes; autodiff.ts appends backward nodes to the same Graph.
//
// Shapes are known at build time except for symbolic dimensions (strings such as 'B', 'T'),
// which stand for one fixed size per run. Two equal strings are the same size; a string and a
// number other than 1 are assumed equal when broadcasting (the number wins). Broadcasting
// is numpy-style; gradients of broadcast ops rely on it being visible in the static shapes,
// so write broadcast axes as a literal 1 (e.g. a mask [1, 1, T, T]), not as a symbol.

export type DType = 'float32' | 'float64' | 'float16' | 'int32' | 'int64' | 'bool' | 'uint8'
export type Dim = number | string
export type Shape = readonly Dim[]

export const isFloat = (d: DType): boolean => d === 'float32' || d === 'float64' || d === 'float16'

/** Attribute values as ONNX types them; `ints`/`floats` are explicit because JS numbers are not. */
export type Attr =
  | { type: 'int'; value: number }
  | { type: 'float'; value: number }
  | { type: 'ints'; value: readonly number[] }
  | { type: 'floats'; value: readonly number[] }
  | { type: 'string'; value: string }
  | { type: 'tensor'; value: ConstantData }

export const attr = {
  int: (value: number): Attr => ({ type: 'int', value }),
  float: (value: number): Attr => ({ type: 'float', value }),
  ints: (value: readonly number[]): Attr => ({ type: 'ints', value }),
  floats: (value: readonly number[]): Attr => ({ type: 'floats', value }),
  string: (value: string): Attr => ({ type: 'string', value }),
  tensor: (value: ConstantData): Attr => ({ type: 'tensor', value })
}

export type TypedData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Uint16Array

/** A constant tensor: data in row-major order, `dims` fully known. */
export interface ConstantData {
  dtype: DType
  dims: readonly number[]
  data: TypedData
}

export type ValueKind = 'input' | 'param' | 'constant' | 'node'

export class GraphError extends Error {
  override name = 'GraphError'
}

export class Value {
  constructor(
    readonly graph: Graph,
    public name: string,
    readonly dtype: DType,
    readonly shape: Shape,
    readonly kind: ValueKind,
    /** The node that computes this value (kind 'node' only). */
    readonly producer?: Node
  ) {}

  get rank(): number {
    return this.shape.length
  }

  /** Dimension `axis`, negative axes counting from the end. */
  dim(axis: number): Dim {
    const a = normAxis(axis, this.rank, 'dim')
    return this.shape[a] as Dim
  }

  toString(): string {
    return `${this.name}: ${this.dtype}${fmtShape(this.shape)}`
  }
}

export interface Node {
  readonly op: string
  readonly inputs: readonly Value[]
  readonly outputs: Value[]
  readonly attrs: Readonly<Record<string, Attr>>
  /** ONNX domain; '' is the standard domain. */
  readonly domain: string
}

export const fmtShape = (s: Shape): string => `[${s.join(', ')}]`

export function normAxis(axis: number, rank: number, op: string): number {
  const a = axis < 0 ? axis + rank : axis
  if (!Number.isInteger(a) || a < 0 || a >= rank) {
    throw new GraphError(`${op}: axis ${axis} is out of range for rank ${rank}`)
  }
  return a
}

/** Product of the dims if all are numbers, else undefined. */
export function numel(shape: Shape): number | undefined {
  let n = 1
  for (const d of shape) {
    if (typeof d !== 'number') return undefined
    n *= d
  }
  return n
}

/** numpy broadcasting of two shapes; throws naming `op` when they cannot broadcast. */
export function broadcastShapes(op: string, a: Shape, b: Shape): Dim[] {
  const rank = Math.max(a.length, b.length)
  const out: Dim[] = []
  for (let i = 0; i < rank; i++) {
    const da = i - (rank - a.length) >= 0 ? (a[i - (rank - a.length)] as Dim) : 1
    const db = i - (rank - b.length) >= 0 ? (b[i - (rank - b.length)] as Dim) : 1
    if (da === db) out.push(da)
    else if (da === 1) out.push(db)
    else if (db === 1) out.push(da)
    else if (typeof da === 'string' && typeof db === 'number') out.push(db)
    else if (typeof db === 'string' && typeof da === 'number') out.push(da)
    else if (typeof da === 'string' && typeof db === 'string') out.push(da)
    else throw new GraphError(`${op}: shapes ${fmtShape(a)} and ${fmtShape(b)} do not broadcast (axis ${i}: ${da} vs ${db})`)
  }
  return out
}

const TYPED: Record<DType, (n: number) => TypedData> = {
  float32: (n) => new Float32Array(n),
  float64: (n) => new Float64Array(n),
  float16: (n) => new Uint16Array(n),
  int32: (n) => new Int32Array(n),
  int64: (n) => new BigInt64Array(n),
  bool: (n) => new Uint8Array(n),
  uint8: (n) => new Uint8Array(n)
}

/** Typed data of `dtype` from plain numbers (float16 is not supported here). */
export function typedFrom(dtype: DType, values: ArrayLike<number>): TypedData {
  if (dtype === 'float16') throw new GraphError('constant: float16 constants from numbers are not supported')
  const out = TYPED[dtype](values.length)
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number
    if (out instanceof BigInt64Array) out[i] = BigInt(Math.trunc(v))
    else if (dtype === 'bool') out[i] = v ? 1 : 0
    else (out as Float32Array)[i] = v
  }
  return out
}

export interface GraphInfo {
  name: string
  /** Graph inputs in order: data inputs and parameters (parameters are inputs too). */
  inputs: Value[]
  params: Value[]
  outputs: Value[]
}

/**
 * A graph under construction. Values are created through it; nodes are appended in
 * topological order (every input exists before the node that reads it).
 */
export class Graph {
  readonly nodes: Node[] = []
  readonly inputs: Value[] = []
  readonly params: Value[] = []
  readonly outputs: Value[] = []
  readonly constants = new Map<string, ConstantData>()
  /** Constants that are stored as initializers but fed like weights (inference graphs). */
  private readonly names = new Set<string>()
  private counter = 0
  private readonly scalarCache = new Map<string, Value>()

  constructor(readonly name = 'tessera') {}

  /** A fresh unique name with `prefix`. */
  fresh(prefix: string): string {
    let n: string
    do n = `${prefix}_${this.counter++}`
    while (this.names.has(n))
    return n
  }

  private claim(name: string, what: string): string {
    if (this.names.has(name)) throw new GraphError(`${what}: the name '${name}' is already used in this graph`)
    this.names.add(name)
    return name
  }

  /** A graph input fed at run time (data, labels, masks, learning rate, ...). */
  input(name: string, dtype: DType, shape: Shape): Value {
    const v = new Value(this, this.claim(name, 'input'), dtype, [...shape], 'input')
    this.inputs.push(v)
    return v
  }

  /**
   * A trainable parameter. It is a graph input (ORT feeds it every run), so one graph serves
   * every set of weights; `gradients` differentiates with respect to these.
   */
  param(name: string, shape: readonly number[], dtype: DType = 'float32'): Value {
    const v = new Value(this, this.claim(name, 'param'), dtype, [...shape], 'param')
    this.inputs.push(v)
    this.params.push(v)
    return v
  }

  /** A constant tensor stored in the model (an initializer). */
  constant(data: ConstantData, name?: string): Value {
    const n = numel(data.dims) as number
    if (data.data.length !== n) {
      throw new GraphError(`constant: ${data.data.length} values do not fill shape ${fmtShape(data.dims)}`)
    }
    const v = new Value(this, this.claim(name ?? this.fresh('const'), 'constant'), data.dtype, [...data.dims], 'constant')
    this.constants.set(v.name, data)
    return v
  }

  /** A scalar constant (shape []), shared between uses. */
  scalar(value: number, dtype: DType = 'float32'): Value {
    const key = `${dtype}:${Object.is(value, -0) ? '-0' : String(value)}`
    let v = this.scalarCache.get(key)
    if (!v) {
      v = this.constant({ dtype, dims: [], data: typedFrom(dtype, [value]) })
      this.scalarCache.set(key, v)
    }
    return v
  }

  /** A constant from plain numbers. */
  tensor(values: ArrayLike<number>, dims: readonly number[], dtype: DType = 'float32'): Value {
    return this.constant({ dtype, dims, data: typedFrom(dtype, values) })
  }

  /** An int64 1-D constant (shapes, axes, indices). */
  ints(values: readonly number[]): Value {
    return this.tensor(values, [values.length], 'int64')
  }

  /**
   * Append one node. `outs` gives each output's dtype and shape (the caller has checked
   * shapes); returns the output values.
   */
  node(op: string, inputs: readonly Value[], outs: readonly { dtype: DType; shape: Shape }[], attrs: Record<string, Attr> = {}, domain = ''): Value[] {
    for (const v of inputs) {
      if (v.graph !== this) throw new GraphError(`${op}: input ${v.name} belongs to another graph`)
    }
    const outputs: Value[] = []
    const node: Node = { op, inputs: [...inputs], outputs, attrs, domain }
    for (const o of outs) {
      outputs.push(new Value(this, this.claim(this.fresh(op.toLowerCase()), op), o.dtype, [...o.shape], 'node', node))
    }
    this.nodes.push(node)
    return outputs
  }

  /**
   * Mark `v` as a graph output named `name`. A computed value is renamed; an input, parameter,
   * constant or a value already output under another name gets an Identity node.
   */
  output(v: Value, name?: string): Value {
    if (v.graph !== this) throw new GraphError(`output: ${v.name} belongs to another graph`)
    let out = v
    if (name !== undefined && name !== v.name) {
      if (v.kind === 'node' && !this.outputs.includes(v) && !this.names.has(name)) {
        this.names.delete(v.name)
        v.name = this.claim(name, 'output')
      } else {
        const [id] = this.node('Identity', [v], [{ dtype: v.dtype, shape: v.shape }])
        out = id as Value
        this.names.delete(out.name)
        out.name = this.claim(name, 'output')
      }
    } else if (this.outputs.includes(v)) {
      return v
    } else if (v.kind !== 'node') {
      // ONNX allows an input to be an output, but ORT rejects it; copy it.
      const [id] = this.node('Identity', [v], [{ dtype: v.dtype, shape: v.shape }])
      out = id as Value
    }
    this.outputs.push(out)
    return out
  }

  info(): GraphInfo {
    return { name: this.name, inputs: [...this.inputs], params: [...this.params], outputs: [...this.outputs] }
  }
}
