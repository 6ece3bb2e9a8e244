import { describe, expect, it } from 'vitest'
import { classKeys } from '../../../src/shared/label-keys'
import type { ClassInfo } from '../../../src/shared/contract'

const classes = (...names: string[]): ClassInfo[] => names.map((name, position) => ({ id: `c${position}`, name, color: '#000', position }))
const byName = (cs: ClassInfo[], keys: Map<string, string>): Record<string, string | undefined> => Object.fromEntries(cs.map((c) => [c.name, keys.get(c.id)]))

describe('Label panel class keys', () => {
  it('gives digit classes their own digit, so pressing 7 labels a 7', () => {
    const cs = classes('0', '1', '2', '3', '4', '5', '6', '7', '8', '9')
    expect(byName(cs, classKeys(cs, {}))).toEqual({ 0: '0', 1: '1', 2: '2', 3: '3', 4: '4', 5: '5', 6: '6', 7: '7', 8: '8', 9: '9' })
  })

  it('numbers other classes 1-9, 0, then letters in class order, skipping keys a class name took', () => {
    const cs = classes('cat', '2', 'dog', 'A', 'x')
    // '2' and 'a' are their classes' own; 'x' clears a label, so that class gets a free key.
    expect(byName(cs, classKeys(cs, {}))).toEqual({ cat: '1', 2: '2', dog: '3', A: 'a', x: '4' })
    const many = classes(...Array.from({ length: 12 }, (_, i) => `class_${i}`))
    expect([...classKeys(many, {}).values()]).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '0', 'q', 'w'])
  })

  it("puts a person's own keys first, even over a class name's key", () => {
    const cs = classes('0', '1', 'bird')
    // The person gave "bird" the key 1: class "1" falls back to the first free default.
    expect(byName(cs, classKeys(cs, { c2: '1' }))).toEqual({ 0: '0', 1: '2', bird: '1' })
    // Reserved or repeated custom keys are ignored.
    expect(byName(cs, classKeys(cs, { c2: 'x', c0: '1', c1: '1' }))).toEqual({ 0: '1', 1: '2', bird: '3' })
  })
})
