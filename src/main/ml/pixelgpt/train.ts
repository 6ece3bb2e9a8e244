// Training-step graphs for ImageGPT on the engine's optimizers (graph/optim.ts): the forward of
// graphs.ts with its loss, then the engine appends backward and update. Parameter names are the
// Hugging Face weight names; the step returns each as `<name>.next`.

import { type Graph, type Value, logSoftmax, mul, oneHot, reduceMean, reduceSum } from '../graph'
import { type StepGraph, type TrainOptions, buildTrainStep } from '../graph/optim'
import { forwardInto } from './graphs'
import { type PixelGptConfig } from './model'

export type Objective =
  /** Next-token prediction: inputs `ids` (B, T) = [start, t1 .. t_{T-1}] and `targets` (B, T) = [t1 .. tT]. */
  | { kind: 'lm' }
  /** Classifier head on plain pixel tokens: inputs `ids` (B, T) = [t1 .. tT] and `labels` (B). */
  | { kind: 'classifier'; labels: number }

export function buildPixelGptTrainStep(c: PixelGptConfig, objective: Objective, opts: TrainOptions): StepGraph {
  return buildTrainStep((g: Graph) => {
    if (objective.kind === 'lm') {
      const v = forwardInto(g, c, { loss: true })
      return { loss: v.loss as Value }
    }
    const v = forwardInto(g, c, { classLabels: objective.labels })
    const labels = g.input('labels', 'int64', ['B'])
    const logits = v.classLogits as Value // (B, N)
    const ce = mul(reduceSum(mul(logSoftmax(logits, -1), oneHot(labels, objective.labels)), [-1]), -1) // (B)
    return { loss: reduceMean(ce) }
  }, opts)
}
