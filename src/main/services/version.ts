// The app's own folder and version, found by walking up from this module to the
// package.json named tessera-studio (works from src/ under tsx and vitest, and
// from the bundled out/main/ build).

import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'

function findAppRoot(): { root: string; version: string } {
  const starts = [typeof __dirname === 'string' ? __dirname : '', process.argv[1] ? dirname(process.argv[1]) : '', process.cwd()]
  for (const start of starts) {
    if (!start) continue
    for (let dir = start; ; dir = dirname(dir)) {
      const p = join(dir, 'package.json')
      if (existsSync(p)) {
        try {
          const pkg = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; version?: string }
          if (pkg.name === 'tessera-studio') return { root: dir, version: pkg.version ?? '0.0.0' }
        } catch {
          // not JSON: keep walking
        }
      }
      if (dirname(dir) === dir) break
    }
  }
  return { root: process.cwd(), version: '0.0.0' }
}

const found = findAppRoot()
export const APP_ROOT: string = found.root
export const APP_VERSION: string = found.version
