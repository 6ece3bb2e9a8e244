// TesseraApi over the browser host's WebSocket (docs/browser-host.md): calls are
// `{id, method, input}` frames answered by `{id, result}`; events arrive as
// `{event, payload}`. The socket reconnects on its own; calls made while it is
// down wait for the next connection, and calls in flight when it drops fail with
// a sentence (their effect on the back end is unknown, so they are not retried).

import type { EventName, Events, MethodInput, MethodName, MethodResult, TesseraApi } from '../../../shared/contract'
import type { Result } from '../../../shared/result'

export type ConnectionState = 'connecting' | 'open' | 'closed' | 'unauthorized'

export interface BrowserApi extends TesseraApi {
  readonly connection: ConnectionState
  onConnection(listener: (state: ConnectionState) => void): () => void
  close(): void
}

const TOKEN_KEY = 'tessera.token'

/** The access token from `?token=` (kept in sessionStorage so a reload of a cleaned URL still works). */
export function readToken(location: Location, storage: Storage | undefined): string | null {
  const fromQuery = new URLSearchParams(location.search).get('token')
  if (fromQuery) {
    try {
      storage?.setItem(TOKEN_KEY, fromQuery)
    } catch {
      // storage can be disabled; the query still works for this page load
    }
    return fromQuery
  }
  try {
    return storage?.getItem(TOKEN_KEY) ?? null
  } catch {
    return null
  }
}

interface Pending {
  frame: string
  sent: boolean
  resolve: (result: Result<unknown>) => void
}

type Frame = { id?: number | string | null; result?: Result<unknown>; event?: string; payload?: unknown }

export function createBrowserApi(options: { url: string; reconnectMs?: number }): BrowserApi {
  const firstDelayMs = options.reconnectMs ?? 1000
  let reconnectMs = firstDelayMs
  const pending = new Map<number, Pending>()
  const listeners = new Map<string, Set<(payload: unknown) => void>>()
  const connectionListeners = new Set<(state: ConnectionState) => void>()
  let nextId = 1
  let socket: WebSocket | null = null
  let state: ConnectionState = 'connecting'
  let closedByUs = false
  let everOpened = false
  let retryTimer: ReturnType<typeof setTimeout> | undefined

  const setState = (next: ConnectionState): void => {
    if (state === next) return
    state = next
    for (const listener of connectionListeners) listener(next)
  }

  /** Fails calls already sent (or every call, with `all`), answering each with a sentence. */
  const failCalls = (message: string, code: 'INTERNAL' | 'UNAUTHORIZED' = 'INTERNAL', all = false): void => {
    for (const [id, call] of pending) {
      if (!all && !call.sent) continue
      pending.delete(id)
      call.resolve({ ok: false, error: { code, message } })
    }
  }

  const send = (ws: WebSocket, call: Pending): void => {
    ws.send(call.frame)
    call.sent = true
  }

  const onFrame = (text: string): void => {
    let frame: Frame
    try {
      frame = JSON.parse(text) as Frame
    } catch {
      return
    }
    if (typeof frame.event === 'string') {
      for (const listener of listeners.get(frame.event) ?? []) listener(frame.payload)
      return
    }
    if (typeof frame.id === 'number' && frame.result) {
      const call = pending.get(frame.id)
      if (call) {
        pending.delete(frame.id)
        call.resolve(frame.result)
      }
    }
  }

  const connect = (): void => {
    setState('connecting')
    const ws = new WebSocket(options.url)
    socket = ws
    let opened = false
    ws.onopen = () => {
      opened = true
      everOpened = true
      reconnectMs = firstDelayMs
      setState('open')
      for (const call of pending.values()) if (!call.sent) send(ws, call)
    }
    ws.onmessage = (message) => {
      if (typeof message.data === 'string') onFrame(message.data)
    }
    ws.onclose = () => {
      if (socket === ws) socket = null
      failCalls('The connection to the Tessera host was lost before it answered; try again.')
      if (closedByUs) return
      // A socket refused before it ever opened, on the very first try, is almost always a bad
      // or missing token (the host answers the upgrade 401). Later drops are the host restarting.
      if (!opened && !everOpened) {
        setState('unauthorized')
        failCalls('The Tessera host refused this page: open the link that `tessera serve` printed.', 'UNAUTHORIZED', true)
        return
      }
      setState('closed')
      retryTimer = setTimeout(connect, reconnectMs)
      reconnectMs = Math.min(10_000, reconnectMs * 1.5) // back off while the host stays away
    }
  }

  connect()

  return {
    get connection() {
      return state
    },
    onConnection(listener) {
      connectionListeners.add(listener)
      return () => connectionListeners.delete(listener)
    },
    close() {
      closedByUs = true
      clearTimeout(retryTimer)
      socket?.close()
      failCalls('The studio was closed.', 'INTERNAL', true)
    },
    call<M extends MethodName>(method: M, input: MethodInput<M>): Promise<Result<MethodResult<M>>> {
      const id = nextId++
      const frame = JSON.stringify({ id, method, input })
      return new Promise<Result<MethodResult<M>>>((resolve) => {
        if (state === 'unauthorized') {
          resolve({ ok: false, error: { code: 'UNAUTHORIZED', message: 'The Tessera host refused this page: open the link that `tessera serve` printed.' } })
          return
        }
        const call: Pending = { frame, sent: false, resolve: resolve as (result: Result<unknown>) => void }
        pending.set(id, call)
        if (socket && socket.readyState === WebSocket.OPEN) send(socket, call)
      })
    },
    on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void {
      let set = listeners.get(event)
      if (!set) listeners.set(event, (set = new Set()))
      const wrapped = listener as (payload: unknown) => void
      set.add(wrapped)
      return () => {
        set.delete(wrapped)
      }
    }
  }
}
