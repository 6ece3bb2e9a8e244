// The Label panel's item list: offset pages of labels.list (items with the chosen
// model's cached prediction), fetched only for the pages either view needs.

import { useMemo } from 'react'
import { useQueries } from '@tanstack/react-query'
import type { MethodInput, PredictedItem } from '../../../shared/contract'
import { callOrThrow, queryKey, useApi } from '../api/hooks'

export const PAGE = 120

export type LabelListInput = Omit<MethodInput<'labels.list'>, 'offset' | 'limit'>

export interface LabelPages {
  loaded: Map<number, PredictedItem>
  total: number | null
  /** Index of an item by id among the loaded pages, or -1. */
  indexOf: (id: string) => number
}

export function pagesFor(indexes: number[]): number[] {
  return [...new Set(indexes.filter((i) => i >= 0).map((i) => Math.floor(i / PAGE)))].sort((a, b) => a - b)
}

export function useLabelPages(input: LabelListInput | null, pageIndexes: number[]): LabelPages {
  const api = useApi()
  const inputFor = (p: number): MethodInput<'labels.list'> => ({ ...(input as LabelListInput), offset: p * PAGE, limit: PAGE })
  const pages = useQueries({
    queries: (input ? pageIndexes : []).map((p) => ({
      queryKey: queryKey('labels.list', inputFor(p)),
      queryFn: () => callOrThrow(api, 'labels.list', inputFor(p)),
      staleTime: 5_000,
      placeholderData: (prev: unknown) => prev as never
    }))
  })
  const stamp = pages.map((q) => q.dataUpdatedAt).join(',')
  return useMemo(() => {
    const loaded = new Map<number, PredictedItem>()
    pages.forEach((q, i) => q.data?.items.forEach((item, j) => loaded.set((pageIndexes[i] as number) * PAGE + j, item)))
    const total = pages.find((q) => q.data)?.data?.total ?? null
    const byId = new Map<string, number>()
    for (const [i, item] of loaded) byId.set(item.id, i)
    return { loaded, total, indexOf: (id: string) => byId.get(id) ?? -1 }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [stamp, pageIndexes.join(',')])
}
