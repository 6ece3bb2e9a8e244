// Issue 9 acceptance through the CLI: a folder tree with good images, broken files (zero bytes,
// truncated, wrong extension, huge dimensions, a symlink loop, a link to a folder, unicode
// names) and name conflicts in the destination. Every good file classified once (probabilities
// of the fixture images checked against the fixture's reference), every broken one reported with
// a reason, nothing overwritten, undo restores the tree exactly (hashes compared), and a SIGKILL
// mid-run followed by `--resume` gives each file exactly one result.

import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { runMain as run } from '../helpers/run-main'
import { CSV_HEADER, parseCsv } from '../../src/main/classify/csv'
import { tempDir } from '../unit/library/tmp'
import { CLI, ROOT } from './helpers'

const CLS = path.resolve(ROOT, '..', 'shared', 'fixtures', 'imagegpt-tiny-cls')
const LABELS = ['class_0', 'class_1', 'class_2']
interface Ref {
  images: { file: string; class_probs: number[] }[]
}
const reference = JSON.parse(readFileSync(path.join(CLS, 'reference.json'), 'utf8')) as Ref

function crc32(buf: Buffer): number {
  let c = ~0
  for (const b of buf) {
    c ^= b
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1
  }
  return ~c >>> 0
}

/** Every entry under `dir`: files by content hash, links by target, folders by name. */
function treeHashes(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name)
      const rel = path.relative(dir, p)
      const st = lstatSync(p)
      if (st.isSymbolicLink()) out[rel] = `link:${readlinkSync(p)}`
      else if (st.isDirectory()) {
        out[rel] = 'dir'
        walk(p)
      } else out[rel] = createHash('sha256').update(readFileSync(p)).digest('hex')
    }
  }
  walk(dir)
  return out
}

interface Tree {
  src: string
  good: string[]
  broken: string[]
  fixture: Map<string, number[]>
}

/** The test tree; returns the good and broken paths it holds. */
async function makeTree(src: string): Promise<Tree> {
  const good: string[] = []
  const broken: string[] = []
  const fixture = new Map<string, number[]>()
  const put = (rel: string, data: Buffer, ok: boolean): string => {
    const p = path.join(src, rel)
    mkdirSync(path.dirname(p), { recursive: true })
    writeFileSync(p, data)
    ;(ok ? good : broken).push(p)
    return p
  }
  reference.images.forEach((img, i) => {
    const p = put(`fixture/img${i}.png`, readFileSync(path.join(CLS, img.file)), true)
    fixture.set(p, img.class_probs)
  })
  const img0 = readFileSync(path.join(CLS, 'images/img0.png'))
  fixture.set(put('nested/deeper/ün ïcødé 猫.png', readFileSync(path.join(CLS, 'images/img1.png')), true), reference.images[1]!.class_probs)
  // Same name in two folders: both end up in a class folder, the second numbered.
  put('a/same.png', img0, true)
  put('b/same.png', readFileSync(path.join(CLS, 'images/img2.png')), true)
  // A PNG named .jpg is read by its content.
  fixture.set(put('really-a-png.jpg', readFileSync(path.join(CLS, 'images/img3.png')), true), reference.images[3]!.class_probs)
  for (let i = 0; i < 6; i++) {
    const raw = Buffer.alloc(40 * 30 * 3)
    for (let j = 0; j < raw.length; j++) raw[j] = (j * (7 + i) + i * 31) % 256
    put(`photos/photo-${i}.jpg`, await sharp(raw, { raw: { width: 40, height: 30, channels: 3 } }).jpeg().toBuffer(), true)
  }
  put('zero.png', Buffer.alloc(0), false)
  const bigPng = await sharp(Buffer.alloc(32 * 32 * 3, 200), { raw: { width: 32, height: 32, channels: 3 } }).png().toBuffer()
  put('truncated.png', bigPng.subarray(0, Math.floor(bigPng.length / 2)), false)
  put('not-an-image.jpg', Buffer.from('hello, this is text\n'), false)
  // Huge dimensions: a valid PNG header claiming 200000 x 200000 pixels.
  const huge = Buffer.from(img0)
  huge.writeUInt32BE(200_000, 16)
  huge.writeUInt32BE(200_000, 20)
  huge.writeUInt32BE(crc32(huge.subarray(12, 29)), 29)
  put('huge.png', huge, false)
  put('notes.txt', Buffer.from('not classified: filtered out by extension'), true)
  good.pop() // notes.txt is skipped, not a row
  // A symlink that points at itself, and one that points back up the tree.
  symlinkSync('loop.png', path.join(src, 'loop.png'))
  broken.push(path.join(src, 'loop.png'))
  symlinkSync('..', path.join(src, 'nested', 'up'))
  broken.push(path.join(src, 'nested', 'up'))
  return { src, good, broken, fixture }
}

/** Files already in every class folder under `dest` with the names the run will use. */
function conflicts(dest: string): Record<string, string> {
  for (const label of [...LABELS, 'unsure']) {
    mkdirSync(path.join(dest, label), { recursive: true })
    for (const n of ['img0.png', 'same.png', 'photo-0.jpg']) writeFileSync(path.join(dest, label, n), `already here: ${label}/${n}`)
  }
  return treeHashes(dest)
}

function dbRows(library: string): { path: string; status: string; label: string | null; confidence: number | null; top_k: string | null; error: string | null; dest: string | null; action_status: string | null; run_id: string }[] {
  const db = new Database(path.join(library, 'library.db'), { readonly: true })
  try {
    return db.prepare('SELECT * FROM classify_files ORDER BY seq').all() as ReturnType<typeof dbRows>
  } finally {
    db.close()
  }
}

describe('tessera classify', () => {
  const tmp = tempDir('tessera-classify-')
  const lib = path.join(tmp.dir, 'lib')
  let tree: Tree

  beforeAll(async () => {
    const r = await run(['--library', lib, 'model', 'import', CLS, '--name', 'cls'])
    expect(r.code, r.stderr).toBe(0)
    tree = await makeTree(path.join(tmp.dir, 'src'))
  }, 120_000)
  afterAll(() => tmp.cleanup())

  it('reports every good file once with the model probabilities, every broken one with a reason, CSV complete', async () => {
    const out = path.join(tmp.dir, 'report.csv')
    const before = treeHashes(tree.src)
    const r = await run(['--library', lib, '--json', 'classify', tree.src, '--model', 'cls', '--out', out, '--threshold', '0.9', '--top-k', '3'])
    expect(r.code, r.stderr).toBe(0)
    const doc = JSON.parse(r.stdout) as { id: string; counts: { files: number; ok: number; error: number; unsure: number } }
    expect(doc.counts).toMatchObject({ files: tree.good.length + tree.broken.length, ok: tree.good.length, error: tree.broken.length })
    expect(treeHashes(tree.src)).toEqual(before)

    const rows = dbRows(lib).filter((x) => x.run_id === doc.id)
    expect(new Set(rows.map((x) => x.path)).size).toBe(rows.length)
    expect(rows.filter((x) => x.status === 'ok').map((x) => x.path).sort()).toEqual([...tree.good].sort())
    for (const b of tree.broken) {
      const row = rows.find((x) => x.path === b)
      expect(row?.status, b).toBe('error')
      expect(row?.error, b).toBeTruthy()
    }
    expect(rows.find((x) => x.path.endsWith('huge.png'))?.error).toMatch(/200000x200000/)
    expect(rows.find((x) => x.path.endsWith('loop.png'))?.error).toMatch(/loop/)
    expect(rows.find((x) => x.path.endsWith('zero.png'))?.error).toMatch(/could not be read/)
    expect(rows.some((x) => x.path.endsWith('notes.txt'))).toBe(false)
    // Without --json the summary names each unreadable file with its reason.
    const human = await run(['--library', lib, 'classify', tree.src, '--model', 'cls'])
    expect(human.code, human.stderr).toBe(0)
    expect(human.stdout).toContain(`${tree.broken.length} could not be read.`)
    for (const b of tree.broken) expect(human.stdout).toContain(`  ${b}: `)
    expect(human.stdout).toMatch(/zero\.png: .*could not be read/)
    // The fixture images against the reference probabilities (float32 tolerance 1e-4).
    for (const [p, probs] of tree.fixture) {
      const row = rows.find((x) => x.path === p)!
      const top = JSON.parse(row.top_k!) as { label: string; probability: number }[]
      expect(top).toHaveLength(3)
      for (const t of top) expect(Math.abs(t.probability - probs[LABELS.indexOf(t.label)]!)).toBeLessThan(1e-4)
      const best = Math.max(...probs)
      expect(row.confidence!).toBeCloseTo(best, 4)
      expect(row.label).toBe(best >= 0.9 ? LABELS[probs.indexOf(best)] : 'unsure')
    }
    // CSV: header, one row per file, same values as the library.
    const csv = parseCsv(readFileSync(out, 'utf8'))
    expect(csv[0]!.join(',')).toBe(CSV_HEADER)
    expect(csv.length - 1).toBe(rows.length)
    const byPath = new Map(csv.slice(1).map((c) => [c[0]!, c]))
    for (const row of rows) {
      const c = byPath.get(row.path)!
      expect(c[4]).toBe(row.status)
      expect(c[1]).toBe(row.label ?? '')
      if (row.status === 'ok') expect(Number(c[2])).toBeCloseTo(row.confidence!, 5)
      else expect(c[5]).toBe(row.error)
    }
  }, 120_000)

  it('dry run shows the plan per destination and touches nothing', async () => {
    const dest = path.join(tmp.dir, 'dry-dest')
    const before = treeHashes(tree.src)
    const r = await run(['--library', lib, '--json', 'classify', tree.src, '--model', 'cls', '--move-to', dest, '--dry-run'])
    expect(r.code, r.stderr).toBe(0)
    const doc = JSON.parse(r.stdout) as { plan: Record<string, number>; counts: { ok: number } }
    expect(Object.values(doc.plan).reduce((a, b) => a + b, 0)).toBe(doc.counts.ok)
    for (const d of Object.keys(doc.plan)) expect(path.dirname(d)).toBe(dest)
    expect(existsSync(dest)).toBe(false)
    expect(treeHashes(tree.src)).toEqual(before)
  }, 120_000)

  it('copy never overwrites: conflicts get numbered names, sources stay', async () => {
    const dest = path.join(tmp.dir, 'copy-dest')
    const existing = conflicts(dest)
    const before = treeHashes(tree.src)
    const r = await run(['--library', lib, '--json', 'classify', tree.src, '--model', 'cls', '--copy-to', dest])
    expect(r.code, r.stderr).toBe(0)
    const doc = JSON.parse(r.stdout) as { id: string }
    expect(treeHashes(tree.src)).toEqual(before)
    const after = treeHashes(dest)
    for (const [rel, h] of Object.entries(existing)) expect(after[rel], rel).toBe(h)
    const rows = dbRows(lib).filter((x) => x.run_id === doc.id && x.status === 'ok')
    const dests = rows.map((x) => x.dest!)
    expect(new Set(dests).size).toBe(rows.length)
    for (const row of rows) {
      expect(row.action_status).toBe('done')
      expect(createHash('sha256').update(readFileSync(row.dest!)).digest('hex')).toBe(before[path.relative(tree.src, row.path)])
    }
    expect(dests.filter((d) => /img0-1\.png$/.test(d))).toHaveLength(1)
    expect(dests.filter((d) => /same-\d\.png$/.test(d)).length).toBeGreaterThanOrEqual(1)
    // Undo removes the copies and leaves what was there before.
    const u = await run(['--library', lib, 'classify', 'undo', doc.id])
    expect(u.code, u.stderr).toBe(0)
    expect(treeHashes(dest)).toEqual(existing)
  }, 120_000)

  it('move into class folders, then undo restores the source tree exactly', async () => {
    const work = path.join(tmp.dir, 'move-src')
    const t = await makeTree(work)
    const dest = path.join(tmp.dir, 'move-dest')
    const existing = conflicts(dest)
    const before = treeHashes(work)
    const r = await run(['--library', lib, '--json', 'classify', work, '--model', 'cls', '--move-to', dest, '--threshold', '0.6'])
    expect(r.code, r.stderr).toBe(0)
    const doc = JSON.parse(r.stdout) as { id: string }
    for (const g of t.good) expect(existsSync(g), g).toBe(false)
    for (const b of t.broken) expect(lstatSync(b)).toBeTruthy() // broken files stay where they were
    const after = treeHashes(dest)
    for (const [rel, h] of Object.entries(existing)) expect(after[rel], rel).toBe(h)
    const moved = dbRows(lib).filter((x) => x.run_id === doc.id && x.status === 'ok')
    expect(moved).toHaveLength(t.good.length)
    for (const row of moved) {
      expect(path.basename(path.dirname(row.dest!))).toBe(row.label)
      expect(row.label).toBe(row.confidence! >= 0.6 ? JSON.parse(row.top_k!)[0].label : 'unsure')
      expect(after[path.relative(dest, row.dest!)]).toBe(before[path.relative(work, row.path)])
    }

    const u = await run(['--library', lib, '--json', 'classify', 'undo', doc.id])
    expect(u.code, u.stderr).toBe(0)
    expect(JSON.parse(u.stdout)).toMatchObject({ restored: t.good.length, skipped: [] })
    expect(treeHashes(work)).toEqual(before)
    expect(treeHashes(dest)).toEqual(existing)
  }, 120_000)

  it('a file changed after it was read is reported and not moved', async () => {
    const { changedSince } = await import('../../src/main/classify/actions')
    const f = path.join(tmp.dir, 'changing.png')
    copyFileSync(path.join(CLS, 'images/img0.png'), f)
    const st = lstatSync(f)
    const sha = createHash('sha256').update(readFileSync(f)).digest('hex')
    expect(await changedSince(f, { size: st.size, mtimeMs: st.mtimeMs, sha256: sha })).toBeNull()
    writeFileSync(f, Buffer.concat([readFileSync(f), Buffer.from([0])]))
    expect(await changedSince(f, { size: st.size, mtimeMs: st.mtimeMs, sha256: sha })).toMatch(/changed/)
    const { placeFile } = await import('../../src/main/classify/actions')
    const res = await placeFile(f, path.join(tmp.dir, 'never'), 'move', { size: st.size, mtimeMs: st.mtimeMs, sha256: sha })
    expect(res.status).toBe('skipped')
    expect(existsSync(f)).toBe(true)
    expect(existsSync(path.join(tmp.dir, 'never'))).toBe(false)
  })

  it('an imported ONNX classifier (the fixture exported as ONNX) classifies through the same job', async () => {
    const onnxDir = path.join(tmp.dir, 'cls-onnx')
    expect((await run(['--library', lib, 'model', 'export', 'cls', '--format', 'onnx', '--out', onnxDir])).code).toBe(0)
    const imp = await run(['--library', lib, 'model', 'import', onnxDir, '--name', 'cls-onnx'])
    expect(imp.code, imp.stderr).toBe(0)
    const r = await run(['--library', lib, '--json', 'classify', path.join(tree.src, 'fixture'), '--model', 'cls-onnx', '--batch-size', '3'])
    expect(r.code, r.stderr).toBe(0)
    const doc = JSON.parse(r.stdout) as { id: string; counts: { ok: number } }
    expect(doc.counts.ok).toBe(reference.images.length)
    for (const row of dbRows(lib).filter((x) => x.run_id === doc.id)) {
      const probs = tree.fixture.get(row.path)!
      for (const t of JSON.parse(row.top_k!) as { label: string; probability: number }[]) expect(Math.abs(t.probability - probs[LABELS.indexOf(t.label)]!)).toBeLessThan(1e-4)
    }
  }, 120_000)

  it('pause and cancel from the contract, then resume: each file exactly one result', async () => {
    const { createContext } = await import('../../src/main/context')
    const { createDispatcher } = await import('../../src/main/host/dispatch')
    const { createServices } = await import('../../src/main/services')
    const ctx = createContext({ libraryDir: lib, host: 'cli' })
    const dispatch = createDispatcher(createServices(ctx))
    const call = async (m: string, input: unknown): Promise<unknown> => {
      const r = await dispatch(m, input)
      if (!r.ok) throw new Error(r.error.message)
      return r.value
    }
    process.env.TESSERA_CLASSIFY_TEST_DELAY_MS = '60'
    try {
      const total = tree.good.length + tree.broken.length
      const { runId } = (await call('classify.start', { folders: [tree.src], model: 'cls', batchSize: 1 })) as { runId: string }
      ctx.jobs.start()
      const rowsOf = (): number => dbRows(lib).filter((x) => x.run_id === runId).length
      const stopAt = async (n: number, how: 'jobs.pause' | 'jobs.cancel', state: string): Promise<void> => {
        for (let i = 0; i < 600 && rowsOf() < n; i++) await new Promise((r) => setTimeout(r, 20))
        await call(how, { id: runId })
        expect((await ctx.jobs.wait(runId)).state).toBe(state)
      }
      await stopAt(3, 'jobs.pause', 'paused')
      const paused = rowsOf()
      expect(paused).toBeLessThan(total)
      await call('classify.resume', { id: runId })
      await stopAt(paused + 3, 'jobs.cancel', 'cancelled')
      expect(rowsOf()).toBeLessThan(total)
      await call('classify.resume', { id: runId })
      expect((await ctx.jobs.wait(runId)).state).toBe('done')
      const rows = dbRows(lib).filter((x) => x.run_id === runId)
      expect(rows).toHaveLength(total)
      expect(new Set(rows.map((x) => x.path)).size).toBe(total)
      const page = (await call('classify.results', { runId, errorsOnly: true })) as { total: number }
      expect(page.total).toBe(tree.broken.length)
      // Export: CSV and JSON hold every row; a corrected label wins in both.
      const firstOk = rows.find((x) => x.status === 'ok')!
      await call('classify.correct', { runId, paths: [firstOk.path], label: 'class_2' })
      const csvOut = path.join(tmp.dir, 'export.csv')
      expect(await call('classify.export', { runId, out: csvOut, format: 'csv' })).toMatchObject({ rows: total })
      const csv = parseCsv(readFileSync(csvOut, 'utf8'))
      expect(csv).toHaveLength(total + 1)
      expect(csv.find((c) => c[0] === firstOk.path)![1]).toBe('class_2')
      const jsonOut = path.join(tmp.dir, 'export.json')
      await call('classify.export', { runId, out: jsonOut, format: 'json' })
      const doc = JSON.parse(readFileSync(jsonOut, 'utf8')) as { rows: { path: string; label: string; predicted: string }[] }
      expect(doc.rows).toHaveLength(total)
      expect(doc.rows.find((r) => r.path === firstOk.path)).toMatchObject({ label: 'class_2', predicted: firstOk.label })
    } finally {
      delete process.env.TESSERA_CLASSIFY_TEST_DELAY_MS
      await ctx.close()
    }
  }, 120_000)

  it('usage errors exit 2, a missing model exits 1', async () => {
    expect((await run(['--library', lib, 'classify', tree.src, '--model', 'cls', '--copy-to', 'a', '--move-to', 'b'])).code).toBe(2)
    expect((await run(['--library', lib, 'classify', tree.src, '--model', 'cls', '--threshold', '2'])).code).toBe(2)
    expect((await run(['--library', lib, 'classify', tree.src])).code).toBe(2)
    expect((await run(['--library', lib, 'classify', tree.src, '--model', 'no-such-model'])).code).toBe(1)
  })

  it('SIGKILL mid-run, then --resume: each file exactly one result, moves undone exactly', async () => {
    const work = path.join(tmp.dir, 'kill-src')
    const t = await makeTree(work)
    const dest = path.join(tmp.dir, 'kill-dest')
    const out = path.join(tmp.dir, 'kill.csv')
    const before = treeHashes(work)
    const total = t.good.length + t.broken.length
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', CLI, '--library', lib, 'classify', work, '--model', 'cls', '--move-to', dest, '--batch-size', '1', '--out', out],
      { cwd: ROOT, env: { ...process.env, TESSERA_LIBRARY: '', TESSERA_CLASSIFY_TEST_DELAY_MS: '250' }, stdio: 'ignore' }
    )
    const exited = new Promise<void>((res) => child.on('exit', () => res()))
    const runRows = (): number => {
      try {
        return dbRows(lib).filter((x) => x.path.startsWith(work + path.sep)).length
      } catch {
        return 0
      }
    }
    for (let i = 0; i < 1200 && runRows() < 4; i++) await new Promise((r) => setTimeout(r, 100))
    child.kill('SIGKILL')
    await exited
    const atKill = runRows()
    expect(atKill).toBeGreaterThanOrEqual(4)
    expect(atKill).toBeLessThan(total)

    const r = await run(['--library', lib, '--json', 'classify', '--resume'])
    expect(r.code, r.stderr).toBe(0)
    const doc = JSON.parse(r.stdout) as { id: string; counts: { files: number; ok: number; error: number } }
    const rows = dbRows(lib).filter((x) => x.run_id === doc.id)
    expect(rows).toHaveLength(total)
    expect(new Set(rows.map((x) => x.path)).size).toBe(total)
    expect(rows.filter((x) => x.status === 'ok').map((x) => x.path).sort()).toEqual([...t.good].sort())
    for (const row of rows.filter((x) => x.status === 'ok')) expect(row.action_status, row.path).toBe('done')
    for (const g of t.good) expect(existsSync(g), g).toBe(false)
    const csv = parseCsv(readFileSync(out, 'utf8'))
    expect(csv.length - 1).toBe(total)
    expect(new Set(csv.slice(1).map((c) => c[0])).size).toBe(total)

    const u = await run(['--library', lib, 'classify', 'undo', doc.id])
    expect(u.code, u.stderr).toBe(0)
    expect(treeHashes(work)).toEqual(before)
  }, 240_000)
})
