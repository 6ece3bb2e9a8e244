// The browser host: the studio over HTTP + WebSocket on a loopback address. Every
// request and socket must carry the per-start random token, come with a loopback
// Host (with our actual port) and, when present, a matching Origin. Contract calls
// go through the same dispatcher as Electron IPC. Protocol: docs/browser-host.md.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { createReadStream, readFileSync, statSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { networkInterfaces } from 'node:os'
import { extname } from 'node:path'
import { type Duplex } from 'node:stream'
import { WebSocket, WebSocketServer } from 'ws'
import { fail, type Result } from '../../shared/result'
import { type AppContext, createContext } from '../context'
import { AppError } from '../errors'
import { createServices } from '../services'
import { createDispatcher, type Dispatch } from './dispatch'
import { MEDIA_CSP, MIME, mediaFile, parseMediaPath, scanRenderer } from './static-files'

export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]'])

export interface BrowserHostOptions {
  /** Library folder; a context is opened for it and closed with the host. */
  library?: string
  /** Or an already open context (its lifetime stays with the caller). */
  context?: AppContext
  port?: number
  host?: string
  allowRemote?: boolean
  /** The built renderer (out/renderer). */
  rendererDir: string
}

export interface BrowserHost {
  url: string
  port: number
  token: string
  context: AppContext
  close(): Promise<void>
}

/** `--host` was not a loopback name and `--allow-remote` was not given. */
export class RemoteHostRefusedError extends AppError {
  constructor(host: string) {
    super(
      'FORBIDDEN',
      `Refusing to serve on ${host}: anyone who can reach that address could use the studio. Use 127.0.0.1, or pass --allow-remote if you really mean it.`
    )
    this.name = 'RemoteHostRefusedError'
  }
}

export const isLoopbackHost = (h: string): boolean => LOOPBACK.has(h.toLowerCase())

function csp(hostHeader: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src 'self' ws://${hostHeader}`,
    "worker-src 'self' blob:",
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'"
  ].join('; ')
}

/**
 * Compares a presented token with ours in constant time. Both are hashed first, so the
 * comparison always runs over 32 bytes: neither the position of the first wrong
 * character nor the presented length changes how long it takes (timingSafeEqual itself
 * throws on unequal lengths).
 */
export function tokensEqual(presented: string, expected: string): boolean {
  const x = createHash('sha256').update(presented, 'utf8').digest()
  const y = createHash('sha256').update(expected, 'utf8').digest()
  return timingSafeEqual(x, y)
}

function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>()
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=')
    if (i > 0) out.set(part.slice(0, i).trim(), part.slice(i + 1).trim())
  }
  return out
}

export async function startBrowserHost(options: BrowserHostOptions): Promise<BrowserHost> {
  const bindHost = options.host ?? '127.0.0.1'
  if (!isLoopbackHost(bindHost) && !options.allowRemote) throw new RemoteHostRefusedError(bindHost)
  if (!options.context && !options.library) throw new Error('startBrowserHost needs a library folder or a context')

  const ownsContext = !options.context
  const context = options.context ?? createContext({ libraryDir: options.library!, host: 'browser', startJobs: true })
  const dispatch: Dispatch = createDispatcher(createServices(context))
  const token = randomBytes(32).toString('base64url')
  let rendererFiles = scanRenderer(options.rendererDir)

  let cookieName = ''
  const allowedHosts = new Set<string>()

  const hostAllowed = (req: IncomingMessage): string | null => {
    const host = (req.headers.host ?? '').toLowerCase()
    if (!allowedHosts.has(host)) return null
    const origin = req.headers.origin
    if (origin !== undefined && !(origin.startsWith('http://') && allowedHosts.has(origin.slice('http://'.length).toLowerCase()))) return null
    return host
  }

  const tokenOk = (req: IncomingMessage, url: URL): boolean => {
    const auth = req.headers.authorization
    const candidates = [
      auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length).trim() : undefined,
      typeof req.headers['x-tessera-token'] === 'string' ? req.headers['x-tessera-token'] : undefined,
      url.searchParams.get('token') ?? undefined,
      parseCookies(req.headers.cookie).get(cookieName)
    ]
    return candidates.some((c) => c !== undefined && tokensEqual(c, token))
  }

  const baseHeaders = (res: ServerResponse): void => {
    res.setHeader('X-Content-Type-Options', 'nosniff')
    res.setHeader('Referrer-Policy', 'no-referrer')
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin')
    res.setHeader('X-Frame-Options', 'DENY')
  }

  const sendJson = (res: ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body)
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(text) })
    res.end(text)
  }

  const sendError = (res: ServerResponse, status: number, result: Result<never>): void => sendJson(res, status, result)

  const readBody = (req: IncomingMessage): Promise<Buffer | null> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = []
      let size = 0
      req.on('data', (c: Buffer) => {
        size += c.length
        if (size > MAX_MESSAGE_BYTES) {
          chunks.length = 0
          resolve(null) // the rest is read and dropped; the 413 closes the connection
        } else chunks.push(c)
      })
      req.on('end', () => resolve(Buffer.concat(chunks)))
      req.on('error', reject)
    })

  const serveMedia = (res: ServerResponse, kind: 'media' | 'thumbs', sha: string): void => {
    const file = mediaFile(context, kind, sha)
    if (!file) return sendError(res, 404, fail('NOT_FOUND', 'No such file in the library.'))
    const st = statSync(file.path)
    res.writeHead(200, {
      'Content-Type': file.mime,
      'Content-Length': st.size,
      'Cache-Control': 'private, max-age=31536000, immutable',
      'Content-Security-Policy': MEDIA_CSP
    })
    createReadStream(file.path).pipe(res)
  }

  const serveStatic = (req: IncomingMessage, res: ServerResponse, pathname: string, hostHeader: string): void => {
    if (rendererFiles.size === 0) rendererFiles = scanRenderer(options.rendererDir)
    const index = rendererFiles.get('/index.html')
    let file = pathname === '/' ? index : rendererFiles.get(pathname)
    // Client-side routes (no extension) get the app.
    if (!file && extname(pathname) === '') file = index
    if (!file) {
      if (!index) {
        res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' })
        return void res.end('The studio page is not built yet: run `npm run build`, then reload.\n')
      }
      return sendError(res, 404, fail('NOT_FOUND', 'No such page.'))
    }
    const isIndex = file === index
    const headers: Record<string, string | number> = {
      'Content-Type': MIME[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'Cache-Control': 'no-store'
    }
    if (isIndex) {
      headers['Content-Security-Policy'] = csp(hostHeader)
      // Lets the browser authorise the page's own asset, media and socket requests.
      headers['Set-Cookie'] = `${cookieName}=${token}; HttpOnly; SameSite=Strict; Path=/`
    }
    if (req.method === 'HEAD') {
      res.writeHead(200, headers)
      return void res.end()
    }
    const body = readFileSync(file)
    headers['Content-Length'] = body.length
    res.writeHead(200, headers)
    res.end(body)
  }

  const server = createServer((req, res) => {
    baseHeaders(res)
    const hostHeader = hostAllowed(req)
    if (!hostHeader) return sendError(res, 403, fail('FORBIDDEN', 'This request came from a host or origin the studio does not serve.'))
    const url = new URL(req.url ?? '/', 'http://localhost')
    if (!tokenOk(req, url)) return sendError(res, 401, fail('UNAUTHORIZED', 'Open the studio with the URL that `tessera serve` printed; it carries the access token.'))
    const path = url.pathname

    if (path.startsWith('/api/')) {
      if (req.method !== 'POST') return sendError(res, 405, fail('FORBIDDEN', 'Contract calls are POST requests.'))
      let method: string
      try {
        method = decodeURIComponent(path.slice('/api/'.length))
      } catch {
        // A malformed escape (%E0%A4%A) must not reach the server's 'request' listener as a throw: that ends the process.
        return sendError(res, 400, fail('VALIDATION', 'The method name in the URL is not valid percent-encoding.'))
      }
      void readBody(req).then(
        async (body) => {
          if (body === null) {
            res.setHeader('Connection', 'close')
            return sendError(res, 413, fail('VALIDATION', 'The request body is larger than 16 MiB.'))
          }
          let input: unknown = {}
          if (body.length > 0) {
            try {
              input = JSON.parse(body.toString('utf8'))
            } catch {
              return sendError(res, 400, fail('VALIDATION', 'The request body is not JSON.'))
            }
          }
          sendJson(res, 200, await dispatch(method, input))
        },
        () => sendError(res, 400, fail('VALIDATION', 'The request body could not be read.'))
      )
      return
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, 405, fail('FORBIDDEN', 'Only GET here.'))
    const media = parseMediaPath(path)
    if (media) return serveMedia(res, media.kind, media.sha)
    // Anything else under /media/ or /thumbs/ is not a hash: never the page, never a file.
    if (/^\/(media|thumbs)(\/|$)/.test(path)) return sendError(res, 404, fail('NOT_FOUND', 'No such file in the library.'))
    if (path === '/ws') return sendError(res, 400, fail('VALIDATION', 'Open /ws as a WebSocket.'))
    serveStatic(req, res, path, hostHeader)
  })

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES })

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const refuse = (status: number, text: string): void => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
    }
    if (!hostAllowed(req)) return refuse(403, 'Forbidden')
    const url = new URL(req.url ?? '/', 'http://localhost')
    if (!tokenOk(req, url)) return refuse(401, 'Unauthorized')
    if (url.pathname !== '/ws') return refuse(404, 'Not Found')
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req))
  })

  wss.on('connection', (ws: WebSocket) => {
    const unsubscribe = context.bus.onAny((event, payload) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ event, payload }))
    })
    ws.on('close', unsubscribe)
    ws.on('error', () => ws.terminate())
    ws.on('message', (data, isBinary) => {
      let id: unknown = null
      void (async () => {
        let result: Result<unknown>
        try {
          if (isBinary) throw new Error('binary')
          const msg = JSON.parse(data.toString()) as { id?: unknown; method?: unknown; input?: unknown }
          id = typeof msg.id === 'number' || typeof msg.id === 'string' ? msg.id : null
          result =
            typeof msg.method === 'string'
              ? await dispatch(msg.method, msg.input)
              : fail('VALIDATION', 'A call needs a "method" (and an "id" and "input").', 'method')
        } catch {
          result = fail('VALIDATION', 'Messages are JSON text: {"id", "method", "input"}.')
        }
        if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ id, result }))
      })()
    })
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, bindHost, () => {
      server.off('error', reject)
      resolve()
    })
  }).catch(async (e: NodeJS.ErrnoException) => {
    if (ownsContext) await context.close()
    if (e.code === 'EADDRINUSE') throw new AppError('CONFLICT', `Port ${options.port} on ${bindHost} is already in use: pick another with --port, or --port 0 for any free one.`)
    if (e.code === 'EACCES') throw new AppError('FORBIDDEN', `Not allowed to listen on port ${options.port}: pick a port above 1023, or --port 0.`)
    if (e.code === 'EADDRNOTAVAIL') throw new AppError('UNSUPPORTED', `This machine has no address ${bindHost} to listen on.`)
    throw e
  })

  const addr = server.address()
  const port = typeof addr === 'object' && addr ? addr.port : 0
  cookieName = `tessera_token_${port}` // cookies ignore ports: one name per server
  for (const h of ['127.0.0.1', 'localhost', '[::1]']) allowedHosts.add(`${h}:${port}`)
  if (!isLoopbackHost(bindHost)) {
    const wildcard = bindHost === '0.0.0.0' || bindHost === '::'
    const names = wildcard
      ? Object.values(networkInterfaces())
          .flat()
          .map((i) => i?.address)
          .filter((a): a is string => !!a)
      : [bindHost]
    for (const n of names) allowedHosts.add(`${n.includes(':') ? `[${n}]` : n}:${port}`.toLowerCase())
  }

  const shownHost = isLoopbackHost(bindHost) ? '127.0.0.1' : bindHost.includes(':') ? `[${bindHost}]` : bindHost
  const url = `http://${shownHost}:${port}/?token=${token}`

  return {
    url,
    port,
    token,
    context,
    async close() {
      for (const c of wss.clients) c.terminate()
      wss.close()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      if (ownsContext) await context.close()
    }
  }
}
