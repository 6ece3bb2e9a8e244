// Keys of the Label panel. Classes get 1-9 then 0 (the first ten, in class order),
// then letters; a person can change any class's key (kept per dataset in
// localStorage). Letters used by commands are never given to classes.

import type { ClassInfo } from '../../../shared/contract'

/** Keys that do something else; never handed to a class. */
export const RESERVED = new Set(['x', 'v', '?', '/', ' ', 'enter', 'escape'])
const DIGITS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0']
const LETTERS = 'qwertyuiopasdfghjklzcbnm'.split('')

export const COMMAND_KEYS: [string, string][] = [
  ['1-9, 0', 'Label the current item (or the selection) with the first ten classes'],
  ['letters', 'Label with the class shown on its chip (11th class on)'],
  ['Enter', "Accept the model's suggestion for the current item"],
  ['x', 'Clear the label'],
  ['← → ↑ ↓', 'Move (up/down by a row in the grid)'],
  ['v', 'Switch between grid and single view'],
  ['Ctrl+Z', 'Undo'],
  ['Ctrl+Shift+Z, Ctrl+Y', 'Redo'],
  ['Ctrl+A', 'Select every loaded item'],
  ['Shift+click', 'Select a range'],
  ['drag', 'Rubber-band select in the grid'],
  ['Escape', 'Clear the selection'],
  ['Ctrl + / − / 0', 'Zoom in, out, fit (single view); wheel and drag zoom and pan'],
  ['?', 'Show these keys']
]

const storageKey = (datasetId: string): string => `tessera.labelKeys.${datasetId}`

export function loadCustomKeys(datasetId: string): Record<string, string> {
  try {
    const raw = localStorage.getItem(storageKey(datasetId))
    return raw ? (JSON.parse(raw) as Record<string, string>) : {}
  } catch {
    return {}
  }
}

export function saveCustomKeys(datasetId: string, keys: Record<string, string>): void {
  localStorage.setItem(storageKey(datasetId), JSON.stringify(keys))
}

/** Key per class id: custom ones first, then the defaults that are still free. */
export function classKeys(classes: ClassInfo[], custom: Record<string, string>): Map<string, string> {
  const out = new Map<string, string>()
  const used = new Set<string>()
  for (const c of classes) {
    const k = custom[c.id]?.toLowerCase()
    if (k && k.length === 1 && !RESERVED.has(k) && !used.has(k)) {
      out.set(c.id, k)
      used.add(k)
    }
  }
  const pool = [...DIGITS, ...LETTERS].filter((k) => !used.has(k))
  for (const c of classes) {
    if (out.has(c.id)) continue
    const k = pool.shift()
    if (!k) break
    out.set(c.id, k)
    used.add(k)
  }
  return out
}
