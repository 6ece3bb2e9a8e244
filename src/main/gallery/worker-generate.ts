// Generation inside the ML worker thread (src/main/ml/worker.ts dispatches 'generate.run' and
// 'generate.cancel' here). The model package is read once per worker and kept (keyed by its
// folder and weights hash); each batch is sampled with its images' own PRNG streams, so the
// pixels do not depend on batching; rows stream back as they finish, and every finished batch
// comes back scored (bits per token; classifier confidence for the requested class).

import { classToken, hasClassifier, hasLmHead, sosToken } from '../ml/pixelgpt/model'
import { readModelPackage } from '../ml/pixelgpt/package'
import { PixelGptRunner } from '../ml/pixelgpt/runner'
import { modelImageTokens } from '../ml/palette/palette'
import { GenerationCancelled, generateImages } from '../ml/sample/generate'
import { type Runtime } from '../ml/runtime/session'

/** What the main thread asks the worker to generate. */
export interface GenerateWork {
  /** The model package folder and its weights hash (cache key). */
  modelDir: string
  weightsSha256: string
  count: number
  batchSize: number
  seed: number
  firstIndex: number
  greedy: boolean
  temperature: number
  topK: number
  topP: number
  classIndex: number | null
  /** Classifier label index of the requested class, for its confidence (null: not scored). */
  confidenceClass: number | null
  complete: { file: string; keepRows: number } | null
  /** Skip the first images (a resumed job). */
  startAt: number
}

/** Streamed from the worker while a generate.run is going. */
export type GenerateEvent =
  | { kind: 'row'; batchStart: number; row: number; rows: number; images: Int32Array[] }
  | { kind: 'batch'; batchStart: number; images: Int32Array[]; bitsPerToken: number[]; confidence: (number | null)[]; ms: number }

const runners = new Map<string, Promise<PixelGptRunner>>()

function runnerFor(runtime: Runtime, work: GenerateWork): Promise<PixelGptRunner> {
  const key = `${work.modelDir}|${work.weightsSha256}`
  let hit = runners.get(key)
  if (!hit) {
    hit = readModelPackage(work.modelDir).then(({ model }) => new PixelGptRunner(model, runtime))
    hit.catch(() => runners.delete(key))
    runners.set(key, hit)
    // Keep the two most recent models (a dropped runner unpins its sessions, so the runtime may evict them).
    while (runners.size > 2) {
      const k = runners.keys().next().value as string
      void runners.get(k)?.then((r) => r.dispose()).catch(() => undefined)
      runners.delete(k)
    }
  }
  return hit
}

/** Forget cached models (the runtime they were built on is gone). */
export function resetGenerateCache(): void {
  runners.clear()
}

/** Runs the work; returns false when cancelled (finished batches were already sent). */
export async function runGenerateWork(runtime: Runtime, work: GenerateWork, send: (e: GenerateEvent) => void, signal: AbortSignal): Promise<boolean> {
  const runner = await runnerFor(runtime, work)
  const model = runner.model
  if (!hasLmHead(model)) throw new Error('This model has no lm_head, so it cannot generate images.')
  const c = model.config
  const tokens = work.complete ? await modelImageTokens(work.complete.file, model, { label: 'the image to complete' }) : undefined
  const start = work.classIndex === null ? sosToken(c) : classToken(c, work.classIndex)
  for (let b0 = work.startAt; b0 < work.count; b0 += work.batchSize) {
    if (signal.aborted) return false
    const n = Math.min(work.batchSize, work.count - b0)
    const t0 = performance.now()
    let images: Int32Array[]
    try {
      images = await generateImages(runner, {
        count: n,
        batchSize: n,
        seed: work.seed,
        indexOffset: work.firstIndex + b0,
        greedy: work.greedy,
        temperature: work.temperature,
        ...(work.topK > 0 ? { topK: work.topK } : {}),
        ...(work.topP < 1 ? { topP: work.topP } : {}),
        ...(work.classIndex !== null ? { classIndex: work.classIndex } : {}),
        ...(tokens && work.complete ? { complete: { tokens, keepRows: work.complete.keepRows } } : {}),
        signal,
        // Only the rows sampled so far (the rest of each array is still zeros).
        onRow: (p) => send({ kind: 'row', batchStart: b0, row: p.row, rows: p.rows, images: p.images.map((im) => im.slice(0, (p.row + 1) * c.side)) })
      })
    } catch (err) {
      if (err instanceof GenerationCancelled || signal.aborted) return false
      throw err
    }
    const ms = performance.now() - t0
    const nll = await runner.nll(images, start)
    let confidence: (number | null)[] = images.map(() => null)
    if (work.confidenceClass !== null && hasClassifier(model)) {
      const probs = await runner.classProbabilities(images)
      confidence = probs.map((p) => p[work.confidenceClass as number] ?? null)
    }
    send({ kind: 'batch', batchStart: b0, images, bitsPerToken: nll.map((x) => x / Math.LN2), confidence, ms })
  }
  return true
}
