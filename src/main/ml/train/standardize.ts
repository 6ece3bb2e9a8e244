// Probe features standardised per dimension with the mean direction projected out, so that a
// bias-free linear head trained on them folds back into Hugging Face's bias-free score head on
// the raw features. Used by probe training, the LP-FT head warm start and eval:digits.

export interface Standardizer {
  /** In place: x -> P((x - mu) / sd), P removing the direction u of mu / sd. */
  apply(f: Float32Array): void
  /** The raw-feature head equal to W on standardized features: W P D^-1 (no bias needed, as P u = 0). */
  fold(w: Float32Array, rows: number): Float32Array
}

/**
 * Probe features standardized per dimension, with the mean direction projected out so that the
 * head trained on them folds back into a bias-free head on raw features (Hugging Face's score has
 * no bias): logits = W P D^-1 (f - mu) = (W P D^-1) f because D^-1 mu is parallel to u and P u = 0.
 */
export function standardizer(f: Float32Array, C: number): Standardizer {
  const n = f.length / C
  const mu = new Float64Array(C)
  const sd = new Float64Array(C)
  for (let i = 0; i < n; i++) for (let j = 0; j < C; j++) mu[j]! += f[i * C + j]! / n
  for (let i = 0; i < n; i++) for (let j = 0; j < C; j++) sd[j]! += (f[i * C + j]! - mu[j]!) ** 2 / n
  for (let j = 0; j < C; j++) sd[j] = Math.sqrt(sd[j]!) + 1e-6
  const u = new Float64Array(C)
  let norm = 0
  for (let j = 0; j < C; j++) norm += (u[j] = mu[j]! / sd[j]!) ** 2
  norm = Math.sqrt(norm)
  for (let j = 0; j < C; j++) u[j] = norm > 0 ? u[j]! / norm : 0
  const project = (row: Float64Array): void => {
    let d = 0
    for (let j = 0; j < C; j++) d += row[j]! * u[j]!
    for (let j = 0; j < C; j++) row[j]! -= d * u[j]!
  }
  return {
    apply(x) {
      const row = new Float64Array(C)
      for (let i = 0; i < x.length / C; i++) {
        for (let j = 0; j < C; j++) row[j] = (x[i * C + j]! - mu[j]!) / sd[j]!
        project(row)
        for (let j = 0; j < C; j++) x[i * C + j] = row[j]!
      }
    },
    fold(w, rows) {
      const out = new Float32Array(rows * C)
      const row = new Float64Array(C)
      for (let k = 0; k < rows; k++) {
        for (let j = 0; j < C; j++) row[j] = w[k * C + j]!
        project(row)
        for (let j = 0; j < C; j++) out[k * C + j] = row[j]! / sd[j]!
      }
      return out
    }
  }
}
