// Training objectives as step graphs on the engine (graph/optim.ts), and what each feeds:
//   generative  next-token CE; ids = [start, t1 .. t_{T-1}], targets = [t1 .. tT], start = SOS or a
//               class token (class-conditional, with a share of SOS starts keeping the
//               unconditional path).
//   classify    the Hugging Face classifier head score(mean_t ln_f(h)) on plain pixel tokens,
//               fine-tuning the whole transformer.
//   joint       iGPT's L_gen + L_clf on one forward of the plain pixel tokens: the classifier loss
//               plus next-token CE of positions 1..T-1 (position t predicts t+1), so the head
//               keeps Hugging Face's inference semantics.
//   probe       a linear head (no bias, as HF's score) on features extracted once.

import { type Graph, type Value, matmul, meanCrossEntropy, mul, slice, transpose, add, reduceMean, softmaxCrossEntropy } from '../graph'
import { type ForwardResult, type StepGraph, type TrainOptions, buildApplyStep, buildGradStep, buildTrainStep } from '../graph/optim'
import { forwardInto } from '../pixelgpt/graphs'
import { type PixelGptConfig, seqLen } from '../pixelgpt/model'
import { buildPixelGptTrainStep } from '../pixelgpt/train'

export type ObjectiveName = 'probe' | 'classify' | 'joint' | 'generative'

export function generativeStep(c: PixelGptConfig, opts: TrainOptions): StepGraph {
  return buildPixelGptTrainStep(c, { kind: 'lm' }, opts)
}

export function classifyStep(c: PixelGptConfig, classes: number, opts: TrainOptions): StepGraph {
  return buildPixelGptTrainStep(c, { kind: 'classifier', labels: classes }, opts)
}

/** Inputs: ids (B, T) plain pixel tokens, targets (B, T-1) = ids[:, 1:], labels (B). Metrics: clf_loss, gen_loss. */
export function jointStep(c: PixelGptConfig, classes: number, opts: TrainOptions): StepGraph {
  const T = seqLen(c)
  return buildTrainStep((g: Graph) => {
    const v = forwardInto(g, c, { classLabels: classes, logits: true })
    const labels = g.input('labels', 'int64', ['B'])
    const targets = g.input('targets', 'int64', ['B', T - 1])
    const clf = reduceMean(softmaxCrossEntropy(v.classLogits as Value, labels))
    const gen = meanCrossEntropy(slice(v.logits as Value, [0], [T - 1], [1]), targets)
    return { loss: add(clf, gen), metrics: { clf_loss: clf, gen_loss: gen } }
  }, opts)
}

/** Inputs: features (B, C) float32, labels (B). Parameter score.weight (N, C). */
export function probeStep(width: number, classes: number, opts: TrainOptions): StepGraph {
  return buildTrainStep((g: Graph) => {
    const x = g.input('features', 'float32', ['B', width])
    const labels = g.input('labels', 'int64', ['B'])
    const w = g.param('score.weight', [classes, width])
    return { loss: meanCrossEntropy(matmul(x, transpose(w, [1, 0])), labels) }
  }, opts)
}

/**
 * The forward of a fine-tuning objective (not probe) for gradient accumulation: the loss is
 * multiplied by an input scalar `loss_scale`, so micro-batches of unequal size add up to the
 * exact gradient of the whole batch's mean (feed micro * n_i / B with grad_scale 1 / micro).
 */
function scaledForward(objective: Exclude<ObjectiveName, 'probe'>, c: PixelGptConfig, classes: number): (g: Graph) => ForwardResult {
  const T = seqLen(c)
  return (g: Graph) => {
    const scale = g.input('loss_scale', 'float32', [])
    if (objective === 'generative') {
      const v = forwardInto(g, c, { loss: true })
      return { loss: mul(v.loss as Value, scale) }
    }
    const v = forwardInto(g, c, { classLabels: classes, logits: objective === 'joint' })
    const labels = g.input('labels', 'int64', ['B'])
    const clf = reduceMean(softmaxCrossEntropy(v.classLogits as Value, labels))
    if (objective === 'classify') return { loss: mul(clf, scale) }
    const targets = g.input('targets', 'int64', ['B', T - 1])
    const gen = meanCrossEntropy(slice(v.logits as Value, [0], [T - 1], [1]), targets)
    return { loss: mul(add(clf, gen), scale) }
  }
}

/** gradStep + applyStep for micro-batched steps of a fine-tuning objective. */
export function accumulatingSteps(objective: Exclude<ObjectiveName, 'probe'>, c: PixelGptConfig, classes: number, opts: TrainOptions): { grad: StepGraph; apply: StepGraph } {
  const grad = buildGradStep(scaledForward(objective, c, classes))
  return { grad, apply: buildApplyStep(grad.params, opts) }
}
