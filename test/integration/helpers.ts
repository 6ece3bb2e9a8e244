import { spawn, type ChildProcess } from 'node:child_process'
import { resolve } from 'node:path'

export const ROOT = resolve(__dirname, '../..')
export const CLI = resolve(ROOT, 'src/main/cli/index.ts')

export interface RunResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs the tessera CLI from source (node --import tsx) and collects its output. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
      cwd: ROOT,
      env: { ...process.env, TESSERA_LIBRARY: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }))
  })
}

/** Spawns a TypeScript script with tsx; resolves with the child and its first stdout line. */
export function spawnTs(script: string, args: string[]): { child: ChildProcess; firstLine: Promise<string>; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] })
  const firstLine = new Promise<string>((res, rej) => {
    let buf = ''
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString()
      const i = buf.indexOf('\n')
      if (i >= 0) res(buf.slice(0, i))
    })
    child.on('exit', (code) => rej(new Error(`child exited (${code}) before writing a line: ${buf}`)))
  })
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)))
  return { child, firstLine, exited }
}
