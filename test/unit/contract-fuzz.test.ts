// Contract fuzzing: seeded random and malformed inputs for every contract method, through the
// real dispatcher and through the browser host's HTTP and WebSocket transports. An input the
// schema refuses must be answered VALIDATION; one it accepts must be answered ok or with a
// specific error (never INTERNAL, never a throw); prototypes stay clean; and the host answers the
// next call. A failure prints its seed and case number: rerun with FUZZ_SEED to reproduce.

import { mkdirSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { type AppContext, createContext } from '../../src/main/context'
import { createDispatcher, type Dispatch } from '../../src/main/host/dispatch'
import { type BrowserHost, startBrowserHost } from '../../src/main/host/browser-host'
import { createServices } from '../../src/main/services'
import { type MethodName, methodNames, methods } from '../../src/shared/contract'
import { type Result } from '../../src/shared/result'
import { tempDir } from './library/tmp'
import { fuzzInput, junk, prng, stringPool, viaJson } from './contract-fuzz'

const SEED = Number(process.env.FUZZ_SEED ?? 20261128)
const CASES_PER_METHOD = 20
const TRANSPORT_CASES = 300
const CODES = new Set(['VALIDATION', 'NOT_FOUND', 'CONFLICT', 'UNSUPPORTED', 'FORBIDDEN', 'CANCELLED'])
const CLS = join(__dirname, '..', '..', '..', 'shared', 'fixtures', 'imagegpt-tiny-cls')

const t = tempDir('tessera-fuzz-')
let ctx: AppContext
let dispatch: Dispatch
let strings: string[]
const logged: string[] = []
const savedCwd = process.cwd()
const savedResources = process.env.TESSERA_RESOURCES

beforeAll(async () => {
  // Valid inputs may name relative paths (exports, imports): they land in a scratch folder.
  const cwd = join(t.dir, 'a', 'b', 'c', 'd', 'cwd')
  mkdirSync(cwd, { recursive: true })
  process.chdir(cwd)
  // samples.reset finds nothing to import instead of importing the real sample library.
  mkdirSync(join(t.dir, 'resources'))
  process.env.TESSERA_RESOURCES = join(t.dir, 'resources')
  ctx = createContext({ libraryDir: join(t.dir, 'lib'), host: 'cli' })
  dispatch = createDispatcher(createServices(ctx), { log: (m, e) => logged.push(`${m} ${e instanceof Error ? e.stack : String(e)}`) })
  // Real things to name, so that valid-looking inputs reach deeper than NOT_FOUND.
  const ds = await dispatch('datasets.create', { name: 'Cats', classes: ['tabby', 'black'] })
  const model = await dispatch('models.import', { path: CLS, name: 'tiny' })
  expect(ds.ok && model.ok, JSON.stringify([ds, model])).toBe(true)
  const d = (ds as { value: { id: string; classes: { id: string }[] } }).value
  strings = stringPool(['Cats', 'tiny', d.id, ...d.classes.map((c) => c.id), (model as { value: { id: string } }).value.id, 'class_0'])
}, 60_000)

afterAll(async () => {
  process.chdir(savedCwd)
  if (savedResources === undefined) delete process.env.TESSERA_RESOURCES
  else process.env.TESSERA_RESOURCES = savedResources
  await ctx?.close()
  t.cleanup()
})

/** Checks one answer against what the schema says of the input. */
function check(method: MethodName, input: unknown, r: Result<unknown>, where: string): void {
  const valid = methods[method].input.safeParse(input ?? {}).success
  const desc = `${where} ${method} ${safeJson(input)} -> ${JSON.stringify(r).slice(0, 400)}`
  expect(r && typeof r === 'object' && typeof r.ok === 'boolean', desc).toBe(true)
  if (!valid) {
    expect(r.ok, desc).toBe(false)
    if (!r.ok) {
      expect(r.error.code, desc).toBe('VALIDATION')
      expect(r.error.message.length, desc).toBeGreaterThan(0)
      expect(r.error.message.length, desc).toBeLessThan(2000)
    }
  } else if (!r.ok) {
    expect(CODES.has(r.error.code), desc).toBe(true)
    expect(r.error.message, desc).not.toMatch(/\n\s+at /) // no stack traces
  }
}

function safeJson(v: unknown): string {
  try {
    return (JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x)) ?? String(v)).slice(0, 300)
  } catch {
    return String(v)
  }
}

function notPolluted(): void {
  const o = {} as Record<string, unknown>
  expect(o.polluted).toBeUndefined()
  expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false)
}

describe('contract fuzzing through the dispatcher', () => {
  it(`every method: ${CASES_PER_METHOD} seeded malformed inputs each are rejected or answered cleanly`, async () => {
    const r = prng(SEED)
    let n = 0
    const slow: string[] = []
    for (const method of methodNames) {
      const t0 = performance.now()
      for (let i = 0; i < CASES_PER_METHOD; i++, n++) {
        const input = fuzzInput(methods[method].input, r, strings)
        const answer = await dispatch(method, input)
        check(method, input, answer, `seed ${SEED} case ${n}:`)
      }
      if (process.env.FUZZ_TRACE) slow.push(`${method} ${(performance.now() - t0).toFixed(0)} ms`)
      // Still answering after each method's batch.
      expect(await dispatch('app.info', {})).toMatchObject({ ok: true })
    }
    if (slow.length) console.log(slow.join('\n'))
    notPolluted()
    expect(logged, logged.join('\n\n')).toEqual([])
    expect(n).toBe(methodNames.length * CASES_PER_METHOD)
  }, 120_000)

  it('method names that are not methods, and inputs that are not objects, for every method', async () => {
    const r = prng(SEED + 1)
    for (const name of ['', 'constructor', '__proto__', 'toString', 'hasOwnProperty', 'app.info.x', 'APP.INFO', 'app.info\0', 'x'.repeat(10_000)]) {
      expect(await dispatch(name, {})).toMatchObject({ ok: false, error: { code: 'UNKNOWN_METHOD' } })
    }
    expect(await dispatch(null as unknown as string, {})).toMatchObject({ ok: false, error: { code: 'UNKNOWN_METHOD' } })
    expect(await dispatch(42 as unknown as string, {})).toMatchObject({ ok: false, error: { code: 'UNKNOWN_METHOD' } })
    for (const method of methodNames) {
      for (const input of [0, 'x', true, [], [{}], NaN, Infinity, junk(r, strings), Object.create(null) as object]) {
        check(method, input, await dispatch(method, input), `${method}:`)
      }
    }
    notPolluted()
    expect(logged, logged.join('\n\n')).toEqual([])
  }, 60_000)
})

describe('contract fuzzing through the browser host', () => {
  let host: BrowserHost

  beforeAll(async () => {
    host = await startBrowserHost({ context: ctx, port: 0, rendererDir: join(t.dir, 'no-renderer') })
  })
  afterAll(async () => {
    await host?.close()
  })

  const post = (path: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: host.port,
          path,
          method: 'POST',
          headers: { host: `127.0.0.1:${host.port}`, authorization: `Bearer ${host.token}`, 'content-type': 'application/json', ...headers }
        },
        (res) => {
          let text = ''
          res.on('data', (d: Buffer) => (text += d.toString()))
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }))
        }
      )
      req.on('error', reject)
      req.end(body)
    })

  it(`HTTP: ${TRANSPORT_CASES} seeded inputs across the methods, and bodies that are not JSON`, async () => {
    const r = prng(SEED + 2)
    for (let i = 0; i < TRANSPORT_CASES; i++) {
      const method = methodNames[Math.floor(r() * methodNames.length)]!
      const sent = viaJson(fuzzInput(methods[method].input, r, strings))
      if (!sent) continue
      const res = await post(`/api/${encodeURIComponent(method)}`, sent.text)
      expect(res.status, res.body).toBe(200)
      check(method, sent.value, JSON.parse(res.body) as Result<unknown>, `http seed ${SEED + 2} case ${i}:`)
    }
    for (const body of ['{', 'nul', '\u0000', '[1,2', '{"a":1}}', '\ud800', Buffer.from([0xff, 0xfe, 0x00, 0x7b]), '{"__proto__":{"polluted":"yes"}}', '9'.repeat(5000)]) {
      const res = await post('/api/datasets.create', body)
      expect([200, 400], res.body).toContain(res.status)
      expect((JSON.parse(res.body) as Result<unknown>).ok).toBe(false)
    }
    for (const path of ['/api/', '/api/nope', '/api/%E0%A4%A', '/api/..%2f..%2fapp.info', '/api/app.info%00']) {
      const res = await post(path, '{}')
      expect(res.status, `${path} ${res.body}`).toBeLessThan(500)
      expect((JSON.parse(res.body) as Result<unknown>).ok, path).toBe(false)
    }
    notPolluted()
    expect((await post('/api/app.info', '{}')).status).toBe(200)
    expect(logged, logged.join('\n\n')).toEqual([])
  }, 120_000)

  it(`WebSocket: ${TRANSPORT_CASES} seeded calls, binary and malformed frames, on one socket that stays usable`, async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${host.port}/ws?token=${host.token}`, { headers: { host: `127.0.0.1:${host.port}` } })
    await new Promise<void>((res, rej) => {
      ws.once('open', () => res())
      ws.once('error', rej)
    })
    const waiting = new Map<string, (r: { id: unknown; result: Result<unknown> }) => void>()
    const unmatched: { id: unknown; result: Result<unknown> }[] = []
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as { id?: unknown; result?: Result<unknown>; event?: string }
      if (msg.event) return
      const w = typeof msg.id === 'string' ? waiting.get(msg.id) : undefined
      if (w) {
        waiting.delete(msg.id as string)
        w(msg as { id: unknown; result: Result<unknown> })
      } else unmatched.push(msg as { id: unknown; result: Result<unknown> })
    })
    const call = (id: string, frame: string): Promise<{ id: unknown; result: Result<unknown> }> =>
      new Promise((res) => {
        waiting.set(id, res)
        ws.send(frame)
      })

    const r = prng(SEED + 3)
    for (let i = 0; i < TRANSPORT_CASES; i++) {
      const method = methodNames[Math.floor(r() * methodNames.length)]!
      const sent = viaJson(fuzzInput(methods[method].input, r, strings))
      if (!sent) continue
      const reply = await call(`c${i}`, `{"id":"c${i}","method":${JSON.stringify(method)},"input":${sent.text}}`)
      check(method, sent.value, reply.result, `ws seed ${SEED + 3} case ${i}:`)
    }
    // Frames that are not calls: each answered VALIDATION with a null id, the socket stays open.
    const bad: (string | Buffer)[] = ['{', 'null', '[]', '"x"', '{"id":{"x":1},"method":"no.such"}', '{"id":1}', '{"method":42}', Buffer.from([1, 2, 3])]
    for (const frame of bad) ws.send(frame, { binary: Buffer.isBuffer(frame) })
    const next = await call('after', '{"id":"after","method":"app.info","input":{}}')
    expect(next.result.ok).toBe(true)
    expect(unmatched.length).toBe(bad.length)
    for (const u of unmatched) {
      expect([null, 1]).toContain(u.id)
      expect(u.result.ok).toBe(false)
      if (!u.result.ok) expect(['VALIDATION', 'UNKNOWN_METHOD']).toContain(u.result.error.code)
    }
    ws.close()
    notPolluted()
    expect(logged, logged.join('\n\n')).toEqual([])
  }, 120_000)
})
