// Errors from the ML layer (bad files, bad images, impossible parameters) become AppErrors,
// so the dispatcher answers them with their sentence instead of INTERNAL. Anything else is a
// bug and is rethrown as it is.

import { AppError } from '../errors'
import { ImageDecodeError } from '../imaging/decode'
import { InteropError } from '../ml/interop/safetensors'
import { GenerationCancelled } from '../ml/sample/generate'

export function asAppError(err: unknown): AppError {
  if (err instanceof AppError) return err
  if (err instanceof InteropError || err instanceof ImageDecodeError) return new AppError('UNSUPPORTED', err.message)
  if (err instanceof GenerationCancelled) return new AppError('CANCELLED', err.message)
  // RangeErrors from the ML layer are the model's or the parameters' own validation sentences.
  if (err instanceof RangeError) return new AppError('UNSUPPORTED', err.message)
  const e = err as NodeJS.ErrnoException
  if (e && typeof e.code === 'string' && typeof e.path === 'string') {
    if (e.code === 'ENOENT') return new AppError('NOT_FOUND', `${e.path} does not exist.`)
    if (e.code === 'EACCES' || e.code === 'EPERM') return new AppError('FORBIDDEN', `${e.path} cannot be accessed (permission denied).`)
    if (e.code === 'ENOSPC') return new AppError('UNSUPPORTED', `The disk is full while writing ${e.path}.`)
  }
  throw err
}
