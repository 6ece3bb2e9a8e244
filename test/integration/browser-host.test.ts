import { request as httpRequest } from 'node:http'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { type BrowserHost, RemoteHostRefusedError, startBrowserHost } from '../../src/main/host/browser-host'
import { tempDir } from '../unit/library/tmp'
import { addRandomMedia } from '../unit/jobs/media'

interface Reply {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

function request(port: number, path: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: { host: `127.0.0.1:${port}`, ...opts.headers } },
      (res) => {
        let body = ''
        res.on('data', (d: Buffer) => (body += d.toString('latin1')))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
      }
    )
    req.on('error', reject)
    req.end(opts.body)
  })
}

/** Resolves with the socket once open, or with the HTTP status of a refused upgrade. */
function connect(url: string, headers: Record<string, string> = {}): Promise<{ ws?: WebSocket; status?: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers })
    ws.on('open', () => resolve({ ws }))
    ws.on('unexpected-response', (_req, res) => resolve({ status: res.statusCode ?? 0 }))
    ws.on('error', () => resolve({ status: -1 }))
  })
}

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
  writeFileSync(join(t.dir, 'secret.txt'), 'not for the web')
  host = await startBrowserHost({ library: join(t.dir, 'lib'), port: 0, rendererDir })
})
afterEach(async () => {
  await host?.close()
  cleanup?.()
})

describe('browser host: the token', () => {
  it('prints a loopback URL with a long random token', () => {
    expect(host.url).toBe(`http://127.0.0.1:${host.port}/?token=${host.token}`)
    expect(host.token).toMatch(/^[A-Za-z0-9_-]{43}$/)
  })

  it('refuses HTTP requests without the token (401) and with a wrong one', async () => {
    for (const path of ['/', '/index.html', '/assets/app.js', `/media/${'a'.repeat(64)}`]) {
      const r = await request(host.port, path)
      expect(r.status).toBe(401)
      expect(JSON.parse(r.body)).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED' } })
    }
    expect((await request(host.port, '/api/app.info', { method: 'POST' })).status).toBe(401)
    expect((await request(host.port, `/?token=${host.token.slice(0, -1)}x`)).status).toBe(401)
    expect((await request(host.port, '/', { headers: { authorization: 'Bearer nope' } })).status).toBe(401)
  })

  it('refuses a WebSocket without the token (401)', async () => {
    expect((await connect(`ws://127.0.0.1:${host.port}/ws`)).status).toBe(401)
    expect((await connect(`ws://127.0.0.1:${host.port}/ws?token=wrong`)).status).toBe(401)
  })

  it('serves the page with the token, a strict CSP and a cookie that authorises its assets', async () => {
    const r = await request(host.port, `/?token=${host.token}`)
    expect(r.status).toBe(200)
    expect(r.body).toContain('<title>Tessera</title>')
    const csp = String(r.headers['content-security-policy'])
    expect(csp).toContain("default-src 'none'")
    expect(csp).toContain("script-src 'self'")
    expect(csp).not.toMatch(/script-src[^;]*unsafe/)
    expect(csp).toContain(`connect-src 'self' ws://127.0.0.1:${host.port}`)
    expect(r.headers['x-content-type-options']).toBe('nosniff')
    const cookie = String(r.headers['set-cookie'])
    expect(cookie).toContain(`tessera_token_${host.port}=${host.token}`)
    expect(cookie).toMatch(/HttpOnly/)
    expect(cookie).toMatch(/SameSite=Strict/)
    const asset = await request(host.port, '/assets/app.js', { headers: { cookie: cookie.split(';')[0]! } })
    expect(asset.status).toBe(200)
    expect(asset.headers['content-type']).toMatch(/javascript/)
    // Only files of the built renderer exist as routes.
    for (const p of ['/../secret.txt', '/assets/../../secret.txt', '/%2e%2e/secret.txt', '/secret.txt'])
      expect((await request(host.port, `${p}?token=${host.token}`)).body).not.toContain('not for the web')
  })
})

describe('browser host: Host and Origin', () => {
  it('refuses a foreign Host (DNS rebinding) and a wrong port, over HTTP and WebSocket', async () => {
    const q = `?token=${host.token}`
    expect((await request(host.port, `/${q}`, { headers: { host: 'evil.example' } })).status).toBe(403)
    expect((await request(host.port, `/${q}`, { headers: { host: `evil.example:${host.port}` } })).status).toBe(403)
    expect((await request(host.port, `/${q}`, { headers: { host: `127.0.0.1:${host.port + 1}` } })).status).toBe(403)
    expect((await request(host.port, `/${q}`, { headers: { host: `localhost:${host.port}` } })).status).toBe(200)
    expect((await connect(`ws://127.0.0.1:${host.port}/ws${q}`, { host: `evil.example:${host.port}` })).status).toBe(403)
  })

  it('refuses a foreign Origin, over HTTP and WebSocket', async () => {
    const q = `?token=${host.token}`
    const bad = { origin: 'http://evil.example' }
    expect((await request(host.port, `/api/app.info${q}`, { method: 'POST', headers: bad })).status).toBe(403)
    expect((await connect(`ws://127.0.0.1:${host.port}/ws${q}`, bad)).status).toBe(403)
    expect((await connect(`ws://127.0.0.1:${host.port}/ws${q}`, { origin: `https://127.0.0.1:${host.port}` })).status).toBe(403)
    const good = await connect(`ws://127.0.0.1:${host.port}/ws${q}`, { origin: `http://localhost:${host.port}` })
    expect(good.ws).toBeDefined()
    good.ws!.close()
  })
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

describe('browser host: media', () => {
  it('serves library files by hash only', async () => {
    const [sha] = addRandomMedia(host.context.library, 1, 100)
    const auth = { authorization: `Bearer ${host.token}` }
    const r = await request(host.port, `/media/${sha}`, { headers: auth })
    expect(r.status).toBe(200)
    expect(r.body.length).toBe(100)
    expect(r.headers['content-security-policy']).toMatch(/sandbox/)
    expect((await request(host.port, `/media/${'b'.repeat(64)}`, { headers: auth })).status).toBe(404)
    expect((await request(host.port, '/media/..%2F..%2Fsecret.txt', { headers: auth })).status).toBe(404)
    expect((await request(host.port, '/media/library.db', { headers: auth })).status).toBe(404)
    expect((await request(host.port, `/thumbs/${sha}`, { headers: auth })).status).toBe(404) // no thumbnail yet
    // A row whose path points outside the library is never followed.
    host.context.library.db.prepare('UPDATE media SET path = ? WHERE sha256 = ?').run('../secret.txt', sha)
    expect((await request(host.port, `/media/${sha}`, { headers: auth })).status).toBe(404)
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
