// The recipe in a PNG's tEXt chunk: written Latin-1-safe (non-ASCII escaped), read back equal;
// older `tessera generate` recipes (no batchSize/durationMs, complete as {file, keepRows}) are
// normalized; files without a recipe are refused with a sentence. Search words of a recipe.

import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { readRecipe, recipeText } from '../../../src/main/gallery/service'
import { searchText } from '../../../src/main/gallery/repo'
import { addPngText, readPngText } from '../../../src/main/ml/palette/palette'
import { type GenerationRecipe } from '../../../src/shared/contract'

const png = () => sharp({ create: { width: 4, height: 4, channels: 3, background: '#123456' } }).png().toBuffer()

const recipe: GenerationRecipe = {
  generator: 'Tessera Studio 0.1.0',
  model: { id: 'm1', name: 'Vögel – 鳥', weightsSha256: 'ab'.repeat(32) },
  seed: 4_000_000_000,
  index: 7,
  greedy: false,
  temperature: 0.9,
  topK: 8,
  topP: 0.95,
  class: 'Zaunkönig',
  keepRows: 3,
  complete: { sha256: 'cd'.repeat(32), file: '/tmp/a b/ç.png', keepRows: 3 },
  count: 16,
  batchSize: 4,
  durationMs: 12.5
}

describe('PNG recipe', () => {
  it('round-trips, non-ASCII included, through a Latin-1 tEXt chunk', async () => {
    const text = recipeText(recipe)
    expect(/^[\x20-\x7e]*$/.test(text)).toBe(true)
    const file = addPngText(await png(), { tessera: text })
    expect(readRecipe(file)).toEqual(recipe)
    // The image itself is untouched.
    expect((await sharp(file).raw().toBuffer()).equals(await sharp(await png()).raw().toBuffer())).toBe(true)
  })

  it('normalizes a recipe written by an older `tessera generate`', async () => {
    const old = { generator: 'Tessera Studio 0.1.0', model: { id: 'm', name: 'tiny', weightsSha256: 'x' }, count: 3, complete: { file: '/a.png', keepRows: 4 }, seed: 5, index: 2, greedy: true, temperature: 1, topK: 0, topP: 1, class: null, keepRows: 4 }
    const r = readRecipe(addPngText(await png(), { tessera: JSON.stringify(old) }))
    expect(r).toEqual({ ...old, complete: { sha256: null, file: '/a.png', keepRows: 4 }, batchSize: null, durationMs: null })
  })

  it('refuses files without a recipe, with a sentence', async () => {
    const plain = await png()
    expect(() => readRecipe(Buffer.from('not a png at all'))).toThrow(/not a PNG/)
    expect(() => readRecipe(Buffer.alloc(0))).toThrow(/not a PNG/)
    expect(() => readRecipe(plain)).toThrow(/no Tessera recipe/)
    expect(() => readRecipe(addPngText(plain, { tessera: '{nope' }))).toThrow(/not valid JSON/)
    expect(() => readRecipe(addPngText(plain, { tessera: '{"model":{}}' }))).toThrow(/no seed/)
    expect(readPngText(addPngText(plain, { other: 'x' }))).toEqual({ other: 'x' })
  })

  it('search words hold the model, class, seed and parameters', () => {
    const words = searchText(recipe)
    for (const w of ['vögel', 'zaunkönig', 'seed:4000000000', 'index:7', 'temperature:0.9', 'topk:8', 'topp:0.95', 'keeprows:3', 'completion']) expect(words).toContain(w)
    expect(searchText({ ...recipe, class: null, complete: null })).toContain('any')
  })
})
