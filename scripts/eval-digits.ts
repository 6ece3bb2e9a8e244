// `npm run eval:digits`: measures tessera-digits on the MNIST test set and prints (and
// records in the model folder's eval.json) what the README states:
//   - linear probe accuracy (iGPT protocol: pooled features of each layer, logistic
//     regression on the training images, layer chosen on the 5,000 held-out images);
//   - bits per token on the test set, with the class token and unconditioned;
//   - class-conditional samples: the share that a classifier assigns to the requested
//     digit (the model's own classifier head when it has one, else the probe's).
//
//   - with --ship-head: the model's classifier head (Hugging Face's bias-free `score` over the
//     pooled ln_f features of the plain pixel tokens) from a linear probe of the last layer on the
//     training images, written into the model folder, and its own test accuracy measured through
//     the product's runner; the samples are then judged by that head.
//
//   npm run eval:digits -- [--model resources/models/tessera-digits] [--checkpoint DIR]
//                          [--probe-train N] [--samples-per-class N] [--input pixels|sos] [--ship-head]

import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { isAbsolute, join, relative, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { exportHfImageGpt, importHfImageGpt } from '../src/main/ml/interop/hf-imagegpt'
import { standardizer } from '../src/main/ml/train/standardize'
import { parseSafetensors, type TensorMap } from '../src/main/ml/interop/safetensors'
import { type PixelGptConfig, type PixelGptModel } from '../src/main/ml/pixelgpt/model'
import { PixelGptRunner } from '../src/main/ml/pixelgpt/runner'
import { Runtime } from '../src/main/ml/runtime'
import { generateImages } from '../src/main/ml/sample/generate'
import { DIGIT_CLASSES, loadDigits } from './lib/digits'
import { accuracy, extractFeatures, fitStandardizer, predict, type ProbeInput, standardize, trainLinearHead } from './lib/probe'
import { evaluate, type TokenSet } from './lib/pretrain'
import { REPO_ROOT } from './lib/tessera-cli'

/** A model from a pretraining work folder (checkpoint + the config in its run record), for evaluation mid-run. */
function modelFromCheckpoint(dir: string, palette: Float32Array): PixelGptModel {
  const start = readFileSync(join(dir, 'run.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { event?: string; config?: PixelGptConfig })
    .find((e) => e.event === 'start')
  if (!start?.config) throw new Error(`${dir}/run.jsonl has no start record with the model config.`)
  const file = parseSafetensors(readFileSync(join(dir, 'checkpoint.safetensors')), 'the checkpoint')
  const weights: TensorMap = new Map([...file.tensors].filter(([k]) => !k.startsWith('adam_') && !k.startsWith('momentum')))
  return { config: start.config, palette, weights, classes: [], conditionClasses: DIGIT_CLASSES }
}

/** A path relative to the repository when it lies inside it (eval.json ships beside the model and shows on its card). */
function repoPath(p: string): string {
  const r = relative(REPO_ROOT, p)
  return r.startsWith('..') || isAbsolute(r) ? p : r
}

function take(set: TokenSet, n: number, T: number): TokenSet {
  const m = Math.min(n, set.count)
  return { tokens: set.tokens.subarray(0, m * T), labels: set.labels.subarray(0, m), count: m }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string', default: 'resources/models/tessera-digits' },
      checkpoint: { type: 'string' },
      'probe-train': { type: 'string', default: '55000' },
      /** Fewer validation and test images, for a quick look (the README's numbers use all). */
      limit: { type: 'string' },
      'samples-per-class': { type: 'string', default: '20' },
      input: { type: 'string', default: 'pixels' },
      'no-write': { type: 'boolean', default: false },
      'ship-head': { type: 'boolean', default: false }
    }
  })
  const input = values.input as ProbeInput
  if (input !== 'pixels' && input !== 'sos') throw new Error('--input must be pixels or sos.')
  const runtime = new Runtime({})
  let model: PixelGptModel
  let data
  if (values.checkpoint) {
    data = loadDigits()
    model = modelFromCheckpoint(resolve(values.checkpoint), data.palette)
  } else {
    model = (await importHfImageGpt(resolve(values.model))).model
    data = loadDigits(model.palette)
  }
  const c = model.config
  const T = c.side * c.side
  if (values.limit) {
    data.val = take(data.val, Number(values.limit), T)
    data.test = take(data.test, Number(values.limit), T)
  }
  const log = (s: string): void => void process.stderr.write(s + '\n')

  // Linear probe.
  const trainSet = take(data.train, Number(values['probe-train']), T)
  log(`Extracting features of ${trainSet.count} training, ${data.val.count} validation and ${data.test.count} test images (input: ${input}) …`)
  const t0 = Date.now()
  const fTrain = await extractFeatures(model, trainSet, input, runtime, (d) => d % 5000 === 0 && log(`  train ${d}/${trainSet.count}`))
  const fVal = await extractFeatures(model, data.val, input, runtime)
  const fTest = await extractFeatures(model, data.test, input, runtime)
  log(`Features in ${((Date.now() - t0) / 1000).toFixed(0)} s.`)
  const perLayer: Record<string, number> = {}
  let best = { layer: 0, val: -1, test: 0 }
  for (const [layer, ftr] of fTrain) {
    const s = fitStandardizer(ftr, c.width)
    const head = await trainLinearHead(runtime, standardize(ftr, s), trainSet.labels, 10)
    const val = accuracy(predict(head, standardize(fVal.get(layer) as Float32Array, s)), data.val.labels)
    const test = accuracy(predict(head, standardize(fTest.get(layer) as Float32Array, s)), data.test.labels)
    perLayer[layer] = val
    log(`  layer ${layer}: validation ${(val * 100).toFixed(2)}%`)
    if (val > best.val) best = { layer, val, test }
  }
  log(`Linear probe: layer ${best.layer}, test accuracy ${(best.test * 100).toFixed(2)}%.`)

  // Bits per token on the test set.
  const ev = await evaluate(runtime, model, data.test, data.test.count)

  // The shipped classifier head: a bias-free probe on the last layer's pooled ln_f features of the
  // plain pixel tokens (what Hugging Face's score reads), folded into score.weight, then measured
  // through the product's own runner on the test set.
  let shipped: { model: PixelGptModel; accuracy: number } | null = null
  if (values['ship-head']) {
    if (input !== 'pixels') throw new Error('--ship-head needs --input pixels: the classifier head reads the plain pixel tokens.')
    if (values.checkpoint) throw new Error('--ship-head writes into a model folder; use --model, not --checkpoint.')
    const C = c.width
    const raw = fTrain.get(c.layers) as Float32Array
    const norm = standardizer(raw, C)
    const xs = raw.slice()
    norm.apply(xs)
    const head = await trainLinearHead(runtime, xs, trainSet.labels, 10, { bias: false, steps: 500 })
    const w = new Float32Array(10 * C)
    for (let k = 0; k < 10; k++) for (let j = 0; j < C; j++) w[k * C + j] = head.weight[j * 10 + k] as number
    const withHead: PixelGptModel = { ...model, weights: new Map(model.weights).set('score.weight', { shape: [10, C], data: norm.fold(w, 10) }), classes: DIGIT_CLASSES }
    const r = new PixelGptRunner(withHead, runtime)
    let right = 0
    for (let s0 = 0; s0 < data.test.count; s0 += 200) {
      const imgs = Array.from({ length: Math.min(200, data.test.count - s0) }, (_, b) => data.test.tokens.subarray((s0 + b) * T, (s0 + b + 1) * T))
      const probs = await r.classProbabilities(imgs)
      probs.forEach((p, b) => (right += p.indexOf(Math.max(...p)) === data.test.labels[s0 + b] ? 1 : 0))
    }
    shipped = { model: withHead, accuracy: right / data.test.count }
    log(`Classifier head (last-layer probe, bias-free, through the runner): test accuracy ${(shipped.accuracy * 100).toFixed(2)}%.`)
  }

  // Class-conditional samples judged by a classifier: the shipped head, else the probe.
  const perClass = Number(values['samples-per-class'])
  const runner = new PixelGptRunner(model, runtime)
  const s = fitStandardizer(fTrain.get(best.layer) as Float32Array, c.width)
  const head = await trainLinearHead(runtime, standardize(fTrain.get(best.layer) as Float32Array, s), trainSet.labels, 10)
  const judge = shipped ? new PixelGptRunner(shipped.model, runtime) : null
  let agree = 0
  for (let k = 0; k < 10; k++) {
    const imgs = await generateImages(runner, { count: perClass, seed: 1000 + k, classIndex: k, temperature: 1 })
    if (judge) {
      const probs = await judge.classProbabilities(imgs)
      agree += probs.filter((p) => p.indexOf(Math.max(...p)) === k).length
      continue
    }
    const set: TokenSet = { tokens: new Int32Array(imgs.length * T), labels: new Int32Array(imgs.length).fill(k), count: imgs.length }
    imgs.forEach((img, i) => set.tokens.set(img, i * T))
    const f = await extractFeatures(model, set, input, runtime)
    const pred = predict(head, standardize(f.get(best.layer) as Float32Array, s))
    agree += pred.filter((p) => p === k).length
  }
  const result = {
    model: repoPath(resolve(values.checkpoint ?? values.model)),
    complete: !values.limit,
    evaluatedAt: new Date().toISOString(),
    mnistTest: {
      linearProbe: { accuracy: best.test, layer: best.layer, input, trainImages: trainSet.count, validationAccuracyByLayer: perLayer },
      bitsPerTokenConditional: ev.condNll / Math.LN2,
      bitsPerTokenUnconditional: ev.uncondNll / Math.LN2,
      conditionalSamples: { perClass, temperature: 1, judgedBy: shipped ? 'the shipped classifier head' : 'linear probe', assignedToRequestedClass: agree / (perClass * 10) },
      ...(shipped ? { classifierHead: { kind: 'linear probe of the last layer (bias-free, folded into score.weight)', accuracy: shipped.accuracy, trainImages: trainSet.count } } : {})
    }
  }
  console.log(JSON.stringify(result, null, 2))
  if (!values.checkpoint && !values.limit && !values['no-write'] && existsSync(resolve(values.model))) {
    writeFileSync(join(resolve(values.model), 'eval.json'), JSON.stringify(result, null, 2) + '\n')
  }
  if (shipped && !values['no-write']) {
    // Export beside, then replace the three model files (export itself never overwrites).
    const tmp = mkdtempSync(join(tmpdir(), 'tessera-digits-head-'))
    try {
      await exportHfImageGpt(shipped.model, join(tmp, 'm'))
      for (const f of ['config.json', 'preprocessor_config.json', 'model.safetensors']) copyFileSync(join(tmp, 'm', f), join(resolve(values.model), f))
    } finally {
      rmSync(tmp, { recursive: true, force: true })
    }
    log(`Wrote the classifier head into ${values.model}.`)
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err))
  process.exit(1)
})
