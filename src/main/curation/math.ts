// The numbers behind dataset curation, in plain TypeScript on Float64 arrays:
// - an L2-regularised multinomial logistic (softmax) regression fitted by L-BFGS,
// - seeded stratified K folds and out-of-fold predicted probabilities,
// - the confident-learning rule (Northcutt et al. 2021): per-class thresholds = mean
//   self-confidence of the class; an item whose above-threshold argmax is another class
//   is a likely mislabel,
// - cosine k-nearest-neighbour distances (outlier score) and cosine-similarity groups
//   (feature near-duplicates) in one all-pairs pass,
// - robust z-scores (median / MAD) for flagging outliers.
// Everything here is deterministic for a given seed; the async functions yield to the event
// loop between units of work so a job running them keeps the process responsive.

import { seededRandom } from '../datasets/splits'

export interface SoftmaxData {
  /** n x d features, row-major. */
  x: Float64Array
  /** Class index of each row, 0..k-1. */
  y: Int32Array
  n: number
  d: number
  k: number
}

export interface SoftmaxModel {
  /** d x k weights, row-major. */
  w: Float64Array
  b: Float64Array
  d: number
  k: number
}

export interface SoftmaxFitOptions {
  /** L2 penalty on the weights (not the biases), added to the mean cross-entropy as l2/2 * |W|^2. */
  l2?: number
  maxIterations?: number
  /** Stop when the gradient's largest entry falls under this. */
  tolerance?: number
  /** L-BFGS memory. */
  memory?: number
  /** Called between iterations (an abort check, a yield). */
  tick?: () => void | Promise<void>
}

export const DEFAULT_L2 = 1e-2

/**
 * Objective and gradient of L2-regularised softmax regression at `params` = [W (d x k) | b (k)]:
 * mean cross-entropy over the rows plus l2/2 * |W|^2. `grad` is written in place.
 */
export function softmaxObjective(params: Float64Array, data: SoftmaxData, l2: number, grad: Float64Array): number {
  const { x, y, n, d, k } = data
  const bOff = d * k
  grad.fill(0)
  const z = new Float64Array(k)
  let loss = 0
  for (let i = 0; i < n; i++) {
    const row = i * d
    for (let c = 0; c < k; c++) z[c] = params[bOff + c] as number
    for (let j = 0; j < d; j++) {
      const xv = x[row + j] as number
      if (xv === 0) continue
      const wr = j * k
      for (let c = 0; c < k; c++) z[c] = (z[c] as number) + xv * (params[wr + c] as number)
    }
    let max = -Infinity
    for (let c = 0; c < k; c++) if ((z[c] as number) > max) max = z[c] as number
    let sum = 0
    for (let c = 0; c < k; c++) {
      const e = Math.exp((z[c] as number) - max)
      z[c] = e
      sum += e
    }
    const yi = y[i] as number
    loss -= Math.log((z[yi] as number) / sum)
    for (let c = 0; c < k; c++) z[c] = (z[c] as number) / sum - (c === yi ? 1 : 0)
    for (let c = 0; c < k; c++) grad[bOff + c] = (grad[bOff + c] as number) + (z[c] as number)
    for (let j = 0; j < d; j++) {
      const xv = x[row + j] as number
      if (xv === 0) continue
      const wr = j * k
      for (let c = 0; c < k; c++) grad[wr + c] = (grad[wr + c] as number) + xv * (z[c] as number)
    }
  }
  const inv = 1 / n
  let reg = 0
  for (let p = 0; p < bOff; p++) {
    const w = params[p] as number
    reg += w * w
    grad[p] = (grad[p] as number) * inv + l2 * w
  }
  for (let c = 0; c < k; c++) grad[bOff + c] = (grad[bOff + c] as number) * inv
  return loss * inv + 0.5 * l2 * reg
}

const dot = (a: Float64Array, b: Float64Array): number => {
  let s = 0
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number)
  return s
}

const maxAbs = (a: Float64Array): number => {
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] as number))
  return m
}

/**
 * Fits softmax regression by L-BFGS (two-loop recursion, backtracking Armijo line search).
 * The objective is strictly convex with l2 > 0, so the result does not depend on the start.
 */
export async function fitSoftmax(data: SoftmaxData, opts: SoftmaxFitOptions = {}): Promise<SoftmaxModel & { loss: number; iterations: number }> {
  const { d, k } = data
  if (data.n === 0) throw new RangeError('Softmax regression needs at least one row.')
  const l2 = opts.l2 ?? DEFAULT_L2
  const maxIter = opts.maxIterations ?? 200
  const tol = opts.tolerance ?? 1e-6
  const m = opts.memory ?? 10
  const P = d * k + k
  let x = new Float64Array(P)
  let g = new Float64Array(P)
  let f = softmaxObjective(x, data, l2, g)
  const S: Float64Array[] = []
  const Y: Float64Array[] = []
  const rho: number[] = []
  const alpha = new Float64Array(m)
  const dir = new Float64Array(P)
  const xNew = new Float64Array(P)
  const gNew = new Float64Array(P)
  let iter = 0
  for (; iter < maxIter && maxAbs(g) > tol; iter++) {
    await opts.tick?.()
    // Two-loop recursion: dir = -H g.
    for (let i = 0; i < P; i++) dir[i] = g[i] as number
    for (let j = S.length - 1; j >= 0; j--) {
      const a = (rho[j] as number) * dot(S[j] as Float64Array, dir)
      alpha[j] = a
      const yj = Y[j] as Float64Array
      for (let i = 0; i < P; i++) dir[i] = (dir[i] as number) - a * (yj[i] as number)
    }
    if (S.length > 0) {
      const last = S.length - 1
      const gamma = dot(S[last] as Float64Array, Y[last] as Float64Array) / dot(Y[last] as Float64Array, Y[last] as Float64Array)
      for (let i = 0; i < P; i++) dir[i] = (dir[i] as number) * gamma
    } else {
      // First step: a gradient step scaled so its length is modest.
      const s = 1 / Math.max(1, Math.sqrt(dot(g, g)))
      for (let i = 0; i < P; i++) dir[i] = (dir[i] as number) * s
    }
    for (let j = 0; j < S.length; j++) {
      const b = (rho[j] as number) * dot(Y[j] as Float64Array, dir)
      const sj = S[j] as Float64Array
      const a = alpha[j] as number
      for (let i = 0; i < P; i++) dir[i] = (dir[i] as number) + (a - b) * (sj[i] as number)
    }
    for (let i = 0; i < P; i++) dir[i] = -(dir[i] as number)
    let slope = dot(g, dir)
    if (slope >= 0) {
      // Not a descent direction (numerical trouble): restart from steepest descent.
      S.length = Y.length = rho.length = 0
      for (let i = 0; i < P; i++) dir[i] = -(g[i] as number)
      slope = dot(g, dir)
    }
    let step = 1
    let fNew = Infinity
    for (let tries = 0; tries < 40; tries++) {
      for (let i = 0; i < P; i++) xNew[i] = (x[i] as number) + step * (dir[i] as number)
      fNew = softmaxObjective(xNew, data, l2, gNew)
      if (fNew <= f + 1e-4 * step * slope) break
      step *= 0.5
    }
    if (!(fNew <= f + 1e-4 * step * slope)) break // the line search found no decrease: as good as it gets
    const s = new Float64Array(P)
    const yv = new Float64Array(P)
    for (let i = 0; i < P; i++) {
      s[i] = (xNew[i] as number) - (x[i] as number)
      yv[i] = (gNew[i] as number) - (g[i] as number)
    }
    const sy = dot(s, yv)
    if (sy > 1e-12) {
      S.push(s)
      Y.push(yv)
      rho.push(1 / sy)
      if (S.length > m) {
        S.shift()
        Y.shift()
        rho.shift()
      }
    }
    const converged = Math.abs(f - fNew) <= 1e-12 * Math.max(1, Math.abs(f))
    ;[x, g] = [Float64Array.from(xNew), Float64Array.from(gNew)]
    f = fNew
    if (converged) {
      iter++
      break
    }
  }
  return { w: x.slice(0, d * k), b: x.slice(d * k), d, k, loss: f, iterations: iter }
}

/** Class probabilities (n x k, row-major) of rows of `x` (n x d). */
export function predictSoftmax(model: SoftmaxModel, x: Float64Array, n: number): Float64Array {
  const { w, b, d, k } = model
  const out = new Float64Array(n * k)
  const z = new Float64Array(k)
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) z[c] = b[c] as number
    for (let j = 0; j < d; j++) {
      const xv = x[i * d + j] as number
      for (let c = 0; c < k; c++) z[c] = (z[c] as number) + xv * (w[j * k + c] as number)
    }
    let max = -Infinity
    for (let c = 0; c < k; c++) max = Math.max(max, z[c] as number)
    let sum = 0
    for (let c = 0; c < k; c++) sum += z[c] = Math.exp((z[c] as number) - max)
    for (let c = 0; c < k; c++) out[i * k + c] = (z[c] as number) / sum
  }
  return out
}

/** Per-column standardisation (mean 0, sd 1; a constant column stays 0). */
export function standardize(x: ArrayLike<number>, n: number, d: number): Float64Array {
  const out = new Float64Array(n * d)
  for (let j = 0; j < d; j++) {
    let s = 0
    for (let i = 0; i < n; i++) s += x[i * d + j] as number
    const mean = s / n
    let v = 0
    for (let i = 0; i < n; i++) v += ((x[i * d + j] as number) - mean) ** 2
    const sd = Math.sqrt(v / n)
    const inv = sd > 1e-12 ? 1 / sd : 0
    for (let i = 0; i < n; i++) out[i * d + j] = ((x[i * d + j] as number) - mean) * inv
  }
  return out
}

/**
 * A fold index 0..folds-1 for each row, stratified by class: each class's rows are shuffled
 * (seeded) and dealt round-robin, continuing where the previous class stopped so fold sizes
 * stay even.
 */
export function stratifiedFolds(y: Int32Array, folds: number, seed: number): Int32Array {
  const rand = seededRandom(seed)
  const byClass = new Map<number, number[]>()
  y.forEach((c, i) => byClass.set(c, [...(byClass.get(c) ?? []), i]))
  const out = new Int32Array(y.length)
  let next = 0
  for (const c of [...byClass.keys()].sort((a, b) => a - b)) {
    const rows = byClass.get(c) as number[]
    for (let i = rows.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1))
      ;[rows[i], rows[j]] = [rows[j] as number, rows[i] as number]
    }
    for (const r of rows) out[r] = next++ % folds
  }
  return out
}

/** Rows of `x` (n x d) whose mask is set, as a new n' x d array. */
function pick(x: Float64Array, d: number, rows: number[]): Float64Array {
  const out = new Float64Array(rows.length * d)
  rows.forEach((r, i) => out.set(x.subarray(r * d, r * d + d), i * d))
  return out
}

/**
 * Out-of-fold predicted probabilities (n x k): each row's probabilities come from a model
 * fitted on the other folds only, so an item's own (possibly wrong) label never informs its
 * prediction.
 */
export async function outOfFoldProbabilities(
  data: SoftmaxData,
  opts: SoftmaxFitOptions & { folds?: number; seed?: number; onFold?: (done: number, total: number) => void } = {}
): Promise<Float64Array> {
  const { x, y, n, d, k } = data
  const folds = Math.max(2, Math.min(opts.folds ?? 5, n))
  const fold = stratifiedFolds(y, folds, opts.seed ?? 0)
  const probs = new Float64Array(n * k)
  for (let f = 0; f < folds; f++) {
    const train: number[] = []
    const held: number[] = []
    for (let i = 0; i < n; i++) (fold[i] === f ? held : train).push(i)
    if (held.length === 0) continue
    const model = await fitSoftmax({ x: pick(x, d, train), y: Int32Array.from(train.map((i) => y[i] as number)), n: train.length, d, k }, opts)
    const p = predictSoftmax(model, pick(x, d, held), held.length)
    held.forEach((r, i) => probs.set(p.subarray(i * k, i * k + k), r * k))
    opts.onFold?.(f + 1, folds)
  }
  return probs
}

export interface ConfidentLearningResult {
  /** Per class: the mean predicted probability of that class over the items labelled with it. */
  thresholds: Float64Array
  /** Per item: the predicted probability of its given label. */
  selfConfidence: Float64Array
  /** Per item: the class with the highest probability among those at or above their threshold; -1 when none is. */
  suggested: Int32Array
  /** Per item: suggested is another class than the given label. */
  flagged: Uint8Array
}

/**
 * The confident-learning rule: t_j = mean of p_j over items labelled j; an item's confident
 * class is argmax_j p_j among the j with p_j >= t_j; it is a likely mislabel when that class
 * exists and differs from its given label (the off-diagonal of the confident joint).
 */
export function confidentLearning(probs: Float64Array, y: Int32Array, n: number, k: number): ConfidentLearningResult {
  const sum = new Float64Array(k)
  const count = new Float64Array(k)
  for (let i = 0; i < n; i++) {
    const c = y[i] as number
    sum[c] = (sum[c] as number) + (probs[i * k + c] as number)
    count[c] = (count[c] as number) + 1
  }
  // A class no item carries has no threshold: it can never be confidently suggested.
  const thresholds = Float64Array.from(sum, (s, c) => ((count[c] as number) > 0 ? s / (count[c] as number) : Infinity))
  const selfConfidence = new Float64Array(n)
  const suggested = new Int32Array(n).fill(-1)
  const flagged = new Uint8Array(n)
  for (let i = 0; i < n; i++) {
    const given = y[i] as number
    selfConfidence[i] = probs[i * k + given] as number
    let best = -1
    let bestP = -Infinity
    for (let c = 0; c < k; c++) {
      const p = probs[i * k + c] as number
      if (p >= (thresholds[c] as number) && p > bestP) {
        best = c
        bestP = p
      }
    }
    suggested[i] = best
    flagged[i] = best >= 0 && best !== given ? 1 : 0
  }
  return { thresholds, selfConfidence, suggested, flagged }
}

/** Rows centred on their mean and scaled to unit length, for cosine similarity. */
export function centeredUnitRows(x: ArrayLike<number>, n: number, d: number): Float64Array {
  const mean = new Float64Array(d)
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] = (mean[j] as number) + (x[i * d + j] as number) / n
  const out = new Float64Array(n * d)
  for (let i = 0; i < n; i++) {
    let s = 0
    for (let j = 0; j < d; j++) {
      const v = (x[i * d + j] as number) - (mean[j] as number)
      out[i * d + j] = v
      s += v * v
    }
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0
    for (let j = 0; j < d; j++) out[i * d + j] = (out[i * d + j] as number) * inv
  }
  return out
}

export interface NeighbourScan {
  /** Per row: mean cosine distance (1 - similarity) to its k nearest other rows. */
  knnDistance: Float64Array
  /** Groups of rows linked by cosine similarity >= the threshold (union-find), each with its lowest linking similarity to the first member. */
  groups: { rows: number[]; minSimilarity: number }[]
}

/**
 * One all-pairs pass over unit rows (n x d): the k-nearest-neighbour mean cosine distance of
 * each row, and groups of rows at cosine similarity >= `threshold`. O(n^2 d): about a second
 * per 3k rows of 128 features here.
 */
export async function neighbourScan(
  unit: Float64Array,
  n: number,
  d: number,
  opts: { k: number; threshold: number; tick?: (row: number) => void | Promise<void>; /** Pairs above the threshold link only when this agrees. */ link?: (i: number, j: number) => boolean }
): Promise<NeighbourScan> {
  const k = Math.max(1, Math.min(opts.k, n - 1))
  // Per row, the k largest similarities so far (unsorted, with the index of the smallest).
  const top = new Float64Array(n * k).fill(-Infinity)
  const minAt = new Int32Array(n)
  const parent = Int32Array.from({ length: n }, (_, i) => i)
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i] as number] as number
      i = parent[i] as number
    }
    return i
  }
  const offer = (i: number, s: number): void => {
    const at = i * k + (minAt[i] as number)
    if (s <= (top[at] as number)) return
    top[at] = s
    let m = 0
    for (let c = 1; c < k; c++) if ((top[i * k + c] as number) < (top[i * k + m] as number)) m = c
    minAt[i] = m
  }
  for (let i = 0; i < n; i++) {
    if (opts.tick && i % 64 === 0) await opts.tick(i)
    const ri = i * d
    for (let j = i + 1; j < n; j++) {
      const rj = j * d
      let s = 0
      for (let t = 0; t < d; t++) s += (unit[ri + t] as number) * (unit[rj + t] as number)
      offer(i, s)
      offer(j, s)
      if (s >= opts.threshold && (!opts.link || opts.link(i, j))) {
        const a = find(i)
        const b = find(j)
        if (a !== b) parent[Math.max(a, b)] = Math.min(a, b)
      }
    }
  }
  const knnDistance = new Float64Array(n)
  if (n > 1)
    for (let i = 0; i < n; i++) {
      let s = 0
      for (let c = 0; c < k; c++) s += 1 - (top[i * k + c] as number)
      knnDistance[i] = s / k
    }
  const members = new Map<number, number[]>()
  for (let i = 0; i < n; i++) {
    const r = find(i)
    members.set(r, [...(members.get(r) ?? []), i])
  }
  const groups: NeighbourScan['groups'] = []
  for (const rows of members.values()) {
    if (rows.length < 2) continue
    const f = rows[0] as number
    let minSimilarity = 1
    for (const r of rows.slice(1)) {
      let s = 0
      for (let t = 0; t < d; t++) s += (unit[f * d + t] as number) * (unit[r * d + t] as number)
      minSimilarity = Math.min(minSimilarity, s)
    }
    groups.push({ rows, minSimilarity })
  }
  groups.sort((a, b) => b.minSimilarity - a.minSimilarity || b.rows.length - a.rows.length)
  return { knnDistance, groups }
}

const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length === 0 ? NaN : s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2
}

/** (v - median) / (1.4826 * MAD): a z-score a few extreme values cannot inflate. Zero MAD gives 0 for the median and +-Infinity for the rest. */
export function robustZ(values: ArrayLike<number>): Float64Array {
  const v = Array.from(values).filter((x) => Number.isFinite(x))
  const med = median(v)
  const mad = 1.4826 * median(v.map((x) => Math.abs(x - med)))
  return Float64Array.from(values, (x) => (!Number.isFinite(x) ? NaN : x === med ? 0 : mad > 0 ? (x - med) / mad : x > med ? Infinity : -Infinity))
}
