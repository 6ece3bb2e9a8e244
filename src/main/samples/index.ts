// The first-run sample library: the built-in models (resources/models/<name>, each a Hugging
// Face ImageGPT folder) imported as source `builtin`, and the sample dataset
// (resources/samples/mnist-digits: 300 real MNIST digits with a train/val/test split) imported
// through the ordinary dataset import job. Seeded once, when the app or the browser host opens an
// empty library; `samples.reset` re-imports only what is missing and never removes anything.

import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { type Job, type SampleSeedResult, type SampleStatus } from '../../shared/contract'
import { type AppContext } from '../context'
import { DATASET_IMPORT_JOB } from '../datasets/services'
import { type ImportParams } from '../datasets/import-job'
import { importHfImageGpt } from '../ml/interop/hf-imagegpt'
import { APP_ROOT } from '../services/version'

export const SAMPLE_DATASET_NAME = 'Sample: MNIST digits'
export const SAMPLE_DATASET_DESCRIPTION =
  'Sample data shipped with Tessera: 300 real MNIST test-set digits (30 per class; 20 train / 5 val / 5 test). MNIST by LeCun, Cortes and Burges, CC BY-SA 3.0.'
/** Written into the library once it has been seeded, so a second start does nothing. */
export const SEED_MARKER = 'samples.json'

export interface SampleSources {
  /** Folder whose sub-folders are built-in HF ImageGPT models. */
  modelsDir: string
  /** Folder of the sample dataset (split/class/file.png). */
  datasetDir: string
}

export function defaultSampleSources(root: string = process.env.TESSERA_RESOURCES ?? join(APP_ROOT, 'resources')): SampleSources {
  return { modelsDir: join(root, 'models'), datasetDir: join(root, 'samples', 'mnist-digits') }
}

/** Built-in model folders shipped with this build (sub-folders holding a config.json). */
export function builtinModelNames(src: SampleSources): string[] {
  if (!existsSync(src.modelsDir)) return []
  return readdirSync(src.modelsDir)
    .filter((n) => !n.startsWith('.') && existsSync(join(src.modelsDir, n, 'config.json')))
    .sort()
}

function shippedSampleCount(src: SampleSources): number {
  if (!existsSync(src.datasetDir)) return 0
  let n = 0
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      if (name.startsWith('.')) continue
      const p = join(dir, name)
      if (statSync(p).isDirectory()) walk(p)
      else if (name.toLowerCase().endsWith('.png')) n++
    }
  }
  walk(src.datasetDir)
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
  try {
    for (const line of readFileSync(join(folder, 'pretrain-run.jsonl'), 'utf8').split('\n')) {
      if (!line.trim()) continue
      const row = JSON.parse(line) as Record<string, unknown>
      if (row.event === 'start') start = row
      else if (typeof row.step === 'number' && typeof row.loss === 'number')
        curve.push({ step: row.step, loss: row.loss, bitsPerToken: typeof row.bitsPerToken === 'number' ? row.bitsPerToken : null })
    }
  } catch {
    curve = []
  }
  if (!summary && curve.length === 0 && !evalJson) return null
  return { summary, start, curve, eval: evalJson }
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

function sampleDataset(ctx: AppContext): { id: string; itemCount: number } | null {
  const d = ctx.repos.datasets.find(SAMPLE_DATASET_NAME)
  return d ? { id: d.id, itemCount: d.itemCount } : null
}

function startDatasetImport(ctx: AppContext, src: SampleSources, datasetId: string): Job {
  const params: ImportParams = { datasetId, source: src.datasetDir, splitFromFolders: true, reference: false }
  return ctx.jobs.enqueue(DATASET_IMPORT_JOB, params, `Import the sample digits into “${SAMPLE_DATASET_NAME}”`)
}

/**
 * Imports whatever of the sample library is missing: built-in models not in the library (by
 * their lineage, so a renamed one still counts) and the sample dataset (created when absent;
 * otherwise the import adds back only removed images: images already there keep their labels
 * and splits). Nothing is deleted.
 */
export async function importMissingSamples(ctx: AppContext, src: SampleSources = defaultSampleSources()): Promise<SampleSeedResult> {
  const have = await builtinRows(ctx)
  const modelsImported: string[] = []
  for (const name of builtinModelNames(src)) {
    if (have.has(name)) continue
    await importBuiltin(ctx, src, name)
    modelsImported.push(name)
  }
  let datasetJob: Job | null = null
  const shipped = shippedSampleCount(src)
  if (shipped > 0) {
    let d = sampleDataset(ctx)
    if (!d) {
      const created = ctx.repos.datasets.create({ name: SAMPLE_DATASET_NAME, description: SAMPLE_DATASET_DESCRIPTION })
      ctx.bus.emit('library.changed', { domain: 'datasets', id: created.id })
      d = { id: created.id, itemCount: 0 }
    }
    if (d.itemCount < shipped) datasetJob = startDatasetImport(ctx, src, d.id)
  }
  return { modelsImported, datasetJob }
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
  writeFileSync(markerPath(ctx), JSON.stringify({ seededAt: new Date().toISOString(), models: result.modelsImported, datasetJob: result.datasetJob?.id ?? null }, null, 2))
  return result
}

export async function sampleStatus(ctx: AppContext, src: SampleSources = defaultSampleSources()): Promise<SampleStatus> {
  const have = await builtinRows(ctx)
  const d = sampleDataset(ctx)
  const marker = readJsonIfAny(markerPath(ctx)) as { seededAt?: string } | null
  return {
    models: builtinModelNames(src).map((name) => ({ name, present: have.has(name), modelId: have.get(name) ?? null })),
    dataset: { name: SAMPLE_DATASET_NAME, present: !!d, datasetId: d?.id ?? null, items: d?.itemCount ?? 0, shipped: shippedSampleCount(src) },
    seededAt: marker?.seededAt ?? null
  }
}
