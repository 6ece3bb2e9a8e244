// Training objectives as step graphs on the engine (graph/optim.ts), and what each feeds:
//   generative  next-token CE; ids = [start, t1 .. t_{T-1}], targets = [t1 .. tT], start = SOS or a
//               class token (class-conditional, with a share of SOS starts keeping the
//               unconditional path).
//   classify    the Hugging Face classifier head score(mean_t ln_f(h)) on plain pixel tokens,
//               fine-tuning the whole transformer.
//   joint       iGPT's L_gen + L_clf, each on the sequence its use reads: the classifier loss on
//               the plain pixel tokens (Hugging Face's inference semantics for the head), and
//               next-token CE on [start, t1 .. t_{T-1}] -> [t1 .. tT], the sequence generation runs
//               (start = the item's class token for a class-conditional model, with a share of SOS
//               starts, else SOS). Both go through one forward of 2B rows, interleaved: row 2b is
//               item b's pixels, row 2b+1 its generation sequence. (Computing L_gen on the pixel
//               rows instead, shifted by one position from what generation reads, costs half as
//               much but moved the model away from generating: bits per token 0.80 -> 0.94-0.99
//               and class-conditional samples fell apart, docs/evaluation.md.)
//   probe       a linear head (no bias, as HF's score) on features extracted once.

import { type Graph, type Value, matmul, meanCrossEntropy, mul, reshape, slice, transpose, add, reduceMean, softmaxCrossEntropy } from '../graph'
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

/** Inputs: ids (2B, T) interleaved as jointLosses says, labels (B), targets (B, T). Metrics: clf_loss, gen_loss. */
export function jointStep(c: PixelGptConfig, classes: number, opts: TrainOptions): StepGraph {
  return buildTrainStep((g: Graph) => {
    const { clf, gen } = jointLosses(g, c, classes)
    return { loss: add(clf, gen), metrics: { clf_loss: clf, gen_loss: gen } }
  }, opts)
}

/**
 * The joint objective's two losses. Inputs: ids (2B, T) interleaved (row 2b: item b's pixel
 * tokens; row 2b+1: [start, t1 .. t_{T-1}]), labels (B), targets (B, T) = [t1 .. tT].
 */
export function jointLosses(g: Graph, c: PixelGptConfig, classes: number): { clf: Value; gen: Value } {
  const T = seqLen(c)
  const v = forwardInto(g, c, { classLabels: classes, logits: true })
  // The forward's batch dimension 'B' counts rows (two per item): the per-item inputs get their
  // own dimension name, or ONNX Runtime's planner would take them for the same size and warn.
  const labels = g.input('labels', 'int64', ['items'])
  const targets = g.input('targets', 'int64', ['items', T])
  // (2B, N) -> (B, 2, N) -> the pixel rows; (2B, T, K) -> (B, 2, T, K) -> the generation rows.
  const N = classes
  const K = c.paletteSize
  const clfLogits = reshape(slice(reshape(v.classLogits as Value, [-1, 2, N]), [0], [1], [1]), [-1, N])
  const genLogits = reshape(slice(reshape(v.logits as Value, [-1, 2, T, K]), [1], [2], [1]), [-1, T, K])
  return { clf: reduceMean(softmaxCrossEntropy(clfLogits, labels)), gen: meanCrossEntropy(genLogits, targets) }
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
  return (g: Graph) => {
    const scale = g.input('loss_scale', 'float32', [])
    if (objective === 'generative') {
      const v = forwardInto(g, c, { loss: true })
      return { loss: mul(v.loss as Value, scale) }
    }
    if (objective === 'joint') {
      const { clf, gen } = jointLosses(g, c, classes)
      return { loss: mul(add(clf, gen), scale) }
    }
    const v = forwardInto(g, c, { classLabels: classes })
    const labels = g.input('labels', 'int64', ['B'])
    return { loss: mul(reduceMean(softmaxCrossEntropy(v.classLogits as Value, labels)), scale) }
  }
}

/** gradStep + applyStep for micro-batched steps of a fine-tuning objective. */
export function accumulatingSteps(objective: Exclude<ObjectiveName, 'probe'>, c: PixelGptConfig, classes: number, opts: TrainOptions): { grad: StepGraph; apply: StepGraph } {
  const grad = buildGradStep(scaledForward(objective, c, classes))
  return { grad, apply: buildApplyStep(grad.params, opts) }
}
