import { afterEach, describe, expect, it } from 'vitest'
import { type AppContext, createContext } from '../../../src/main/context'
import { createDispatcher, type Dispatch } from '../../../src/main/host/dispatch'
import { createServices } from '../../../src/main/services'
import { LATEST_SCHEMA_VERSION } from '../../../src/main/library/migrations'
import { methodNames } from '../../../src/shared/contract'
import { tempDir } from '../library/tmp'

let ctx: AppContext
let cleanup: () => void
let logged: unknown[]
afterEach(async () => {
  await ctx?.close()
  cleanup?.()
})

function setup(): Dispatch {
  const t = tempDir()
  cleanup = t.cleanup
  ctx = createContext({ libraryDir: t.dir, host: 'cli' })
  logged = []
  return createDispatcher(createServices(ctx), { log: (_m, e) => logged.push(e) })
}

describe('dispatch', () => {
  it('has a service for every contract method', () => {
    const dispatch = setup()
    expect(dispatch).toBeTypeOf('function')
    expect(Object.keys(createServices(ctx)).sort()).toEqual([...methodNames].sort())
  })

  it('answers VALIDATION naming the offending field', async () => {
    const dispatch = setup()
    const r1 = await dispatch('datasets.create', { name: '' })
    expect(r1).toMatchObject({ ok: false, error: { code: 'VALIDATION', field: 'name' } })
    const r2 = await dispatch('datasets.create', { name: 'ok', classes: ['a', 'b', '   '] })
    expect(r2).toMatchObject({ ok: false, error: { code: 'VALIDATION', field: 'classes.2' } })
    const r3 = await dispatch('datasets.create', { name: 'ok', extra: 1 })
    expect(r3.ok).toBe(false)
    if (!r3.ok) expect(r3.error.code).toBe('VALIDATION')
    const r4 = await dispatch('jobs.list', { limit: 0 })
    expect(r4).toMatchObject({ ok: false, error: { code: 'VALIDATION', field: 'limit' } })
  })

  it('answers UNKNOWN_METHOD, NOT_FOUND and CONFLICT as contract errors', async () => {
    const dispatch = setup()
    expect(await dispatch('nope.nothing', {})).toMatchObject({ ok: false, error: { code: 'UNKNOWN_METHOD' } })
    expect(await dispatch('toString', {})).toMatchObject({ ok: false, error: { code: 'UNKNOWN_METHOD' } })
    expect(await dispatch('datasets.get', { ref: 'missing' })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } })
    expect(await dispatch('datasets.create', { name: 'A' })).toMatchObject({ ok: true, value: { name: 'A' } })
    expect(await dispatch('datasets.create', { name: 'a' })).toMatchObject({ ok: false, error: { code: 'CONFLICT', field: 'name' } })
  })

  it('runs services end to end and emits library events', async () => {
    const dispatch = setup()
    const events: string[] = []
    ctx.bus.on('library.changed', (e) => events.push(e.domain))
    const info = await dispatch('app.info', {})
    expect(info).toMatchObject({ ok: true, value: { name: 'Tessera Studio', host: 'cli', schemaVersion: LATEST_SCHEMA_VERSION } })
    expect(await dispatch('settings.set', { theme: 'dark' })).toMatchObject({ ok: true, value: { theme: 'dark', executionProvider: 'auto' } })
    expect(await dispatch('settings.get', undefined)).toMatchObject({ ok: true, value: { theme: 'dark' } })
    expect(await dispatch('models.list', {})).toEqual({ ok: true, value: [] })
    expect(await dispatch('jobs.list', {})).toEqual({ ok: true, value: [] })
    expect(events).toEqual(['settings'])
  })

  it('library.verify starts the job and answers with it', async () => {
    const dispatch = setup()
    ctx.jobs.start()
    const r = await dispatch('library.verify', {})
    expect(r).toMatchObject({ ok: true, value: { kind: 'library.verify' } })
    if (!r.ok) return
    expect((await ctx.jobs.wait((r.value as { id: string }).id)).state).toBe('done')
  })

  it('answers INTERNAL with a sentence, never a stack, and logs the error', async () => {
    const dispatch = setup()
    ctx.library.db.close() // a real failure inside a service: the database is gone
    const r = await dispatch('datasets.list', {})
    expect(r.ok).toBe(false)
    if (r.ok) return
    expect(r.error.code).toBe('INTERNAL')
    expect(r.error.message).not.toMatch(/\bat .*\(|\.ts:\d+|database connection/)
    expect(JSON.stringify(r)).not.toMatch(/stack/i)
    expect(logged).toHaveLength(1)
    expect(String(logged[0])).toMatch(/not open/)
  })
})
