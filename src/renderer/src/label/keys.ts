// Keys of the Label panel: the commands, and a person's own class keys (kept per dataset in
// localStorage). Which key each class gets is src/shared/label-keys.ts.

export { RESERVED, classKeys } from '../../../shared/label-keys'

export const COMMAND_KEYS: [string, string][] = [
  ['1-9, 0, letters', 'Label the current item (or the selection) with the class whose chip shows that key: a class named with one digit or letter gets that key, the others 1-9, 0, then letters in class order'],
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
