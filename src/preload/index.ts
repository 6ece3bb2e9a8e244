// The sandboxed preload: exposes exactly the contract's `TesseraApi` as
// `window.tessera` — `call` for contract methods and `on` for contract events —
// and nothing else. Method and event names are checked here and again in main.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron'
import { eventNames, methodNames, type EventName, type Events, type TesseraApi } from '../shared/contract'
import { type Result } from '../shared/result'
import { IPC_CALL, IPC_EVENT } from '../main/host/ipc-channels'

const knownMethods = new Set<string>(methodNames)
const knownEvents = new Set<string>(eventNames)

const listeners = new Map<string, Set<(payload: unknown) => void>>()

ipcRenderer.on(IPC_EVENT, (_event: IpcRendererEvent, name: unknown, payload: unknown) => {
  if (typeof name !== 'string') return
  for (const listener of listeners.get(name) ?? []) listener(payload)
})

const api: TesseraApi = {
  async call(method, input) {
    if (!knownMethods.has(method)) {
      return { ok: false, error: { code: 'UNKNOWN_METHOD', message: `There is no method named "${String(method)}".` } }
    }
    return (await ipcRenderer.invoke(IPC_CALL, method, input)) as Result<never>
  },
  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void) {
    if (!knownEvents.has(event)) throw new Error(`There is no event named "${String(event)}".`)
    let set = listeners.get(event)
    if (!set) listeners.set(event, (set = new Set()))
    const wrapped = listener as (payload: unknown) => void
    set.add(wrapped)
    return () => {
      set.delete(wrapped)
    }
  }
}

contextBridge.exposeInMainWorld('tessera', api)
