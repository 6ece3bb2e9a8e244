// Next-token choice from logits: greedy, or temperature / top-k / top-p sampling driven by a
// seeded Prng. Plain arithmetic in a fixed order so the same logits and seed give the same token.

import { Prng } from './prng'

export interface SamplingParams {
  /** Argmax (lowest index on ties); the other settings are then ignored. */
  greedy?: boolean
  /** Logits are divided by this (default 1). Must be > 0. */
  temperature?: number
  /** Keep only the k most likely tokens (0 or undefined: all). */
  topK?: number
  /** Keep the smallest set of most likely tokens whose probability reaches p (1 or undefined: all). */
  topP?: number
}

export function validateSampling(p: SamplingParams): void {
  if (p.greedy) return
  const t = p.temperature ?? 1
  if (!(t > 0) || !Number.isFinite(t)) throw new RangeError(`Temperature must be a positive number, got ${t}.`)
  if (p.topK !== undefined && (!Number.isInteger(p.topK) || p.topK < 0)) throw new RangeError(`top-k must be a whole number >= 0, got ${p.topK}.`)
  if (p.topP !== undefined && !(p.topP > 0 && p.topP <= 1)) throw new RangeError(`top-p must be in (0, 1], got ${p.topP}.`)
}

export function argmax(logits: ArrayLike<number>): number {
  let best = 0
  for (let i = 1; i < logits.length; i++) if ((logits[i] as number) > (logits[best] as number)) best = i
  return best
}

/**
 * The probabilities sampling draws from, after temperature, top-k and top-p (zeros elsewhere).
 * Exposed for tests and for showing the distribution in the UI.
 */
export function samplingDistribution(logits: ArrayLike<number>, p: SamplingParams): Float64Array {
  const n = logits.length
  const out = new Float64Array(n)
  if (p.greedy) {
    out[argmax(logits)] = 1
    return out
  }
  const t = p.temperature ?? 1
  if (!(p.topK && p.topK > 0 && p.topK < n) && (p.topP ?? 1) >= 1) {
    // Plain softmax: no ordering needed.
    let top = -Infinity
    for (let i = 0; i < n; i++) top = Math.max(top, logits[i] as number)
    let sum = 0
    for (let i = 0; i < n; i++) {
      const e = Math.exp(((logits[i] as number) - top) / t)
      out[i] = e
      sum += e
    }
    for (let i = 0; i < n; i++) out[i] = (out[i] as number) / sum
    return out
  }
  // Indices by logit, descending; ties by index so the order is fully determined.
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (logits[b] as number) - (logits[a] as number) || a - b)
  const k = p.topK && p.topK > 0 ? Math.min(p.topK, n) : n
  const top = logits[order[0] as number] as number
  let sum = 0
  for (let r = 0; r < k; r++) {
    const i = order[r] as number
    const e = Math.exp(((logits[i] as number) - top) / t)
    out[i] = e
    sum += e
  }
  for (let r = 0; r < k; r++) out[order[r] as number] = (out[order[r] as number] as number) / sum
  const topP = p.topP ?? 1
  if (topP < 1) {
    let cum = 0
    let keep = 0
    while (keep < k) {
      cum += out[order[keep] as number] as number
      keep++
      if (cum >= topP) break
    }
    for (let r = keep; r < k; r++) out[order[r] as number] = 0
    for (let r = 0; r < keep; r++) out[order[r] as number] = (out[order[r] as number] as number) / cum
  }
  return out
}

/** One token from `logits` (one row of K). */
export function sampleToken(logits: ArrayLike<number>, p: SamplingParams, rng: Prng): number {
  if (p.greedy) return argmax(logits)
  const probs = samplingDistribution(logits, p)
  const u = rng.next()
  let acc = 0
  let last = 0
  for (let i = 0; i < probs.length; i++) {
    const q = probs[i] as number
    if (q <= 0) continue
    last = i
    acc += q
    if (u < acc) return i
  }
  return last // rounding: u landed past the last cumulative sum
}

/** Independent PRNG per image, so an image does not depend on the batch it was generated in. */
export function imagePrng(seed: number, index: number): Prng {
  return new Prng(((Math.floor(seed) >>> 0) ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0)
}
