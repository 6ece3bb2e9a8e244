// A temp library with a running job runner, its services behind the dispatcher, and an empty
// `src` folder to import from. `call` throws with the error code when a method fails.

import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { type AppContext, createContext } from '../../src/main/context'
import { createDispatcher } from '../../src/main/host/dispatch'
import { createServices } from '../../src/main/services'
import { type MethodInput, type MethodName, type MethodResult } from '../../src/shared/contract'
import { tempDir } from '../unit/library/tmp'

/** Opens the services on `libraryDir` with a running job runner; pushes closing the context onto `cleanups`. */
export function openServices(libraryDir: string, cleanups: (() => void | Promise<void>)[]) {
  const ctx: AppContext = createContext({ libraryDir, host: 'cli', startJobs: true })
  cleanups.push(() => ctx.close())
  const dispatch = createDispatcher(createServices(ctx))
  const call = async <M extends MethodName>(m: M, input: MethodInput<M>): Promise<MethodResult<M>> => {
    const r = await dispatch(m, input)
    if (!r.ok) throw new Error(`${m}: ${r.error.code} ${r.error.message}`)
    return r.value as MethodResult<M>
  }
  return { ctx, dispatch, call }
}

/** Sets up the library; pushes its clean-ups (remove the folder, close the context) onto `cleanups`. */
export function setupServices(cleanups: (() => void | Promise<void>)[]) {
  const t = tempDir()
  cleanups.push(t.cleanup)
  const { ctx, dispatch, call } = openServices(join(t.dir, 'lib'), cleanups)
  const src = join(t.dir, 'src')
  mkdirSync(src)
  return { ctx, call, dispatch, src, dir: t.dir }
}
