import type { ContractError, ErrorCode } from '../../../shared/result'

/** A contract error raised into TanStack Query; carries only the code and a sentence. */
export class ApiError extends Error {
  readonly code: ErrorCode
  readonly field: string | undefined

  constructor(error: ContractError) {
    super(error.message)
    this.name = 'ApiError'
    this.code = error.code
    this.field = error.field
  }
}

/** The one sentence a person sees for any failure: never a stack trace. */
export function errorSentence(error: unknown): string {
  if (error instanceof ApiError) {
    const text = error.message.trim() || 'The request failed.'
    const withField = error.code === 'VALIDATION' && error.field && !text.includes(error.field) ? `${error.field}: ${text}` : text
    return /[.!?]$/.test(withField) ? withField : `${withField}.`
  }
  if (error instanceof Error && error.message) {
    const firstLine = error.message.split('\n')[0] ?? ''
    return /[.!?]$/.test(firstLine) ? firstLine : `${firstLine}.`
  }
  return 'Something went wrong.'
}
