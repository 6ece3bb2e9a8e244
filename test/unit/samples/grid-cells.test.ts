import { describe, expect, it } from 'vitest'
import { gridCells } from '../../../src/shared/grid-cells'

describe('gridCells', () => {
  it('fits as many minimum-size columns as the width allows, then grows the cells to fill the row', () => {
    // 1,216 px less 16 of inset holds 8 columns of 136 with 7 gaps of 8 (1,144); the rest widens them to 143.
    const { columns, cell } = gridCells(1216, 136, 8, 16)
    expect(columns).toBe(8)
    expect(cell).toBe(143)
    expect(columns * cell + (columns - 1) * 8).toBeLessThanOrEqual(1216 - 16)
  })
  it('keeps one column of the minimum size when the width is too small', () => {
    expect(gridCells(50, 128, 8, 8)).toEqual({ columns: 1, cell: 128 })
  })
})
