// The op API: free functions over Values that read like the maths and emit standard ONNX
// (opset 17) nodes, checking shapes as they go. A number where a Value is expected becomes a
// scalar constant of the other operand's dtype: `mul(x, 1.702)`.

import {
  attr,
  broadcastShapes,
  type Dim,
  type DType,
  fmtShape,
  type Graph,
  GraphError,
  isFloat,
  normAxis,
  numel,
  type Shape,
  typedFrom,
  Value
} from './graph'

export type Operand = Value | number

function graphOf(op: string, ...xs: Operand[]): Graph {
  for (const x of xs) if (x instanceof Value) return x.graph
  throw new GraphError(`${op}: at least one operand must be a graph value`)
}

function lift(op: string, a: Operand, b: Operand): [Value, Value] {
  const g = graphOf(op, a, b)
  const va = a instanceof Value ? a : g.scalar(a, (b as Value).dtype)
  const vb = b instanceof Value ? b : g.scalar(b, va.dtype)
  if (va.dtype !== vb.dtype) throw new GraphError(`${op}: dtypes differ: ${va} and ${vb}`)
  return [va, vb]
}

function one(vs: Value[]): Value {
  return vs[0] as Value
}

function unary(op: string, x: Value, needFloat = true): Value {
  if (needFloat && !isFloat(x.dtype)) throw new GraphError(`${op}: needs a float tensor, got ${x}`)
  return one(x.graph.node(op, [x], [{ dtype: x.dtype, shape: x.shape }]))
}

function binary(op: string, a: Operand, b: Operand, outDtype?: DType): Value {
  const [va, vb] = lift(op, a, b)
  const shape = broadcastShapes(op, va.shape, vb.shape)
  return one(va.graph.node(op, [va, vb], [{ dtype: outDtype ?? va.dtype, shape }]))
}

// ---------------------------------------------------------------------------
// Elementwise

export const add = (a: Operand, b: Operand): Value => binary('Add', a, b)
export const sub = (a: Operand, b: Operand): Value => binary('Sub', a, b)
export const mul = (a: Operand, b: Operand): Value => binary('Mul', a, b)
export const div = (a: Operand, b: Operand): Value => binary('Div', a, b)
export const pow = (a: Operand, b: Operand): Value => binary('Pow', a, b)
export const max = (a: Operand, b: Operand): Value => binary('Max', a, b)
export const min = (a: Operand, b: Operand): Value => binary('Min', a, b)
export const equal = (a: Operand, b: Operand): Value => binary('Equal', a, b, 'bool')
export const less = (a: Operand, b: Operand): Value => binary('Less', a, b, 'bool')
export const greater = (a: Operand, b: Operand): Value => binary('Greater', a, b, 'bool')
export const lessOrEqual = (a: Operand, b: Operand): Value => binary('LessOrEqual', a, b, 'bool')
export const greaterOrEqual = (a: Operand, b: Operand): Value => binary('GreaterOrEqual', a, b, 'bool')
export const and = (a: Value, b: Value): Value => binary('And', a, b, 'bool')
export const or = (a: Value, b: Value): Value => binary('Or', a, b, 'bool')
export const not = (x: Value): Value => unary('Not', x, false)

export const neg = (x: Value): Value => unary('Neg', x, false)
export const exp = (x: Value): Value => unary('Exp', x)
export const log = (x: Value): Value => unary('Log', x)
export const sqrt = (x: Value): Value => unary('Sqrt', x)
export const reciprocal = (x: Value): Value => unary('Reciprocal', x)
export const tanh = (x: Value): Value => unary('Tanh', x)
export const sigmoid = (x: Value): Value => unary('Sigmoid', x)
export const relu = (x: Value): Value => unary('Relu', x)
export const abs = (x: Value): Value => unary('Abs', x, false)
export const sign = (x: Value): Value => unary('Sign', x, false)
export const identity = (x: Value): Value => unary('Identity', x, false)
export const square = (x: Value): Value => mul(x, x)

/** `cond ? a : b`, broadcasting all three. */
export function where(cond: Value, a: Operand, b: Operand): Value {
  if (cond.dtype !== 'bool') throw new GraphError(`Where: condition must be bool, got ${cond}`)
  // Two numbers make float32 branches.
  const [va, vb] = a instanceof Value || b instanceof Value ? lift('Where', a, b) : [cond.graph.scalar(a), cond.graph.scalar(b)]
  const shape = broadcastShapes('Where', broadcastShapes('Where', cond.shape, va.shape), vb.shape)
  return one(va.graph.node('Where', [cond, va, vb], [{ dtype: va.dtype, shape }]))
}

export function cast(x: Value, to: DType): Value {
  if (x.dtype === to) return x
  return one(x.graph.node('Cast', [x], [{ dtype: to, shape: x.shape }], { to: attr.int(ONNX_DTYPE[to]) }))
}

/** ONNX TensorProto.DataType codes. */
export const ONNX_DTYPE: Record<DType, number> = { float32: 1, uint8: 2, int32: 6, int64: 7, bool: 9, float16: 10, float64: 11 }

// ---------------------------------------------------------------------------
// Linear algebra

/** numpy matmul: [..., n, k] @ [..., k, m] -> [..., n, m], batch dims broadcast; 1-D operands as in numpy. */
export function matmul(a: Value, b: Value): Value {
  if (a.dtype !== b.dtype) throw new GraphError(`MatMul: dtypes differ: ${a} and ${b}`)
  if (a.rank < 1 || b.rank < 1) throw new GraphError(`MatMul: operands must have rank >= 1, got ${a} and ${b}`)
  const as = a.rank === 1 ? [1, a.shape[0] as Dim] : [...a.shape]
  const bs = b.rank === 1 ? [b.shape[0] as Dim, 1] : [...b.shape]
  const k1 = as[as.length - 1] as Dim
  const k2 = bs[bs.length - 2] as Dim
  if (k1 !== k2 && typeof k1 === 'number' && typeof k2 === 'number') {
    throw new GraphError(`MatMul: inner dimensions differ: ${fmtShape(a.shape)} @ ${fmtShape(b.shape)} (${k1} vs ${k2})`)
  }
  const batch = broadcastShapes('MatMul', as.slice(0, -2), bs.slice(0, -2))
  const shape: Dim[] = [...batch]
  if (a.rank !== 1) shape.push(as[as.length - 2] as Dim)
  if (b.rank !== 1) shape.push(bs[bs.length - 1] as Dim)
  return one(a.graph.node('MatMul', [a, b], [{ dtype: a.dtype, shape }]))
}

// ---------------------------------------------------------------------------
// Normalisation-style ops

export function softmax(x: Value, axis = -1): Value {
  const a = normAxis(axis, x.rank, 'Softmax')
  if (!isFloat(x.dtype)) throw new GraphError(`Softmax: needs a float tensor, got ${x}`)
  return one(x.graph.node('Softmax', [x], [{ dtype: x.dtype, shape: x.shape }], { axis: attr.int(a) }))
}

export function logSoftmax(x: Value, axis = -1): Value {
  const a = normAxis(axis, x.rank, 'LogSoftmax')
  if (!isFloat(x.dtype)) throw new GraphError(`LogSoftmax: needs a float tensor, got ${x}`)
  return one(x.graph.node('LogSoftmax', [x], [{ dtype: x.dtype, shape: x.shape }], { axis: attr.int(a) }))
}

// ---------------------------------------------------------------------------
// Reductions (opset 17: ReduceSum takes axes as an input, the others as an attribute)

function reducedShape(op: string, x: Value, axes: readonly number[] | undefined, keepdims: boolean): { axes: number[]; shape: Dim[] } {
  const ax = (axes ?? x.shape.map((_, i) => i)).map((a) => normAxis(a, x.rank, op))
  if (new Set(ax).size !== ax.length) throw new GraphError(`${op}: repeated axes ${ax.join(', ')}`)
  ax.sort((p, q) => p - q)
  const shape: Dim[] = []
  x.shape.forEach((d, i) => {
    if (!ax.includes(i)) shape.push(d)
    else if (keepdims) shape.push(1)
  })
  return { axes: ax, shape }
}

function reduce(op: string, x: Value, axes: readonly number[] | undefined, keepdims: boolean): Value {
  const r = reducedShape(op, x, axes, keepdims)
  const out = [{ dtype: x.dtype, shape: r.shape }]
  if (op === 'ReduceSum') {
    return one(x.graph.node(op, [x, x.graph.ints(r.axes)], out, { keepdims: attr.int(keepdims ? 1 : 0) }))
  }
  return one(x.graph.node(op, [x], out, { axes: attr.ints(r.axes), keepdims: attr.int(keepdims ? 1 : 0) }))
}

/** Sum over `axes` (all axes when omitted). */
export const reduceSum = (x: Value, axes?: readonly number[], keepdims = false): Value => reduce('ReduceSum', x, axes, keepdims)
export const reduceMean = (x: Value, axes?: readonly number[], keepdims = false): Value => reduce('ReduceMean', x, axes, keepdims)
export const reduceMax = (x: Value, axes?: readonly number[], keepdims = false): Value => reduce('ReduceMax', x, axes, keepdims)

/** Index of the largest value along `axis` (int64). */
export function argMax(x: Value, axis = -1, keepdims = false): Value {
  const r = reducedShape('ArgMax', x, [axis], keepdims)
  return one(x.graph.node('ArgMax', [x], [{ dtype: 'int64', shape: r.shape }], { axis: attr.int(r.axes[0] as number), keepdims: attr.int(keepdims ? 1 : 0) }))
}

// ---------------------------------------------------------------------------
// Shape ops

/** The run-time shape of `x` as an int64 vector. */
export function shapeOf(x: Value): Value {
  return one(x.graph.node('Shape', [x], [{ dtype: 'int64', shape: [x.rank] }]))
}

/**
 * An int64 shape vector for `dims`. Numbers are literal; a symbolic dim is looked up in the
 * shapes of `sources` and read at run time with Shape + Gather.
 */
export function shapeTensor(g: Graph, dims: Shape, sources: readonly Value[]): Value {
  if (dims.every((d) => typeof d === 'number')) return g.ints(dims as number[])
  const parts: Value[] = []
  let pending: number[] = []
  const flush = (): void => {
    if (pending.length) parts.push(g.ints(pending))
    pending = []
  }
  for (const d of dims) {
    if (typeof d === 'number') {
      pending.push(d)
      continue
    }
    const src = sources.find((s) => s.shape.includes(d))
    if (!src) throw new GraphError(`shape: symbolic dimension '${d}' appears in none of ${sources.map(String).join(', ')}`)
    flush()
    const idx = src.shape.indexOf(d)
    parts.push(one(g.node('Gather', [shapeOf(src), g.ints([idx])], [{ dtype: 'int64', shape: [1] }], { axis: attr.int(0) })))
  }
  flush()
  return parts.length === 1 ? (parts[0] as Value) : concat(parts, 0)
}

/**
 * Reshape to `dims`: numbers (one may be -1, 0 copies the input's dim at that index), or
 * symbolic dims of `x` (e.g. `['B', 'T', 4, 16]`).
 * A symbolic dim at the same position as in `x` is emitted as 0 (copy); elsewhere it is
 * read at run time.
 */
export function reshape(x: Value, dims: Shape): Value {
  const known = numel(x.shape)
  let minus = -1
  const out: Dim[] = []
  dims.forEach((d, i) => {
    if (d === -1) {
      if (minus >= 0) throw new GraphError(`Reshape: more than one -1 in ${fmtShape(dims)}`)
      minus = i
      out.push(-1)
    } else if (typeof d === 'number' && (!Number.isInteger(d) || d < 0)) {
      throw new GraphError(`Reshape: bad dimension ${d} in ${fmtShape(dims)}`)
    } else if (d === 0) {
      // ONNX: 0 copies the input's dimension at the same index.
      if (i >= x.rank) throw new GraphError(`Reshape: 0 at index ${i} has no input dimension to copy (${x})`)
      out.push(x.shape[i] as Dim)
    } else out.push(d)
  })
  if (minus >= 0) {
    const rest = numel(out.filter((_, i) => i !== minus))
    if (known !== undefined && rest !== undefined) {
      if (rest === 0 || known % rest !== 0) throw new GraphError(`Reshape: cannot reshape ${x} to ${fmtShape(dims)}`)
      out[minus] = known / rest
    } else {
      out[minus] = `${x.name}_d${minus}`
    }
  } else if (known !== undefined) {
    const n = numel(out)
    if (n !== undefined && n !== known) throw new GraphError(`Reshape: cannot reshape ${x} (${known} elements) to ${fmtShape(dims)} (${n})`)
  }
  const g = x.graph
  let target: Value
  if (dims.every((d) => typeof d === 'number')) target = g.ints(dims as number[])
  else if (dims.every((d, i) => typeof d === 'number' || x.shape[i] === d)) {
    target = g.ints(dims.map((d) => (typeof d === 'number' ? d : 0)))
  } else target = shapeTensor(g, dims.map((d) => (d === -1 ? -1 : d)), [x])
  return one(g.node('Reshape', [x, target], [{ dtype: x.dtype, shape: out }]))
}

/** Reshape with the run-time shape of another value (used by gradients). */
export function reshapeLike(x: Value, like: Value): Value {
  return one(x.graph.node('Reshape', [x, shapeOf(like)], [{ dtype: x.dtype, shape: like.shape }]))
}

export function transpose(x: Value, perm?: readonly number[]): Value {
  const p = perm ? perm.map((a) => normAxis(a, x.rank, 'Transpose')) : x.shape.map((_, i) => x.rank - 1 - i)
  if (p.length !== x.rank || new Set(p).size !== p.length) {
    throw new GraphError(`Transpose: perm [${perm?.join(', ')}] is not a permutation of ${x.rank} axes (${x})`)
  }
  return one(x.graph.node('Transpose', [x], [{ dtype: x.dtype, shape: p.map((i) => x.shape[i] as Dim) }], { perm: attr.ints(p) }))
}

export function unsqueeze(x: Value, axes: readonly number[]): Value {
  const rank = x.rank + axes.length
  const ax = axes.map((a) => normAxis(a, rank, 'Unsqueeze')).sort((p, q) => p - q)
  const shape: Dim[] = []
  let j = 0
  for (let i = 0; i < rank; i++) shape.push(ax.includes(i) ? 1 : (x.shape[j++] as Dim))
  return one(x.graph.node('Unsqueeze', [x, x.graph.ints(ax)], [{ dtype: x.dtype, shape }]))
}

export function squeeze(x: Value, axes: readonly number[]): Value {
  const ax = axes.map((a) => normAxis(a, x.rank, 'Squeeze'))
  for (const a of ax) {
    if (x.shape[a] !== 1) throw new GraphError(`Squeeze: axis ${a} of ${x} is not 1`)
  }
  const shape = x.shape.filter((_, i) => !ax.includes(i))
  return one(x.graph.node('Squeeze', [x, x.graph.ints(ax)], [{ dtype: x.dtype, shape }]))
}

/** Broadcast `x` to `dims` (numbers, or symbolic dims found in `x` or `sources`). */
export function expand(x: Value, dims: Shape, sources: readonly Value[] = []): Value {
  const shape = broadcastShapes('Expand', x.shape, dims)
  const target = shapeTensor(x.graph, dims, [x, ...sources])
  return one(x.graph.node('Expand', [x, target], [{ dtype: x.dtype, shape }]))
}

export function concat(xs: readonly Value[], axis: number): Value {
  const first = xs[0]
  if (!first) throw new GraphError('Concat: needs at least one input')
  const a = normAxis(axis, first.rank, 'Concat')
  let total: Dim = 0
  for (const x of xs) {
    if (x.rank !== first.rank || x.dtype !== first.dtype) throw new GraphError(`Concat: ${x} does not match ${first}`)
    x.shape.forEach((d, i) => {
      if (i !== a && d !== first.shape[i] && typeof d === 'number' && typeof first.shape[i] === 'number') {
        throw new GraphError(`Concat: shapes ${xs.map((v) => fmtShape(v.shape)).join(', ')} differ off axis ${a}`)
      }
    })
    const d = x.shape[a] as Dim
    total = typeof total === 'number' && typeof d === 'number' ? total + d : `${total}+${d}`
  }
  const shape = [...first.shape]
  shape[a] = total
  return one(first.graph.node('Concat', xs, [{ dtype: first.dtype, shape }], { axis: attr.int(a) }))
}

/** Split along `axis` into pieces of the given sizes. */
export function split(x: Value, sizes: readonly number[], axis: number): Value[] {
  const a = normAxis(axis, x.rank, 'Split')
  const d = x.shape[a] as Dim
  const sum = sizes.reduce((p, q) => p + q, 0)
  if (typeof d === 'number' && d !== sum) throw new GraphError(`Split: sizes [${sizes.join(', ')}] do not add up to axis ${a} of ${x}`)
  const outs = sizes.map((s) => {
    const shape = [...x.shape]
    shape[a] = s
    return { dtype: x.dtype, shape }
  })
  return x.graph.node('Split', [x, x.graph.ints(sizes)], outs, { axis: attr.int(a) })
}

/**
 * Slice with static starts/ends (numpy-style, negative counts from the end, ends clamp), on
 * `axes` (default the first starts.length axes), with optional steps (positive).
 */
export function slice(x: Value, starts: readonly number[], ends: readonly number[], axes?: readonly number[], steps?: readonly number[]): Value {
  const ax = (axes ?? starts.map((_, i) => i)).map((a) => normAxis(a, x.rank, 'Slice'))
  if (ends.length !== ax.length || starts.length !== ax.length) throw new GraphError('Slice: starts, ends and axes differ in length')
  const st = steps ?? ax.map(() => 1)
  const shape = [...x.shape]
  ax.forEach((a, i) => {
    const d = x.shape[a] as Dim
    const step = st[i] as number
    if (step <= 0) throw new GraphError('Slice: only positive steps are supported')
    let s = starts[i] as number
    let e = ends[i] as number
    if (typeof d === 'number') {
      if (s < 0) s += d
      if (e < 0) e += d
      s = Math.min(Math.max(s, 0), d)
      e = Math.min(Math.max(e, 0), d)
      shape[a] = Math.max(0, Math.ceil((e - s) / step))
    } else if (s >= 0 && e >= 0 && e < 2 ** 31) {
      shape[a] = Math.max(0, Math.ceil((e - s) / step))
    } else {
      shape[a] = `${d}_s${s}_${e}`
    }
  })
  const g = x.graph
  return one(g.node('Slice', [x, g.ints(starts), g.ints(ends), g.ints(ax), g.ints(st)], [{ dtype: x.dtype, shape }]))
}

// ---------------------------------------------------------------------------
// Indexing

/** `data` indexed by integer `indices` along `axis` (embedding lookup with axis 0). */
export function gather(data: Value, indices: Value, axis = 0): Value {
  const a = normAxis(axis, data.rank, 'Gather')
  if (indices.dtype !== 'int64' && indices.dtype !== 'int32') throw new GraphError(`Gather: indices must be int32/int64, got ${indices}`)
  const shape = [...data.shape.slice(0, a), ...indices.shape, ...data.shape.slice(a + 1)]
  return one(data.graph.node('Gather', [data, indices], [{ dtype: data.dtype, shape }], { axis: attr.int(a) }))
}

/** One-hot along a new last axis: [..] int -> [.., depth] of `dtype` (ORT CPU has float32 OneHot; others are cast). */
export function oneHot(indices: Value, depth: number, dtype: DType = 'float32'): Value {
  const g = indices.graph
  const vals = g.tensor([0, 1], [2], 'float32')
  const oh = one(g.node('OneHot', [indices, g.ints([depth]), vals], [{ dtype: 'float32', shape: [...indices.shape, depth] }], { axis: attr.int(-1) }))
  return cast(oh, dtype)
}

/** A tensor of `dims` filled with `value` (symbolic dims looked up in `sources`). */
export function fill(g: Graph, dims: Shape, value: number, dtype: DType = 'float32', sources: readonly Value[] = []): Value {
  const shape = shapeTensor(g, dims, sources)
  const t = { dtype, dims: [1], data: typedFrom(dtype, [value]) }
  return one(g.node('ConstantOfShape', [shape], [{ dtype, shape: dims }], { value: attr.tensor(t) }))
}

/** Zeros with the run-time shape of `like`. */
export function zerosLike(like: Value, dtype: DType = like.dtype): Value {
  const t = { dtype, dims: [1], data: typedFrom(dtype, [0]) }
  return one(like.graph.node('ConstantOfShape', [shapeOf(like)], [{ dtype, shape: like.shape }], { value: attr.tensor(t) }))
}

/** The lower-triangular causal mask [T, T] (true where key <= query) for a static T. */
export function causalMask(g: Graph, t: number): Value {
  const vals = new Array<number>(t * t)
  for (let i = 0; i < t; i++) for (let j = 0; j < t; j++) vals[i * t + j] = j <= i ? 1 : 0
  return g.tensor(vals, [t, t], 'bool')
}

/** Broadcast `x` to the run-time shape of `like`. */
export function expandLike(x: Value, like: Value): Value {
  const shape = broadcastShapes('Expand', x.shape, like.shape)
  return one(x.graph.node('Expand', [x, shapeOf(like)], [{ dtype: x.dtype, shape }]))
}

/** Zero-pad with static `pads` ([begin_0, .., begin_n, end_0, .., end_n], ONNX order). */
export function pad(x: Value, pads: readonly number[]): Value {
  if (pads.length !== 2 * x.rank) throw new GraphError(`Pad: ${pads.length} pads for ${x}`)
  const shape = x.shape.map((d, i) => {
    const p = (pads[i] as number) + (pads[i + x.rank] as number)
    return p === 0 ? d : typeof d === 'number' ? d + p : `${d}+${p}`
  })
  return one(x.graph.node('Pad', [x, x.graph.ints(pads)], [{ dtype: x.dtype, shape }], { mode: attr.string('constant') }))
}

/** `data` with `updates` added at `indices` (ScatterND, reduction add; repeated indices accumulate). */
export function scatterNDAdd(data: Value, indices: Value, updates: Value): Value {
  if (indices.dtype !== 'int64') throw new GraphError(`ScatterND: indices must be int64, got ${indices}`)
  return one(data.graph.node('ScatterND', [data, indices, updates], [{ dtype: data.dtype, shape: data.shape }], { reduction: attr.string('add') }))
}

/** Product of the elements (all axes), as ReduceProd. */
export function reduceProd(x: Value, axes?: readonly number[], keepdims = false): Value {
  return reduce('ReduceProd', x, axes, keepdims)
}

/**
 * Uniform [0, 1) noise shaped like `x` (RandomUniformLike). A fixed `seed` seeds the kernel's
 * generator once per session, so successive runs still draw fresh noise, reproducibly.
 */
export function randomUniformLike(x: Value, seed?: number, dtype: DType = x.dtype): Value {
  const attrs: Record<string, ReturnType<typeof attr.int>> = { dtype: attr.int(ONNX_DTYPE[dtype]) }
  if (seed !== undefined) attrs.seed = attr.float(seed)
  return one(x.graph.node('RandomUniformLike', [x], [{ dtype, shape: x.shape }], attrs))
}

/** The run-time size of `x`'s dimension `axis`, as an int64 scalar. */
export function dimOf(x: Value, axis: number): Value {
  const a = normAxis(axis, x.rank, 'dimOf')
  return one(x.graph.node('Gather', [shapeOf(x), x.graph.scalar(a, 'int64')], [{ dtype: 'int64', shape: [] }], { axis: attr.int(0) }))
}

/** [start, start + step, ...) below `limit` (Range); scalars, `limit` may be a run-time value. `length` names the result's dim. */
export function range(start: Operand, limit: Operand, step: Operand = 1, length?: Dim): Value {
  const g = graphOf('Range', start, limit, step)
  const dtype = [start, limit, step].find((v): v is Value => v instanceof Value)?.dtype ?? 'int64'
  const sv = (v: Operand): Value => (v instanceof Value ? v : g.scalar(v, dtype))
  const [a, b, c] = [sv(start), sv(limit), sv(step)]
  for (const v of [a, b, c]) if (v.rank !== 0) throw new GraphError(`Range: operands must be scalars, got ${v}`)
  let n: Dim = length ?? `range_${g.nodes.length}`
  if (typeof start === 'number' && typeof limit === 'number' && typeof step === 'number') n = Math.max(0, Math.ceil((limit - start) / step))
  return one(g.node('Range', [a, b, c], [{ dtype, shape: [n] }]))
}
