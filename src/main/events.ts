// The typed event bus: services and jobs emit contract events; each transport
// (Electron IPC, browser host WebSocket) subscribes with onAny and forwards.

import { EventEmitter } from 'node:events'
import { type EventName, type Events } from '../shared/contract'

export type AnyListener = <E extends EventName>(event: E, payload: Events[E]) => void

export class EventBus {
  private readonly emitter = new EventEmitter()
  private readonly anyListeners = new Set<AnyListener>()

  constructor() {
    this.emitter.setMaxListeners(0)
  }

  emit<E extends EventName>(event: E, payload: Events[E]): void {
    this.emitter.emit(event, payload)
    for (const l of this.anyListeners) {
      try {
        l(event, payload)
      } catch (e) {
        console.error(`[events] a listener for ${event} threw:`, e)
      }
    }
  }

  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void {
    this.emitter.on(event, listener)
    return () => this.emitter.off(event, listener)
  }

  onAny(listener: AnyListener): () => void {
    this.anyListeners.add(listener)
    return () => this.anyListeners.delete(listener)
  }
}
