// The studio window's own origin, `tessera://app/`: the built renderer and the
// library's media under one privileged standard scheme, so the page's relative
// `/media/<sha256>` and `/thumbs/<sha256>` URLs work in Electron exactly as in the
// browser host, with a CSP header on the page. Nothing here reads a path from the URL:
// renderer files come from a listing made at start, media from the database by hash.

import { readFile } from 'node:fs/promises'
import { extname } from 'node:path'
import { protocol } from 'electron'
import { type AppContext } from '../context'
import { APP_ORIGIN } from './ipc-channels'
import { MEDIA_CSP, MIME, mediaFile, parseMediaPath, scanRenderer } from './static-files'

export const APP_SCHEME = 'tessera'
export { APP_ORIGIN }

const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'"
].join('; ')

/** Must run before the app is ready. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([
    { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true, codeCache: true } }
  ])
}

const notFound = (): Response => new Response('Not found', { status: 404, headers: { 'Content-Type': 'text/plain; charset=utf-8' } })

export function handleAppScheme(context: AppContext, rendererDir: string): void {
  const files = scanRenderer(rendererDir)
  protocol.handle(APP_SCHEME, async (request) => {
    const url = new URL(request.url)
    if (url.host !== 'app' || request.method !== 'GET') return notFound()
    const media = parseMediaPath(url.pathname)
    if (media) {
      const file = mediaFile(context, media.kind, media.sha)
      if (!file) return notFound()
      return new Response(await readFile(file.path), {
        headers: { 'Content-Type': file.mime, 'Content-Security-Policy': MEDIA_CSP, 'Cache-Control': 'private, max-age=31536000, immutable' }
      })
    }
    const index = files.get('/index.html')
    let file = url.pathname === '/' ? index : files.get(url.pathname)
    if (!file && extname(url.pathname) === '') file = index // client-side routes
    if (!file) return notFound()
    const headers: Record<string, string> = { 'Content-Type': MIME[extname(file).toLowerCase()] ?? 'application/octet-stream', 'X-Content-Type-Options': 'nosniff' }
    if (file === index) headers['Content-Security-Policy'] = PAGE_CSP
    return new Response(await readFile(file), { headers })
  })
}
