// A bounded loopback load test of the browser host: 20 clients at once (10 WebSockets that
// pipeline their calls, 10 HTTP clients calling one after another), 50 calls each, half of
// them label writes and half item, stats and gallery queries. Afterwards every acknowledged
// write is in the database exactly once, every call was answered, and the host still answers.
// No timing is asserted: speed belongs in benchmarks.

import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type BrowserHost, startBrowserHost } from '../../src/main/host/browser-host'
import { tempDir } from '../unit/library/tmp'
import { connect, request } from './host-client'
import { type Seeded, seedLibrary } from './seed'

const CLIENTS = 20
const OPS = 50
const ITEMS = 2000

interface Envelope {
  ok: boolean
  value?: unknown
  error?: { code: string; message: string }
}

let host: BrowserHost
let cleanup: () => void
let seeded: Seeded

beforeAll(async () => {
  const t = tempDir()
  cleanup = t.cleanup
  const rendererDir = join(t.dir, 'renderer')
  mkdirSync(rendererDir, { recursive: true })
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>Tessera</title>')
  host = await startBrowserHost({ library: join(t.dir, 'lib'), port: 0, rendererDir })
  seeded = seedLibrary(host.context.library.db, { items: ITEMS, classes: 10, gallery: 300, labelled: 0, name: 'Load' })
})
afterAll(async () => {
  await host?.close()
  cleanup?.()
})

/** The call client `c` makes as its `k`-th: even k label one item of its own, odd k query. */
function op(c: number, k: number): { method: string; input: unknown; write?: { itemId: string; classId: string } } {
  if (k % 2 === 0) {
    const itemId = seeded.itemIds[c * (OPS / 2) + k / 2]!
    const classId = seeded.classIds[(c + k) % seeded.classIds.length]!
    return { method: 'labels.assign', input: { ids: [itemId], classId }, write: { itemId, classId } }
  }
  const d = seeded.datasetId
  const queries = [
    { method: 'items.list', input: { dataset: d, limit: 100, offset: (k * 37) % ITEMS } },
    { method: 'items.list', input: { dataset: d, classId: seeded.classIds[c % 10], sort: 'date', desc: true } },
    { method: 'items.list', input: { dataset: d, labelSource: 'none', sort: 'size', limit: 50 } },
    { method: 'datasets.stats', input: { ref: d } },
    { method: 'gallery.list', input: { limit: 60, sort: 'newest' } },
    { method: 'gallery.list', input: { q: 'class3', starred: false, limit: 20 } },
    { method: 'items.get', input: { id: seeded.itemIds[(c * 131 + k) % ITEMS] } },
    { method: 'labels.history', input: { dataset: d } }
  ]
  return queries[(c + k) % queries.length]!
}

/** A WebSocket client that sends all its calls at once and collects the answers by id. */
async function wsClient(c: number): Promise<{ answers: Envelope[]; writes: { itemId: string; classId: string; ok: boolean }[] }> {
  const { ws } = await connect(`ws://127.0.0.1:${host.port}/ws?token=${host.token}`, { origin: `http://127.0.0.1:${host.port}` })
  if (!ws) throw new Error('socket refused')
  const answers = new Map<number, Envelope>()
  const done = new Promise<void>((resolve, reject) => {
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString()) as { id?: number; result?: Envelope }
      if (typeof m.id === 'number' && m.result) answers.set(m.id, m.result)
      if (answers.size === OPS) resolve()
    })
    ws.on('close', () => (answers.size === OPS ? resolve() : reject(new Error(`socket closed after ${answers.size} answers`))))
  })
  const ops = Array.from({ length: OPS }, (_, k) => op(c, k))
  ops.forEach((o, k) => ws.send(JSON.stringify({ id: k, method: o.method, input: o.input })))
  await done
  ws.close()
  const list = ops.map((_, k) => answers.get(k)!)
  return { answers: list, writes: ops.flatMap((o, k) => (o.write ? [{ ...o.write, ok: list[k]!.ok }] : [])) }
}

/** An HTTP client that makes its calls one after another. */
async function httpClient(c: number): Promise<{ answers: Envelope[]; writes: { itemId: string; classId: string; ok: boolean }[] }> {
  const answers: Envelope[] = []
  const writes: { itemId: string; classId: string; ok: boolean }[] = []
  for (let k = 0; k < OPS; k++) {
    const o = op(c, k)
    const r = await request(host.port, `/api/${o.method}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${host.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(o.input)
    })
    expect(r.status).toBe(200)
    const e = JSON.parse(r.body) as Envelope
    answers.push(e)
    if (o.write) writes.push({ ...o.write, ok: e.ok })
  }
  return { answers, writes }
}

describe('browser host under load', () => {
  it(`${CLIENTS} clients x ${OPS} calls: every call answered, every acknowledged label written exactly once`, async () => {
    const results = await Promise.all(Array.from({ length: CLIENTS }, (_, c) => (c % 2 === 0 ? wsClient(c) : httpClient(c))))

    const answers = results.flatMap((r) => r.answers)
    expect(answers).toHaveLength(CLIENTS * OPS)
    const failed = answers.filter((a) => !a.ok)
    expect(failed, JSON.stringify(failed.slice(0, 3))).toEqual([])

    const acked = results.flatMap((r) => r.writes).filter((w) => w.ok)
    expect(acked).toHaveLength((CLIENTS * OPS) / 2)
    const db = host.context.library.db
    const human = db.prepare("SELECT item_id, class_id FROM labels WHERE source = 'human'").all() as { item_id: string; class_id: string }[]
    expect(human).toHaveLength(acked.length)
    const byItem = new Map(human.map((h) => [h.item_id, h.class_id]))
    for (const w of acked) expect(byItem.get(w.itemId), w.itemId).toBe(w.classId)

    // The undo log holds each write once (500 is under its limit of 1,000 steps).
    const log = db.prepare('SELECT changes FROM label_changes WHERE dataset_id = ? ORDER BY id').all(seeded.datasetId) as { changes: string }[]
    const logged = log.flatMap((l) => (JSON.parse(l.changes) as { i: string }[]).map((c) => c.i))
    expect(logged).toHaveLength(acked.length)
    expect(new Set(logged).size).toBe(logged.length)
    for (const i of logged) expect(byItem.has(i)).toBe(true)

    expect(db.pragma('integrity_check', { simple: true })).toBe('ok')
    expect(db.pragma('foreign_key_check')).toEqual([])
  })

  it('still answers afterwards, over HTTP and a fresh WebSocket, with the writes visible', async () => {
    const r = await request(host.port, '/api/datasets.stats', {
      method: 'POST',
      headers: { authorization: `Bearer ${host.token}` },
      body: JSON.stringify({ ref: seeded.datasetId })
    })
    expect(r.status).toBe(200)
    const stats = JSON.parse(r.body) as { ok: true; value: { total: number; labelSources: { human: number } } }
    expect(stats.value.total).toBe(ITEMS)
    expect(stats.value.labelSources.human).toBe((CLIENTS * OPS) / 2)

    const { ws } = await connect(`ws://127.0.0.1:${host.port}/ws?token=${host.token}`)
    const reply = await new Promise<Envelope>((resolve) => {
      ws!.once('message', (d) => resolve((JSON.parse(d.toString()) as { result: Envelope }).result))
      ws!.send(JSON.stringify({ id: 1, method: 'app.info', input: {} }))
    })
    expect(reply).toMatchObject({ ok: true, value: { host: 'browser' } })
    ws!.close()
  })
})
