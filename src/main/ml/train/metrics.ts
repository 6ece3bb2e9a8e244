// Classification metrics from predicted probabilities: accuracy, per-class precision / recall /
// F1, the confusion matrix (rows = true class, columns = predicted), and the expected
// calibration error over equal-width confidence bins.

export interface PerClass {
  name: string
  support: number
  precision: number
  recall: number
  f1: number
}

export interface ClassificationMetrics {
  count: number
  accuracy: number
  /** Mean cross-entropy in nats. */
  loss: number
  perClass: PerClass[]
  macroF1: number
  /** confusion[true][predicted] */
  confusion: number[][]
  /** Expected calibration error (15 equal-width bins of the top probability). */
  ece: number
}

export function classificationMetrics(probs: readonly (readonly number[])[], labels: readonly number[], classes: readonly string[], bins = 15): ClassificationMetrics {
  const n = labels.length
  const K = classes.length
  const confusion = Array.from({ length: K }, () => new Array<number>(K).fill(0))
  const binConf = new Array<number>(bins).fill(0)
  const binAcc = new Array<number>(bins).fill(0)
  const binN = new Array<number>(bins).fill(0)
  let correct = 0
  let loss = 0
  for (let i = 0; i < n; i++) {
    const p = probs[i]!
    const y = labels[i]!
    let best = 0
    for (let k = 1; k < K; k++) if ((p[k] ?? 0) > (p[best] ?? 0)) best = k
    confusion[y]![best]!++
    const hit = best === y ? 1 : 0
    correct += hit
    loss -= Math.log(Math.max(p[y] ?? 0, 1e-12))
    const conf = p[best] ?? 0
    const b = Math.min(bins - 1, Math.floor(conf * bins))
    binConf[b]! += conf
    binAcc[b]! += hit
    binN[b]!++
  }
  let ece = 0
  for (let b = 0; b < bins; b++) if (binN[b]! > 0) ece += (binN[b]! / Math.max(1, n)) * Math.abs(binAcc[b]! / binN[b]! - binConf[b]! / binN[b]!)
  const perClass: PerClass[] = classes.map((name, k) => {
    const tp = confusion[k]![k]!
    const support = confusion[k]!.reduce((a, b) => a + b, 0)
    const predicted = confusion.reduce((a, row) => a + row[k]!, 0)
    const precision = predicted > 0 ? tp / predicted : 0
    const recall = support > 0 ? tp / support : 0
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0
    return { name, support, precision, recall, f1 }
  })
  const present = perClass.filter((c) => c.support > 0)
  return {
    count: n,
    accuracy: n > 0 ? correct / n : 0,
    loss: n > 0 ? loss / n : 0,
    perClass,
    macroF1: present.length ? present.reduce((a, c) => a + c.f1, 0) / present.length : 0,
    confusion,
    ece
  }
}

export function softmax(row: ArrayLike<number>): number[] {
  let m = -Infinity
  for (let i = 0; i < row.length; i++) m = Math.max(m, row[i] as number)
  const e = Array.from({ length: row.length }, (_, i) => Math.exp((row[i] as number) - m))
  const s = e.reduce((a, b) => a + b, 0)
  return e.map((v) => v / s)
}
