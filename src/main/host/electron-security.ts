// The Electron window's security policy as plain functions and objects: the window's
// webPreferences, the navigation and new-window guards, the permission handlers, the
// filter that refuses remote requests and the `tessera://app` protocol handler. index.ts
// wires them into Electron; tests call them under plain Node (the Electron binary is not
// on our build machines). Only Electron *types* are imported here.

import { readFile } from 'node:fs/promises'
import { extname } from 'node:path'
import type { BrowserWindowConstructorOptions, HandlerDetails, WebPreferences } from 'electron'
import { type AppContext } from '../context'
import { APP_ORIGIN } from './ipc-channels'
import { MEDIA_CSP, MIME, mediaFile, parseMediaPath, scanRenderer } from './static-files'

/** The CSP header on the studio page served from tessera://app (scripts only from the app itself). */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'"
].join('; ')

/** The renderer gets no Node, runs sandboxed and isolated, and loads nothing insecure. */
export function studioWebPreferences(preload: string): WebPreferences {
  return {
    preload,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    safeDialogs: true,
    spellcheck: false
  }
}

export function studioWindowOptions(opts: { preload: string; dark: boolean }): BrowserWindowConstructorOptions {
  return {
    width: 1360,
    height: 880,
    minWidth: 960,
    minHeight: 600,
    show: false,
    title: 'Tessera Studio',
    backgroundColor: opts.dark ? '#121212' : '#fafafa',
    autoHideMenuBar: true,
    webPreferences: studioWebPreferences(opts.preload)
  }
}

/** The URL the window loads: the built renderer on tessera://app, or the dev server in development. */
export function studioStartUrl(devServerUrl?: string): string {
  return devServerUrl ?? `${APP_ORIGIN}/index.html`
}

/** Only our own page may be shown: the built renderer (tessera://app) or, in development, the dev server. */
export function isOwnPage(url: string, devServerUrl?: string): boolean {
  try {
    const u = new URL(url)
    // Node's URL gives non-special schemes an opaque origin, so compare scheme and host.
    if (`${u.protocol}//${u.host}` === APP_ORIGIN) return true
    return devServerUrl !== undefined && u.origin === new URL(devServerUrl).origin
  } catch {
    return false
  }
}

/** For `will-navigate` and `will-redirect`: anything but our own page is stopped. */
export function navigationGuard(devServerUrl?: string): (event: { preventDefault(): void }, url: string) => void {
  return (event, url) => {
    if (!isOwnPage(url, devServerUrl)) event.preventDefault()
  }
}

/**
 * For `setWindowOpenHandler`: never a new Electron window. An https link is handed to the
 * user's browser; everything else (http, file, javascript:, our own scheme) is dropped.
 */
export function windowOpenHandler(openExternal: (url: string) => void): (details: Pick<HandlerDetails, 'url'>) => { action: 'deny' } {
  return ({ url }) => {
    let parsed: URL | null
    try {
      parsed = new URL(url)
    } catch {
      parsed = null
    }
    if (parsed && parsed.protocol === 'https:' && parsed.username === '' && parsed.password === '') openExternal(parsed.href)
    return { action: 'deny' }
  }
}

/** setPermissionRequestHandler: camera, microphone, notifications, geolocation, ... all refused. */
export function denyPermissionRequest(_webContents: unknown, _permission: string, callback: (granted: boolean) => void): void {
  callback(false)
}

/** setPermissionCheckHandler: every check answers "not granted". */
export function denyPermissionCheck(): boolean {
  return false
}

/**
 * webRequest.onBeforeRequest: nothing is loaded from the network. http(s) and ws(s) requests
 * are cancelled, except to the dev server in development.
 */
export function remoteRequestFilter(devServerUrl?: string): (details: { url: string }, callback: (response: { cancel: boolean }) => void) => void {
  const devOrigin = devServerUrl ? new URL(devServerUrl).origin : undefined
  return (details, callback) => {
    let remote = true
    try {
      const u = new URL(details.url)
      if (!/^(https?|wss?):$/.test(u.protocol)) remote = false
      else if (devOrigin !== undefined && `${u.protocol.replace(/^ws/, 'http')}//${u.host}` === devOrigin) remote = false
    } catch {
      remote = true
    }
    callback({ cancel: remote })
  }
}

const notFound = (): Response => new Response('Not found', { status: 404, headers: { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' } })

/**
 * The `tessera://app/` handler (electron-protocol.ts passes it to protocol.handle): the
 * built renderer's files, listed once at start, and library media by hash through the
 * database. A request path is only a lookup key, never a file path.
 */
export function appSchemeHandler(context: AppContext, rendererDir: string): (request: Pick<Request, 'url' | 'method'>) => Promise<Response> {
  const files = scanRenderer(rendererDir)
  return async (request) => {
    let url: URL
    try {
      url = new URL(request.url)
    } catch {
      return notFound()
    }
    if (`${url.protocol}//${url.host}` !== APP_ORIGIN || (request.method !== 'GET' && request.method !== 'HEAD')) return notFound()
    const media = parseMediaPath(url.pathname)
    if (media) {
      const file = mediaFile(context, media.kind, media.sha)
      if (!file) return notFound()
      return new Response(new Uint8Array(await readFile(file.path)), {
        headers: {
          'Content-Type': file.mime,
          'Content-Security-Policy': MEDIA_CSP,
          'X-Content-Type-Options': 'nosniff',
          'Cache-Control': 'private, max-age=31536000, immutable'
        }
      })
    }
    // Anything else under /media/ or /thumbs/ is not a hash: never the page, never a file.
    if (/^\/(media|thumbs)(\/|$)/.test(url.pathname)) return notFound()
    const index = files.get('/index.html')
    let file = url.pathname === '/' ? index : files.get(url.pathname)
    if (!file && extname(url.pathname) === '') file = index // client-side routes
    if (!file) return notFound()
    const headers: Record<string, string> = {
      'Content-Type': MIME[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'X-Content-Type-Options': 'nosniff'
    }
    if (file === index) headers['Content-Security-Policy'] = PAGE_CSP
    return new Response(new Uint8Array(await readFile(file)), { headers })
  }
}
