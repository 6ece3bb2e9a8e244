// The Electron transport without Electron: wires a dispatcher to anything shaped
// like ipcMain and a window, so it can be tested under plain Node. electron-ipc.ts
// passes the real ipcMain and BrowserWindow.

import { fail, type Result } from '../../shared/result'
import { type AppContext } from '../context'
import { createServices } from '../services'
import { createDispatcher } from './dispatch'
import { APP_ORIGIN, IPC_CALL, IPC_EVENT } from './ipc-channels'

/** The parts of Electron's types this module touches. */
export interface FrameLike {
  url: string
  parent: unknown
}
export interface WebContentsLike {
  isDestroyed(): boolean
  send(channel: string, ...args: unknown[]): void
  mainFrame: FrameLike
}
export interface WindowLike {
  isDestroyed(): boolean
  webContents: WebContentsLike
}
export interface InvokeEventLike {
  sender: unknown
  senderFrame: FrameLike | null
}
export interface IpcMainLike {
  handle(channel: string, listener: (event: InvokeEventLike, ...args: unknown[]) => unknown): void
  removeHandler(channel: string): void
}

export interface IpcWiringOptions {
  context: AppContext
  /** The studio window (a getter, because it may be recreated). */
  getWindow: () => WindowLike | null
  /** The electron-vite dev server URL in development (ELECTRON_RENDERER_URL); the app origin is always allowed. */
  devServerUrl?: string | undefined
}

/** Only our window's main frame, showing our page (tessera://app or the dev server), may call. */
export function senderAllowed(event: InvokeEventLike, win: WindowLike | null, devServerUrl?: string): boolean {
  if (!win || win.isDestroyed()) return false
  if (event.sender !== win.webContents) return false
  const frame = event.senderFrame
  if (!frame || frame !== win.webContents.mainFrame || frame.parent) return false
  let url: URL
  try {
    url = new URL(frame.url)
  } catch {
    return false
  }
  // Node's URL gives non-special schemes an opaque origin, so compare scheme and host.
  if (`${url.protocol}//${url.host}` === APP_ORIGIN) return true
  if (devServerUrl) {
    try {
      return url.origin === new URL(devServerUrl).origin
    } catch {
      return false
    }
  }
  return false
}

export function wireIpc(ipcMain: IpcMainLike, options: IpcWiringOptions): { dispose(): void } {
  const dispatch = createDispatcher(createServices(options.context))
  ipcMain.handle(IPC_CALL, async (event, method, input): Promise<Result<unknown>> => {
    if (!senderAllowed(event, options.getWindow(), options.devServerUrl)) {
      return fail('FORBIDDEN', 'This call did not come from the studio window.')
    }
    return dispatch(typeof method === 'string' ? method : '', input)
  })
  const off = options.context.bus.onAny((event, payload) => {
    const win = options.getWindow()
    if (win && !win.isDestroyed() && !win.webContents.isDestroyed()) win.webContents.send(IPC_EVENT, event, payload)
  })
  return {
    dispose() {
      off()
      ipcMain.removeHandler(IPC_CALL)
    }
  }
}
