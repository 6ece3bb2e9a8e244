// `npm run bench` reads each benchmark's `BENCH {json}` line and prints one table of ratios.

import { describe, expect, it } from 'vitest'
import { type BenchLine, benchTable, formatRatio, parseBenchLine } from '../../../scripts/lib/bench-line'

const train: BenchLine = { name: 'bench:train', ratio: 0.412, unit: 'percent', target: 0.35, what: 'step vs MatMul peak' }
const gen: BenchLine = { name: 'bench:generate', ratio: 14.26, unit: 'times', target: 20, what: 'KV cache vs naive' }

describe('bench lines', () => {
  it('finds the last BENCH line among other output', () => {
    const out = ['warming up', `BENCH ${JSON.stringify({ ...train, ratio: 0.1 })}`, 'more output', `BENCH ${JSON.stringify(train)}`, ''].join('\n')
    expect(parseBenchLine(out)).toEqual(train)
  })

  it('is null without a line, with broken JSON or without a finite ratio', () => {
    expect(parseBenchLine('no line here\n')).toBeNull()
    expect(parseBenchLine('BENCH {not json')).toBeNull()
    expect(parseBenchLine(`BENCH ${JSON.stringify({ ...train, ratio: null })}`)).toBeNull()
  })

  it('formats percentages and factors', () => {
    expect(formatRatio(0.412, 'percent')).toBe('41%')
    expect(formatRatio(14.26, 'times')).toBe('14.3x')
  })

  it('prints one row per benchmark with its target, met or not, and failures', () => {
    const table = benchTable([
      { name: 'bench:train', line: train },
      { name: 'bench:generate', line: gen },
      { name: 'bench:import', line: null, error: 'exited with 1' }
    ])
    const rows = table.split('\n')
    expect(rows[0]).toBe('| benchmark | ratio | target | met | what |')
    expect(rows[2]).toBe('| bench:train | 41% | ≥ 35% | yes | step vs MatMul peak |')
    expect(rows[3]).toBe('| bench:generate | 14.3x | ≥ 20.0x | no | KV cache vs naive |')
    expect(rows[4]).toBe('| bench:import | — | — | failed | exited with 1 |')
  })
})
