// Units of batch classify: CSV quoting round trip, numbered names, label folders, the walk's
// order / filter / exclusions, and the results table: one row per path whatever is inserted
// twice, filters and sorting, and the query plan of its indexes (migration 005).

import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'

import { freeName, labelFolder, numbered } from '../../../src/main/classify/actions'
import { CSV_HEADER, csvLine, parseCsv } from '../../../src/main/classify/csv'
import { walkFiles } from '../../../src/main/classify/scan'
import { ClassifyRepo } from '../../../src/main/classify/store'
import { openLibrary } from '../../../src/main/library/library'
import { tempDir } from '../library/tmp'

const dirs: { cleanup: () => void }[] = []
afterEach(() => dirs.splice(0).forEach((d) => d.cleanup()))
function tmp(): string {
  const t = tempDir('tessera-classify-unit-')
  dirs.push(t)
  return t.dir
}

describe('csv', () => {
  it('quotes commas, quotes, newlines and leading spaces, and reads them back', () => {
    const rows = [
      { path: '/a/b, "c"\nd.png', label: 'cat', corrected: null, confidence: 0.5, topK: [{ label: 'cat', probability: 0.5 }, { label: 'dog', probability: 0.25 }], status: 'ok' as const, error: null },
      { path: '/ü/猫 x.png', label: null, corrected: null, confidence: null, topK: [], status: 'error' as const, error: 'x.png could not be read as an image (bad, truncated).' },
      { path: ' lead.png', label: 'cat', corrected: 'dog', confidence: 1, topK: [], status: 'ok' as const, error: null }
    ]
    const text = [CSV_HEADER, ...rows.map(csvLine)].join('\n') + '\n'
    const back = parseCsv(text)
    expect(back[0]).toEqual(CSV_HEADER.split(','))
    expect(back[1]).toEqual(['/a/b, "c"\nd.png', 'cat', '0.500000', 'cat:0.5000;dog:0.2500', 'ok', ''])
    expect(back[2]).toEqual(['/ü/猫 x.png', '', '', '', 'error', 'x.png could not be read as an image (bad, truncated).'])
    expect(back[3]![0]).toBe(' lead.png')
    expect(back[3]![1]).toBe('dog')
    expect(back).toHaveLength(4)
  })
})

describe('names', () => {
  it('numbers before the extension and makes labels safe folder names', () => {
    expect(numbered('/d/cat.png', 0)).toBe('/d/cat.png')
    expect(numbered('/d/cat.png', 2)).toBe('/d/cat-2.png')
    expect(numbered('/d/README', 1)).toBe('/d/README-1')
    expect(labelFolder('a/b:c')).toBe('a_b_c')
    expect(labelFolder('..')).toBe('_')
    expect(labelFolder('tab\there')).toBe('tab_here')
    expect(labelFolder('狗')).toBe('狗')
  })
})

describe('freeName', () => {
  it('skips names on disk and names already planned for the batch', async () => {
    const d = tmp()
    writeFileSync(path.join(d, 'same.png'), 'x')
    const reserved = new Set<string>()
    expect(await freeName(d, 'same.png', reserved)).toBe(path.join(d, 'same-1.png'))
    expect(await freeName(d, 'same.png', reserved)).toBe(path.join(d, 'same-2.png'))
    expect(await freeName(d, 'other.png', reserved)).toBe(path.join(d, 'other.png'))
    expect(await freeName(d, 'other.png')).toBe(path.join(d, 'other.png'))
  })
})

describe('walk', () => {
  it('walks in code-point order, filters by extension, skips excluded and nested roots, each path once', async () => {
    const d = tmp()
    for (const f of ['b/2.png', 'b/1.JPG', 'a.png', 'B.png', 'c/deep/x.webp', 'notes.txt', 'out/cat/a.png']) {
      mkdirSync(path.dirname(path.join(d, f)), { recursive: true })
      writeFileSync(path.join(d, f), 'x')
    }
    const seen: string[] = []
    for await (const e of walkFiles([d, path.join(d, 'b')], { exclude: [path.join(d, 'out')] })) seen.push(path.relative(d, e.path))
    expect(seen).toEqual(['B.png', 'a.png', 'b/1.JPG', 'b/2.png', 'c/deep/x.webp'])
    const flat: string[] = []
    for await (const e of walkFiles([d], { recursive: false, extensions: ['txt'] })) flat.push(path.relative(d, e.path))
    expect(flat).toEqual(['notes.txt'])
  })
})

describe('ClassifyRepo', () => {
  it('keeps one row per path, filters and sorts, and its indexes are used', () => {
    const lib = openLibrary(tmp())
    try {
      const repo = new ClassifyRepo(lib.db)
      const params = { folders: ['/x'], model: 'm', threshold: 0.5, action: 'none' as const, dryRun: false, recursive: true, topK: 3 }
      repo.createRun('r1', params, { id: null, name: 'm' }, ['cat', 'dog'])
      const ok = (p: string, label: string, confidence: number) => ({ path: p, status: 'ok' as const, label, topLabel: label, confidence, topK: [{ label, probability: confidence }] })
      expect(repo.insert('r1', [ok('/x/1.png', 'cat', 0.9), ok('/x/2.png', 'dog', 0.7), { path: '/x/3.png', status: 'error', error: 'bad' }])).toBe(3)
      // A resumed batch that overlaps: the first result stays, nothing doubles.
      expect(repo.insert('r1', [ok('/x/2.png', 'cat', 0.1), ok('/x/4.png', 'unsure', 0.4)])).toBe(1)
      expect(repo.counts('r1')).toEqual({ files: 4, ok: 3, error: 1, unsure: 1, byLabel: { cat: 1, dog: 1, unsure: 1 } })
      expect([...repo.iterate('r1', 2)].map((r) => [r.seq, r.path])).toEqual([
        [0, '/x/1.png'],
        [1, '/x/2.png'],
        [2, '/x/3.png'],
        [3, '/x/4.png']
      ])
      expect(repo.query({ runId: 'r1', errorsOnly: true }).rows.map((r) => r.path)).toEqual(['/x/3.png'])
      expect(repo.query({ runId: 'r1', minConfidence: 0.5, sort: 'confidence', desc: true }).rows.map((r) => r.path)).toEqual(['/x/1.png', '/x/2.png'])
      expect(repo.correct('r1', ['/x/2.png'], 'cat')).toBe(1)
      expect(repo.query({ runId: 'r1', label: 'cat' }).total).toBe(2)
      const plan = (sql: string): string => (lib.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all('r1') as { detail: string }[]).map((r) => r.detail).join(' | ')
      expect(plan('SELECT * FROM classify_files WHERE run_id = ? AND seq > 5 ORDER BY seq LIMIT 10')).toMatch(/classify_files_by_seq/)
      expect(plan("SELECT 1 FROM classify_files WHERE run_id = ? AND path = 'x'")).toMatch(/sqlite_autoindex_classify_files_1|PRIMARY KEY/)
    } finally {
      lib.close()
    }
  })
})
