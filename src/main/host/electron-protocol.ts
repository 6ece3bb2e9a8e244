// The studio window's own origin, `tessera://app/`: the built renderer and the
// library's media under one privileged standard scheme, so the page's relative
// `/media/<sha256>` and `/thumbs/<sha256>` URLs work in Electron exactly as in the
// browser host, with a CSP header on the page. The handler itself is a plain function
// (electron-security.ts: appSchemeHandler), tested without Electron.

import { protocol } from 'electron'
import { type AppContext } from '../context'
import { appSchemeHandler } from './electron-security'
import { APP_ORIGIN } from './ipc-channels'

export const APP_SCHEME = 'tessera'
export { APP_ORIGIN }

/** Must run before the app is ready. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([
    { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true, codeCache: true } }
  ])
}

export function handleAppScheme(context: AppContext, rendererDir: string): void {
  protocol.handle(APP_SCHEME, appSchemeHandler(context, rendererDir))
}
