// The writers for files the user sees (src/main/files.ts): a new file appears whole under its
// name or not at all, an existing file is never replaced, and no temp file is left behind.

import { mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { copyNewFile, replaceFile, writeNewFile } from '../../src/main/files'
import { tempDir } from '../unit/library/tmp'

let cleanup: (() => void) | undefined
afterEach(() => cleanup?.())

function dir(): string {
  const t = tempDir()
  cleanup = t.cleanup
  return t.dir
}

describe('writeNewFile, copyNewFile, replaceFile', () => {
  it('write a new file whole, refuse a taken name with EEXIST, leave no temp file', async () => {
    const d = dir()
    const target = join(d, 'out.png')
    await writeNewFile(target, Buffer.from('first'))
    expect(readFileSync(target, 'utf8')).toBe('first')
    await expect(writeNewFile(target, Buffer.from('second'))).rejects.toMatchObject({ code: 'EEXIST' })
    expect(readFileSync(target, 'utf8')).toBe('first')
    expect(readdirSync(d)).toEqual(['out.png'])
  })

  it('copy keeps the source times, never replaces, and a failed copy leaves nothing', async () => {
    const d = dir()
    const src = join(d, 'src.jpg')
    writeFileSync(src, Buffer.alloc(100_000, 7))
    utimesSync(src, new Date('2020-01-02T03:04:05Z'), new Date('2020-01-02T03:04:05Z'))
    mkdirSync(join(d, 'dest'))
    const target = join(d, 'dest', 'src.jpg')
    await copyNewFile(src, target, { keepTimes: true })
    expect(statSync(target).mtime.toISOString()).toBe('2020-01-02T03:04:05.000Z')
    expect(readFileSync(target)).toEqual(readFileSync(src))
    await expect(copyNewFile(src, target)).rejects.toMatchObject({ code: 'EEXIST' })
    // A source that cannot be read: no file under the name, no temp file.
    await expect(copyNewFile(join(d, 'missing.jpg'), join(d, 'dest', 'missing.jpg'))).rejects.toMatchObject({ code: 'ENOENT' })
    expect(readdirSync(join(d, 'dest'))).toEqual(['src.jpg'])
  })

  it('replaceFile swaps the whole content in one step', async () => {
    const d = dir()
    const target = join(d, 'report.json')
    await replaceFile(target, '{"a":1}')
    await replaceFile(target, '{"a":2}')
    expect(readFileSync(target, 'utf8')).toBe('{"a":2}')
    expect(readdirSync(d)).toEqual(['report.json'])
  })
})
