// Runs the product's `tessera` CLI from source (node --import tsx src/main/cli/index.ts), the
// way the integration tests do, so the scripts need no `npm run build`. stderr (progress) is
// passed through; stdout is collected (use --json to get one JSON document).

import { spawn } from 'node:child_process'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const CLI = resolve(REPO_ROOT, 'src', 'main', 'cli', 'index.ts')

export interface TesseraRun {
  code: number | null
  stdout: string
}

export interface TesseraOptions {
  /** Do not pass stderr through. */
  quiet?: boolean
  /** Called with each stderr line (e.g. to catch `Run <id> (job <id>)`). */
  onStderrLine?: (line: string) => void
}

export function tessera(args: string[], opts: TesseraOptions = {}): Promise<TesseraRun> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, TESSERA_LIBRARY: '' },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stdout = ''
    let pending = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => {
      if (!opts.quiet) process.stderr.write(d)
      if (!opts.onStderrLine) return
      pending += d.toString()
      const lines = pending.split(/\r?\n|\r/)
      pending = lines.pop() ?? ''
      for (const l of lines) opts.onStderrLine(l)
    })
    child.on('error', rej)
    child.on('close', (code) => res({ code, stdout }))
  })
}

/** Runs `tessera --library <lib> --json ...args` and parses its JSON; throws with the command on failure. */
export async function tesseraJson<T>(library: string, args: string[], opts: TesseraOptions = {}): Promise<T> {
  const r = await tessera(['--library', library, '--json', ...args], opts)
  let parsed: unknown
  try {
    parsed = JSON.parse(r.stdout)
  } catch {
    throw new Error(`tessera ${args.slice(0, 6).join(' ')} exited ${r.code} without JSON on stdout: ${r.stdout.slice(0, 500)}`)
  }
  if (r.code !== 0) {
    const err = (parsed as { error?: { message?: string } }).error
    throw new Error(`tessera ${args.slice(0, 6).join(' ')} failed (exit ${r.code}): ${err?.message ?? r.stdout.slice(0, 500)}`)
  }
  return parsed as T
}
