// Channel names shared by the Electron transport and the preload (no electron import here).

/** invoke(IPC_CALL, method: string, input: unknown) -> Result */
export const IPC_CALL = 'tessera:call'
/** main -> renderer: send(IPC_EVENT, event: EventName, payload) */
export const IPC_EVENT = 'tessera:event'
