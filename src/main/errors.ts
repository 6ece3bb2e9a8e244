// Typed errors the services throw; the dispatcher turns them into the contract's
// `{ok: false, error: {code, message, field?}}`. Anything else thrown is a bug
// (INTERNAL: logged in full here, a sentence to the caller).

import { type ErrorCode } from '../shared/result'

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: string
  ) {
    super(message)
    this.name = 'AppError'
  }
}

export class NotFoundError extends AppError {
  constructor(message: string) {
    super('NOT_FOUND', message)
    this.name = 'NotFoundError'
  }
}

export class ConflictError extends AppError {
  constructor(message: string, field?: string) {
    super('CONFLICT', message, field)
    this.name = 'ConflictError'
  }
}

/** The library's database was written by a newer Tessera than this one. */
export class NewerSchemaError extends AppError {
  constructor(
    readonly found: number,
    readonly supported: number,
    readonly dbPath: string
  ) {
    super(
      'UNSUPPORTED',
      `The library at ${dbPath} has schema version ${found}, but this Tessera understands up to ${supported}. Update Tessera Studio or open another library.`
    )
    this.name = 'NewerSchemaError'
  }
}

/** ENOSPC / EDQUOT from a write: the disk (or the user's quota) is full. */
export function isDiskFull(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | null)?.code
  return code === 'ENOSPC' || code === 'EDQUOT'
}

/** A write ran out of disk space; what was half-written has been removed. */
export class DiskFullError extends AppError {
  constructor(what: string, path?: string) {
    super('UNSUPPORTED', `The disk is full: ${what} stopped${path ? ` while writing ${path}` : ''}. Nothing half-written was left behind; free some space and try again.`)
    this.name = 'DiskFullError'
  }
}
