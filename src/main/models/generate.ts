// Generation into a folder of PNGs for a library model, by id or name: parameters checked with
// sentences for the user, the class looked up by name, the image to complete decoded, and the
// PNGs written by ml/pixelgpt/tasks with the recipe in a "tessera" tEXt chunk: the model (id,
// name, sha256 of its weights), sampling parameters, seed, class, completion source and index.

import { randomInt } from 'node:crypto'
import path from 'node:path'

import { AppError } from '../errors'
import { hasLmHead } from '../ml/pixelgpt/model'
import { generateToFolder as writeGenerated } from '../ml/pixelgpt/tasks'
import { type RowProgress } from '../ml/sample/generate'
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

/** What this module adds to the parameters ml/pixelgpt/tasks writes (seed, index, greedy, temperature, topK, topP, class, keepRows). */
export interface RecipeHeader {
  generator: string
  model: { id: string; name: string; weightsSha256: string }
  count: number
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
  const samplingParams = { greedy: opts.greedy === true, temperature: opts.temperature ?? 1, ...(opts.topK !== undefined ? { topK: opts.topK } : {}), ...(opts.topP !== undefined ? { topP: opts.topP } : {}) }
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
  const describe: RecipeHeader = {
    generator: `Tessera Studio ${APP_VERSION}`,
    model: { id: record.id, name: record.name, weightsSha256: info.weightsSha256 },
    count: opts.count,
    complete: opts.complete ? { file: path.resolve(opts.complete.file), keepRows: opts.complete.keepRows } : null
  }
  try {
    const files = await writeGenerated(runner, {
      ...samplingParams,
      count: opts.count,
      seed,
      ...(classIndex !== undefined ? { classIndex } : {}),
      ...(complete ? { complete } : {}),
      ...(opts.onRow ? { onRow: opts.onRow } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      outDir: path.resolve(opts.out),
      prefix: slug(record.name),
      describe: { ...describe }
    })
    return files.map((file, index) => ({ file, index, seed }))
  } catch (err) {
    throw asAppError(err)
  }
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
