// A library in a fresh temp folder per test, closed and removed after each test.

import { afterEach } from 'vitest'
import { type Library, openLibrary } from '../../src/main/library/library'
import { tempDir } from '../unit/library/tmp'

/**
 * Registers an afterEach (call it at the top of a test file) that closes and removes the library
 * the returned function opened last; that function opens a new one in a new temp folder.
 */
export function tempLibraryOpener(): () => Library {
  let opened: { lib: Library; cleanup: () => void } | undefined
  afterEach(() => {
    opened?.lib.close()
    opened?.cleanup()
    opened = undefined
  })
  return () => {
    const t = tempDir()
    const lib = openLibrary(t.dir)
    opened = { lib, cleanup: t.cleanup }
    return lib
  }
}
