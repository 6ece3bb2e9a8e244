// The envelope every contract call answers with. Errors cross process boundaries
// as plain data (code + sentence); stack traces never leave the back end.

export type ErrorCode =
  | 'VALIDATION' // input failed the method's schema
  | 'NOT_FOUND' // a named id or name does not exist
  | 'CONFLICT' // the request clashes with current state (name taken, job already running)
  | 'UNSUPPORTED' // a file or model the back end cannot handle, with the reason
  | 'UNAUTHORIZED' // browser host: token missing or wrong
  | 'FORBIDDEN' // not allowed from this caller
  | 'UNKNOWN_METHOD'
  | 'CANCELLED'
  | 'INTERNAL' // a bug: logged in full on the back end, a sentence to the caller

export interface ContractError {
  code: ErrorCode
  message: string
  /** Path of the offending field for VALIDATION errors, e.g. "name" or "items.3.label". */
  field?: string
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: ContractError }

export function ok<T>(value: T): Result<T> {
  return { ok: true, value }
}

export function fail<T = never>(code: ErrorCode, message: string, field?: string): Result<T> {
  return { ok: false, error: field === undefined ? { code, message } : { code, message, field } }
}
