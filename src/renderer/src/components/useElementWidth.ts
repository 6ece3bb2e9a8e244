// The client width of a scrolling element, kept up to date with a ResizeObserver: what the
// virtualised grids (Label, Datasets, Gallery) need to know how many columns fit.

import { type RefObject, useEffect, useState } from 'react'

export function useElementWidth(ref: RefObject<HTMLElement | null>, initial = 800): number {
  const [width, setWidth] = useState(initial)
  useEffect(() => {
    const el = ref.current
    if (!el) return
    const ro = new ResizeObserver(() => setWidth(el.clientWidth))
    ro.observe(el)
    setWidth(el.clientWidth)
    return () => ro.disconnect()
  }, [ref])
  return width
}
