// Square cells of a virtualized grid: as many columns of at least `minCell` px as fit in `width`
// (less `inset`, the padding on both sides together), each cell then grown so the row is filled.

export function gridCells(width: number, minCell: number, gap: number, inset: number): { columns: number; cell: number } {
  const room = width - inset + gap
  const columns = Math.max(1, Math.floor(room / (minCell + gap)))
  return { columns, cell: Math.max(minCell, Math.floor(room / columns - gap)) }
}
