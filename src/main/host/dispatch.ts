// The one entry point for contract calls from every transport: look the method up,
// validate its input with the contract's zod schema, run the handler, and answer
// with the Result envelope. Expected failures are AppErrors; anything else is a bug,
// logged here in full and answered INTERNAL with a sentence (never a stack).

import { type z } from 'zod'
import { type MethodName, methods } from '../../shared/contract'
import { fail, ok, type Result } from '../../shared/result'
import { AppError } from '../errors'
import { type Handlers } from '../services'

export type Dispatch = (method: string, input: unknown) => Promise<Result<unknown>>

export interface DispatchOptions {
  log?: (message: string, error: unknown) => void
}

function isMethod(name: string): name is MethodName {
  return Object.prototype.hasOwnProperty.call(methods, name)
}

/** At most `n` characters: a key or value echoed back from hostile input stays short. */
const clip = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s)

/** "name", "classes.2" or "" for the input itself. */
function issuePath(issue: z.core.$ZodIssue): string {
  return issue.path.map((p) => clip(String(p), 64)).join('.')
}

export function createDispatcher(handlers: Handlers, options: DispatchOptions = {}): Dispatch {
  const log = options.log ?? ((m, e) => console.error(m, e))
  return async (method, input) => {
    if (typeof method !== 'string' || !isMethod(method)) return fail('UNKNOWN_METHOD', `There is no method "${String(method)}".`)
    const parsed = methods[method].input.safeParse(input ?? {})
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!
      const field = issuePath(issue)
      const message = clip(field ? `${field}: ${issue.message}` : issue.message, 500)
      return fail('VALIDATION', message, field || undefined)
    }
    try {
      const handler = handlers[method] as (i: unknown) => unknown
      return ok(await handler(parsed.data))
    } catch (e) {
      if (e instanceof AppError) return fail(e.code, e.message, e.field)
      log(`[dispatch] ${method} failed unexpectedly:`, e)
      return fail('INTERNAL', `Something went wrong in the back end while running ${method}; the details are in its log.`)
    }
  }
}
