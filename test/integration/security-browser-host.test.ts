// Browser host security, one describe per item of issue 12: the token on every HTTP route
// and the WebSocket, its constant-time compare, Host/Origin checks against DNS rebinding,
// media routes that never reach a file outside the library (encoded `../` variants), and
// no CORS. Requests are sent raw (host-client.ts), so paths and headers arrive as written.

import { readFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type BrowserHost, startBrowserHost, tokensEqual } from '../../src/main/host/browser-host'
import { addRandomMedia } from '../unit/jobs/media'
import { tempDir } from '../unit/library/tmp'
import { connect, rawStatus, type Reply, request } from './host-client'

const SECRET = 'not for the web'

let host: BrowserHost
let cleanup: () => void
let dir: string

beforeEach(async () => {
  const t = tempDir()
  dir = t.dir
  cleanup = t.cleanup
  const rendererDir = join(dir, 'renderer')
  mkdirSync(join(rendererDir, 'assets'), { recursive: true })
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>Tessera</title><script type="module" src="/assets/app.js"></script>')
  writeFileSync(join(rendererDir, 'assets', 'app.js'), 'console.log("hi")')
  writeFileSync(join(dir, 'secret.txt'), SECRET)
  writeFileSync(join(dir, 'lib-secret.txt'), SECRET)
  host = await startBrowserHost({ library: join(dir, 'lib'), port: 0, rendererDir })
})
afterEach(async () => {
  await host?.close()
  cleanup?.()
})

const auth = (): Record<string, string> => ({ authorization: `Bearer ${host.token}` })

describe('browser host security: the token', () => {
  it('is long and random per start, and the printed URL carries it', () => {
    expect(host.url).toBe(`http://127.0.0.1:${host.port}/?token=${host.token}`)
    expect(host.token).toMatch(/^[A-Za-z0-9_-]{43}$/)
  })

  it('every HTTP route answers 401 without it', async () => {
    const [sha] = addRandomMedia(host.context.library, 1, 32)
    const routes: [string, string][] = [
      ['GET', '/'],
      ['GET', '/index.html'],
      ['HEAD', '/index.html'],
      ['GET', '/assets/app.js'],
      ['GET', '/some/client/route'],
      ['GET', '/nope.txt'],
      ['GET', `/media/${sha}`],
      ['GET', `/thumbs/${sha}`],
      ['GET', '/media/../../secret.txt'],
      ['GET', '/ws'],
      ['POST', '/api/app.info'],
      ['POST', '/api/datasets.create'],
      ['POST', '/api/no.such'],
      ['PUT', '/api/app.info'],
      ['DELETE', '/'],
      ['OPTIONS', '/api/app.info']
    ]
    for (const [method, path] of routes) {
      const r = await request(host.port, path, { method })
      expect(r.status, `${method} ${path}`).toBe(401)
      if (method !== 'HEAD') expect(JSON.parse(r.body), `${method} ${path}`).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED' } })
    }
    // And a refused call changed nothing.
    expect(host.context.repos.datasets.list()).toEqual([])
  })

  it('every HTTP route answers 401 with a wrong token, in each place a token can go', async () => {
    const t = host.token
    const wrong = [t.slice(0, -1), t + 'x', t.slice(0, -1) + (t.endsWith('A') ? 'B' : 'A'), t.toUpperCase() === t ? t.toLowerCase() : t.toUpperCase(), '', ' ', 'null', 'undefined', 'x'.repeat(4096)]
    for (const w of wrong) {
      const q = encodeURIComponent(w)
      const tries: Promise<Reply>[] = [
        request(host.port, `/?token=${q}`),
        request(host.port, '/api/app.info', { method: 'POST', headers: { authorization: `Bearer ${w}` } }),
        request(host.port, '/api/app.info', { method: 'POST', headers: { 'x-tessera-token': w } }),
        request(host.port, '/assets/app.js', { headers: { cookie: `tessera_token_${host.port}=${w}` } })
      ]
      for (const r of await Promise.all(tries)) expect(r.status, JSON.stringify(w.slice(0, 50))).toBe(401)
    }
    // The right token under another server's cookie name, or with another auth scheme, is no token.
    expect((await request(host.port, '/', { headers: { cookie: `tessera_token_${host.port + 1}=${t}` } })).status).toBe(401)
    expect((await request(host.port, '/', { headers: { authorization: `Basic ${t}` } })).status).toBe(401)
    // Each of the four places works with the right token.
    expect((await request(host.port, `/?token=${t}`)).status).toBe(200)
    expect((await request(host.port, '/', { headers: { authorization: `Bearer ${t}` } })).status).toBe(200)
    expect((await request(host.port, '/', { headers: { 'x-tessera-token': t } })).status).toBe(200)
    expect((await request(host.port, '/', { headers: { cookie: `other=1; tessera_token_${host.port}=${t}` } })).status).toBe(200)
  })

  it('the WebSocket is refused (401) without it or with a wrong one, and never opened', async () => {
    const base = `ws://127.0.0.1:${host.port}/ws`
    expect((await connect(base)).status).toBe(401)
    expect((await connect(`${base}?token=wrong`)).status).toBe(401)
    expect((await connect(`${base}?token=${host.token.slice(1)}`)).status).toBe(401)
    expect((await connect(base, { authorization: 'Bearer nope' })).status).toBe(401)
    expect((await connect(base, { cookie: `tessera_token_${host.port}=nope` })).status).toBe(401)
    const ok = await connect(`${base}?token=${host.token}`)
    expect(ok.ws).toBeDefined()
    ok.ws!.close()
    // A right token on another path is no socket.
    expect((await connect(`ws://127.0.0.1:${host.port}/other?token=${host.token}`)).status).toBe(404)
  })

  it('the page sets a cookie that is HttpOnly, SameSite=Strict and named per port', async () => {
    const r = await request(host.port, `/?token=${host.token}`)
    const cookie = String(r.headers['set-cookie'])
    expect(cookie).toContain(`tessera_token_${host.port}=${host.token}`)
    expect(cookie).toMatch(/HttpOnly/)
    expect(cookie).toMatch(/SameSite=Strict/)
    expect((await request(host.port, '/assets/app.js', { headers: { cookie: cookie.split(';')[0]! } })).status).toBe(200)
  })
})

describe('browser host security: constant-time token compare', () => {
  it('tokensEqual: equal strings only, any lengths, without throwing', () => {
    const t = 'a'.repeat(43)
    expect(tokensEqual(t, t)).toBe(true)
    expect(tokensEqual(t.slice(0, 42), t)).toBe(false)
    expect(tokensEqual(t + 'a', t)).toBe(false)
    expect(tokensEqual('', t)).toBe(false)
    expect(tokensEqual('', '')).toBe(true)
    expect(tokensEqual('b' + t.slice(1), t)).toBe(false)
    expect(tokensEqual('x'.repeat(100_000), t)).toBe(false)
    expect(tokensEqual('é', 'e\u0301')).toBe(false)
  })

  it('the host compares tokens only through tokensEqual, which uses crypto.timingSafeEqual', () => {
    const src = readFileSync(join(__dirname, '../../src/main/host/browser-host.ts'), 'utf8')
    const fn = /export function tokensEqual[\s\S]*?\n}/.exec(src)![0]
    expect(fn).toContain('timingSafeEqual(')
    // Fixed-length digests: timingSafeEqual never sees inputs of different lengths.
    expect(fn).toMatch(/createHash\('sha256'\)/)
    expect(src).toMatch(/tokensEqual\(c, token\)/)
    expect(src).not.toMatch(/[=!]==?\s*token\b|\btoken\s*[=!]==?/)
  })
})

describe('browser host security: Host and Origin (DNS rebinding)', () => {
  it('a foreign Host is refused (403) even with the right token, over HTTP and WebSocket', async () => {
    const q = `?token=${host.token}`
    for (const h of ['evil.com', `evil.com:${host.port}`, `127.0.0.1.evil.com:${host.port}`, `localhost.evil.com:${host.port}`, `127.0.0.1:${host.port + 1}`, '127.0.0.1', `127.0.0.1:${host.port}@evil.com`])
      expect((await request(host.port, `/${q}`, { headers: { host: h } })).status, JSON.stringify(h)).toBe(403)
    for (const h of [`localhost:${host.port}`, `LOCALHOST:${host.port}`, `127.0.0.1:${host.port}`, `[::1]:${host.port}`])
      expect((await request(host.port, `/${q}`, { headers: { host: h } })).status, h).toBe(200)
    expect((await connect(`ws://127.0.0.1:${host.port}/ws${q}`, { host: `evil.com:${host.port}` })).status).toBe(403)
    // No Host at all (HTTP/1.0) or an empty one.
    expect(await rawStatus(host.port, `GET /${q} HTTP/1.0\r\n\r\n`)).toBe(403)
    expect(await rawStatus(host.port, `GET /${q} HTTP/1.1\r\nHost:\r\nConnection: close\r\n\r\n`)).toBe(403)
    expect(await rawStatus(host.port, `GET /${q} HTTP/1.1\r\nHost: 127.0.0.1:${host.port}\r\nConnection: close\r\n\r\n`)).toBe(200)
    // A refused POST ran nothing.
    const r = await request(host.port, '/api/datasets.create', { method: 'POST', headers: { ...auth(), host: 'evil.com' }, body: '{"name":"x"}' })
    expect(r.status).toBe(403)
    expect(host.context.repos.datasets.list()).toEqual([])
  })

  it('an Origin other than our own is refused (403), over HTTP and WebSocket', async () => {
    const q = `?token=${host.token}`
    const bad = ['http://evil.com', `http://evil.com:${host.port}`, `https://127.0.0.1:${host.port}`, `http://127.0.0.1:${host.port + 1}`, `http://127.0.0.1:${host.port}.evil.com`, 'null', 'file://', `ws://127.0.0.1:${host.port}`]
    for (const origin of bad) {
      expect((await request(host.port, `/api/app.info${q}`, { method: 'POST', headers: { origin } })).status, origin).toBe(403)
      expect((await connect(`ws://127.0.0.1:${host.port}/ws${q}`, { origin })).status, origin).toBe(403)
    }
    const good = await connect(`ws://127.0.0.1:${host.port}/ws${q}`, { origin: `http://localhost:${host.port}` })
    expect(good.ws).toBeDefined()
    good.ws!.close()
    expect((await request(host.port, `/api/app.info${q}`, { method: 'POST', headers: { origin: `http://127.0.0.1:${host.port}` } })).status).toBe(200)
  })
})

describe('browser host security: media routes never leave the library', () => {
  it('encoded ../ variants, backslashes, absolute paths, null bytes and overlong UTF-8 get 400/404, never a file', async () => {
    const sha = addRandomMedia(host.context.library, 1, 100)[0]!
    const ok = await request(host.port, `/media/${sha}`, { headers: auth() })
    expect(ok.status).toBe(200)
    expect(ok.body.length).toBe(100)
    const variants = [
      '../secret.txt',
      '../../secret.txt',
      '..%2fsecret.txt',
      '..%2F..%2Fsecret.txt',
      '%2e%2e%2fsecret.txt',
      '%2e%2e%2f%2e%2e%2fsecret.txt',
      '%2E%2E%2Fsecret.txt',
      '%252e%252e%252fsecret.txt',
      '%25252e%25252e%25252fsecret.txt',
      '..%5csecret.txt',
      '..%5c..%5csecret.txt',
      '..\\..\\secret.txt',
      '%2e%2e%5csecret.txt',
      '%c0%ae%c0%ae%c0%afsecret.txt',
      '%c0%ae%c0%ae/secret.txt',
      '%e0%80%ae%e0%80%ae%e0%80%afsecret.txt',
      '%uff0e%uff0e%u2215secret.txt',
      '%ef%bc%8e%ef%bc%8e%e2%88%95secret.txt',
      `${sha}%00`,
      `${sha}%00.png`,
      '%00../../secret.txt',
      `${sha}/../../../secret.txt`,
      `${sha}/%2e%2e/%2e%2e/secret.txt`,
      encodeURIComponent(join(dir, 'secret.txt')),
      join(dir, 'secret.txt').slice(1),
      '/etc/passwd',
      '%2fetc%2fpasswd',
      'C:%5cWindows%5cwin.ini',
      'file:%2f%2f%2fetc%2fpasswd',
      'library.db',
      '..%2flibrary.db',
      'media',
      '',
      sha.toUpperCase() + 'x',
      sha.slice(0, 63),
      `${sha}.png`,
      `${sha}?x=../secret.txt`.replace('?', '%3f')
    ]
    for (const kind of ['media', 'thumbs']) {
      for (const v of variants) {
        const path = `/${kind}/${v}`
        const r = await request(host.port, path, { headers: auth() })
        expect([400, 404], `${path} -> ${r.status}`).toContain(r.status)
        expect(r.body, path).not.toContain(SECRET)
        expect(r.body, path).not.toContain('SQLite format')
        expect(r.body, path).not.toContain('root:')
        expect(r.body, path).not.toContain('<title>Tessera</title>')
      }
    }
    // Paths outside /media: the renderer listing only (client routes get the page, never a file).
    for (const p of ['/../secret.txt', '/assets/../../secret.txt', '/%2e%2e/secret.txt', '/%2e%2e%2fsecret.txt', '/..%5csecret.txt', '/%252e%252e/secret.txt', '/secret.txt', '/lib/library.db', '/assets/%2e%2e%2f%2e%2e%2fsecret.txt', '/%c0%ae%c0%ae/secret.txt']) {
      const r = await request(host.port, p, { headers: auth() })
      expect(r.body, p).not.toContain(SECRET)
      expect(r.body, p).not.toContain('SQLite format')
    }
  })

  it('a database row that points outside the library is never followed', async () => {
    const [sha] = addRandomMedia(host.context.library, 1, 100)
    for (const bad of ['../secret.txt', '../lib-secret.txt', 'media/../../secret.txt', '..', '.']) {
      host.context.library.db.prepare('UPDATE media SET path = ?, thumb_path = ? WHERE sha256 = ?').run(bad, bad, sha)
      for (const kind of ['media', 'thumbs']) {
        const r = await request(host.port, `/${kind}/${sha}`, { headers: auth() })
        expect(r.status, `${kind} ${bad}`).toBe(404)
        expect(r.body).not.toContain(SECRET)
      }
    }
  })

  it('media answers carry a sandboxing CSP and nosniff', async () => {
    const [sha] = addRandomMedia(host.context.library, 1, 10)
    const r = await request(host.port, `/media/${sha}`, { headers: auth() })
    expect(r.headers['content-security-policy']).toMatch(/default-src 'none'.*sandbox/)
    expect(r.headers['x-content-type-options']).toBe('nosniff')
  })
})

describe('browser host security: no CORS', () => {
  it('answers carry no Access-Control-* header, authorised or not', async () => {
    const [sha] = addRandomMedia(host.context.library, 1, 10)
    const own = { origin: `http://127.0.0.1:${host.port}` }
    const replies = [
      await request(host.port, `/?token=${host.token}`, { headers: own }),
      await request(host.port, `/media/${sha}`, { headers: { ...auth(), ...own } }),
      await request(host.port, '/api/app.info', { method: 'POST', headers: { ...auth(), ...own } }),
      await request(host.port, '/api/app.info', { method: 'POST', headers: { ...auth(), origin: 'http://evil.com' } }),
      await request(host.port, '/api/app.info', { method: 'POST', headers: { origin: 'http://evil.com' } }),
      await request(host.port, '/', { headers: { origin: 'http://evil.com' } })
    ]
    for (const r of replies) for (const h of Object.keys(r.headers)) expect(h).not.toMatch(/^access-control-/)
  })

  it('an OPTIONS preflight is never honoured: 403 from another origin, 405 even from our own', async () => {
    const preflight = (origin: string, extra: Record<string, string> = {}) =>
      request(host.port, '/api/datasets.create', {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type', ...extra }
      })
    const foreign = await preflight('http://evil.com', auth())
    expect(foreign.status).toBe(403)
    const ownNoToken = await preflight(`http://127.0.0.1:${host.port}`)
    expect(ownNoToken.status).toBe(401)
    const ownWithToken = await preflight(`http://127.0.0.1:${host.port}`, auth())
    expect(ownWithToken.status).toBe(405)
    for (const r of [foreign, ownNoToken, ownWithToken]) {
      expect(r.status).not.toBe(200)
      expect(r.status).not.toBe(204)
      for (const h of Object.keys(r.headers)) expect(h).not.toMatch(/^access-control-/)
    }
    expect(host.context.repos.datasets.list()).toEqual([])
  })

  it('the page may not be framed by another site', async () => {
    const r = await request(host.port, `/?token=${host.token}`)
    expect(r.headers['x-frame-options']).toBe('DENY')
    expect(String(r.headers['content-security-policy'])).toContain("frame-ancestors 'none'")
    expect(r.headers['cross-origin-resource-policy']).toBe('same-origin')
  })
})
