// Fault injection support: a real `tessera serve` child process (from source), its contract over
// HTTP and its events over the WebSocket, SIGKILL at a chosen moment, and the checks a library
// must pass after a crash (SQLite integrity, every visible media/output/model file whole).

import { spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import Database from 'better-sqlite3'
import sharp from 'sharp'
import { WebSocket } from 'ws'
import { type EventName, type Events } from '../../src/shared/contract'
import { type Result } from '../../src/shared/result'
import { readSafetensors } from '../../src/main/ml/interop/safetensors'

export const ROOT = resolve(__dirname, '../..')
export const CLI = resolve(ROOT, 'src/main/cli/index.ts')
export const FIXTURES = resolve(ROOT, '..', 'shared', 'fixtures')

export interface Served {
  child: ChildProcess
  port: number
  token: string
  /** A contract call over HTTP; rejects when the connection dies (the host was killed). */
  call<T = unknown>(method: string, input: unknown): Promise<Result<T>>
  /** Resolves with the first event of that name whose payload passes `match` (from now on). */
  next<E extends EventName>(event: E, match: (p: Events[E]) => boolean, timeoutMs?: number): Promise<Events[E]>
  /** SIGKILL: no chance to flush, close or clean up. */
  kill(): Promise<void>
  /** SIGTERM and wait (a clean stop). */
  stop(): Promise<void>
  output(): string
}

/** Starts `tessera --library lib serve` and connects its event socket. */
export async function serve(lib: string, env: Record<string, string> = {}): Promise<Served> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, '--library', lib, 'serve', '--port', '0', '--no-open'], {
    cwd: ROOT,
    env: { ...process.env, TESSERA_LIBRARY: '', TESSERA_SAMPLES: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let log = ''
  child.stdout!.on('data', (d: Buffer) => (log += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()))
  const exited = new Promise<void>((r) => child.once('exit', () => r()))
  const { port, token } = await new Promise<{ port: number; token: string }>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`tessera serve printed no URL in 60 s:\n${log}`)), 60_000)
    const look = (): void => {
      const m = /http:\/\/127\.0\.0\.1:(\d+)\/\?token=([A-Za-z0-9_-]+)/.exec(log)
      if (m) {
        clearTimeout(timer)
        res({ port: Number(m[1]), token: m[2]! })
      }
    }
    child.stdout!.on('data', look)
    child.once('exit', (code) => rej(new Error(`tessera serve exited (${code}):\n${log}`)))
  })
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?token=${token}`)
  await new Promise<void>((res, rej) => {
    ws.once('open', () => res())
    ws.once('error', rej)
  })
  ws.on('error', () => undefined) // the host dies under it on purpose
  const listeners = new Set<(event: string, payload: unknown) => void>()
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString()) as { event?: string; payload?: unknown }
    if (msg.event) for (const l of [...listeners]) l(msg.event, msg.payload)
  })
  return {
    child,
    port,
    token,
    output: () => log,
    async call<T>(method: string, input: unknown): Promise<Result<T>> {
      const res = await fetch(`http://127.0.0.1:${port}/api/${method}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(input)
      })
      return (await res.json()) as Result<T>
    },
    next<E extends EventName>(event: E, match: (p: Events[E]) => boolean, timeoutMs = 120_000): Promise<Events[E]> {
      return new Promise((res, rej) => {
        const timer = setTimeout(() => {
          listeners.delete(l)
          rej(new Error(`no ${event} event matched in ${timeoutMs} ms:\n${log}`))
        }, timeoutMs)
        const l = (e: string, p: unknown): void => {
          if (e !== event || !match(p as Events[E])) return
          clearTimeout(timer)
          listeners.delete(l)
          res(p as Events[E])
        }
        listeners.add(l)
      })
    },
    async kill() {
      ws.terminate()
      child.kill('SIGKILL')
      await exited
    },
    async stop() {
      ws.close()
      child.kill('SIGTERM')
      await exited
    }
  }
}

/** Calls a method and returns its value; throws with the error when it failed. */
export async function value<T>(s: Served, method: string, input: unknown): Promise<T> {
  const r = await s.call<T>(method, input)
  if (!r.ok) throw new Error(`${method}: ${r.error.code} ${r.error.message}`)
  return r.value
}

export function openDb(lib: string): Database.Database {
  return new Database(join(lib, 'library.db'), { fileMustExist: true })
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex')

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return []
  const out: string[] = []
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name)
      if (e.isDirectory()) walk(p)
      else out.push(p)
    }
  }
  walk(dir)
  return out
}

export interface LibraryReport {
  integrity: string
  foreignKeyErrors: number
  /** Visible media and output files whose bytes do not hash to their name. */
  badMedia: string[]
  /** media rows whose library file is missing or differs. */
  badRows: string[]
  /** thumbnail rows whose file is missing or does not decode. */
  badThumbs: string[]
  /** model rows or visible model folders that are not whole. */
  badModels: string[]
  /** leftover temp files (hidden, never used, removed on the next write or start). */
  tempFiles: string[]
  jobs: { id: string; kind: string; state: string }[]
}

/** Everything the crash tests check, read with the host stopped. */
export async function inspectLibrary(lib: string): Promise<LibraryReport> {
  const db = openDb(lib)
  try {
    const integrity = (db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check).join('; ')
    const foreignKeyErrors = (db.pragma('foreign_key_check') as unknown[]).length
    const badMedia: string[] = []
    const tempFiles: string[] = []
    for (const top of ['media', 'outputs']) {
      for (const f of filesUnder(join(lib, top))) {
        const name = f.split('/').pop()!
        if (name.endsWith('.tmp') || name.startsWith('.')) {
          tempFiles.push(f)
          continue
        }
        if (sha256(readFileSync(f)) !== name.split('.')[0]) badMedia.push(f)
      }
    }
    const badRows: string[] = []
    for (const r of db.prepare('SELECT sha256, path FROM media').all() as { sha256: string; path: string }[]) {
      if (r.path.startsWith('/')) continue // a reference import: the user's own file
      const abs = join(lib, r.path)
      if (!existsSync(abs) || sha256(readFileSync(abs)) !== r.sha256) badRows.push(r.path)
    }
    const badThumbs: string[] = []
    for (const r of db.prepare('SELECT thumb_path FROM media WHERE thumb_path IS NOT NULL').all() as { thumb_path: string }[]) {
      const abs = join(lib, r.thumb_path)
      const ok = existsSync(abs) && (await sharp(readFileSync(abs)).stats().then(() => true, () => false))
      if (!ok) badThumbs.push(r.thumb_path)
    }
    const badModels: string[] = []
    const rows = db.prepare('SELECT id, path FROM models').all() as { id: string; path: string }[]
    const folders = new Set(rows.map((r) => join(lib, r.path)))
    const modelsDir = join(lib, 'models')
    if (existsSync(modelsDir)) for (const n of readdirSync(modelsDir)) if (!n.startsWith('.')) folders.add(join(modelsDir, n))
    for (const dir of folders) {
      try {
        if (!statSync(dir).isDirectory()) throw new Error('not a folder')
        JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'))
        if (existsSync(join(dir, 'weights.safetensors'))) await readSafetensors(join(dir, 'weights.safetensors'))
        else if (!existsSync(join(dir, 'model.onnx')) || statSync(join(dir, 'model.onnx')).size === 0) throw new Error('no weights')
      } catch (e) {
        badModels.push(`${dir}: ${(e as Error).message}`)
      }
    }
    const jobs = db.prepare('SELECT id, kind, state FROM jobs').all() as LibraryReport['jobs']
    return { integrity, foreignKeyErrors, badMedia, badRows, badThumbs, badModels, tempFiles, jobs }
  } finally {
    db.close()
  }
}

/** `n` small distinct PNGs (seeded noise), `side` pixels square. */
export async function noisePngs(n: number, side = 16, seed = 1): Promise<Buffer[]> {
  const out: Buffer[] = []
  let s = seed >>> 0
  for (let i = 0; i < n; i++) {
    const raw = Buffer.alloc(side * side * 3)
    for (let j = 0; j < raw.length; j++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0
      raw[j] = s >>> 24
    }
    out.push(await sharp(raw, { raw: { width: side, height: side, channels: 3 } }).png().toBuffer())
  }
  return out
}
