// Generation into a folder of PNGs, each carrying its recipe: a tEXt chunk "tessera" with JSON
// naming the model (id, name, sha256 of its weights), the sampling parameters, the seed, the
// class, the completion source and the image's index, so any image can be made again.

import { randomInt } from 'node:crypto'
import { promises as fs } from 'node:fs'
import path from 'node:path'

import { AppError } from '../errors'
import { tokensToPng } from '../ml/palette/palette'
import { hasLmHead } from '../ml/pixelgpt/model'
import { type RowProgress, generateImages } from '../ml/sample/generate'
import { validateSampling } from '../ml/sample/sampler'
import { APP_VERSION } from '../services/version'
import { asAppError } from './errors'
import { type ModelRegistry } from './registry'

/** The tEXt keyword that holds the recipe. */
export const RECIPE_KEY = 'tessera'

export interface GenerateToFolderOptions {
  count: number
  /** 32-bit seed; a random one (recorded in each PNG) when absent. */
  seed?: number
  temperature?: number
  topK?: number
  topP?: number
  greedy?: boolean
  /** Conditioning class, by name. */
  className?: string
  /** Keep the top `keepRows` rows of this image and generate the rest. */
  complete?: { file: string; keepRows: number }
  out: string
  onRow?: (p: RowProgress) => void
  signal?: AbortSignal
}

export interface GenerationRecipe {
  generator: string
  model: { id: string; name: string; weightsSha256: string }
  seed: number
  index: number
  count: number
  sampling: { greedy: boolean; temperature: number; topK: number | null; topP: number | null }
  class: string | null
  complete: { file: string; keepRows: number } | null
}

export interface GeneratedFile {
  file: string
  index: number
  seed: number
}

export async function generateToFolder(registry: ModelRegistry, ref: string, opts: GenerateToFolderOptions): Promise<GeneratedFile[]> {
  const { model, runner, record, info } = await registry.load(ref)
  if (!hasLmHead(model)) throw new AppError('UNSUPPORTED', `Model "${record.name}" is a classifier without an lm_head, so it cannot generate images.`)
  const sampling = { greedy: opts.greedy === true, temperature: opts.temperature ?? 1, topK: opts.topK ?? null, topP: opts.topP ?? null }
  const samplingParams = { greedy: sampling.greedy, temperature: sampling.temperature, ...(opts.topK !== undefined ? { topK: opts.topK } : {}), ...(opts.topP !== undefined ? { topP: opts.topP } : {}) }
  try {
    validateSampling(samplingParams)
  } catch (err) {
    throw new AppError('VALIDATION', asAppError(err).message)
  }
  if (!Number.isInteger(opts.count) || opts.count < 1) throw new AppError('VALIDATION', `--count must be a positive whole number, got ${opts.count}.`)
  const seed = opts.seed ?? randomInt(0, 2 ** 32)
  if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) throw new AppError('VALIDATION', `The seed must be a whole number from 0 to ${2 ** 32 - 1}, got ${seed}.`)
  let classIndex: number | undefined
  if (opts.className !== undefined) {
    classIndex = model.conditionClasses.findIndex((c) => c.toLowerCase() === opts.className!.toLowerCase())
    if (classIndex < 0) {
      throw new AppError(
        'VALIDATION',
        model.conditionClasses.length
          ? `Model "${record.name}" has no conditioning class "${opts.className}"; it knows ${model.conditionClasses.join(', ')}.`
          : `Model "${record.name}" was not trained with class conditioning, so --class cannot be used with it.`
      )
    }
  }
  let complete: { tokens: Int32Array; keepRows: number } | undefined
  if (opts.complete) {
    const c = model.config
    if (!Number.isInteger(opts.complete.keepRows) || opts.complete.keepRows < 0 || opts.complete.keepRows > c.side) {
      throw new AppError('VALIDATION', `--keep-rows must be a whole number from 0 to ${c.side} (the model's image side), got ${opts.complete.keepRows}.`)
    }
    complete = { tokens: await registry.tokenize(model, opts.complete.file), keepRows: opts.complete.keepRows }
  }
  const outDir = path.resolve(opts.out)
  await fs.mkdir(outDir, { recursive: true })

  let images: Int32Array[]
  try {
    images = await generateImages(runner, {
      ...samplingParams,
      count: opts.count,
      seed,
      ...(classIndex !== undefined ? { classIndex } : {}),
      ...(complete ? { complete } : {}),
      ...(opts.onRow ? { onRow: opts.onRow } : {}),
      ...(opts.signal ? { signal: opts.signal } : {})
    })
  } catch (err) {
    throw asAppError(err)
  }

  const files: GeneratedFile[] = []
  for (let index = 0; index < images.length; index++) {
    const recipe: GenerationRecipe = {
      generator: `Tessera Studio ${APP_VERSION}`,
      model: { id: record.id, name: record.name, weightsSha256: info.weightsSha256 },
      seed,
      index,
      count: opts.count,
      sampling,
      class: classIndex !== undefined ? (model.conditionClasses[classIndex] as string) : null,
      complete: opts.complete ? { file: path.resolve(opts.complete.file), keepRows: opts.complete.keepRows } : null
    }
    const png = await tokensToPng(images[index] as Int32Array, model.palette, model.config.side, { text: { [RECIPE_KEY]: JSON.stringify(recipe) } })
    const file = await writeNew(outDir, `${slug(record.name)}-s${seed}-${String(index).padStart(3, '0')}`, png)
    files.push({ file, index, seed })
  }
  return files
}

function slug(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 60) || 'model'
  )
}

/**
 * Writes `<base>.png`, or `<base>-2.png` … when taken: never overwrites a file. The bytes go to a
 * temporary file first and are hard-linked into place, so no reader sees a partial PNG.
 */
async function writeNew(dir: string, base: string, data: Buffer): Promise<string> {
  const tmp = path.join(dir, `.${base}.${process.pid}.${Date.now()}.tmp`)
  try {
    await fs.writeFile(tmp, data)
    for (let n = 1; ; n++) {
      const file = path.join(dir, n === 1 ? `${base}.png` : `${base}-${n}.png`)
      try {
        await fs.link(tmp, file)
        return file
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw asAppError(err)
      }
    }
  } finally {
    await fs.rm(tmp, { force: true })
  }
}
