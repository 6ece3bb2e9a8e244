// `npm run eval:mnist -- --library DIR [options]`: tessera-digits on MNIST through the product's
// own pipeline (`tessera train`, `tessera generate`, `tessera classify`, `tessera model score`),
// on the dataset `npm run import:mnist` made (train / val / test splits from folders).
//
//   1. base model: `tessera-digits` in the library (imported from resources/models/tessera-digits
//      with `tessera model import` when missing);
//   2. probe: `tessera train --objective probe --layer L` (iGPT linear probe on the pooled features
//      of layer L; L defaults to the layer eval:digits chose on the 5,000 held-out images, recorded
//      in the model folder's eval.json, else the last one; `all` or a list: one probe per layer,
//      the layer picked by best validation accuracy);
//   3. joint: `tessera train --objective joint` (L_clf + L_gen fine-tune of the whole model);
//      with `--joint2-steps N[,N...]`, later stages continue it, each from the previous stage's
//      model: `tessera train --base <previous model> --objective joint` (a fresh warmup + cosine
//      schedule at the matching `--joint2-lr`; stage k uses seed + k - 1), and the steps below use
//      the last stage's model;
//   4. bits per token of the test images under the base and the joint model (`tessera model score`);
//   5. class-conditional samples: `tessera generate --class k` (N per digit) from the joint model and
//      from the base model, classified by the joint model's classifier (`tessera classify`): the
//      share assigned to the requested digit;
//   6. the joint model exported (`tessera model export`, Hugging Face layout with `score.weight`)
//      to <library>/exports/; `--ship` then copies it to resources/models/tessera-digits-classifier
//      (`--ship-dir`; model.safetensors, config.json, preprocessor_config.json and an eval.json for
//      its model card), a built-in model of its own beside the generator - only when the joint run
//      completed and its test accuracy is measured.
//
// Resumable: each finished stage is recorded in <library>/eval-mnist-state.json and skipped on the
// next run; a training run that was interrupted (Ctrl-C, crash, kill) is continued with
// `tessera train --resume <run>`.
// Results: printed, and written to resources/models/tessera-digits/eval-mnist.json (--out).
//
// Options: --dataset MNIST  --base tessera-digits  --model-dir resources/models/tessera-digits
//          --probe-layer L|L1,L2|all  --joint-steps N (300)  --joint-batch N (16)  --joint-lr X  --eval-every N (50)
//          --joint2-steps N[,N...]  --joint2-lr X[,X...] (later joint stages; same batch and validation cadence)
//          --samples-per-class N (20)  --bits-images N (all)  --seed S (1)  --out FILE  --no-write  --ship  --ship-dir DIR

import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { basename, dirname, join, relative, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import Database from 'better-sqlite3'
import { parseCsvLine } from '../src/main/datasets/scan'
import { REPO_ROOT, tessera, tesseraJson } from './lib/tessera-cli'

interface ClassMetrics {
  name: string
  precision: number
  recall: number
  f1: number
  support: number
}
interface TrainJson {
  id: string
  name: string
  runId: string
  objective: string
  reason: string
  steps: number
  durationS: number
  metrics: {
    split: string
    classification?: { accuracy: number; count: number; macroF1: number; ece: number; perClass: ClassMetrics[]; confusion?: number[][] }
    bitsPerToken?: number
    bitsPerTokenUnconditional?: number
  }
}
interface StageRecord {
  runId?: string
  result?: TrainJson
  wallS?: number
}
interface State {
  dataset: string
  base: string
  probe: StageRecord & { layer?: number }
  /** Probes of other layers (`--probe-layer all` or a list), by layer. */
  probes?: Record<string, StageRecord>
  joint: StageRecord
  /** Later joint stages (`--joint2-steps`), each continuing from the previous stage's model. */
  later?: StageRecord[]
  /** `joint` is the id of the model these were measured with (the last joint stage). */
  bits?: { base: number; joint: number; images: number; jointModel?: string }
  samples?: SamplesResult
  exported?: string
}
interface SamplesResult {
  perClass: number
  temperature: number
  judgedBy: string
  /** The joint model that generated (fromJoint) and judged. */
  joint?: string
  fromJoint: { share: number; perDigit: number[] }
  fromBase: { share: number; perDigit: number[] }
}

const log = (s: string): void => void process.stderr.write(s + '\n')
const pct = (x: number): string => `${(x * 100).toFixed(2)}%`

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      library: { type: 'string' },
      dataset: { type: 'string', default: 'MNIST' },
      base: { type: 'string', default: 'tessera-digits' },
      'model-dir': { type: 'string', default: 'resources/models/tessera-digits' },
      'probe-layer': { type: 'string' },
      'joint-steps': { type: 'string', default: '300' },
      'joint-batch': { type: 'string', default: '16' },
      'joint-lr': { type: 'string' },
      'joint2-steps': { type: 'string' },
      'joint2-lr': { type: 'string' },
      'eval-every': { type: 'string', default: '50' },
      'samples-per-class': { type: 'string', default: '20' },
      /** Test images scored for bits per token, evenly over the digits (all when absent). */
      'bits-images': { type: 'string' },
      seed: { type: 'string', default: '1' },
      out: { type: 'string' },
      'no-write': { type: 'boolean', default: false },
      ship: { type: 'boolean', default: false },
      'ship-dir': { type: 'string', default: 'resources/models/tessera-digits-classifier' }
    }
  })
  if (!values.library) throw new Error('--library DIR is required (the library `npm run import:mnist` imported MNIST into).')
  const lib = resolve(values.library)
  const modelDir = resolve(REPO_ROOT, values['model-dir'])
  const outFile = resolve(REPO_ROOT, values.out ?? join(values['model-dir'], 'eval-mnist.json'))
  const stateFile = join(lib, 'eval-mnist-state.json')
  const started = Date.now()
  const state: State = existsSync(stateFile)
    ? (JSON.parse(readFileSync(stateFile, 'utf8')) as State)
    : { dataset: values.dataset, base: values.base, probe: {}, joint: {} }
  if (state.dataset !== values.dataset || state.base !== values.base) {
    throw new Error(`${stateFile} belongs to dataset "${state.dataset}" / base "${state.base}"; delete it to evaluate another pair.`)
  }
  const save = (): void => writeFileSync(stateFile, JSON.stringify(state, null, 2) + '\n')

  // 0. The dataset and the base model.
  const ds = await tesseraJson<{ id: string; itemCount?: number; stats?: unknown }>(lib, ['dataset', 'show', values.dataset], { quiet: true }).catch(() => {
    throw new Error(`No dataset "${values.dataset}" in ${lib}: run \`npm run import:mnist -- --library ${values.library}\` first.`)
  })
  const shown = await tessera(['--library', lib, '--json', 'model', 'show', values.base], { quiet: true })
  if (shown.code !== 0) {
    log(`Importing ${modelDir} as "${values.base}" …`)
    await tesseraJson(lib, ['model', 'import', modelDir, '--name', values.base])
  }
  const evalDigits = join(modelDir, 'eval.json')
  const chosen = existsSync(evalDigits)
    ? (JSON.parse(readFileSync(evalDigits, 'utf8')) as { mnistTest?: { linearProbe?: { layer?: number } } }).mnistTest?.linearProbe?.layer
    : undefined
  const config = JSON.parse(readFileSync(join(modelDir, 'config.json'), 'utf8')) as { n_layer: number }
  const asked = values['probe-layer']
  const layers =
    asked === 'all'
      ? Array.from({ length: config.n_layer }, (_, i) => i + 1)
      : asked
        ? asked.split(',').map(Number)
        : [state.probe.layer ?? chosen ?? config.n_layer]
  if (layers.some((l) => !Number.isInteger(l) || l < 1 || l > config.n_layer)) throw new Error(`--probe-layer: layers are 1..${config.n_layer}, or all.`)

  // 1-2. probe and joint, each resumable.
  const train = async (stage: string, rec: StageRecord, args: string[], base = values.base): Promise<TrainJson> => {
    if (rec.result) {
      log(`${stage}: done before (run ${rec.result.runId}), skipping.`)
      return rec.result
    }
    const t0 = Date.now()
    const onStderrLine = (line: string): void => {
      const m = /^(?:Run|Resuming run) (\S+) \(job/.exec(line)
      if (m && m[1] !== rec.runId) {
        rec.runId = m[1]
        save()
      }
    }
    const fresh = ['train', '--dataset', values.dataset, '--base', base, ...args]
    let r: TrainJson
    if (rec.runId) {
      log(`${stage}: tessera train --resume ${rec.runId}`)
      try {
        r = await tesseraJson<TrainJson>(lib, ['train', '--resume', rec.runId], { onStderrLine })
      } catch (e) {
        // A run that failed (not paused or interrupted) cannot continue: start it again.
        if (!/only paused or interrupted/.test(String(e))) throw e
        log(`${stage}: run ${rec.runId} failed before; starting a new run.`)
        delete rec.runId
        save()
        r = await tesseraJson<TrainJson>(lib, fresh, { onStderrLine })
      }
    } else {
      log(`${stage}: tessera ${fresh.join(' ')}`)
      r = await tesseraJson<TrainJson>(lib, fresh, { onStderrLine })
    }
    rec.result = r
    rec.wallS = (rec.wallS ?? 0) + (Date.now() - t0) / 1000
    save()
    return r
  }
  // One probe per layer asked; with several, the layer is chosen on the validation split (best
  // validation accuracy of each run, from the run record), never on test.
  const stamp = new Date().toISOString().slice(0, 16).replace('T', ' ')
  state.probes ??= {}
  if (state.probe.layer !== undefined && state.probe.result) state.probes[String(state.probe.layer)] ??= { ...state.probe }
  const byLayer: { layer: number; result: TrainJson; wallS?: number; bestVal: number | null }[] = []
  for (const l of layers) {
    const rec = (state.probes[String(l)] ??= {})
    const result = await train(`probe L${l}`, rec, ['--objective', 'probe', '--layer', String(l), '--seed', values.seed, '--name', `${values.base} probe L${l} (${values.dataset}, ${stamp})`])
    byLayer.push({ layer: l, result, wallS: rec.wallS, bestVal: bestValAccuracy(lib, result.runId) })
  }
  const pick = byLayer.reduce((a, b) => ((b.bestVal ?? -1) > (a.bestVal ?? -1) ? b : a))
  const layer = pick.layer
  const probe = pick.result
  state.probe = { ...state.probes[String(layer)], layer }
  save()
  const layerWhy =
    byLayer.length > 1
      ? `best validation accuracy among layers ${layers.join(', ')}`
      : asked
        ? 'given'
        : chosen !== undefined
          ? 'chosen by eval:digits on the 5,000 held-out images'
          : 'the last layer (no eval.json)'
  const jointArgs = ['--objective', 'joint', '--steps', values['joint-steps'], '--batch-size', values['joint-batch'], '--eval-every', values['eval-every']]
  if (values['joint-lr']) jointArgs.push('--lr', values['joint-lr'])
  const joint1 = await train('joint', state.joint, [...jointArgs, '--seed', values.seed, '--checkpoint-every', values['eval-every'], '--name', `${values.base} joint (${values.dataset}, ${stamp})`])
  // Optional later stages: the previous stage's model trained on with a fresh, lower schedule.
  let joint = joint1
  const laterSteps = values['joint2-steps'] ? values['joint2-steps'].split(',') : []
  const laterLr = values['joint2-lr'] ? values['joint2-lr'].split(',') : []
  if (laterLr.length > laterSteps.length) throw new Error('--joint2-lr has more rates than --joint2-steps has stages.')
  const later: TrainJson[] = []
  for (const [i, steps] of laterSteps.entries()) {
    const stage = i + 2
    const args = ['--objective', 'joint', '--steps', steps, '--batch-size', values['joint-batch'], '--eval-every', values['eval-every']]
    if (laterLr[i]) args.push('--lr', laterLr[i]!)
    args.push('--seed', String(Number(values.seed) + stage - 1), '--name', `${values.base} joint stage ${stage} (${values.dataset})`)
    state.later ??= []
    joint = await train(`joint stage ${stage}`, (state.later[i] ??= {}), args, joint.id)
    later.push(joint)
  }
  // Measurements made with another joint model (before a second stage) are made again.
  if (state.bits && state.bits.jointModel !== joint.id) delete state.bits
  if (state.samples && state.samples.joint !== joint.id) delete state.samples
  if (state.exported && !state.exported.endsWith(joint.runId)) delete state.exported

  // 3. Bits per token of the test images (unconditional: SOS start, as `model score` measures).
  const testDir = await testFolder(lib, values.dataset)
  if (!state.bits && testDir) {
    const all = listPngs(testDir)
    const cap = values['bits-images'] ? Math.ceil(Number(values['bits-images']) / 10) : Infinity
    const seen = new Map<string, number>()
    const files = all.filter((f) => {
      const k = basename(dirname(f))
      seen.set(k, (seen.get(k) ?? 0) + 1)
      return seen.get(k)! <= cap
    })
    const mean = async (model: string): Promise<number> => {
      // In chunks: `tessera model score` with ~500 files in one call segfaulted here (onnxruntime-node
      // 1.30, 2026-11-28); 100 per call is fine.
      const s: ({ bitsPerToken: number } | { error: string })[] = []
      for (let i = 0; i < files.length; i += 100) {
        s.push(...(await tesseraJson<({ bitsPerToken: number } | { error: string })[]>(lib, ['model', 'score', ...files.slice(i, i + 100), '--model', model], { quiet: true })))
      }
      const ok = s.filter((x): x is { bitsPerToken: number } => 'bitsPerToken' in x)
      return ok.reduce((a, x) => a + x.bitsPerToken, 0) / ok.length
    }
    log(`Bits per token of ${files.length} test images …`)
    state.bits = { base: await mean(values.base), joint: await mean(joint.id), images: files.length, jointModel: joint.id }
    save()
  }

  // 4. Class-conditional samples judged by the joint classifier.
  if (!state.samples) {
    const n = Number(values['samples-per-class'])
    const judge = async (model: string, tag: string): Promise<{ share: number; perDigit: number[] }> => {
      const root = join(lib, 'eval-mnist-samples', tag)
      for (let k = 0; k < 10; k++) {
        const dir = join(root, String(k))
        if (existsSync(dir) && listPngs(dir).length === n) continue
        rmSync(dir, { recursive: true, force: true }) // a partial folder: generate the digit again
        await tesseraJson(lib, ['generate', '--model', model, '--class', String(k), '--count', String(n), '--seed', String(1000 + k), '--temperature', '1', '--out', dir, '--no-gallery'], { quiet: true })
      }
      const csv = join(root, 'classified.csv')
      await tesseraJson(lib, ['classify', root, '--model', joint.id, '--out', csv], { quiet: true })
      const perDigit = new Array<number>(10).fill(0)
      let agree = 0
      let total = 0
      for (const row of readFileSync(csv, 'utf8').trim().split('\n').slice(1)) {
        const [path, label] = parseCsvLine(row)
        if (!path?.endsWith('.png')) continue
        const want = basename(dirname(path))
        total++
        if (label === want) {
          agree++
          perDigit[Number(want)]!++
        }
      }
      if (total !== 10 * n) throw new Error(`${csv}: ${total} classified samples, expected ${10 * n}.`)
      return { share: agree / total, perDigit: perDigit.map((a) => a / n) }
    }
    log(`Class-conditional samples (${n} per digit) …`)
    // The joint model's samples in a folder of their own run: a later stage generates anew.
    const fromJoint = await judge(joint.id, `joint-${joint.runId}`)
    const fromBase = await judge(values.base, 'base')
    state.samples = { perClass: n, temperature: 1, judgedBy: 'the joint fine-tune\'s classifier', joint: joint.id, fromJoint, fromBase }
    save()
  }

  // 5. Export the joint model (classifier head included); ship only on --ship.
  if (!state.exported) {
    const dest = join(lib, 'exports', `tessera-digits-joint-${joint.runId}`)
    if (!existsSync(dest)) await tesseraJson(lib, ['model', 'export', joint.id, '--out', dest], { quiet: true })
    state.exported = dest
    save()
  }
  if (values.ship && !joint.metrics.classification) throw new Error('The joint run has no measured test accuracy; not shipping it.')

  const cls = (r: TrainJson): Record<string, unknown> => ({
    modelId: r.id,
    runId: r.runId,
    split: r.metrics.split,
    testImages: r.metrics.classification?.count,
    accuracy: r.metrics.classification?.accuracy,
    macroF1: r.metrics.classification?.macroF1,
    ece: r.metrics.classification?.ece,
    perClass: r.metrics.classification?.perClass.map((c) => ({ name: c.name, precision: c.precision, recall: c.recall, f1: c.f1, support: c.support })),
    steps: r.steps,
    trainS: r.durationS,
    reason: r.reason
  })
  const result = {
    evaluatedAt: new Date().toISOString(),
    pipeline: 'tessera train / generate / classify / model score (scripts/eval-mnist.ts)',
    dataset: { name: values.dataset, id: ds.id, items: ds.itemCount, stats: ds.stats },
    base: values.base,
    probe: {
      layer,
      layerWhy,
      ...cls(probe),
      wallS: state.probe.wallS,
      byLayer: byLayer.map((p) => ({ layer: p.layer, bestValidationAccuracy: p.bestVal, testAccuracy: p.result.metrics.classification?.accuracy, wallS: p.wallS }))
    },
    joint: {
      ...cls(joint),
      config: { steps: Number(values['joint-steps']), batch: Number(values['joint-batch']), lr: values['joint-lr'] ?? 'auto', evalEvery: Number(values['eval-every']), seed: Number(values.seed) },
      wallS: state.joint.wallS,
      ...(later.length
        ? {
            stages: [
              { stage: 1, ...cls(joint1), lr: values['joint-lr'] ?? 'auto', seed: Number(values.seed), wallS: state.joint.wallS },
              ...later.map((r, i) => ({ stage: i + 2, ...cls(r), lr: laterLr[i] ?? 'auto', seed: Number(values.seed) + i + 1, wallS: state.later?.[i]?.wallS }))
            ]
          }
        : {}),
      exported: state.exported
    },
    bitsPerTokenTest: state.bits,
    conditionalSamples: state.samples,
    thisInvocationWallS: (Date.now() - started) / 1000
  }
  log(
    [
      `probe (layer ${layer}): test accuracy ${pct(probe.metrics.classification?.accuracy ?? NaN)} of ${probe.metrics.classification?.count}`,
      `joint: test accuracy ${pct(joint.metrics.classification?.accuracy ?? NaN)} of ${joint.metrics.classification?.count}`,
      ...(joint.metrics.classification?.perClass ?? []).map((c) => `  ${c.name}: P ${c.precision.toFixed(3)} R ${c.recall.toFixed(3)} F1 ${c.f1.toFixed(3)}`),
      `bits/token on the test images: base ${state.bits?.base.toFixed(4)}, joint ${state.bits?.joint.toFixed(4)}`,
      `class-conditional samples assigned to the requested digit: joint model ${pct(state.samples!.fromJoint.share)}, base model ${pct(state.samples!.fromBase.share)}`
    ].join('\n')
  )
  console.log(JSON.stringify(result, null, 2))
  if (!values['no-write']) {
    mkdirSync(dirname(outFile), { recursive: true })
    writeFileSync(outFile, JSON.stringify(result, null, 2) + '\n')
    log(`Wrote ${outFile}`)
  }

  // 6. --ship: the joint model becomes a built-in model of its own (the sample library imports
  // every folder under resources/models), so the base model keeps generating with its pretrained
  // weights while digits are classified by the fine-tuned ones. eval.json is what its card shows.
  if (values.ship) {
    const dest = resolve(REPO_ROOT, values['ship-dir'])
    mkdirSync(dest, { recursive: true })
    for (const f of ['model.safetensors', 'config.json', 'preprocessor_config.json']) copyFileSync(join(state.exported, f), join(dest, f))
    const c = joint.metrics.classification!
    const card = {
      model: relative(REPO_ROOT, dest),
      evaluatedAt: result.evaluatedAt,
      trainedFrom: `${values.base}: joint (L_clf + L_gen) fine-tune on ${values.dataset}`,
      reproduce: 'npm run eval:mnist (docs/evaluation.md)',
      mnistTest: {
        accuracy: c.accuracy,
        macroF1: c.macroF1,
        ece: c.ece,
        testImages: c.count,
        bitsPerTokenUnconditional: state.bits?.joint
      },
      fineTune: {
        steps: [joint1, ...later].reduce((a, r) => a + r.steps, 0),
        batch: Number(values['joint-batch']),
        trainImages: (ds.stats as { splits?: { train?: number } } | undefined)?.splits?.train ?? null,
        stages: 1 + later.length
      },
      conditionalSamples: {
        perClass: state.samples!.perClass,
        baseModelAssignedToRequestedDigit: state.samples!.fromBase.share,
        thisModelAssignedToRequestedDigit: state.samples!.fromJoint.share
      }
    }
    writeFileSync(join(dest, 'eval.json'), JSON.stringify(card, null, 2) + '\n')
    log(`Shipped the joint model as ${relative(REPO_ROOT, dest)} (model.safetensors, config.json, preprocessor_config.json, eval.json).`)
  }
}

/** Best validation accuracy of a training run, from its record in the library (read-only). */
function bestValAccuracy(lib: string, runId: string): number | null {
  const db = new Database(join(lib, 'library.db'), { readonly: true, fileMustExist: true })
  try {
    const row = db.prepare('SELECT metrics FROM training_runs WHERE id = ?').get(runId) as { metrics: string } | undefined
    const val = row ? ((JSON.parse(row.metrics) as { val?: { accuracy?: number }[] }).val ?? []) : []
    const accs = val.map((v) => v.accuracy).filter((a): a is number => typeof a === 'number')
    return accs.length ? Math.max(...accs) : null
  } finally {
    db.close()
  }
}

function listPngs(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.png'))
    .sort()
    .map((f) => join(dir, f))
}

/** The test folder of the tree import:mnist wrote (it records the tree in <library>/mnist-tree.json). */
async function testFolder(lib: string, datasetName: string): Promise<string | null> {
  const rec = join(lib, 'mnist-tree.json')
  const trees = existsSync(rec) ? (JSON.parse(readFileSync(rec, 'utf8')) as Record<string, string>) : {}
  const src = trees[datasetName]
  if (src && existsSync(join(src, 'test'))) return join(src, 'test')
  log(`${rec} names no tree with test/ for "${datasetName}"; skipping bits per token.`)
  return null
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err))
  process.exit(1)
})
