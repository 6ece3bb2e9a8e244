// The Electron transport's wiring, with objects shaped like Electron's ipcMain and
// BrowserWindow (Electron itself has no binary on CI machines).

import { afterEach, describe, expect, it } from 'vitest'
import { type AppContext, createContext } from '../../../src/main/context'
import { IPC_CALL, IPC_EVENT } from '../../../src/main/host/ipc-channels'
import { type FrameLike, type InvokeEventLike, type IpcMainLike, senderAllowed, wireIpc } from '../../../src/main/host/ipc-core'
import { tempDir } from '../library/tmp'

let ctx: AppContext
let cleanup: () => void
afterEach(async () => {
  await ctx?.close()
  cleanup?.()
})

function makeWindow(url: string) {
  const sent: unknown[][] = []
  const mainFrame: FrameLike = { url, parent: null }
  const webContents = { isDestroyed: () => false, send: (...a: unknown[]) => void sent.push(a), mainFrame }
  return { win: { isDestroyed: () => false, webContents }, sent }
}

describe('senderAllowed', () => {
  it('accepts only the window main frame showing our page', () => {
    const { win } = makeWindow('tessera://app/index.html')
    const main: InvokeEventLike = { sender: win.webContents, senderFrame: win.webContents.mainFrame }
    expect(senderAllowed(main, win)).toBe(true)
    expect(senderAllowed({ sender: {}, senderFrame: win.webContents.mainFrame }, win)).toBe(false)
    expect(senderAllowed({ sender: win.webContents, senderFrame: { url: 'tessera://app/x', parent: win.webContents.mainFrame } }, win)).toBe(false)
    expect(senderAllowed({ sender: win.webContents, senderFrame: null }, win)).toBe(false)
    expect(senderAllowed(main, null)).toBe(false)
    win.webContents.mainFrame.url = 'file:///tmp/page.html'
    expect(senderAllowed(main, win)).toBe(false)
    win.webContents.mainFrame.url = 'tessera://other/index.html'
    expect(senderAllowed(main, win)).toBe(false)
    win.webContents.mainFrame.url = 'https://evil.example/'
    expect(senderAllowed(main, win)).toBe(false)
    win.webContents.mainFrame.url = 'http://localhost:5173/'
    expect(senderAllowed(main, win)).toBe(false)
    expect(senderAllowed(main, win, 'http://localhost:5173')).toBe(true)
    expect(senderAllowed(main, win, 'http://localhost:5174')).toBe(false)
  })
})

describe('wireIpc', () => {
  it('dispatches calls from the window, refuses others, and forwards events', async () => {
    const t = tempDir()
    cleanup = t.cleanup
    ctx = createContext({ libraryDir: t.dir, host: 'electron' })
    const handlers = new Map<string, (event: InvokeEventLike, ...args: unknown[]) => unknown>()
    const ipcMain: IpcMainLike = { handle: (ch, l) => void handlers.set(ch, l), removeHandler: (ch) => void handlers.delete(ch) }
    const { win, sent } = makeWindow('tessera://app/index.html')
    const wiring = wireIpc(ipcMain, { context: ctx, getWindow: () => win })
    const call = handlers.get(IPC_CALL)!
    const good: InvokeEventLike = { sender: win.webContents, senderFrame: win.webContents.mainFrame }

    expect(await call(good, 'datasets.create', { name: 'Cats' })).toMatchObject({ ok: true, value: { name: 'Cats' } })
    expect(sent.some(([ch, ev]) => ch === IPC_EVENT && ev === 'library.changed')).toBe(true)
    expect(await call(good, 'datasets.create', { name: '' })).toMatchObject({ ok: false, error: { code: 'VALIDATION', field: 'name' } })
    expect(await call({ sender: {}, senderFrame: null }, 'datasets.list', {})).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } })
    expect(await call(good, 42, {})).toMatchObject({ ok: false, error: { code: 'UNKNOWN_METHOD' } })

    wiring.dispose()
    expect(handlers.has(IPC_CALL)).toBe(false)
    const before = sent.length
    ctx.bus.emit('library.changed', { domain: 'models' })
    expect(sent.length).toBe(before)
  })
})
