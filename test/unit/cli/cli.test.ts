// The tessera CLI: one JSON document on stdout with --json, exit codes 0 ok /
// 1 failed / 2 usage. Most cases call main() in this process with stdout/stderr
// captured (fast); the ones about processes (exit status, serve, signals) spawn
// `node --import tsx src/main/cli/index.ts`.

import { spawn } from 'node:child_process'
import { request } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { type Dataset, type Job } from '../../../src/shared/contract'
import { runMain as run } from '../../helpers/run-main'
import { openLibrary } from '../../../src/main/library/library'
import { LATEST_SCHEMA_VERSION } from '../../../src/main/library/migrations'
import { CLI, ROOT, runCli } from '../../integration/helpers'
import { addRandomMedia } from '../jobs/media'
import { tempDir } from '../library/tmp'

let cleanup: (() => void) | undefined
afterEach(() => cleanup?.())
function lib(): string {
  const t = tempDir()
  cleanup = t.cleanup
  return t.dir
}

describe('tessera CLI', () => {
  it('dataset create/list/show/rename/delete with --json, by id or name', async () => {
    const dir = lib()
    const created = await run(['--library', dir, '--json', 'dataset', 'create', 'Cats', '--class', 'tabby', '--class', 'black'])
    expect(created.code).toBe(0)
    const d = JSON.parse(created.stdout) as Dataset
    expect(d.id).toMatch(/[0-9a-f-]{36}/)
    expect(d.classes.map((c) => c.name)).toEqual(['tabby', 'black'])

    // --json after the subcommand works too; TESSERA_LIBRARY stands in for --library.
    const list = await run(['dataset', 'list', '--json'], { TESSERA_LIBRARY: dir })
    expect(list.code).toBe(0)
    expect((JSON.parse(list.stdout) as Dataset[]).map((x) => x.id)).toEqual([d.id])

    const byName = await run(['--library', dir, '--json', 'dataset', 'show', 'cats'])
    expect((JSON.parse(byName.stdout) as Dataset).id).toBe(d.id)
    const renamed = await run(['--library', dir, '--json', 'dataset', 'rename', d.id, 'Felines'])
    expect((JSON.parse(renamed.stdout) as Dataset).name).toBe('Felines')
    const deleted = await run(['--library', dir, '--json', 'dataset', 'delete', 'Felines'])
    expect(JSON.parse(deleted.stdout)).toEqual({ id: d.id })
    const empty = await run(['--library', dir, '--json', 'dataset', 'list'])
    expect(JSON.parse(empty.stdout)).toEqual([])
  })

  it('exit codes: 1 for a failure, 2 for usage, each with one JSON document under --json', async () => {
    const dir = lib()
    await run(['--library', dir, 'dataset', 'create', 'Cats'])
    const dup = await run(['--library', dir, '--json', 'dataset', 'create', 'cats'])
    expect(dup.code).toBe(1)
    expect(JSON.parse(dup.stdout)).toMatchObject({ error: { code: 'CONFLICT' } })
    expect(dup.stderr).toMatch(/already exists/)

    const missing = await run(['--library', dir, '--json', 'dataset', 'show', 'nope'])
    expect(missing.code).toBe(1)
    expect(JSON.parse(missing.stdout)).toMatchObject({ error: { code: 'NOT_FOUND' } })

    const invalid = await run(['--library', dir, '--json', 'dataset', 'create', '  '])
    expect(invalid.code).toBe(2)
    expect(JSON.parse(invalid.stdout)).toMatchObject({ error: { code: 'VALIDATION', field: 'name' } })

    const unknown = await run(['--library', dir, 'frobnicate'])
    expect(unknown.code).toBe(2)
    const noArg = await run(['--library', dir, 'dataset', 'show'])
    expect(noArg.code).toBe(2)
    const badPort = await run(['--library', dir, 'serve', '--port', 'x'])
    expect(badPort.code).toBe(2)
    const help = await run(['--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/serve/)
  })

  it('info and jobs list as JSON', async () => {
    const dir = lib()
    const info = await run(['--library', dir, '--json', 'info'])
    expect(info.code).toBe(0)
    expect(JSON.parse(info.stdout)).toMatchObject({ name: 'Tessera Studio', host: 'cli', libraryPath: dir, schemaVersion: LATEST_SCHEMA_VERSION })
    const jobs = await run(['--library', dir, '--json', 'jobs', 'list'])
    expect(JSON.parse(jobs.stdout)).toEqual([])
    const nojob = await run(['--library', dir, '--json', 'jobs', 'cancel', 'no-such-job'])
    expect(nojob.code).toBe(1)
  })

  it('library verify: progress on stderr, the job on stdout, exit 1 when a file is missing', async () => {
    const dir = lib()
    const l = openLibrary(dir)
    addRandomMedia(l, 5)
    l.close()
    const ok = await run(['--library', dir, '--json', 'library', 'verify'])
    expect(ok.code).toBe(0)
    const job = JSON.parse(ok.stdout) as Job
    expect(job).toMatchObject({ kind: 'library.verify', state: 'done', result: { checked: 5, ok: 5 } })
    expect(ok.stderr).toMatch(/hashing: \d+\/5/)

    const { rmSync, readdirSync } = await import('node:fs')
    const sub = readdirSync(`${dir}/media`)[0]!
    rmSync(`${dir}/media/${sub}`, { recursive: true })
    const bad = await run(['--library', dir, '--json', 'library', 'verify'])
    expect(bad.code).toBe(1)
    expect((JSON.parse(bad.stdout) as Job).result).toMatchObject({ checked: 5 })
    expect(((JSON.parse(bad.stdout) as Job).result as { missing: string[] }).missing.length).toBeGreaterThan(0)
  })

  it('exits the process with 0, 1 and 2', async () => {
    const dir = lib()
    expect((await runCli(['--library', dir, '--json', 'dataset', 'create', 'Cats'])).code).toBe(0)
    const dup = await runCli(['--library', dir, '--json', 'dataset', 'create', 'Cats'])
    expect(dup.code).toBe(1)
    expect(JSON.parse(dup.stdout)).toMatchObject({ error: { code: 'CONFLICT' } })
    expect((await runCli(['--library', dir, 'dataset', 'frobnicate'])).code).toBe(2)
  })

  it('serve refuses a remote host without --allow-remote (exit 2)', async () => {
    const dir = lib()
    const r = await run(['--library', dir, 'serve', '--host', '0.0.0.0', '--no-open'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/--allow-remote/)
  })

  it('serve prints the URL with the token, answers on it, and stops on SIGTERM', async () => {
    const dir = lib()
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, '--library', dir, '--json', 'serve', '--port', '0', '--no-open'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let out = ''
    const doc = await new Promise<{ url: string; port: number }>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString()
        try {
          resolve(JSON.parse(out) as { url: string; port: number })
        } catch {
          // not the whole document yet
        }
      })
      child.on('exit', (c) => reject(new Error(`serve exited ${c}`)))
    })
    expect(doc.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${doc.port}/\\?token=[A-Za-z0-9_-]{43}$`))
    const token = new URL(doc.url).searchParams.get('token')!
    const status = (headers: Record<string, string>) =>
      new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: doc.port, path: '/api/app.info', method: 'POST', headers }, (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        })
        req.on('error', reject)
        req.end()
      })
    expect(await status({})).toBe(401)
    expect(await status({ authorization: `Bearer ${token}` })).toBe(200)
    const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)))
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
  })
})
