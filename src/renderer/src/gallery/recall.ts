// Hand-over from the Gallery (recall, remix, "complete this image") to the Generate panel:
// a tiny external store the Generate form reads once and clears.

import { useSyncExternalStore } from 'react'
import type { GenerationRecipe } from '../../../shared/contract'

export type Handover =
  | { kind: 'recall'; recipe: GenerationRecipe }
  | { kind: 'remix'; recipe: GenerationRecipe }
  | { kind: 'complete'; sha256: string; side: number | null }

let current: Handover | null = null
const listeners = new Set<() => void>()

export function handOver(h: Handover): void {
  current = h
  for (const l of listeners) l()
  window.location.hash = '#/generate'
}

export function takeHandover(): Handover | null {
  const h = current
  current = null
  return h
}

export function useHandover(): Handover | null {
  return useSyncExternalStore(
    (notify) => {
      listeners.add(notify)
      return () => listeners.delete(notify)
    },
    () => current
  )
}

export const mediaUrl = (sha256: string): string => `/media/${sha256}`

/** CSS for images shown bigger than their pixels: no smoothing, pixel art stays crisp. */
export const pixelated = { imageRendering: 'pixelated' as const }

export function randomSeed(): number {
  const a = new Uint32Array(1)
  crypto.getRandomValues(a)
  return a[0]!
}
