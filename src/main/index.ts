// The Electron main process: one studio window, locked down (context isolation,
// sandbox, no Node in the renderer, no navigation, no new windows, no permissions),
// talking to the back end only through the contract over IPC (host/electron-ipc.ts).
// Everything else — library, jobs, ML — is plain Node shared with the CLI and the
// browser host.

import { join } from 'node:path'
import { app, BrowserWindow, nativeTheme, session, shell } from 'electron'
import { seedOnFirstStart } from './samples'
import { createContext, type AppContext } from './context'
import { createElectronIpc } from './host/electron-ipc'
import { handleAppScheme, registerAppScheme } from './host/electron-protocol'
import {
  denyPermissionCheck,
  denyPermissionRequest,
  navigationGuard,
  remoteRequestFilter,
  studioStartUrl,
  studioWindowOptions,
  windowOpenHandler
} from './host/electron-security'
import { resolveLibraryDir } from './library/location'

const devServerUrl = !app.isPackaged ? process.env.ELECTRON_RENDERER_URL : undefined

let mainWindow: BrowserWindow | null = null
let context: AppContext | null = null
let ipc: { dispose(): void } | null = null

function createWindow(): BrowserWindow {
  const win = new BrowserWindow(studioWindowOptions({ preload: join(__dirname, '../preload/index.js'), dark: nativeTheme.shouldUseDarkColors }))
  win.once('ready-to-show', () => win.show())

  // No navigation away from the studio, and no new windows; https links open in the
  // user's browser instead (host/electron-security.ts).
  const guard = navigationGuard(devServerUrl)
  win.webContents.on('will-navigate', guard)
  win.webContents.on('will-redirect', guard)
  win.webContents.setWindowOpenHandler(windowOpenHandler((url) => void shell.openExternal(url)))
  win.webContents.on('will-attach-webview', (event) => event.preventDefault())

  void win.loadURL(studioStartUrl(devServerUrl))
  return win
}

function lockDownSession(): void {
  // The studio needs no camera, microphone, notifications or any other permission.
  session.defaultSession.setPermissionRequestHandler(denyPermissionRequest)
  session.defaultSession.setPermissionCheckHandler(denyPermissionCheck)
  // Nothing is loaded from the network: refuse every remote request outright.
  session.defaultSession.webRequest.onBeforeRequest(remoteRequestFilter(devServerUrl))
}

// The renderer and library media are served from tessera://app (host/electron-protocol.ts).
registerAppScheme()

if (!app.requestSingleInstanceLock()) {
  app.quit()
} else {
  app.on('second-instance', () => {
    if (mainWindow) {
      if (mainWindow.isMinimized()) mainWindow.restore()
      mainWindow.focus()
    }
  })

  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-attach-webview', (event) => event.preventDefault())
  })

  void app.whenReady().then(() => {
    lockDownSession()
    const libraryDir = resolveLibraryDir({
      flag: libraryFlag(process.argv),
      userDataDir: app.getPath('userData')
    })
    context = createContext({ libraryDir, host: 'electron', startJobs: true })
    handleAppScheme(context, join(__dirname, '../renderer'))
    // First start with an empty library: the built-in models and the sample dataset (src/main/samples).
    void seedOnFirstStart(context).catch((e: unknown) => console.error('Could not import the sample library:', e))
    mainWindow = createWindow()
    ipc = createElectronIpc({ context, getWindow: () => mainWindow, devServerUrl })

    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) mainWindow = createWindow()
    })
  })

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit()
  })

  let closing = false
  app.on('before-quit', (event) => {
    if (closing || !context) return
    // Let running jobs reach a checkpoint and the database close cleanly.
    event.preventDefault()
    closing = true
    ipc?.dispose()
    void context.close().finally(() => app.quit())
  })
}

/** `--library DIR` or `--library=DIR` on the Electron command line. */
function libraryFlag(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--library') return argv[i + 1]
    if (a?.startsWith('--library=')) return a.slice('--library='.length)
  }
  return undefined
}
