// `npm run pretrain:emoji`: pretrain tessera-emoji, a class-conditional ImageGPT (one
// class per emoji category) on Noto emoji from the `emoji-datasource-google` npm
// package, with a colour k-means palette and horizontal flips, on this project's own
// engine. 10% of the emoji are held out. Resumable like pretrain:digits.
//
//   npm run pretrain:emoji -- [--steps N] [--budget-minutes M] [--side 24] [--palette 128]

import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { kmeansPalette, rgbToUnit } from '../src/main/ml/palette/palette'
import { type PixelGptConfig } from '../src/main/ml/pixelgpt/model'
import { EMOJI_SEED, emojiTokenSets, loadEmoji } from './lib/emoji'
import { pretrain, publishPretrained } from './lib/pretrain'

const SEED = EMOJI_SEED

/** Mirror each row of a side x side token image in place. */
export function flipRows(tokens: Int32Array, side: number): void {
  for (let y = 0; y < side; y++) {
    const row = tokens.subarray(y * side, (y + 1) * side)
    row.reverse()
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      steps: { type: 'string', default: '4000' },
      'budget-minutes': { type: 'string' },
      side: { type: 'string', default: '24' },
      palette: { type: 'string', default: '128' },
      width: { type: 'string', default: '128' },
      layers: { type: 'string', default: '4' },
      'batch-size': { type: 'string', default: '16' },
      work: { type: 'string', default: join(homedir(), '.cache', 'tessera', 'pretrain', 'tessera-emoji') },
      out: { type: 'string', default: 'resources/models/tessera-emoji' }
    }
  })
  const side = Number(values.side)
  const K = Number(values.palette)
  const width = Number(values.width)
  const set = await loadEmoji(side)
  const palette = kmeansPalette(rgbToUnit(set.rgb), K, { seed: SEED, maxSamples: 300_000 })
  // A seeded 10% hold-out, the same every run.
  const { train, heldOut: val } = emojiTokenSets(set, palette, side, SEED)
  console.error(`Noto emoji: ${train.count} training and ${val.count} held-out images at ${side}x${side}, ${K} colours, ${set.categories.length} categories.`)

  const config: PixelGptConfig = { side, paletteSize: K, width, layers: Number(values.layers), heads: 4, innerWidth: 4 * width, eps: 1e-5, numClasses: set.categories.length }
  const res = await pretrain({
    name: 'tessera-emoji',
    config,
    palette,
    conditionClasses: set.categories,
    train,
    val,
    outDir: resolve(values.work),
    seed: SEED,
    steps: Number(values.steps),
    batchSize: Number(values['batch-size']),
    peakLr: 1.5e-3,
    warmupSteps: 200,
    minLrRatio: 0.05,
    weightDecay: 0.05,
    clipNorm: 1,
    uncondRate: 0.2,
    augment: (img, r) => {
      if (r.next() < 0.5) flipRows(img, side)
    },
    evalEvery: 1000,
    checkpointEveryS: 300,
    budgetS: values['budget-minutes'] ? Number(values['budget-minutes']) * 60 : undefined
  })
  if (!res.finished) return
  await publishPretrained(res, {
    work: resolve(values.work),
    out: resolve(values.out),
    evalSet: val,
    evalLimit: val.count,
    evalKey: 'heldOut',
    summary: {
      name: 'tessera-emoji',
      data: 'Noto emoji (emoji-datasource-google 16.0.0), categories as classes, a seeded 10% held out',
      side,
      paletteSize: K,
      seed: SEED
    }
  })
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err))
  process.exit(1)
})
