// The two file-level tasks the CLI and the services run on a model: score image files (bits per
// token under the model) and generate images into a folder as PNGs whose tEXt chunk holds the
// generation parameters. A file that cannot be read is reported and skipped, never fatal.

import { promises as fs } from 'node:fs'
import path from 'node:path'

import { writeNewFile } from '../../files'
import { type DecodeOptions } from '../../imaging/decode'
import { modelImageTokens, tokensToPng } from '../palette/palette'
import { type GenerateOptions } from '../sample/generate'
import { type PixelGptInference } from './runner'

export type ScoreResult = { file: string; bitsPerToken: number; nllNatsPerToken: number } | { file: string; error: string }

/** NLL of each image file under the model, in order; unreadable files give `{file, error}`. */
export async function scoreImageFiles(runner: PixelGptInference, files: readonly string[], opts: DecodeOptions & { batchSize?: number } = {}): Promise<ScoreResult[]> {
  const m = runner.model
  const results: ScoreResult[] = []
  const batchSize = Math.max(1, opts.batchSize ?? 8)
  for (let i = 0; i < files.length; i += batchSize) {
    const chunk = files.slice(i, i + batchSize)
    const decoded = await Promise.all(
      chunk.map(async (file) => {
        try {
          return { file, tokens: await modelImageTokens(file, m, { ...opts, label: path.basename(file) }) }
        } catch (err) {
          return { file, error: (err as Error).message }
        }
      })
    )
    const ok = decoded.filter((d): d is { file: string; tokens: Int32Array } => 'tokens' in d)
    const nll = ok.length ? await runner.nll(ok.map((d) => d.tokens)) : []
    const byFile = new Map(ok.map((d, j) => [d, nll[j] as number]))
    for (const d of decoded) {
      if ('error' in d) results.push({ file: d.file, error: d.error as string })
      else {
        const n = byFile.get(d) as number
        results.push({ file: d.file, bitsPerToken: n / Math.LN2, nllNatsPerToken: n })
      }
    }
  }
  return results
}

export interface GenerateToFolderOptions extends GenerateOptions {
  outDir: string
  /** File name prefix (default "tessera"). */
  prefix?: string
  /** PNG upscale factor for viewing (default 1: model resolution). */
  scale?: number
  /** Extra fields for the tEXt parameters (model id, name...). */
  describe?: Record<string, unknown>
}

/** Generates `count` images and writes them as PNGs; returns the paths. Never overwrites a file. */
export async function generateToFolder(runner: PixelGptInference, opts: GenerateToFolderOptions): Promise<string[]> {
  const images = await runner.generate(opts)
  await fs.mkdir(opts.outDir, { recursive: true })
  const m = runner.model
  const written: string[] = []
  for (let i = 0; i < images.length; i++) {
    const params = {
      ...opts.describe,
      seed: opts.seed,
      index: i,
      greedy: opts.greedy ?? false,
      temperature: opts.temperature ?? 1,
      topK: opts.topK ?? 0,
      topP: opts.topP ?? 1,
      class: opts.classIndex === undefined ? null : m.conditionClasses[opts.classIndex],
      keepRows: opts.complete?.keepRows ?? 0
    }
    const png = await tokensToPng(images[i] as Int32Array, m.palette, m.config.side, { scale: opts.scale ?? 1, text: { tessera: JSON.stringify(params) } })
    written.push(await writeNew(opts.outDir, `${opts.prefix ?? 'tessera'}-${opts.seed}-${String(i).padStart(3, '0')}`, png))
  }
  return written
}

async function writeNew(dir: string, stem: string, data: Buffer): Promise<string> {
  for (let n = 0; ; n++) {
    const file = path.join(dir, `${stem}${n ? `-${n}` : ''}.png`)
    try {
      await writeNewFile(file, data)
      return file
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
  }
}
