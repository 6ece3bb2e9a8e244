// models.tryImage: an image sent as base64 bytes (the browser host's window cannot name a file
// on the back end's machine) written to a private temporary file, tried, and removed.

import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type MethodParsedInput, type ModelTryResult, TRY_IMAGE_MAX_BYTES } from '../../shared/contract'
import { type AppContext } from '../context'
import { AppError } from '../errors'

export async function tryImageBytes(ctx: AppContext, input: MethodParsedInput<'models.tryImage'>): Promise<ModelTryResult> {
  const bytes = Buffer.from(input.data, 'base64')
  if (bytes.length === 0) throw new AppError('VALIDATION', 'The image is empty.', 'data')
  if (bytes.length > TRY_IMAGE_MAX_BYTES) throw new AppError('VALIDATION', `The image is ${(bytes.length / 1048576).toFixed(1)} MB; at most ${TRY_IMAGE_MAX_BYTES / 1048576} MB can be tried.`, 'data')
  const name = (input.name ?? 'image').replace(/[^\w.-]+/g, '_').slice(0, 80) || 'image'
  const dir = await mkdtemp(join(tmpdir(), 'tessera-try-'))
  const file = join(dir, `${randomBytes(4).toString('hex')}-${name}`)
  try {
    await writeFile(file, bytes, { mode: 0o600 })
    const result = await ctx.models.try(input.ref, file, input.topK)
    return { ...result, file: input.name ?? 'image' }
  } catch (err) {
    // Sentences name the file: say the user's name for it, not the temporary path.
    if (err instanceof AppError) throw new AppError(err.code, err.message.split(file).join(input.name ?? 'the image'), err.field)
    throw err
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
