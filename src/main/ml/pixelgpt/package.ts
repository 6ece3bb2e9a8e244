// A Tessera model on disk: a folder with model.json (config, palette, class names, lineage and
// other metadata) and weights.safetensors (float32, Hugging Face weight names). Cached ONNX
// graphs may sit beside them; they are derived data and never read here.
//
// Writes are atomic: a new folder is assembled under a temporary name and renamed into place;
// an existing folder gets each file through temp + rename, model.json last, so a reader sees
// either the old model or the new one.

import { randomBytes } from 'node:crypto'
import { promises as fs } from 'node:fs'
import path from 'node:path'

import { InteropError, readSafetensors, serializeSafetensors, writeFileAtomic } from '../interop/safetensors'
import { type PixelGptConfig, type PixelGptModel, validateModel } from './model'

export const MODEL_JSON = 'model.json'
export const WEIGHTS_FILE = 'weights.safetensors'
const FORMAT = 'tessera-pixelgpt'
const VERSION = 1

export interface ModelJson {
  format: typeof FORMAT
  version: number
  config: PixelGptConfig
  /** [K][3] colours in [-1, 1]. */
  palette: number[][]
  classes: string[]
  conditionClasses: string[]
  /** Free-form provenance: base model, dataset snapshot, training parameters, metrics, import source. */
  meta: Record<string, unknown>
}

export async function writeModelPackage(dir: string, model: PixelGptModel, meta: Record<string, unknown> = {}): Promise<void> {
  validateModel(model)
  const c = model.config
  const palette: number[][] = []
  for (let k = 0; k < c.paletteSize; k++) palette.push([...model.palette.subarray(k * 3, k * 3 + 3)])
  const json: ModelJson = { format: FORMAT, version: VERSION, config: c, palette, classes: model.classes, conditionClasses: model.conditionClasses, meta }
  const weights = serializeSafetensors(model.weights, { format: 'pt' })
  const text = JSON.stringify(json, null, 2) + '\n'
  const exists = await fs.stat(dir).then(
    () => true,
    () => false
  )
  if (exists) {
    await writeFileAtomic(path.join(dir, WEIGHTS_FILE), weights)
    await writeFileAtomic(path.join(dir, MODEL_JSON), text)
    return
  }
  await fs.mkdir(path.dirname(dir), { recursive: true })
  const tmp = path.join(path.dirname(dir), `.${path.basename(dir)}.${randomBytes(6).toString('hex')}.tmp`)
  try {
    await fs.mkdir(tmp)
    await fs.writeFile(path.join(tmp, WEIGHTS_FILE), weights)
    await fs.writeFile(path.join(tmp, MODEL_JSON), text)
    await fs.rename(tmp, dir)
  } catch (err) {
    await fs.rm(tmp, { recursive: true, force: true })
    throw err
  }
}

export async function readModelPackage(dir: string): Promise<{ model: PixelGptModel; meta: Record<string, unknown> }> {
  let raw: string
  try {
    raw = await fs.readFile(path.join(dir, MODEL_JSON), 'utf8')
  } catch {
    throw new InteropError(`${dir} is not a Tessera model folder: it has no readable ${MODEL_JSON}.`)
  }
  let json: ModelJson
  try {
    json = JSON.parse(raw) as ModelJson
  } catch {
    throw new InteropError(`${MODEL_JSON} in ${dir} is not valid JSON.`)
  }
  if (json.format !== FORMAT) throw new InteropError(`${MODEL_JSON} in ${dir} is not a Tessera ImageGPT model (format "${String(json.format)}").`)
  if (typeof json.version !== 'number' || json.version > VERSION) {
    throw new InteropError(`${MODEL_JSON} in ${dir} has format version ${json.version}, newer than this Tessera reads (${VERSION}); update Tessera.`)
  }
  const c = json.config
  if (!Array.isArray(json.palette) || json.palette.length !== c?.paletteSize || json.palette.some((p) => !Array.isArray(p) || p.length !== 3)) {
    throw new InteropError(`${MODEL_JSON} in ${dir} has a palette that does not match its config (${c?.paletteSize} colours of 3 channels needed).`)
  }
  const palette = new Float32Array(c.paletteSize * 3)
  json.palette.forEach((p, i) => palette.set(p, i * 3))
  const st = await readSafetensors(path.join(dir, WEIGHTS_FILE))
  const model: PixelGptModel = {
    config: c,
    palette,
    weights: st.tensors,
    classes: Array.isArray(json.classes) ? json.classes.map(String) : [],
    conditionClasses: Array.isArray(json.conditionClasses) ? json.conditionClasses.map(String) : []
  }
  try {
    validateModel(model)
  } catch (err) {
    throw new InteropError(`The model in ${dir} is inconsistent: ${(err as Error).message}`)
  }
  return { model, meta: json.meta ?? {} }
}
