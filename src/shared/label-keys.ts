// Keys of the Label panel, the pure part (the renderer keeps a person's own keys per dataset).
// A class named with one free digit or letter gets that key ("0" … "9" are pressed as
// themselves); the others get 1-9 then 0, then letters, in class order. Keys used by commands are
// never given to classes.

import type { ClassInfo } from './contract'

/** Keys that do something else; never handed to a class. */
export const RESERVED = new Set(['x', 'v', '?', '/', ' ', 'enter', 'escape'])
const DIGITS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0']
const LETTERS = 'qwertyuiopasdfghjklzcbnm'.split('')
const KEYABLE = new Set([...DIGITS, ...LETTERS])

/** Key per class id: custom ones first, then a class's own one-character name, then the defaults still free. */
export function classKeys(classes: ClassInfo[], custom: Record<string, string>): Map<string, string> {
  const out = new Map<string, string>()
  const used = new Set<string>()
  const give = (id: string, k: string): void => {
    out.set(id, k)
    used.add(k)
  }
  for (const c of classes) {
    const k = custom[c.id]?.toLowerCase()
    if (k && k.length === 1 && !RESERVED.has(k) && !used.has(k)) give(c.id, k)
  }
  for (const c of classes) {
    const own = c.name.trim().toLowerCase()
    if (!out.has(c.id) && own.length === 1 && KEYABLE.has(own) && !used.has(own)) give(c.id, own)
  }
  const pool = [...DIGITS, ...LETTERS].filter((k) => !used.has(k))
  for (const c of classes) {
    if (out.has(c.id)) continue
    const k = pool.shift()
    if (!k) break
    give(c.id, k)
  }
  return out
}
