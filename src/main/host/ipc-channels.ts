// Channel names shared by the Electron transport and the preload (no electron import here).

/** invoke(IPC_CALL, method: string, input: unknown) -> Result */
export const IPC_CALL = 'tessera:call'
/** main -> renderer: send(IPC_EVENT, event: EventName, payload) */
export const IPC_EVENT = 'tessera:event'

/** The studio window's origin: the privileged scheme that serves the renderer and library media (electron-protocol.ts). */
export const APP_ORIGIN = 'tessera://app'
