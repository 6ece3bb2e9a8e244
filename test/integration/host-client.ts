// A raw HTTP / WebSocket client for browser-host tests: every header is ours to set
// (Host, Origin, Cookie), and the path is sent as written, without normalisation.

import { request as httpRequest } from 'node:http'
import { connect as connectTcp } from 'node:net'
import { WebSocket } from 'ws'

export interface Reply {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

export function request(
  port: number,
  path: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string; agent?: false } = {}
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: { host: `127.0.0.1:${port}`, ...opts.headers }, agent: opts.agent },
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
export function connect(url: string, headers: Record<string, string> = {}): Promise<{ ws?: WebSocket; status?: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers })
    ws.on('open', () => resolve({ ws }))
    ws.on('unexpected-response', (_req, res) => resolve({ status: res.statusCode ?? 0 }))
    ws.on('error', () => resolve({ status: -1 }))
  })
}

/** Sends `head` (request line and headers, as written) over a plain socket; resolves with the status code. */
export function rawStatus(port: number, head: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp(port, '127.0.0.1', () => socket.write(head))
    let text = ''
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')))
    socket.on('end', () => resolve(Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0)))
    socket.on('error', reject)
  })
}
