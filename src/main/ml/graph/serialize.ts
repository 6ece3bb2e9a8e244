// Graph -> ONNX ModelProto bytes with onnx-proto (protobufjs). ir_version 8 with opset 17:
// the pair ONNX 1.12 writes, which onnxruntime-node 1.30 accepts. Opset 17 keeps ReduceMean/
// ReduceMax axes as attributes (ReduceSum, Unsqueeze, Squeeze, Split, Slice take them as inputs).

import { createHash } from 'node:crypto'
import { onnx } from 'onnx-proto'
import { type Attr, type ConstantData, type Graph, type Value } from './graph'
import { ONNX_DTYPE } from './ops'

export const OPSET = 17
export const IR_VERSION = 8

function tensorProto(name: string, c: ConstantData): onnx.ITensorProto {
  const bytes = new Uint8Array(c.data.buffer, c.data.byteOffset, c.data.byteLength)
  return { name, dataType: ONNX_DTYPE[c.dtype], dims: [...c.dims], rawData: bytes.slice() }
}

function attrProto(name: string, a: Attr): onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType
  switch (a.type) {
    case 'int':
      return { name, type: T.INT, i: a.value }
    case 'float':
      return { name, type: T.FLOAT, f: a.value }
    case 'ints':
      return { name, type: T.INTS, ints: [...a.value] }
    case 'floats':
      return { name, type: T.FLOATS, floats: [...a.value] }
    case 'string':
      return { name, type: T.STRING, s: new TextEncoder().encode(a.value) }
    case 'tensor':
      return { name, type: T.TENSOR, t: tensorProto('', a.value) }
  }
}

function valueInfo(v: Value): onnx.IValueInfoProto {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: ONNX_DTYPE[v.dtype],
        shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) }
      }
    }
  }
}

/** The ModelProto for `g` (only nodes that some output depends on are kept). */
export function toModelProto(g: Graph): onnx.ModelProto {
  const live = new Set<Value>()
  const keep = new Array<boolean>(g.nodes.length).fill(false)
  for (const o of g.outputs) live.add(o)
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i]
    if (!n || !n.outputs.some((o) => live.has(o))) continue
    keep[i] = true
    for (const x of n.inputs) live.add(x)
  }
  const nodes: onnx.INodeProto[] = []
  g.nodes.forEach((n, i) => {
    if (!keep[i]) return
    nodes.push({
      opType: n.op,
      domain: n.domain,
      name: `${n.op}_${i}`,
      input: n.inputs.map((v) => v.name),
      output: n.outputs.map((v) => v.name),
      attribute: Object.entries(n.attrs).map(([k, a]) => attrProto(k, a))
    })
  })
  const initializer: onnx.ITensorProto[] = []
  const liveNames = new Set([...live].map((v) => v.name))
  for (const [name, c] of g.constants) if (liveNames.has(name)) initializer.push(tensorProto(name, c))
  return onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: 'tessera',
    opsetImport: [{ domain: '', version: OPSET }],
    graph: {
      name: g.name,
      node: nodes,
      initializer,
      // Every declared input stays, even when unused, so callers can always feed the same names.
      input: g.inputs.map(valueInfo),
      output: g.outputs.map(valueInfo)
    }
  })
}

/** Serialised ModelProto bytes, ready for an InferenceSession. */
export function toOnnx(g: Graph): Uint8Array {
  return onnx.ModelProto.encode(toModelProto(g)).finish()
}

/** A stable hash of the serialised model (the session cache key). */
export function modelHash(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}
