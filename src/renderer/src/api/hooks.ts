// Server state through TanStack Query. Query keys start with the method name,
// so a `library.changed` event for a domain invalidates every query of that domain.

import { createContext, useContext, useEffect } from 'react'
import {
  useMutation,
  useQuery,
  useQueryClient,
  type QueryClient,
  type UseMutationOptions,
  type UseQueryOptions
} from '@tanstack/react-query'
import type { Events, Job, MethodInput, MethodName, MethodResult, TesseraApi } from '../../../shared/contract'
import { ApiError } from './errors'

export const ApiContext = createContext<TesseraApi | null>(null)

export function useApi(): TesseraApi {
  const api = useContext(ApiContext)
  if (!api) throw new Error('useApi needs an ApiContext provider.')
  return api
}

/** Calls a method and unwraps its Result: the value, or an ApiError carrying the sentence. */
export async function callOrThrow<M extends MethodName>(api: TesseraApi, method: M, input: MethodInput<M>): Promise<MethodResult<M>> {
  const result = await api.call(method, input)
  if (!result.ok) throw new ApiError(result.error)
  return result.value
}

export function queryKey<M extends MethodName>(method: M, input?: MethodInput<M>): readonly unknown[] {
  return input === undefined ? [method] : [method, input]
}

export function useApiQuery<M extends MethodName>(
  method: M,
  input: MethodInput<M>,
  options?: Omit<UseQueryOptions<MethodResult<M>, Error>, 'queryKey' | 'queryFn'>
) {
  const api = useApi()
  return useQuery<MethodResult<M>, Error>({
    queryKey: queryKey(method, input),
    queryFn: () => callOrThrow(api, method, input),
    ...options
  })
}

export function useApiMutation<M extends MethodName>(
  method: M,
  options?: Omit<UseMutationOptions<MethodResult<M>, Error, MethodInput<M>>, 'mutationFn' | 'mutationKey'>
) {
  const api = useApi()
  return useMutation<MethodResult<M>, Error, MethodInput<M>>({
    mutationKey: [method],
    mutationFn: (input) => callOrThrow(api, method, input),
    ...options
  })
}

/** Which queries each library domain owns (by method-name prefix). */
const domainPrefixes: Record<Events['library.changed']['domain'], string[]> = {
  datasets: ['datasets.', 'snapshots.'],
  items: ['datasets.', 'items.', 'snapshots.diff', 'curation.'],
  labels: ['datasets.', 'labels.', 'snapshots.diff', 'curation.'],
  models: ['models.'],
  runs: ['runs.', 'models.', 'snapshots.'],
  gallery: ['gallery.'],
  settings: ['settings.'],
  classify: ['classify.']
}

export function invalidateDomain(client: QueryClient, domain: Events['library.changed']['domain']): void {
  const prefixes = domainPrefixes[domain] ?? []
  void client.invalidateQueries({
    predicate: (query) => {
      const head = query.queryKey[0]
      return typeof head === 'string' && prefixes.some((prefix) => head.startsWith(prefix))
    }
  })
}

/** Replaces or inserts a job in every cached `jobs.list`, newest first. */
function upsertJob(client: QueryClient, job: Job): void {
  client.setQueriesData<Job[]>({ queryKey: ['jobs.list'] }, (jobs) => {
    if (!jobs) return jobs
    const index = jobs.findIndex((j) => j.id === job.id)
    if (index === -1) return [job, ...jobs]
    const next = jobs.slice()
    next[index] = job
    return next
  })
  client.setQueryData(queryKey('jobs.get', { id: job.id }), job)
}

/** Subscribes once to the back end's events and keeps the query cache current. */
export function useLiveEvents(): void {
  const api = useApi()
  const client = useQueryClient()
  useEffect(() => {
    const offChanged = api.on('library.changed', ({ domain }) => invalidateDomain(client, domain))
    const offState = api.on('job.state', (job) => upsertJob(client, job))
    const offProgress = api.on('job.progress', (progress) => {
      client.setQueriesData<Job[]>({ queryKey: ['jobs.list'] }, (jobs) => {
        if (!jobs) return jobs
        // A progress event for a job we have not listed yet: fetch the list again.
        if (!jobs.some((j) => j.id === progress.jobId)) {
          void client.invalidateQueries({ queryKey: ['jobs.list'] })
          return jobs
        }
        return jobs.map((j) =>
          j.id === progress.jobId
            ? { ...j, phase: progress.phase, done: progress.done, total: progress.total, rate: progress.rate, etaS: progress.etaS }
            : j
        )
      })
    })
    return () => {
      offChanged()
      offState()
      offProgress()
    }
  }, [api, client])
}
