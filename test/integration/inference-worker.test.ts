// Inference through the model registry runs in the ML worker thread (issues #8, #9): the
// worker path gives the same numbers as the in-thread path, and the host's main thread keeps
// answering API calls while a long forward run is in flight in the worker.

import { mkdirSync, writeFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import path from 'node:path'
import sharp from 'sharp'
import { afterEach, describe, expect, it } from 'vitest'

import { type AppContext, createContext } from '../../src/main/context'
import { type BrowserHost, startBrowserHost } from '../../src/main/host/browser-host'
import { exportHfImageGpt } from '../../src/main/ml/interop/hf-imagegpt'
import { initPixelGpt } from '../../src/main/ml/pixelgpt/model'
import { type WorkerPixelGptRunner } from '../../src/main/ml/pixelgpt/worker-runner'
import { generateToFolder } from '../../src/main/models/generate'
import { ModelRegistry } from '../../src/main/models/registry'
import { CLS_DIR, LM_DIR, clsReference, lmReference } from '../unit/ml/pixelgpt/fixtures'
import { tempDir } from '../unit/library/tmp'

let cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.reverse()) await c()
  cleanups = []
})

function temp(): string {
  const t = tempDir('tessera-infer-')
  cleanups.push(t.cleanup)
  return t.dir
}

function open(dir: string): { ctx: AppContext; thread: ModelRegistry } {
  const ctx = createContext({ libraryDir: path.join(dir, 'lib'), host: 'cli' })
  const thread = new ModelRegistry(ctx.library, ctx.repos.models, { inference: 'thread' })
  cleanups.push(async () => {
    await thread.close()
    await ctx.close()
  })
  return { ctx, thread }
}

function maxDiff(a: readonly number[][], b: readonly number[][]): number {
  let m = 0
  a.forEach((row, i) => row.forEach((v, j) => (m = Math.max(m, Math.abs(v - (b[i]![j] as number))))))
  return m
}

describe('inference in the ML worker', () => {
  it('gives the same probabilities, NLLs, features, completions and scores as in this thread', async () => {
    const dir = temp()
    const { ctx, thread } = open(dir)
    expect(ctx.models.inference).toBe('worker')
    const cls = await ctx.models.import(CLS_DIR, { name: 'cls' })
    const lm = await ctx.models.import(LM_DIR, { name: 'lm' })

    const w = await ctx.models.load(cls.id)
    const t = await thread.load(cls.id)
    expect(w.runner.where).toBe('worker')
    expect(t.runner.where).toBe('thread')
    const ref = clsReference()
    const images = ref.images.map((i) => Int32Array.from(i.tokens))
    const pw = await w.runner.classProbabilities(images)
    const pt = await t.runner.classProbabilities(images)
    expect(maxDiff(pw, pt)).toBeLessThan(1e-5)
    expect(maxDiff(pw, ref.images.map((i) => i.class_probs))).toBeLessThan(1e-4)
    const fw = await w.runner.features(images, 1)
    const ft = await t.runner.features(images, 1)
    expect(maxDiff(fw.map((f) => Array.from(f)), ft.map((f) => Array.from(f)))).toBeLessThan(1e-5)
    // A bad input is refused with the same sentence (built on this thread before any run).
    await expect(w.runner.classProbabilities([new Int32Array(3)])).rejects.toThrow(/has 3 tokens; the model needs/)

    const lref = lmReference()
    const lw = await ctx.models.load(lm.id)
    const lt = await thread.load(lm.id)
    const lmImages = lref.images.map((i) => Int32Array.from(i.tokens))
    const nw = await lw.runner.nll(lmImages)
    const nt = await lt.runner.nll(lmImages)
    expect(maxDiff([nw], [nt])).toBeLessThan(1e-5)
    expect(maxDiff([nw], [lref.images.map((i) => i.nll_nats_per_token)])).toBeLessThan(1e-4)

    // models.try: top classes, bits per token and the greedy completion (generated in the worker).
    const file = path.join(LM_DIR, lref.images[0]!.file)
    const tw = await ctx.models.try(lm.id, file)
    const tt = await thread.try(lm.id, file)
    expect(tw.completionPng).toBe(tt.completionPng)
    expect(Math.abs((tw.bitsPerToken as number) - (tt.bitsPerToken as number))).toBeLessThan(1e-5)
    const cw = await ctx.models.try(cls.id, path.join(CLS_DIR, ref.images[0]!.file))
    const ct = await thread.try(cls.id, path.join(CLS_DIR, ref.images[0]!.file))
    expect(cw.top.map((x) => x.label)).toEqual(ct.top.map((x) => x.label))
    expect(maxDiff([cw.top.map((x) => x.probability)], [ct.top.map((x) => x.probability)])).toBeLessThan(1e-5)

    // models.score, with an unreadable file reported in its place.
    const bad = path.join(dir, 'broken.png')
    writeFileSync(bad, 'not a png')
    const files = [...lref.images.map((i) => path.join(LM_DIR, i.file)), bad]
    const sw = await ctx.models.score(lm.id, files)
    const st = await thread.score(lm.id, files)
    expect(sw.map((s) => ('error' in s ? 'error' : 'ok'))).toEqual(st.map((s) => ('error' in s ? 'error' : 'ok')))
    expect(sw.at(-1)).toMatchObject({ file: bad, error: expect.any(String) })
    sw.forEach((s, i) => {
      const o = st[i]!
      if ('bitsPerToken' in s && 'bitsPerToken' in o) expect(Math.abs(s.bitsPerToken - o.bitsPerToken)).toBeLessThan(1e-5)
    })

    // Generation in the worker streams rows and gives the same pixels as in this thread.
    const rows: number[] = []
    const gw = await generateToFolder(ctx.models, lm.id, { count: 2, seed: 7, out: path.join(dir, 'gw'), onRow: (p) => rows.push(p.row) })
    const gt = await generateToFolder(thread, lm.id, { count: 2, seed: 7, out: path.join(dir, 'gt') })
    // Both images in one batch: one event per row of the batch.
    expect(rows).toEqual(Array.from({ length: lref.config.side }, (_, r) => r))
    for (let i = 0; i < 2; i++) {
      const a = await sharp(gw[i]!.file).raw().toBuffer()
      const b = await sharp(gt[i]!.file).raw().toBuffer()
      expect(a.equals(b)).toBe(true)
    }
    const stop = new AbortController()
    stop.abort()
    await expect(generateToFolder(ctx.models, lm.id, { count: 1, seed: 1, out: path.join(dir, 'gc'), signal: stop.signal })).rejects.toMatchObject({ code: 'CANCELLED' })

    // An imported ONNX classifier: its session runs in the worker with the same outputs.
    const onnxDir = path.join(dir, 'cls-onnx')
    await ctx.models.exportOnnx(cls.id, onnxDir)
    const onnx = await ctx.models.import(onnxDir, { name: 'cls-onnx' })
    const ow = await ctx.models.loadOnnx(onnx.id)
    const ot = await thread.loadOnnx(onnx.id)
    const { height: H, width: W } = ow.spec.input
    const x = new Float32Array(2 * 3 * H * W).map((_, i) => Math.sin(i) * 0.9)
    const feed = { [ow.spec.input.name]: { dtype: 'float32' as const, dims: [2, 3, H, W], data: x } }
    const yw = (await ow.session.runHost(feed))[ow.spec.output.name]!.data as Float32Array
    const yt = (await ot.session.runHost(feed))[ot.spec.output.name]!.data as Float32Array
    expect(maxDiff([Array.from(yw)], [Array.from(yt)])).toBeLessThan(1e-5)
    const ow2 = await ctx.models.try(onnx.id, path.join(CLS_DIR, ref.images[0]!.file))
    expect(ow2.top[0]!.label).toBe(cw.top[0]!.label)
  })

  it('puts a model back into a worker that let it go, and replaces a worker that died', async () => {
    const { ctx } = open(temp())
    const cls = await ctx.models.import(CLS_DIR, { name: 'cls' })
    const images = clsReference().images.map((i) => Int32Array.from(i.tokens))
    const first = await ctx.models.load(cls.id)
    const runner = first.runner as WorkerPixelGptRunner
    const before = await runner.classProbabilities(images)
    // Dropped behind the runner's back (as the worker's own LRU would): the next call puts the weights again.
    await runner.client.dropModel(runner.key)
    expect(maxDiff(await runner.classProbabilities(images), before)).toBe(0)
    // The worker dies: calls on it fail with a sentence instead of hanging, and the registry starts a new one.
    await runner.client.close()
    expect(runner.client.alive).toBe(false)
    await expect(runner.classProbabilities(images)).rejects.toThrow(/ML worker exited/)
    const again = await ctx.models.load(cls.id)
    expect((again.runner as WorkerPixelGptRunner).client).not.toBe(runner.client)
    expect(maxDiff(await again.runner.classProbabilities(images), before)).toBe(0)
  })
})

function post(port: number, token: string, method: string, body: unknown): Promise<{ ok: boolean; value?: unknown }> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body)
    const req = httpRequest(
      { host: '127.0.0.1', port, path: `/api/${method}`, method: 'POST', headers: { host: `127.0.0.1:${port}`, authorization: `Bearer ${token}`, 'content-type': 'application/json' } },
      (res) => {
        let text = ''
        res.on('data', (d: Buffer) => (text += d.toString('utf8')))
        res.on('end', () => resolve(JSON.parse(text) as { ok: boolean; value?: unknown }))
      }
    )
    req.on('error', reject)
    req.end(data)
  })
}

describe('the host while a model runs', () => {
  it('answers API calls and keeps its event loop turning while a classify forward runs in the worker', async () => {
    const dir = temp()
    const rendererDir = path.join(dir, 'renderer')
    mkdirSync(rendererDir, { recursive: true })
    writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>Tessera</title>')
    const host: BrowserHost = await startBrowserHost({ library: path.join(dir, 'lib'), port: 0, rendererDir })
    cleanups.push(() => host.close())
    const ctx = host.context

    // A classifier whose one forward over a batch of 64 takes a good while (weights do not matter).
    const m = initPixelGpt({ side: 16, paletteSize: 16, width: 128, layers: 4, heads: 4, innerWidth: 512, eps: 1e-5, numClasses: 0 }, { seed: 1, lmHead: false, classes: ['a', 'b'] })
    await exportHfImageGpt(m, path.join(dir, 'big'))
    const model = await ctx.models.import(path.join(dir, 'big'), { name: 'big' })
    const images = path.join(dir, 'images')
    mkdirSync(images)
    for (let i = 0; i < 64; i++) {
      const raw = Buffer.alloc(16 * 16 * 3, (i * 37) & 255)
      writeFileSync(path.join(images, `img-${i}.png`), await sharp(raw, { raw: { width: 16, height: 16, channels: 3 } }).png().toBuffer())
    }
    const runner = (await ctx.models.load(model.id)).runner as WorkerPixelGptRunner
    expect(runner.where).toBe('worker')

    const started = await post(host.port, host.token, 'classify.start', { folders: [images], model: model.id, threshold: 0, action: 'none', batchSize: 64 })
    expect(started.ok).toBe(true)
    const { runId } = started.value as { runId: string }

    // Wait (turn by turn of this thread's event loop) until the batch's forward is in the worker.
    while (!runner.client.inFlight().includes('model.forward')) await new Promise((r) => setImmediate(r))
    // While it is there: timers and immediates keep firing, and the host answers HTTP calls.
    let ticks = 0
    while (ticks < 20) {
      await new Promise((r) => setImmediate(r))
      ticks++
    }
    const info = await post(host.port, host.token, 'app.info', {})
    const run = await post(host.port, host.token, 'classify.run', { id: runId })
    expect(info.ok).toBe(true)
    expect(run).toMatchObject({ ok: true, value: { counts: { files: 0 } } })
    // The same forward is still running: all of the above happened during it, not after it.
    expect(runner.client.inFlight()).toContain('model.forward')

    // And the run finishes with every file classified.
    const final = await ctx.jobs.wait(runId)
    expect(final.state).toBe('done')
    expect((await post(host.port, host.token, 'classify.run', { id: runId })).value).toMatchObject({ counts: { files: 64, ok: 64 } })
  })
})
