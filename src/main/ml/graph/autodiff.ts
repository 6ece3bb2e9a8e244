// Reverse-mode autodiff over the graph builder: `gradients(loss, params)` appends the backward
// pass as ordinary ONNX ops. One small rule per primitive op (as in tinygrad's gradient.py);
// composite helpers (nn.ts) are built from primitives and need no rules of their own.

import { type Dim, type Graph, GraphError, isFloat, type Node, normAxis, numel, type Value } from './graph'
import {
  add,
  cast,
  concat,
  div,
  equal,
  expandLike,
  exp,
  greater,
  greaterOrEqual,
  lessOrEqual,
  log,
  matmul,
  mul,
  neg,
  pad,
  pow,
  reduceProd,
  reduceSum,
  reshape,
  reshapeLike,
  scatterNDAdd,
  shapeOf,
  sign,
  sub,
  transpose,
  unsqueeze,
  where,
  zerosLike
} from './ops'

/**
 * Gradients of the node's inputs (undefined: no gradient) from its outputs' gradients. `needs`
 * says whether an input wants one; gradients built for inputs that do not are never serialised
 * (dead nodes are dropped), so rules only consult it to avoid invalid work (log of a base).
 */
type Rule = (n: Node, gout: readonly (Value | undefined)[], needs: (v: Value) => boolean) => (Value | undefined)[]

const ints = (n: Node, key: string): number[] => {
  const a = n.attrs[key]
  if (!a || a.type !== 'ints') throw new GraphError(`${n.op}: attribute ${key} missing`)
  return [...a.value]
}
const int = (n: Node, key: string, dflt?: number): number => {
  const a = n.attrs[key]
  if (!a) {
    if (dflt === undefined) throw new GraphError(`${n.op}: attribute ${key} missing`)
    return dflt
  }
  if (a.type !== 'int') throw new GraphError(`${n.op}: attribute ${key} is not an int`)
  return a.value
}
const inp = (n: Node, i: number): Value => n.inputs[i] as Value
const out0 = (n: Node): Value => n.outputs[0] as Value

/** Int64 constant inputs (axes, sizes, starts) are initializers; read them back. */
function constInts(v: Value): number[] {
  const c = v.graph.constants.get(v.name)
  if (!c) throw new GraphError(`autodiff: ${v} must be a constant to differentiate through it`)
  return Array.from(c.data as ArrayLike<number | bigint>, (x) => Number(x))
}

/**
 * Sum `g` (shaped like the broadcast result) back to `shape`: over leading axes `shape` lacks
 * and over axes where `shape` has a literal 1 and `g` does not.
 */
export function unbroadcast(g: Value, target: Value): Value {
  const shape = target.shape
  const lead = g.rank - shape.length
  if (lead < 0) throw new GraphError(`autodiff: gradient ${g} has lower rank than ${target}`)
  const ones: number[] = []
  shape.forEach((d, i) => {
    if (d === 1 && g.shape[i + lead] !== 1) ones.push(i + lead)
  })
  let r = g
  if (ones.length) r = reduceSum(r, ones, true)
  if (lead > 0) r = reduceSum(r, [...Array(lead).keys()], false)
  return r
}

const swapLast = (x: Value): Value => {
  const p = [...Array(x.rank).keys()]
  p[x.rank - 1] = x.rank - 2
  p[x.rank - 2] = x.rank - 1
  return transpose(x, p)
}

function matmulRule(n: Node, [g]: readonly (Value | undefined)[]): (Value | undefined)[] {
  const a = inp(n, 0)
  const b = inp(n, 1)
  let gg = g as Value
  // Lift 1-D operands to matrices as numpy does, and the gradient with them.
  const a2 = a.rank === 1 ? unsqueeze(a, [0]) : a
  const b2 = b.rank === 1 ? unsqueeze(b, [1]) : b
  if (b.rank === 1) gg = unsqueeze(gg, [gg.rank])
  if (a.rank === 1) gg = unsqueeze(gg, [gg.rank - 1])
  const ga = unbroadcast(matmul(gg, swapLast(b2)), a2)
  // A shared 2-D weight (x (.., n, k) @ w (k, m)): one GEMM over all rows, x^T g with
  // x as (rows, k), instead of a batch of small products summed afterwards.
  const gb =
    b2.rank === 2 && a2.rank > 2 && typeof a2.shape[a2.rank - 1] === 'number' && typeof gg.shape[gg.rank - 1] === 'number'
      ? matmul(transpose(reshape(a2, [-1, a2.shape[a2.rank - 1] as number])), reshape(gg, [-1, gg.shape[gg.rank - 1] as number]))
      : unbroadcast(matmul(swapLast(a2), gg), b2)
  return [a.rank === 1 ? reshapeLike(ga, a) : ga, b.rank === 1 ? reshapeLike(gb, b) : gb]
}

/** Count of elements reduced over `axes` of `x` (a scalar of x's dtype, static where it can be). */
function reducedCount(x: Value, axes: readonly number[]): Value | number {
  const n = numel(axes.map((a) => x.shape[a] as Dim))
  if (n !== undefined) return n
  const g = x.graph
  const dims = g.ints(axes)
  const picked = x.graph.node('Gather', [shapeOf(x), dims], [{ dtype: 'int64', shape: [axes.length] }], { axis: { type: 'int', value: 0 } })[0] as Value
  return cast(reduceProd(picked), x.dtype)
}

function reduceAxes(n: Node): number[] {
  const x = inp(n, 0)
  if (n.op === 'ReduceSum') return n.inputs[1] ? constInts(inp(n, 1)).map((a) => normAxis(a, x.rank, n.op)) : [...Array(x.rank).keys()]
  return n.attrs.axes ? ints(n, 'axes').map((a) => normAxis(a, x.rank, n.op)) : [...Array(x.rank).keys()]
}

/** The reduced gradient, re-expanded to the input's shape. */
function unreduce(n: Node, g: Value): Value {
  const x = inp(n, 0)
  const axes = reduceAxes(n)
  const kept = int(n, 'keepdims', 1) === 1 ? g : unsqueeze(g, axes)
  return expandLike(kept, x)
}

const RULES: Record<string, Rule> = {
  Identity: (_n, [g]) => [g],
  Add: (n, [g]) => [unbroadcast(g as Value, inp(n, 0)), unbroadcast(g as Value, inp(n, 1))],
  Sub: (n, [g]) => [unbroadcast(g as Value, inp(n, 0)), unbroadcast(neg(g as Value), inp(n, 1))],
  Mul: (n, [g]) => [unbroadcast(mul(g as Value, inp(n, 1)), inp(n, 0)), unbroadcast(mul(g as Value, inp(n, 0)), inp(n, 1))],
  Div: (n, [g]) => [unbroadcast(div(g as Value, inp(n, 1)), inp(n, 0)), unbroadcast(neg(div(mul(g as Value, out0(n)), inp(n, 1))), inp(n, 1))],
  Pow: (n, [g], needs) => {
    const a = inp(n, 0)
    const b = inp(n, 1)
    // d/da a^b = b a^(b-1); d/db a^b = a^b log a (only built when b needs it).
    const ga = unbroadcast(mul(mul(g as Value, b), pow(a, sub(b, 1))), a)
    return [ga, needs(b) ? unbroadcast(mul(mul(g as Value, out0(n)), log(a)), b) : undefined]
  },
  Max: (n, [g]) => {
    const m = greaterOrEqual(inp(n, 0), inp(n, 1))
    return [unbroadcast(where(m, g as Value, 0), inp(n, 0)), unbroadcast(where(m, 0, g as Value), inp(n, 1))]
  },
  Min: (n, [g]) => {
    const m = lessOrEqual(inp(n, 0), inp(n, 1))
    return [unbroadcast(where(m, g as Value, 0), inp(n, 0)), unbroadcast(where(m, 0, g as Value), inp(n, 1))]
  },
  Neg: (_n, [g]) => [neg(g as Value)],
  Exp: (n, [g]) => [mul(g as Value, out0(n))],
  Log: (n, [g]) => [div(g as Value, inp(n, 0))],
  Sqrt: (n, [g]) => [div(mul(g as Value, 0.5), out0(n))],
  Reciprocal: (n, [g]) => [neg(mul(g as Value, mul(out0(n), out0(n))))],
  Tanh: (n, [g]) => [mul(g as Value, sub(1, mul(out0(n), out0(n))))],
  Sigmoid: (n, [g]) => [mul(g as Value, mul(out0(n), sub(1, out0(n))))],
  Relu: (n, [g]) => [where(greater(inp(n, 0), 0), g as Value, 0)],
  Abs: (n, [g]) => [mul(g as Value, sign(inp(n, 0)))],
  Where: (n, [g]) => {
    const c = inp(n, 0)
    return [undefined, unbroadcast(where(c, g as Value, 0), inp(n, 1)), unbroadcast(where(c, 0, g as Value), inp(n, 2))]
  },
  Cast: (n, [g]) => (isFloat(inp(n, 0).dtype) ? [cast(g as Value, inp(n, 0).dtype)] : [undefined]),
  MatMul: matmulRule,
  Softmax: (n, [g]) => {
    const y = out0(n)
    const axis = int(n, 'axis')
    return [mul(y, sub(g as Value, reduceSum(mul(g as Value, y), [axis], true)))]
  },
  LogSoftmax: (n, [g]) => {
    const axis = int(n, 'axis')
    return [sub(g as Value, mul(exp(out0(n)), reduceSum(g as Value, [axis], true)))]
  },
  ReduceSum: (n, [g]) => [unreduce(n, g as Value), undefined],
  ReduceMean: (n, [g]) => [div(unreduce(n, g as Value), reducedCount(inp(n, 0), reduceAxes(n)))],
  ReduceMax: (n, [g]) => {
    // The gradient goes to every position equal to the max (ties share it in full).
    const x = inp(n, 0)
    const axes = reduceAxes(n)
    const keep = int(n, 'keepdims', 1) === 1
    const y = keep ? out0(n) : unsqueeze(out0(n), axes)
    const gk = keep ? (g as Value) : unsqueeze(g as Value, axes)
    return [where(equal(x, y), expandLike(gk, x), 0)]
  },
  Reshape: (n, [g]) => [reshapeLike(g as Value, inp(n, 0)), undefined],
  Unsqueeze: (n, [g]) => [reshapeLike(g as Value, inp(n, 0)), undefined],
  Squeeze: (n, [g]) => [reshapeLike(g as Value, inp(n, 0)), undefined],
  Expand: (n, [g]) => [unbroadcast(g as Value, inp(n, 0)), undefined],
  Transpose: (n, [g]) => {
    const p = ints(n, 'perm')
    const inv = new Array<number>(p.length)
    p.forEach((src, dst) => (inv[src] = dst))
    return [transpose(g as Value, inv)]
  },
  Concat: (n, [g]) => {
    const axis = int(n, 'axis')
    let start = 0
    return n.inputs.map((x) => {
      const d = x.shape[axis]
      if (typeof d !== 'number') throw new GraphError(`autodiff: Concat gradient needs static sizes on axis ${axis}, got ${x}`)
      const s = sliceStatic(g as Value, axis, start, start + d)
      start += d
      return s
    })
  },
  Split: (n, gs) => {
    const parts = n.outputs.map((o, i) => gs[i] ?? zerosLike(o))
    return [concat(parts, int(n, 'axis')), undefined]
  },
  Slice: (n, [g]) => {
    const x = inp(n, 0)
    const starts = constInts(inp(n, 1))
    const ends = constInts(inp(n, 2))
    const axes = constInts(inp(n, 3)).map((a) => normAxis(a, x.rank, 'Slice'))
    const steps = constInts(inp(n, 4))
    const pads = new Array<number>(2 * x.rank).fill(0)
    axes.forEach((a, i) => {
      const d = x.shape[a]
      if (typeof d !== 'number' || steps[i] !== 1) {
        throw new GraphError(`autodiff: Slice gradient needs a static axis and step 1, got ${x} axis ${a}`)
      }
      let s = starts[i] as number
      let e = ends[i] as number
      if (s < 0) s += d
      if (e < 0) e += d
      s = Math.min(Math.max(s, 0), d)
      e = Math.min(Math.max(e, s), d)
      pads[a] = s
      pads[a + x.rank] = d - e
    })
    return [pad(g as Value, pads)]
  },
  Gather: (n, [g]) => {
    const data = inp(n, 0)
    const idx = inp(n, 1)
    const axis = int(n, 'axis')
    const q = idx.rank
    let gg = g as Value
    // Move the indexed axes of g to the front: (idx..., data[:axis], data[axis+1:]).
    if (axis > 0) {
      const perm = [...Array(q).keys()].map((i) => i + axis)
      for (let i = 0; i < axis; i++) perm.push(i)
      for (let i = axis + q; i < gg.rank; i++) perm.push(i)
      gg = transpose(gg, perm)
    }
    let zeros = zerosLike(data)
    if (axis > 0) zeros = transpose(zeros, [axis, ...[...Array(data.rank).keys()].filter((i) => i !== axis)])
    const indices = unsqueeze(cast(idx, 'int64'), [q])
    let gd = scatterNDAdd(zeros, indices, gg)
    if (axis > 0) {
      const inv = [...Array(data.rank).keys()].map((i) => (i < axis ? i + 1 : i === axis ? 0 : i))
      gd = transpose(gd, inv)
    }
    return [gd, undefined]
  }
}

function sliceStatic(x: Value, axis: number, start: number, end: number): Value {
  const g = x.graph
  return x.graph.node('Slice', [x, g.ints([start]), g.ints([end]), g.ints([axis]), g.ints([1])], [{ dtype: x.dtype, shape: x.shape.map((d, i) => (i === axis ? end - start : d)) }])[0] as Value
}

/** Ops whose outputs carry no gradient back to their inputs. */
const NON_DIFFERENTIABLE = new Set([
  'Shape',
  'ConstantOfShape',
  'Equal',
  'Less',
  'Greater',
  'LessOrEqual',
  'GreaterOrEqual',
  'And',
  'Or',
  'Not',
  'ArgMax',
  'OneHot',
  'Sign',
  'RandomUniformLike'
])

/**
 * Gradients of `loss` with respect to each of `wrt`, appended to loss's graph. `loss` is
 * usually a scalar; otherwise pass `seed`, the gradient of the final objective with respect
 * to `loss` (default: ones, i.e. the gradient of sum(loss)). A value that does not influence
 * the loss gets a zero gradient.
 */
export function gradients(loss: Value, wrt: readonly Value[], seed?: Value): Value[] {
  const g: Graph = loss.graph
  if (!isFloat(loss.dtype)) throw new GraphError(`gradients: loss must be float, got ${loss}`)
  // Values that depend on some wrt value (forward), restricted to those the loss depends on.
  const dependsOnWrt = new Set<Value>(wrt)
  for (const n of g.nodes) {
    if (n.inputs.some((x) => dependsOnWrt.has(x)) && !NON_DIFFERENTIABLE.has(n.op)) for (const o of n.outputs) dependsOnWrt.add(o)
  }
  const lossNeeds = new Set<Value>([loss])
  const nodeIndex = g.nodes.indexOf(loss.producer as Node)
  for (let i = nodeIndex; i >= 0; i--) {
    const n = g.nodes[i] as Node
    if (n.outputs.some((o) => lossNeeds.has(o))) for (const x of n.inputs) lossNeeds.add(x)
  }
  const needs = new Set<Value>([...dependsOnWrt].filter((v) => lossNeeds.has(v) && isFloat(v.dtype)))
  const grads = new Map<Value, Value>()
  const accumulate = (v: Value, d: Value): void => {
    const prev = grads.get(v)
    grads.set(v, prev ? add(prev, d) : d)
  }
  grads.set(loss, seed ?? onesLike(loss))
  for (let i = nodeIndex; i >= 0; i--) {
    const n = g.nodes[i] as Node
    if (!n.inputs.some((x) => needs.has(x))) continue
    const gout = n.outputs.map((o) => grads.get(o))
    if (gout.every((x) => x === undefined)) continue
    if (NON_DIFFERENTIABLE.has(n.op)) continue
    const rule = RULES[n.op]
    if (!rule) throw new GraphError(`gradients: no gradient rule for ${n.op} (inputs ${n.inputs.map(String).join(', ')})`)
    if (n.op !== 'Split' && gout[0] === undefined) continue
    const gin = rule(n, gout, (v) => needs.has(v))
    n.inputs.forEach((x, j) => {
      const d = gin[j]
      if (d && needs.has(x)) accumulate(x, d)
    })
  }
  return wrt.map((w) => grads.get(w) ?? zerosLike(w))
}

function onesLike(v: Value): Value {
  if (v.rank === 0) return v.graph.scalar(1, v.dtype)
  return add(zerosLike(v), 1)
}
