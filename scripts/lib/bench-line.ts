// The machine-readable last line of every benchmark: `BENCH {json}`. `npm run bench`
// (scripts/bench.ts) runs them all and reads these lines to print one table of ratios.

export interface BenchLine {
  /** The npm script, e.g. "bench:train". */
  name: string
  /** The headline ratio (a fraction for percentages, a factor for speed-ups). */
  ratio: number
  /** 'percent' prints 0.39 as 39%; 'times' prints 55 as 55x. */
  unit: 'percent' | 'times'
  /** The target for the ratio, in the same unit (null: none set). */
  target: number | null
  /** What the ratio compares, in a few words. */
  what: string
  /** Further numbers of the run (rates, sizes). */
  details?: Record<string, number | string>
}

export const BENCH_PREFIX = 'BENCH '

export function printBenchLine(line: BenchLine): void {
  process.stdout.write(`${BENCH_PREFIX}${JSON.stringify(line)}\n`)
}

/** The BENCH line in a benchmark's output (the last one), or null. */
export function parseBenchLine(output: string): BenchLine | null {
  const lines = output.split(/\r?\n/).filter((l) => l.startsWith(BENCH_PREFIX))
  const last = lines.at(-1)
  if (!last) return null
  try {
    const v = JSON.parse(last.slice(BENCH_PREFIX.length)) as BenchLine
    return typeof v.name === 'string' && typeof v.ratio === 'number' && Number.isFinite(v.ratio) ? v : null
  } catch {
    return null
  }
}

export function formatRatio(value: number, unit: BenchLine['unit']): string {
  return unit === 'percent' ? `${(100 * value).toFixed(0)}%` : `${value.toFixed(1)}x`
}

/** The final table: one row per benchmark, its ratio against its target. */
export function benchTable(rows: { name: string; line: BenchLine | null; error?: string }[]): string {
  const out = ['| benchmark | ratio | target | met | what |', '|---|---|---|---|---|']
  for (const r of rows) {
    if (!r.line) {
      out.push(`| ${r.name} | — | — | failed | ${r.error ?? 'no BENCH line'} |`)
      continue
    }
    const l = r.line
    const target = l.target === null ? '—' : `≥ ${formatRatio(l.target, l.unit)}`
    const met = l.target === null ? '—' : l.ratio >= l.target ? 'yes' : 'no'
    out.push(`| ${l.name} | ${formatRatio(l.ratio, l.unit)} | ${target} | ${met} | ${l.what} |`)
  }
  return out.join('\n')
}
