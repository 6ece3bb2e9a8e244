// The first-run sample library: the built-in models (resources/models/<name>, each a Hugging
// Face ImageGPT folder) imported as source `builtin`, and the sample datasets
// (resources/samples/<folder>: 300 real MNIST digits and 180 Noto emoji, each with a
// train/val/test split) imported through the ordinary dataset import job. Seeded once, when the
// app or the browser host opens an empty library; `samples.reset` re-imports only what is
// missing and never removes anything.

import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { type Job, type SampleSeedResult, type SampleStatus } from '../../shared/contract'
import { type AppContext } from '../context'
import { DATASET_IMPORT_JOB } from '../datasets/services'
import { type ImportParams } from '../datasets/import-job'
import { importHfImageGpt } from '../ml/interop/hf-imagegpt'
import { APP_ROOT } from '../services/version'

export interface SampleDatasetSpec {
  /** The dataset's name in the library (how a sample dataset is recognised). */
  name: string
  description: string
  /** Folder under resources/samples, laid out split/class/file.png. */
  folder: string
  /** What the import job's title calls the images. */
  what: string
}

/** The sample datasets, in the order they are imported. */
export const SAMPLE_DATASETS: readonly SampleDatasetSpec[] = [
  {
    name: 'Sample: MNIST digits',
    description:
      'Sample data shipped with Tessera: 300 real MNIST test-set digits (30 per class; 20 train / 5 val / 5 test). MNIST by LeCun, Cortes and Burges, CC BY-SA 3.0.',
    folder: 'mnist-digits',
    what: 'the sample digits'
  },
  {
    name: 'Sample: Noto emoji',
    description:
      "Sample data shipped with Tessera: 180 Noto emoji, 64x64, 20 per emoji category (14 train / 3 val / 3 test; val and test are emoji tessera-emoji's pretraining held out). Noto Emoji by Google, Apache License 2.0, via emoji-datasource-google (MIT).",
    folder: 'noto-emoji',
    what: 'the sample emoji'
  }
]
/** Written into the library once it has been seeded, so a second start does nothing. */
export const SEED_MARKER = 'samples.json'

export interface SampleSources {
  /** Folder whose sub-folders are built-in HF ImageGPT models. */
  modelsDir: string
  /** Folder holding each sample dataset's folder (SampleDatasetSpec.folder). */
  samplesDir: string
}

export function defaultSampleSources(root: string = process.env.TESSERA_RESOURCES ?? join(APP_ROOT, 'resources')): SampleSources {
  return { modelsDir: join(root, 'models'), samplesDir: join(root, 'samples') }
}

/** Where a sample dataset's images are shipped. */
export function sampleDatasetDir(src: SampleSources, spec: SampleDatasetSpec): string {
  return join(src.samplesDir, spec.folder)
}

/** Built-in model folders shipped with this build (sub-folders holding a config.json). */
export function builtinModelNames(src: SampleSources): string[] {
  if (!existsSync(src.modelsDir)) return []
  return readdirSync(src.modelsDir)
    .filter((n) => !n.startsWith('.') && existsSync(join(src.modelsDir, n, 'config.json')))
    .sort()
}

/** How many images a sample dataset ships (0 when its folder is absent). */
export function shippedSampleCount(src: SampleSources, spec: SampleDatasetSpec): number {
  const root = sampleDatasetDir(src, spec)
  if (!existsSync(root)) return 0
  let n = 0
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      if (name.startsWith('.')) continue
      const p = join(dir, name)
      if (statSync(p).isDirectory()) walk(p)
      else if (name.toLowerCase().endsWith('.png')) n++
    }
  }
  walk(root)
  return n
}

/** Which built-in model each `builtin` row is (from its lineage), by folder name. */
async function builtinRows(ctx: AppContext): Promise<Map<string, string>> {
  const rows = new Map<string, string>()
  for (const m of ctx.models.list()) {
    if (m.source !== 'builtin') continue
    const detail = await ctx.models.get(m.id)
    const b = detail.lineage.builtin as { name?: unknown } | undefined
    if (b && typeof b.name === 'string') rows.set(b.name, m.id)
  }
  return rows
}

function readJsonIfAny(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'))
  } catch {
    return null
  }
}

/** The pretraining run record shipped beside a built-in model: summary + loss curve (every logged step). */
function pretrainingRecord(folder: string): Record<string, unknown> | null {
  const summary = readJsonIfAny(join(folder, 'pretrain-summary.json'))
  const evalJson = readJsonIfAny(join(folder, 'eval.json'))
  let curve: { step: number; loss: number; bitsPerToken: number | null }[] = []
  let start: unknown = null
  // Warm restarts (`pretrain:* --extend-steps`): the run went on past its first schedule.
  const extensions: { fromStep: number; steps: number; peakLr: number | null }[] = []
  try {
    for (const line of readFileSync(join(folder, 'pretrain-run.jsonl'), 'utf8').split('\n')) {
      if (!line.trim()) continue
      const row = JSON.parse(line) as Record<string, unknown>
      if (row.event === 'start') start = row
      else if (row.event === 'extend' && typeof row.fromStep === 'number' && typeof row.extendSteps === 'number')
        extensions.push({ fromStep: row.fromStep, steps: row.extendSteps, peakLr: typeof row.extendPeakLr === 'number' ? row.extendPeakLr : null })
      else if (typeof row.step === 'number' && typeof row.loss === 'number')
        curve.push({ step: row.step, loss: row.loss, bitsPerToken: typeof row.bitsPerToken === 'number' ? row.bitsPerToken : null })
    }
  } catch {
    curve = []
  }
  if (!summary && curve.length === 0 && !evalJson) return null
  return { summary, start, extensions, curve, eval: evalJson }
}

async function importBuiltin(ctx: AppContext, src: SampleSources, name: string): Promise<void> {
  const folder = join(src.modelsDir, name)
  const imported = await importHfImageGpt(folder)
  const pretraining = pretrainingRecord(folder)
  const metrics = pretraining?.eval ?? (pretraining?.summary as { validation?: unknown } | null)?.validation ?? null
  await ctx.models.add(imported.model, {
    name,
    uniqueName: true,
    source: 'builtin',
    meta: {
      builtin: { name },
      importedFrom: { format: 'huggingface', path: folder, architecture: imported.architecture, ignoredTensors: imported.ignored, at: new Date().toISOString() },
      baseModel: null,
      datasetSnapshot: pretraining?.summary ? { description: (pretraining.summary as { data?: unknown }).data ?? null } : null,
      training: pretraining,
      metrics
    }
  })
}

function sampleDataset(ctx: AppContext, spec: SampleDatasetSpec): { id: string; itemCount: number } | null {
  const d = ctx.repos.datasets.find(spec.name)
  return d ? { id: d.id, itemCount: d.itemCount } : null
}

function startDatasetImport(ctx: AppContext, src: SampleSources, spec: SampleDatasetSpec, datasetId: string): Job {
  const params: ImportParams = { datasetId, source: sampleDatasetDir(src, spec), splitFromFolders: true, reference: false }
  return ctx.jobs.enqueue(DATASET_IMPORT_JOB, params, `Import ${spec.what} into “${spec.name}”`)
}

/**
 * Imports whatever of the sample library is missing: built-in models not in the library (by
 * their lineage, so a renamed one still counts) and each shipped sample dataset (created when
 * absent; otherwise, when it holds fewer items than were shipped, the import adds back only
 * removed images: images already there keep their labels and splits). Nothing is deleted.
 */
export async function importMissingSamples(ctx: AppContext, src: SampleSources = defaultSampleSources()): Promise<SampleSeedResult> {
  const have = await builtinRows(ctx)
  const modelsImported: string[] = []
  for (const name of builtinModelNames(src)) {
    if (have.has(name)) continue
    await importBuiltin(ctx, src, name)
    modelsImported.push(name)
  }
  const datasetJobs: SampleSeedResult['datasetJobs'] = []
  for (const spec of SAMPLE_DATASETS) {
    const shipped = shippedSampleCount(src, spec)
    if (shipped === 0) continue
    let d = sampleDataset(ctx, spec)
    if (!d) {
      const created = ctx.repos.datasets.create({ name: spec.name, description: spec.description })
      ctx.bus.emit('library.changed', { domain: 'datasets', id: created.id })
      d = { id: created.id, itemCount: 0 }
    }
    if (d.itemCount < shipped) datasetJobs.push({ dataset: spec.name, job: startDatasetImport(ctx, src, spec, d.id) })
  }
  return { modelsImported, datasetJobs }
}

function markerPath(ctx: AppContext): string {
  return join(ctx.library.paths.root, SEED_MARKER)
}

/**
 * First start: when the library has no models and no datasets and was never seeded, import the
 * sample library and write the marker. Returns null when it did nothing. `TESSERA_SAMPLES=0`
 * turns it off (tests that need an empty library).
 */
export async function seedOnFirstStart(ctx: AppContext, src: SampleSources = defaultSampleSources()): Promise<SampleSeedResult | null> {
  if (process.env.TESSERA_SAMPLES === '0') return null
  if (existsSync(markerPath(ctx))) return null
  if (ctx.models.list().length > 0 || ctx.repos.datasets.list().length > 0) return null
  const result = await importMissingSamples(ctx, src)
  const marker = {
    seededAt: new Date().toISOString(),
    models: result.modelsImported,
    datasetJobs: result.datasetJobs.map((j) => ({ dataset: j.dataset, job: j.job.id }))
  }
  writeFileSync(markerPath(ctx), JSON.stringify(marker, null, 2))
  return result
}

export async function sampleStatus(ctx: AppContext, src: SampleSources = defaultSampleSources()): Promise<SampleStatus> {
  const have = await builtinRows(ctx)
  const marker = readJsonIfAny(markerPath(ctx)) as { seededAt?: string } | null
  return {
    models: builtinModelNames(src).map((name) => ({ name, present: have.has(name), modelId: have.get(name) ?? null })),
    datasets: SAMPLE_DATASETS.map((spec) => ({ spec, shipped: shippedSampleCount(src, spec) }))
      .filter((x) => x.shipped > 0)
      .map(({ spec, shipped }) => {
        const d = sampleDataset(ctx, spec)
        return { name: spec.name, present: !!d, datasetId: d?.id ?? null, items: d?.itemCount ?? 0, shipped }
      }),
    seededAt: marker?.seededAt ?? null
  }
}
