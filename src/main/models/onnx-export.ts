// An ImageGPT classifier as one self-contained ONNX graph that runs outside Tessera:
//   pixel_values (N, 3, S, S) float, normalised to [-1, 1] (x / 127.5 - 1, as Hugging Face's
//   ImageGPT processor does) -> nearest palette colour per pixel (argmin of squared distance,
//   lowest index on ties) -> ids (N, S*S) -> the forward graph's class_logits (N, labels).
// The tokenizer graph and the forward graph are built separately with the graph builder and
// joined at the ModelProto level; the weights become initializers.

import { onnx } from 'onnx-proto'

import { Graph, argMax, neg, reduceSum, reshape, square, sub, toModelProto, transpose } from '../ml/graph'
import { buildForward } from '../ml/pixelgpt/graphs'
import { type PixelGptModel, hasClassifier } from '../ml/pixelgpt/model'

export const CLASSIFIER_INPUT = 'pixel_values'
export const CLASSIFIER_OUTPUT = 'class_logits'

/** pixel_values (N, 3, S, S) in [-1, 1] -> ids (N, S*S) int64. */
function tokenizerProto(model: PixelGptModel): onnx.ModelProto {
  const { side: S, paletteSize: K } = model.config
  const g = new Graph('palette-tokenizer')
  const x = g.input(CLASSIFIER_INPUT, 'float32', ['N', 3, S, S])
  const pixels = reshape(transpose(x, [0, 2, 3, 1]), ['N', S * S, 1, 3]) // (N, T, 1, 3)
  const palette = g.tensor(model.palette, [1, 1, K, 3])
  const d2 = reduceSum(square(sub(pixels, palette)), [3]) // (N, T, K)
  g.output(argMax(neg(d2), -1), 'ids') // nearest: argmax of the negated distance, first index on ties
  return toModelProto(g)
}

export function imageGptClassifierOnnx(model: PixelGptModel): Uint8Array {
  if (!hasClassifier(model)) throw new RangeError('The model has no classifier head; ONNX export is for classifiers (export it in the Hugging Face layout instead).')
  const tok = tokenizerProto(model)
  const built = buildForward(model.config, { classLabels: model.classes.length })
  const fwd = toModelProto(built.graph)
  const tg = tok.graph as onnx.GraphProto
  const fg = fwd.graph as onnx.GraphProto

  // The tokenizer's internal names get a prefix so they cannot collide with the forward graph's.
  const keep = new Set([CLASSIFIER_INPUT, 'ids'])
  const rename = (n: string): string => (keep.has(n) || n === '' ? n : `tokenizer/${n}`)
  const tokNodes = tg.node.map((n) => ({ ...n, name: `tokenizer/${n.name ?? ''}`, input: (n.input ?? []).map(rename), output: (n.output ?? []).map(rename) }))
  const tokInits = tg.initializer.map((t) => ({ ...t, name: rename(t.name ?? '') }))

  // Weights: graph inputs of the forward graph become initializers.
  const params = new Set(built.params)
  const weights: onnx.ITensorProto[] = built.params.map((name) => {
    const t = model.weights.get(name)
    if (!t) throw new Error(`The model has no weight "${name}".`)
    return { name, dataType: onnx.TensorProto.DataType.FLOAT, dims: t.shape, rawData: new Uint8Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength)) }
  })
  const merged = onnx.ModelProto.create({
    irVersion: fwd.irVersion,
    producerName: 'tessera',
    opsetImport: fwd.opsetImport,
    docString: `ImageGPT classifier exported by Tessera: ${CLASSIFIER_INPUT} (N, 3, ${model.config.side}, ${model.config.side}) in [-1, 1] -> ${CLASSIFIER_OUTPUT} (N, ${model.classes.length}).`,
    graph: {
      name: 'imagegpt-classifier',
      node: [...tokNodes, ...fg.node],
      initializer: [...tokInits, ...fg.initializer, ...weights],
      input: tg.input,
      output: fg.output.filter((o) => o.name === CLASSIFIER_OUTPUT)
    }
  })
  if (fg.input.some((i) => i.name !== 'ids' && !params.has(i.name ?? ''))) {
    throw new Error(`The forward graph has inputs besides ids and weights: ${fg.input.map((i) => i.name).join(', ')}`)
  }
  return onnx.ModelProto.encode(merged).finish()
}
