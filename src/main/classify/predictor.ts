// A model with a classifier behind one interface: `prepare` reads and decodes one file (sharp
// runs it on libuv's thread pool, palette mapping on this thread) and `predict` runs a batch in
// the registry's ML worker, so the next batch decodes while the model runs this one. ImageGPT models with a `score` head go through their runner's
// classProbabilities; imported ONNX classifiers through their session with the model's own
// preprocessing (onnx-image.ts). Both are loaded through the registry.

import { createHash } from 'node:crypto'
import { promises as fs } from 'node:fs'

import { AppError } from '../errors'
import { modelImageTokens } from '../ml/palette/palette'
import { hasClassifier } from '../ml/pixelgpt/model'
import { softmaxRow } from '../ml/pixelgpt/runner'
import { type ModelRegistry, type StoredModelInfo } from '../models/registry'
import { onnxImageInput } from '../models/onnx-image'
import { type ModelsRepo } from '../library/models'

export interface PreparedFile {
  /** Model input: palette tokens (ImageGPT) or the float tensor of one image (ONNX). */
  input: Int32Array | Float32Array
  size: number
  mtimeMs: number
  sha256: string
}

export interface Predictor {
  modelId: string
  modelName: string
  labels: string[]
  /** Images per forward run. */
  batchSize: number
  prepare(file: string, label: string): Promise<PreparedFile>
  predict(inputs: readonly (Int32Array | Float32Array)[]): Promise<number[][]>
}

async function readWithStat(file: string): Promise<{ bytes: Buffer; size: number; mtimeMs: number; sha256: string }> {
  const st = await fs.stat(file)
  if (!st.isFile()) throw new AppError('UNSUPPORTED', 'is not a regular file')
  const bytes = await fs.readFile(file)
  return { bytes, size: st.size, mtimeMs: st.mtimeMs, sha256: createHash('sha256').update(bytes).digest('hex') }
}

/** The predictor for a model reference (id or name); refuses models without a classifier. */
export async function loadPredictor(models: ModelRegistry, repo: ModelsRepo, ref: string, batchSize = 32): Promise<Predictor> {
  const rec = repo.record(ref)
  if ((rec.config as StoredModelInfo).onnx) {
    const { spec, session, record } = await models.loadOnnx(rec.id)
    if (spec.task !== 'classifier' || !spec.labels.length) throw new AppError('UNSUPPORTED', `Model "${record.name}" is a feature extractor without labels; classify needs a classifier.`)
    const { height: H, width: W, layout } = spec.input
    const per = 3 * H * W
    const bs = spec.input.dynamicBatch ? batchSize : 1
    return {
      modelId: record.id,
      modelName: record.name,
      labels: spec.labels,
      batchSize: bs,
      async prepare(file, label) {
        const r = await readWithStat(file)
        // The decoder takes bytes as well as a path (decodeToModelRgb); the bytes hashed are the bytes classified.
        const { data } = await onnxImageInput(r.bytes as unknown as string, spec, label)
        return { input: data, size: r.size, mtimeMs: r.mtimeMs, sha256: r.sha256 }
      },
      async predict(inputs) {
        const out: number[][] = []
        for (let i = 0; i < inputs.length; i += bs) {
          const chunk = inputs.slice(i, i + bs)
          const data = new Float32Array(chunk.length * per)
          chunk.forEach((x, j) => data.set(x as Float32Array, j * per))
          const dims = layout === 'nchw' ? [chunk.length, 3, H, W] : [chunk.length, H, W, 3]
          const y = (await session.runHost({ [spec.input.name]: { dtype: 'float32', dims, data } }))[spec.output.name]?.data as Float32Array
          const D = spec.output.dim
          for (let j = 0; j < chunk.length; j++) out.push(softmaxRow(y.subarray(j * D, j * D + D)))
        }
        return out
      }
    }
  }
  const { model, runner, record } = await models.load(rec.id)
  if (!hasClassifier(model)) throw new AppError('UNSUPPORTED', `Model "${record.name}" has no classifier head (score); classify needs a model that predicts classes.`)
  return {
    modelId: record.id,
    modelName: record.name,
    labels: model.classes,
    batchSize,
    async prepare(file, label) {
      const r = await readWithStat(file)
      const tokens = await modelImageTokens(r.bytes, model, { label })
      return { input: tokens, size: r.size, mtimeMs: r.mtimeMs, sha256: r.sha256 }
    },
    predict: (inputs) => runner.classProbabilities(inputs as Int32Array[])
  }
}
