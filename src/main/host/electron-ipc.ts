// The Electron transport: `ipcMain.handle(IPC_CALL)` answers contract calls from the
// studio window's main frame only; contract events go to that window on IPC_EVENT.
// The preload exposes them as window.tessera (`call`, `on`); see ipc-channels.ts.

import { type BrowserWindow, ipcMain } from 'electron'
import { type AppContext } from '../context'
import { wireIpc } from './ipc-core'

export { IPC_CALL, IPC_EVENT } from './ipc-channels'

export interface ElectronIpcOptions {
  context: AppContext
  getWindow: () => BrowserWindow | null
  /** process.env.ELECTRON_RENDERER_URL in development. */
  devServerUrl?: string | undefined
}

export function createElectronIpc(options: ElectronIpcOptions): { dispose(): void } {
  return wireIpc(ipcMain, {
    context: options.context,
    getWindow: () => options.getWindow(),
    devServerUrl: options.devServerUrl
  })
}
