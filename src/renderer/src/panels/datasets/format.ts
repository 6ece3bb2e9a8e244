// Small formatting and routing helpers for the dataset pages.

import type { SplitName } from '../../../../shared/contract'

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MB`
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GB`
}

export const SPLITS: SplitName[] = ['train', 'val', 'test']

/** Split colours: distinct from the class palette, readable on light and dark. */
export const SPLIT_COLORS: Record<SplitName | 'none', string> = { train: '#3b6fd8', val: '#c08a1e', test: '#8e44ad', none: '#9aa0a6' }

export const thumbUrl = (sha256: string): string => `/thumbs/${sha256}`
export const mediaUrl = (sha256: string): string => `/media/${sha256}`

/** `#/datasets/<id>` opens a dataset; `#/datasets` the list. */
export function datasetIdFromHash(hash: string): string | null {
  const m = /^#\/?datasets\/([^/?]+)/.exec(hash)
  return m ? decodeURIComponent(m[1]!) : null
}

export function openDataset(id: string | null): void {
  window.location.hash = id ? `#/datasets/${encodeURIComponent(id)}` : '#/datasets'
}
