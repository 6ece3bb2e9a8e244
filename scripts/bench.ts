// npm run bench [-- --quick] [-- --only train,import]
// Runs every benchmark of the project one after another (each in its own process, its output
// shown as it goes), reads the `BENCH {json}` line each prints last (scripts/lib/bench-line.ts),
// and ends with one table of ratios. --quick runs tiny sizes to check the wiring (its ratios
// mean little). Exits 1 when a benchmark fails or prints no BENCH line; a missed target is
// reported in the table, not as a failure.

import { spawn } from 'node:child_process'
import { resolve } from 'node:path'
import { type BenchLine, benchTable, parseBenchLine } from './lib/bench-line'

interface Bench {
  name: string
  script: string
  quick: string[]
}

const BENCHES: Bench[] = [
  { name: 'bench:train', script: 'bench-train.ts', quick: ['--width', '64', '--layers', '1', '--seq', '32', '--batch', '2', '--steps', '1', '--profile', '0', '--peakN', '256'] },
  { name: 'bench:generate', script: 'bench-generate.ts', quick: ['--side', '8', '--layers', '1', '--batches', '1'] },
  { name: 'bench:import', script: 'bench-import.ts', quick: ['--n', '40', '--side', '128'] },
  { name: 'bench:classify', script: 'bench-classify.ts', quick: ['--count', '200', '--model-side', '0'] }
]

function run(b: Bench, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((res) => {
    const child = spawn(process.execPath, ['--import', 'tsx', resolve(__dirname, b.script), ...args], { cwd: resolve(__dirname, '..'), stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      process.stdout.write(d)
    })
    child.on('error', (e) => {
      out += `\n${e.message}`
      res({ code: 1, out })
    })
    child.on('close', (code) => res({ code, out }))
  })
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick')
  const onlyAt = process.argv.indexOf('--only')
  const only = onlyAt >= 0 ? (process.argv[onlyAt + 1] ?? '').split(',').map((s) => `bench:${s.replace(/^bench:/, '')}`) : null
  const chosen = BENCHES.filter((b) => !only || only.includes(b.name))
  if (chosen.length === 0) throw new Error(`--only names none of ${BENCHES.map((b) => b.name).join(', ')}`)
  const rows: { name: string; line: BenchLine | null; error?: string }[] = []
  for (const b of chosen) {
    process.stdout.write(`\n=== ${b.name}${quick ? ' (quick)' : ''} ===\n`)
    const t0 = performance.now()
    const { code, out } = await run(b, quick ? b.quick : [])
    const line = parseBenchLine(out)
    rows.push({ name: b.name, line, ...(code !== 0 ? { error: `exited with ${code}` } : !line ? { error: 'printed no BENCH line' } : {}) })
    process.stdout.write(`=== ${b.name}: ${((performance.now() - t0) / 1000).toFixed(0)} s ===\n`)
  }
  process.stdout.write(`\nBenchmarks${quick ? ' (quick sizes: the wiring, not the numbers)' : ''}:\n\n${benchTable(rows)}\n`)
  if (rows.some((r) => !r.line || r.error)) process.exitCode = 1
}

void main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e)
  process.exitCode = 1
})
