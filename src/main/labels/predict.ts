// Job `labels.predict`: runs a classifier over a dataset's items that have no cached
// prediction from that model yet and stores the top class with its probability, a
// batch per transaction. The model runs in the registry's ML worker thread (a blocking
// ORT run never stalls the thread that answers the window); each stored batch emits
// library.changed (labels) so the grid fills in as it goes. Resuming simply continues with the items still missing.

import { type EventBus } from '../events'
import { type JobKind } from '../jobs/runner'
import { type Library } from '../library/library'
import { MediaRepo, mediaFilePath } from '../library/media'
import { hasClassifier } from '../ml/pixelgpt/model'
import { type ModelRegistry } from '../models/registry'
import { AppError } from '../errors'
import { LabelService } from './service'

export const PREDICT_JOB = 'labels.predict'

export interface PredictParams {
  datasetId: string
  modelId: string
  datasetName?: string
  modelName?: string
}

export interface PredictResult {
  predicted: number
  failed: number
  total: number
}

const BATCH = 16

export function predictJobKind(deps: { library: Library; bus: EventBus; models: () => ModelRegistry }): JobKind<PredictParams, null, PredictResult> {
  const labels = new LabelService(deps.library.db)
  const media = new MediaRepo(deps.library.db)
  return {
    heavy: true,
    title: (p) => `Predict labels${p.datasetName ? ` for ${p.datasetName}` : ''}${p.modelName ? ` with ${p.modelName}` : ''}`,
    async run({ params, signal, progress }) {
      const registry = deps.models()
      const detail = await registry.get(params.modelId)
      if (detail.classes.length === 0) throw new AppError('UNSUPPORTED', `Model "${detail.name}" has no classifier head, so it cannot suggest labels.`, 'model')
      const status = labels.predictionStatus(params.datasetId, params.modelId)
      const total = status.total
      let done = status.predicted
      let failed = 0
      const skip = new Set<string>()
      progress({ phase: 'predicting', done, total })
      // ImageGPT classifiers run a batch of token grids at once; ONNX classifiers one image a call.
      const gpt = detail.onnx ? null : await registry.load(params.modelId)
      if (gpt && !hasClassifier(gpt.model)) throw new AppError('UNSUPPORTED', `Model "${detail.name}" has no classifier head.`, 'model')
      for (;;) {
        signal.throwIfAborted()
        const batch = labels.unpredicted(params.datasetId, params.modelId, BATCH + skip.size).filter((r) => !skip.has(r.id)).slice(0, BATCH)
        if (batch.length === 0) break
        const files: { id: string; file: string }[] = []
        for (const it of batch) {
          const m = media.get(it.sha256)
          if (!m) {
            skip.add(it.id)
            failed++
            continue
          }
          files.push({ id: it.id, file: mediaFilePath(deps.library, m.path) })
        }
        const rows: { itemId: string; className: string; confidence: number }[] = []
        if (gpt) {
          const tokens: { id: string; t: Int32Array }[] = []
          for (const f of files) {
            try {
              tokens.push({ id: f.id, t: await registry.tokenize(gpt.model, f.file) })
            } catch {
              skip.add(f.id)
              failed++
            }
          }
          if (tokens.length > 0) {
            const probs = await gpt.runner.classProbabilities(tokens.map((t) => t.t))
            tokens.forEach((t, i) => {
              const p = probs[i] as number[]
              let best = 0
              for (let k = 1; k < p.length; k++) if ((p[k] as number) > (p[best] as number)) best = k
              rows.push({ itemId: t.id, className: gpt.model.classes[best] ?? `class ${best}`, confidence: p[best] as number })
            })
          }
        } else {
          for (const f of files) {
            try {
              const r = await registry.try(params.modelId, f.file, 1)
              const top = r.top[0]
              if (top) rows.push({ itemId: f.id, className: top.label, confidence: top.probability })
              else {
                skip.add(f.id)
                failed++
              }
            } catch {
              skip.add(f.id)
              failed++
            }
          }
        }
        labels.savePredictions(params.modelId, rows)
        done += rows.length
        progress({ phase: 'predicting', done, total })
        deps.bus.emit('library.changed', { domain: 'labels', id: params.datasetId })
      }
      return { predicted: done, failed, total }
    }
  }
}
