// The browser host's contract transport (HTTP POST and WebSocket) and its binding.
// Token, Host/Origin, media and CORS checks: security-browser-host.test.ts.

import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type BrowserHost, RemoteHostRefusedError, startBrowserHost } from '../../src/main/host/browser-host'
import { tempDir } from '../unit/library/tmp'
import { connect, request } from './host-client'

let host: BrowserHost
let cleanup: () => void
let rendererDir: string

beforeEach(async () => {
  const t = tempDir()
  cleanup = t.cleanup
  rendererDir = join(t.dir, 'renderer')
  mkdirSync(join(rendererDir, 'assets'), { recursive: true })
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>Tessera</title><script type="module" src="/assets/app.js"></script>')
  writeFileSync(join(rendererDir, 'assets', 'app.js'), 'console.log("hi")')
  host = await startBrowserHost({ library: join(t.dir, 'lib'), port: 0, rendererDir })
})
afterEach(async () => {
  await host?.close()
  cleanup?.()
})

describe('browser host: contract calls', () => {
  it('POST /api/<method> answers the Result envelope, with VALIDATION naming the field', async () => {
    const auth = { authorization: `Bearer ${host.token}`, 'content-type': 'application/json' }
    const created = await request(host.port, '/api/datasets.create', { method: 'POST', headers: auth, body: JSON.stringify({ name: 'Cats', classes: ['a'] }) })
    expect(created.status).toBe(200)
    expect(JSON.parse(created.body)).toMatchObject({ ok: true, value: { name: 'Cats', classes: [{ name: 'a' }] } })
    const invalid = await request(host.port, '/api/datasets.create', { method: 'POST', headers: auth, body: JSON.stringify({ name: 7 }) })
    expect(JSON.parse(invalid.body)).toMatchObject({ ok: false, error: { code: 'VALIDATION', field: 'name' } })
    const info = await request(host.port, '/api/app.info', { method: 'POST', headers: { 'x-tessera-token': host.token } })
    expect(JSON.parse(info.body)).toMatchObject({ ok: true, value: { host: 'browser' } })
    expect((await request(host.port, '/api/app.info', { method: 'POST', headers: auth, body: '{nope' })).status).toBe(400)
    expect((await request(host.port, '/api/app.info', { headers: auth })).status).toBe(405)
    expect(JSON.parse((await request(host.port, '/api/no.such', { method: 'POST', headers: auth })).body)).toMatchObject({ error: { code: 'UNKNOWN_METHOD' } })
  })

  it('answers calls over the WebSocket by id and pushes events', async () => {
    const { ws } = await connect(`ws://127.0.0.1:${host.port}/ws?token=${host.token}`, { origin: `http://127.0.0.1:${host.port}` })
    const messages: { id?: unknown; result?: { ok: boolean; error?: { field?: string } }; event?: string; payload?: unknown }[] = []
    const waitFor = async (pred: (m: (typeof messages)[number]) => boolean) => {
      for (let i = 0; i < 500; i++) {
        const m = messages.find(pred)
        if (m) return m
        await new Promise((r) => setTimeout(r, 5))
      }
      throw new Error('no such message')
    }
    ws!.on('message', (d) => messages.push(JSON.parse(d.toString())))
    ws!.send(JSON.stringify({ id: 1, method: 'datasets.create', input: { name: 'Dogs' } }))
    ws!.send(JSON.stringify({ id: 'two', method: 'datasets.create', input: { name: '' } }))
    ws!.send('not json')
    const one = await waitFor((m) => m.id === 1)
    expect(one.result).toMatchObject({ ok: true, value: { name: 'Dogs' } })
    const two = await waitFor((m) => m.id === 'two')
    expect(two.result).toMatchObject({ ok: false, error: { code: 'VALIDATION', field: 'name' } })
    const bad = await waitFor((m) => m.id === null)
    expect(bad.result).toMatchObject({ ok: false, error: { code: 'VALIDATION' } })
    const ev = await waitFor((m) => m.event === 'library.changed')
    expect(ev.payload).toMatchObject({ domain: 'datasets' })

    // Job events reach the socket too.
    ws!.send(JSON.stringify({ id: 3, method: 'jobs.list', input: {} }))
    expect((await waitFor((m) => m.id === 3)).result).toMatchObject({ ok: true, value: [] })
    host.context.jobs.enqueue('library.verify', {})
    const state = await waitFor((m) => m.event === 'job.state' && (m.payload as { state: string }).state === 'done')
    expect(state.payload).toMatchObject({ kind: 'library.verify' })
    ws!.close()
  })
})

describe('browser host: binding', () => {
  it('refuses a non-loopback host without allowRemote', async () => {
    await expect(startBrowserHost({ library: '/nonexistent/never-created', host: '0.0.0.0', port: 0, rendererDir })).rejects.toBeInstanceOf(RemoteHostRefusedError)
    await expect(startBrowserHost({ library: '/nonexistent/never-created', host: '192.168.1.20', port: 0, rendererDir })).rejects.toThrow(/--allow-remote/)
  })

  it('says in a sentence when the port is taken', async () => {
    await expect(startBrowserHost({ context: host.context, port: host.port, rendererDir })).rejects.toThrow(/already in use/)
  })

  it('refuses a body over 16 MiB with 413', async () => {
    const r = await request(host.port, '/api/app.info', {
      method: 'POST',
      headers: { authorization: `Bearer ${host.token}` },
      body: 'x'.repeat(16 * 1024 * 1024 + 10)
    })
    expect(r.status).toBe(413)
  })

  it('says the page is not built when out/renderer is missing', async () => {
    const other = await startBrowserHost({ context: host.context, port: 0, rendererDir: join(rendererDir, 'missing') })
    try {
      const r = await request(other.port, `/?token=${other.token}`)
      expect(r.status).toBe(503)
      expect(r.body).toMatch(/npm run build/)
    } finally {
      await other.close()
    }
  })
})
