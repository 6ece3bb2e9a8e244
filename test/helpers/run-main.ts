// Runs the tessera CLI's main() in this process with stdout/stderr captured (fast; no child
// process). `env` is set for the call and restored afterwards. Same result shape as runCli.

import { main } from '../../src/main/cli'

export interface MainResult {
  code: number
  stdout: string
  stderr: string
}

export async function runMain(args: string[], env: Record<string, string> = {}): Promise<MainResult> {
  const out = { stdout: '', stderr: '' }
  const write = { stdout: process.stdout.write, stderr: process.stderr.write }
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]))
  Object.assign(process.env, env)
  process.stdout.write = ((chunk: string | Uint8Array) => ((out.stdout += String(chunk)), true)) as typeof process.stdout.write
  process.stderr.write = ((chunk: string | Uint8Array) => ((out.stderr += String(chunk)), true)) as typeof process.stderr.write
  try {
    const code = await main(args)
    return { code, ...out }
  } finally {
    process.stdout.write = write.stdout
    process.stderr.write = write.stderr
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
}
