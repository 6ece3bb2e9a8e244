// Chooses the transport for the one TesseraApi: the Electron preload's
// `window.tessera` when present, otherwise the browser host's WebSocket.

import type { TesseraApi } from '../../../shared/contract'
import { createBrowserApi, readToken, type BrowserApi } from './ws-client'

export type ApiConnection =
  | { kind: 'electron'; api: TesseraApi }
  | { kind: 'browser'; api: BrowserApi }
  | { kind: 'missing-token' }

export function connectApi(): ApiConnection {
  if (window.tessera) return { kind: 'electron', api: window.tessera }
  const token = readToken(window.location, window.sessionStorage)
  if (!token) return { kind: 'missing-token' }
  // Keep the token out of the address bar (and out of screenshots and history).
  if (new URLSearchParams(window.location.search).has('token')) {
    window.history.replaceState(null, '', window.location.pathname + window.location.hash)
  }
  const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws'
  const url = `${scheme}://${window.location.host}/ws?token=${encodeURIComponent(token)}`
  return { kind: 'browser', api: createBrowserApi({ url }) }
}
