// The one contract between the studio's front ends (Electron renderer, browser host
// page, CLI) and its back end. Every method has a name, a zod input schema and a
// result type; every event has a name and a payload type. The back end validates
// every input against these schemas at its boundary (src/main/host/dispatch.ts).
// The renderer imports this module for types only.
//
// Later issues add methods here; keep names `<domain>.<verb>`.

import { z } from 'zod'
import type { Result } from './result'

// ---------------------------------------------------------------------------
// Shared schema pieces

/** Ids are opaque strings made by the back end (UUID v4 or content hashes). */
export const Id = z.string().min(1).max(128)
/** A human name: trimmed, non-empty, one line. */
export const Name = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters')
  .refine((s) => !/[\r\n\0]/.test(s), 'must be one line without control characters')
/** An id or a unique name, as the CLI accepts them. */
export const Ref = z.string().trim().min(1).max(200)

// ---------------------------------------------------------------------------
// Result types (plain data: what crosses IPC, WebSocket and CLI --json)

export interface AppInfo {
  name: 'Tessera Studio'
  version: string
  libraryPath: string
  host: 'electron' | 'browser' | 'cli'
  platform: string
  schemaVersion: number
}

export type JobState = 'queued' | 'running' | 'paused' | 'done' | 'failed' | 'cancelled' | 'interrupted'

export interface Job {
  id: string
  kind: string
  title: string
  state: JobState
  /** Heavy jobs (training, batch classify, generation) run one at a time. */
  heavy: boolean
  params: unknown
  phase: string | null
  done: number
  total: number | null
  /** Units per second over the recent window. */
  rate: number | null
  etaS: number | null
  error: string | null
  result: unknown
  createdAt: string
  startedAt: string | null
  finishedAt: string | null
}

export interface JobProgress {
  jobId: string
  phase: string
  done: number
  total: number | null
  rate: number | null
  etaS: number | null
  metrics?: Record<string, number>
}

export interface ClassInfo {
  id: string
  name: string
  color: string
  position: number
}

export interface Dataset {
  id: string
  name: string
  description: string
  createdAt: string
  updatedAt: string
  itemCount: number
  labelledCount: number
  classes: ClassInfo[]
}

export interface ModelSummary {
  id: string
  name: string
  kind: string
  source: 'builtin' | 'imported' | 'trained'
  createdAt: string
  parentId: string | null
}

export interface Settings {
  theme: 'system' | 'light' | 'dark'
  executionProvider: 'auto' | 'cpu' | 'cuda' | 'dml' | 'coreml'
}

// ---------------------------------------------------------------------------
// Input schemas

const Empty = z.object({}).strict()
export const IdInput = z.object({ id: Id }).strict()
export const RefInput = z.object({ ref: Ref }).strict()

export const SettingsSetInput = z
  .object({
    theme: z.enum(['system', 'light', 'dark']).optional(),
    executionProvider: z.enum(['auto', 'cpu', 'cuda', 'dml', 'coreml']).optional()
  })
  .strict()

export const JobsListInput = z
  .object({
    states: z.array(z.enum(['queued', 'running', 'paused', 'done', 'failed', 'cancelled', 'interrupted'])).optional(),
    limit: z.number().int().min(1).max(1000).optional()
  })
  .strict()

export const DatasetCreateInput = z
  .object({
    name: Name,
    description: z.string().max(10_000).optional(),
    classes: z.array(Name).max(1000).optional()
  })
  .strict()

export const DatasetRenameInput = z.object({ ref: Ref, name: Name }).strict()

// ---------------------------------------------------------------------------
// Methods

/**
 * Declares a method with result type R: `method<R>()(inputSchema, description)`.
 * `result` is a phantom field that carries R for the type-level maps below.
 */
function method<R>() {
  return <I extends z.ZodType>(input: I, description: string) => ({
    input,
    description,
    result: undefined as unknown as R
  })
}

export const methods = {
  'app.info': method<AppInfo>()(Empty, 'What this studio is and where its library lives.'),

  'settings.get': method<Settings>()(Empty, 'Current settings.'),
  'settings.set': method<Settings>()(SettingsSetInput, 'Change settings; returns the new settings.'),

  'jobs.list': method<Job[]>()(JobsListInput, 'Jobs, newest first.'),
  'jobs.get': method<Job>()(IdInput, 'One job.'),
  'jobs.cancel': method<Job>()(IdInput, 'Cancel a queued, running or paused job.'),
  'jobs.pause': method<Job>()(IdInput, 'Pause a running job at its next checkpoint.'),
  'jobs.resume': method<Job>()(IdInput, 'Resume a paused or interrupted job from its checkpoint.'),

  'datasets.list': method<Dataset[]>()(Empty, 'All datasets.'),
  'datasets.get': method<Dataset>()(RefInput, 'One dataset by id or unique name.'),
  'datasets.create': method<Dataset>()(DatasetCreateInput, 'Create an empty dataset, optionally with classes.'),
  'datasets.rename': method<Dataset>()(DatasetRenameInput, 'Rename a dataset.'),
  'datasets.delete': method<{ id: string }>()(RefInput, 'Delete a dataset with its items and labels.'),

  'models.list': method<ModelSummary[]>()(Empty, 'All models in the library.'),

  'library.verify': method<Job>()(Empty, 'Start a job that re-hashes every library file and reports missing or changed ones.')
} as const

export type Methods = typeof methods
export type MethodName = keyof Methods
export type MethodInput<M extends MethodName> = z.input<Methods[M]['input']>
export type MethodParsedInput<M extends MethodName> = z.output<Methods[M]['input']>
export type MethodResult<M extends MethodName> = Methods[M]['result']
export const methodNames = Object.keys(methods) as MethodName[]

// ---------------------------------------------------------------------------
// Events (back end -> front ends)

export interface Events {
  /** A job moved: progress within its current phase. Throttled by the back end. */
  'job.progress': JobProgress
  /** A job changed state (queued, running, done, ...). Carries the whole job. */
  'job.state': Job
  /** Something in the library changed; front ends refetch queries of that domain. */
  'library.changed': { domain: 'datasets' | 'items' | 'labels' | 'models' | 'runs' | 'gallery' | 'settings'; id?: string }
}
export type EventName = keyof Events
export const eventNames: EventName[] = ['job.progress', 'job.state', 'library.changed']

// ---------------------------------------------------------------------------
// The API both front ends see: `call` for methods, `on` for events.


export interface TesseraApi {
  call<M extends MethodName>(method: M, input: MethodInput<M>): Promise<Result<MethodResult<M>>>
  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void
}
