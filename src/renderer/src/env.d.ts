import type { TesseraApi } from '../../shared/contract'

declare global {
  interface Window {
    /** Exposed by the Electron preload (src/preload); absent in the browser host page. */
    tessera?: TesseraApi
  }
}

export {}
