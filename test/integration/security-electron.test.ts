// Electron security checklist, one test per item, against the very functions and objects
// src/main/index.ts hands to Electron (host/electron-security.ts). The Electron binary
// is not on these machines, so the window itself is not started; the IPC sender check
// (ipc-core.ts senderAllowed) has its own tests in test/unit/host/ipc-core.test.ts.

import { readFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type AppContext, createContext } from '../../src/main/context'
import {
  appSchemeHandler,
  denyPermissionCheck,
  denyPermissionRequest,
  isOwnPage,
  navigationGuard,
  PAGE_CSP,
  remoteRequestFilter,
  studioStartUrl,
  studioWebPreferences,
  studioWindowOptions,
  windowOpenHandler
} from '../../src/main/host/electron-security'
import { addRandomMedia } from '../unit/jobs/media'
import { tempDir } from '../unit/library/tmp'

const ROOT = join(__dirname, '../..')
const DEV = 'http://localhost:5173'

/** Runs a navigation guard and says whether it let the navigation through. */
function navigates(guard: ReturnType<typeof navigationGuard>, url: string): boolean {
  let prevented = false
  guard({ preventDefault: () => (prevented = true) }, url)
  return !prevented
}

describe('Electron: the window', () => {
  it('isolates the renderer: contextIsolation on, sandbox on, no Node integration anywhere', () => {
    const p = studioWebPreferences('/app/preload.js')
    expect(p.contextIsolation).toBe(true)
    expect(p.sandbox).toBe(true)
    expect(p.nodeIntegration).toBe(false)
    expect(p.nodeIntegrationInWorker).toBe(false)
    expect(p.nodeIntegrationInSubFrames).toBe(false)
    expect(p.preload).toBe('/app/preload.js')
  })

  it('keeps web security on: no insecure content, no <webview>, no experimental features', () => {
    const p = studioWebPreferences('/p.js')
    expect(p.webSecurity).toBe(true)
    expect(p.allowRunningInsecureContent).toBe(false)
    expect(p.webviewTag).toBe(false)
    expect(p.experimentalFeatures).toBe(false)
    expect(p.navigateOnDragDrop).toBe(false)
  })

  it('the window options carry exactly those webPreferences', () => {
    const o = studioWindowOptions({ preload: '/p.js', dark: true })
    expect(o.webPreferences).toEqual(studioWebPreferences('/p.js'))
    expect(o.show).toBe(false)
  })

  it('loads no remote content: the start page is our own scheme (the dev server only in development)', () => {
    expect(studioStartUrl()).toBe('tessera://app/index.html')
    expect(isOwnPage(studioStartUrl())).toBe(true)
    expect(studioStartUrl(DEV)).toBe(DEV)
  })

  it('index.ts wires these functions and never sets its own webPreferences', () => {
    const src = readFileSync(join(ROOT, 'src/main/index.ts'), 'utf8')
    for (const name of ['studioWindowOptions', 'navigationGuard', 'windowOpenHandler', 'denyPermissionRequest', 'denyPermissionCheck', 'remoteRequestFilter', 'handleAppScheme'])
      expect(src).toContain(name)
    expect(src).not.toMatch(/webPreferences\s*:/)
    expect(src).toMatch(/'will-navigate', guard/)
    expect(src).toMatch(/'will-redirect', guard/)
  })
})

describe('Electron: navigation and new windows', () => {
  it('will-navigate / will-redirect: only our own page, never another site, file: or javascript:', () => {
    const guard = navigationGuard()
    expect(navigates(guard, 'tessera://app/index.html')).toBe(true)
    expect(navigates(guard, 'tessera://app/datasets')).toBe(true)
    for (const url of [
      'https://evil.example/',
      'http://127.0.0.1:8080/',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'tessera://other/index.html',
      'tessera://app.evil.example/',
      'tessera://app@evil.example/',
      DEV,
      'not a url'
    ])
      expect(navigates(guard, url), url).toBe(false)
  })

  it('in development the dev server origin, and only it, is allowed too', () => {
    const guard = navigationGuard(DEV)
    expect(navigates(guard, `${DEV}/labels`)).toBe(true)
    expect(navigates(guard, 'http://localhost:5174/')).toBe(false)
    expect(navigates(guard, 'https://localhost:5173/')).toBe(false)
  })

  it('setWindowOpenHandler: every new window is denied; only https links go to the system browser', () => {
    const opened: string[] = []
    const handler = windowOpenHandler((u) => opened.push(u))
    for (const url of ['https://onnxruntime.ai/docs', 'http://example.com/', 'file:///etc/passwd', 'javascript:alert(1)', 'tessera://app/index.html', 'https://user:pw@evil.example/', 'nonsense'])
      expect(handler({ url })).toEqual({ action: 'deny' })
    expect(opened).toEqual(['https://onnxruntime.ai/docs'])
  })
})

describe('Electron: permissions', () => {
  it('every permission request is denied', () => {
    for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read', 'midi', 'openExternal', 'fullscreen', 'pointerLock']) {
      let granted: boolean | undefined
      denyPermissionRequest({}, permission, (g) => (granted = g))
      expect(granted, permission).toBe(false)
    }
  })

  it('every permission check answers not granted', () => {
    expect(denyPermissionCheck()).toBe(false)
  })
})

describe('Electron: remote requests', () => {
  const cancelled = (filter: ReturnType<typeof remoteRequestFilter>, url: string): boolean => {
    let cancel: boolean | undefined
    filter({ url }, (r) => (cancel = r.cancel))
    return cancel!
  }

  it('cancels every http(s) and ws(s) request; our own scheme and data: go through', () => {
    const f = remoteRequestFilter()
    for (const url of ['https://cdn.example/x.js', 'http://127.0.0.1:9000/', 'ws://evil.example/ws', 'wss://evil.example/', 'HTTPS://EVIL.EXAMPLE/'])
      expect(cancelled(f, url), url).toBe(true)
    for (const url of ['tessera://app/index.html', 'tessera://app/media/' + 'a'.repeat(64), 'data:image/png;base64,AAAA', 'devtools://devtools/bundled/x'])
      expect(cancelled(f, url), url).toBe(false)
  })

  it('in development, the dev server (and its HMR socket) only', () => {
    const f = remoteRequestFilter(DEV)
    expect(cancelled(f, `${DEV}/src/main.tsx`)).toBe(false)
    expect(cancelled(f, 'ws://localhost:5173/')).toBe(false)
    expect(cancelled(f, 'http://localhost:5174/')).toBe(true)
    expect(cancelled(f, 'http://localhost:5173.evil.example/')).toBe(true)
  })
})

describe('Electron: the tessera://app protocol', () => {
  let ctx: AppContext
  let cleanup: () => void
  let handler: ReturnType<typeof appSchemeHandler>
  let dir: string
  const get = (url: string, method = 'GET') => handler({ url, method })

  beforeEach(() => {
    const t = tempDir()
    dir = t.dir
    cleanup = t.cleanup
    const renderer = join(dir, 'renderer')
    mkdirSync(join(renderer, 'assets'), { recursive: true })
    writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>Tessera</title>')
    writeFileSync(join(renderer, 'assets', 'app.js'), 'console.log(1)')
    writeFileSync(join(dir, 'secret.txt'), 'not for the page')
    ctx = createContext({ libraryDir: join(dir, 'lib'), host: 'electron' })
    handler = appSchemeHandler(ctx, renderer)
  })
  afterEach(async () => {
    await ctx?.close()
    cleanup?.()
  })

  it('serves the page with a strict CSP header (no inline or remote script) and nosniff', async () => {
    const r = await get('tessera://app/index.html')
    expect(r.status).toBe(200)
    expect(await r.text()).toContain('<title>Tessera</title>')
    const csp = r.headers.get('content-security-policy')!
    expect(csp).toBe(PAGE_CSP)
    expect(csp).toContain("default-src 'none'")
    expect(csp).toContain("script-src 'self'")
    expect(csp).not.toMatch(/script-src[^;]*(unsafe|https?:|\*)/)
    expect(csp).toContain("object-src 'none'")
    expect(csp).toContain("frame-ancestors 'none'")
    expect(r.headers.get('x-content-type-options')).toBe('nosniff')
    // Client-side routes get the page, with the same header.
    expect((await get('tessera://app/labels')).headers.get('content-security-policy')).toBe(PAGE_CSP)
  })

  it('the page also carries a CSP meta tag without unsafe script sources', () => {
    const html = readFileSync(join(ROOT, 'src/renderer/index.html'), 'utf8')
    const meta = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1]
    expect(meta).toBeDefined()
    expect(meta).toMatch(/script-src 'self'(;|$)/)
    expect(meta).not.toMatch(/unsafe-eval|script-src[^;]*unsafe-inline/)
  })

  it('serves renderer files from the start-up listing only: no traversal to other files', async () => {
    expect((await get('tessera://app/assets/app.js')).status).toBe(200)
    for (const p of ['/../secret.txt', '/assets/../../secret.txt', '/%2e%2e/secret.txt', '/%2e%2e%2fsecret.txt', '/assets/%2e%2e%2f%2e%2e%2fsecret.txt', '/..%5csecret.txt', '/%252e%252e/secret.txt', '/secret.txt', '/lib/library.db', '/%00', `/${dir}/secret.txt`]) {
      const r = await get(`tessera://app${p}`)
      const body = await r.text()
      expect(body, p).not.toContain('not for the page')
      expect(body, p).not.toContain('SQLite format')
    }
  })

  it('serves library media by hash through the database only', async () => {
    const [sha] = addRandomMedia(ctx.library, 1, 64)
    const ok = await get(`tessera://app/media/${sha}`)
    expect(ok.status).toBe(200)
    expect((await ok.arrayBuffer()).byteLength).toBe(64)
    expect(ok.headers.get('content-security-policy')).toMatch(/sandbox/)
    expect((await get(`tessera://app/media/${'c'.repeat(64)}`)).status).toBe(404)
    for (const p of ['/media/..%2f..%2fsecret.txt', '/media/%2e%2e%2f%2e%2e%2fsecret.txt', '/media/library.db', `/media/${sha}/%2e%2e/%2e%2e/secret.txt`, `/media/${sha}%00.png`])
      expect((await get(`tessera://app${p}`)).status, p).toBe(404)
    // A row whose path leaves the library is never followed.
    ctx.library.db.prepare('UPDATE media SET path = ? WHERE sha256 = ?').run('../secret.txt', sha)
    expect((await get(`tessera://app/media/${sha}`)).status).toBe(404)
  })

  it('answers nothing for another host or a method other than GET/HEAD', async () => {
    expect((await get('tessera://other/index.html')).status).toBe(404)
    expect((await get('tessera://app/index.html', 'POST')).status).toBe(404)
    expect((await get('tessera://app/index.html', 'PUT')).status).toBe(404)
  })
})
