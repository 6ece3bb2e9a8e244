// The model registry through the dispatcher (zod validation, error codes, events) and its
// atomicity: a failed add leaves no folder and no row; leftovers of a crash are swept.

import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'

import { type ModelDetail, type ModelScore } from '../../../src/shared/contract'
import { type AppContext, createContext } from '../../../src/main/context'
import { createDispatcher, type Dispatch } from '../../../src/main/host/dispatch'
import { initPixelGpt } from '../../../src/main/ml/pixelgpt/model'
import { createServices } from '../../../src/main/services'
import { LM_DIR } from '../ml/pixelgpt/fixtures'
import { tempDir } from '../library/tmp'

let cleanup: (() => void) | undefined
let ctx: AppContext | undefined
afterEach(async () => {
  await ctx?.close()
  ctx = undefined
  cleanup?.()
})

function open(dir?: string): { ctx: AppContext; dispatch: Dispatch; dir: string } {
  if (!dir) {
    const t = tempDir('tessera-models-')
    cleanup = t.cleanup
    dir = t.dir
  }
  ctx = createContext({ libraryDir: dir, host: 'cli' })
  return { ctx, dispatch: createDispatcher(createServices(ctx), { log: () => {} }), dir }
}

const tiny = (): ReturnType<typeof initPixelGpt> =>
  initPixelGpt({ side: 2, paletteSize: 4, width: 8, layers: 1, heads: 2, innerWidth: 16, eps: 1e-5, numClasses: 0 }, { seed: 1 })

describe('model registry', () => {
  it('validates inputs and answers with contract error codes', async () => {
    const { dispatch } = open()
    expect(await dispatch('models.import', {})).toMatchObject({ ok: false, error: { code: 'VALIDATION', field: 'path' } })
    expect(await dispatch('models.export', { ref: 'x', out: '/tmp/x', format: 'tflite' })).toMatchObject({ ok: false, error: { code: 'VALIDATION', field: 'format' } })
    expect(await dispatch('models.score', { ref: 'x', paths: [] })).toMatchObject({ ok: false, error: { code: 'VALIDATION', field: 'paths' } })
    expect(await dispatch('models.get', { ref: 'nope' })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } })
    const r = await dispatch('models.import', { path: path.join(LM_DIR, 'config.json') })
    expect(r).toMatchObject({ ok: false, error: { code: 'UNSUPPORTED' } })
  })

  it('imports, renames (names unique regardless of case), scores and removes through the dispatcher, emitting library.changed', async () => {
    const { ctx, dispatch, dir } = open()
    const events: unknown[] = []
    ctx.bus.on('library.changed', (e) => events.push(e))
    const imp = await dispatch('models.import', { path: LM_DIR, name: 'lm' })
    expect(imp.ok).toBe(true)
    const m = (imp as { value: ModelDetail }).value
    expect(events).toEqual([{ domain: 'models', id: m.id }])
    expect(ctx.repos.models.list().map((x) => x.name)).toEqual(['lm'])

    await ctx.models.add(tiny(), { name: 'other', source: 'trained' })
    expect(await dispatch('models.rename', { ref: 'lm', name: 'OTHER' })).toMatchObject({ ok: false, error: { code: 'CONFLICT' } })
    expect(await dispatch('models.rename', { ref: 'lm', name: 'LM' })).toMatchObject({ ok: true, value: { id: m.id, name: 'LM' } })

    const score = await dispatch('models.score', { ref: m.id, paths: [path.join(LM_DIR, 'images', 'img3.png'), path.join(dir, 'none.png')] })
    const scores = (score as { value: ModelScore[] }).value
    expect(scores[0]).toMatchObject({ nllNatsPerToken: expect.any(Number) as unknown })
    expect(scores[1]).toMatchObject({ error: expect.stringMatching(/none\.png could not be read/) as unknown })

    expect(m.usage).toEqual({ trainingRuns: 0, labels: 0, outputs: 0 })
    // a gallery image made with it stays when the model goes, without the link
    const sha = 'a'.repeat(64)
    ctx.library.db.prepare("INSERT INTO media (sha256, path, mime, bytes, created_at) VALUES (?, 'media/aa/x.png', 'image/png', 1, '2026-01-01')").run(sha)
    ctx.library.db.prepare("INSERT INTO gallery_outputs (id, sha256, model_id, created_at) VALUES ('g1', ?, ?, '2026-01-01')").run(sha, m.id)
    expect((await ctx.models.get(m.id)).usage.outputs).toBe(1)
    expect(await dispatch('models.remove', { ref: 'lm' })).toEqual({ ok: true, value: { id: m.id, orphaned: [], usage: { trainingRuns: 0, labels: 0, outputs: 1 } } })
    expect(ctx.library.db.prepare("SELECT model_id FROM gallery_outputs WHERE id = 'g1'").get()).toEqual({ model_id: null })
    expect(existsSync(path.join(dir, 'models', m.id))).toBe(false)
    expect(readdirSync(path.join(dir, 'models')).filter((n) => n.startsWith('.'))).toEqual([])
  })

  it('a model that fails validation leaves no folder and no row', async () => {
    const { ctx, dir } = open()
    const bad = tiny()
    bad.weights.delete('transformer.ln_f.weight')
    await expect(ctx.models.add(bad, { name: 'bad', source: 'trained' })).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(/ln_f/) as unknown })
    expect(readdirSync(path.join(dir, 'models'))).toEqual([])
    expect(ctx.repos.models.list()).toEqual([])
  })

  it('sweeps temporary package folders a crash left behind, and keeps real packages', async () => {
    const first = open()
    const kept = await first.ctx.models.add(tiny(), { name: 'kept', source: 'trained' })
    await first.ctx.close()
    ctx = undefined
    const stale = path.join(first.dir, 'models', `.${'0'.repeat(8)}.abcdef.tmp`)
    mkdirSync(stale)
    writeFileSync(path.join(stale, 'weights.safetensors'), 'half')
    const again = open(first.dir)
    expect(existsSync(stale)).toBe(false)
    expect(readdirSync(path.join(first.dir, 'models'))).toEqual([kept.id])
    const loaded = await again.ctx.models.load('kept')
    expect(loaded.model.config.side).toBe(2)
    expect((await again.dispatch('models.get', { ref: kept.id })).ok).toBe(true)
  })
})

describe('execution provider setting', () => {
  it('maps settings to providers, CPU always last', async () => {
    const { providersFor } = await import('../../../src/main/models/registry')
    expect(providersFor('cpu')).toEqual(['cpu'])
    expect(providersFor('cuda')).toEqual(['cuda', 'cpu'])
    // 'auto' tries CUDA only where its provider library is installed
    expect(providersFor('auto', 'linux', true)).toEqual(['cuda', 'cpu'])
    expect(providersFor('auto', 'linux', false)).toEqual(['cpu'])
    expect(providersFor('auto', 'win32', true)).toEqual(['cuda', 'dml', 'cpu'])
    expect(providersFor('auto', 'win32', false)).toEqual(['dml', 'cpu'])
    expect(providersFor('auto', 'darwin', false)).toEqual(['coreml', 'cpu'])
  })

  it('a requested provider that is missing falls back to CPU with a report, and models still run', async () => {
    const { ctx, dispatch } = open()
    expect(await dispatch('runtime.report', {})).toMatchObject({ ok: true, value: { setting: 'auto' } })
    ctx.repos.settings.set({ executionProvider: 'cpu' })
    expect(await dispatch('runtime.report', {})).toMatchObject({ ok: true, value: { setting: 'cpu', requested: ['cpu'], active: 'cpu', fallbacks: [] } })

    ctx.repos.settings.set({ executionProvider: 'dml' }) // DirectML exists only on Windows builds
    const r = (await dispatch('runtime.report', {})) as { ok: true; value: { requested: string[]; active: string; fallbacks: { provider: string; reason: string }[] } }
    expect(r.value.requested).toEqual(['dml', 'cpu'])
    if (process.platform !== 'win32') {
      expect(r.value.active).toBe('cpu')
      expect(r.value.fallbacks.map((f) => f.provider)).toEqual(['dml'])
      expect(r.value.fallbacks[0]!.reason.length).toBeGreaterThan(10)
    }
    await ctx.models.importHf(LM_DIR)
    const [s] = await ctx.models.score('imagegpt-tiny-lm', [path.join(LM_DIR, 'images', 'img0.png')])
    expect(s).toMatchObject({ nllNatsPerToken: expect.closeTo(6.660682678222656, 3) as unknown })
  })
})
