import { randomUUID } from 'node:crypto'

export const newId = (): string => randomUUID()
export const nowIso = (): string => new Date().toISOString()

export function parseJson<T = unknown>(text: string | null | undefined, fallback: T): T {
  if (text === null || text === undefined) return fallback
  return JSON.parse(text) as T
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
export const looksLikeId = (s: string): boolean => UUID.test(s)
