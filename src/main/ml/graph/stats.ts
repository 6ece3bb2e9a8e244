// Static counts over a built graph: FLOPs of its matrix products (what the hardware peak is
// measured in) and nodes per op type.

import { type Graph, numel } from './graph'

/** 2 * batch * n * k * m summed over MatMul nodes with static shapes; unknown ones counted apart. */
export function matmulFlops(g: Graph): { flops: number; unknown: number } {
  let flops = 0
  let unknown = 0
  for (const n of g.nodes) {
    if (n.op !== 'MatMul') continue
    const a = n.inputs[0]
    const out = n.outputs[0]
    if (!a || !out) continue
    const k = a.shape[a.rank - 1]
    const o = numel(out.shape)
    if (typeof k !== 'number' || o === undefined) unknown++
    else flops += 2 * o * k
  }
  return { flops, unknown }
}

/** Node count per op type, most frequent first. */
export function opCounts(g: Graph): [string, number][] {
  const m = new Map<string, number>()
  for (const n of g.nodes) m.set(n.op, (m.get(n.op) ?? 0) + 1)
  return [...m.entries()].sort((p, q) => q[1] - p[1])
}
