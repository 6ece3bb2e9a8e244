// Where the library lives: `--library DIR`, else TESSERA_LIBRARY, else (Electron
// only) the user-data folder. The CLI and browser host have no default of their own
// beyond ./.tessera so that a stray command never writes somewhere surprising.

import { join, resolve } from 'node:path'

export interface LibraryLocationInput {
  flag?: string | undefined
  env?: NodeJS.ProcessEnv
  /** Electron's app.getPath('userData'); undefined outside Electron. */
  userDataDir?: string | undefined
  cwd?: string
}

export function resolveLibraryDir(input: LibraryLocationInput = {}): string {
  const env = input.env ?? process.env
  const cwd = input.cwd ?? process.cwd()
  if (input.flag) return resolve(cwd, input.flag)
  const fromEnv = env.TESSERA_LIBRARY
  if (fromEnv) return resolve(cwd, fromEnv)
  if (input.userDataDir) return join(input.userDataDir, 'library')
  return resolve(cwd, '.tessera')
}
