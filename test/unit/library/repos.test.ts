import { describe, expect, it } from 'vitest'
import { ConflictError, NotFoundError } from '../../../src/main/errors'
import { DatasetsRepo } from '../../../src/main/library/datasets'
import { type Library } from '../../../src/main/library/library'
import { resolveLibraryDir } from '../../../src/main/library/location'
import { DEFAULT_SETTINGS, SettingsRepo } from '../../../src/main/library/settings'
import { tempLibraryOpener } from '../../helpers/library'

let lib: Library
const openTempLibrary = tempLibraryOpener()
function open(): Library {
  lib = openTempLibrary()
  return lib
}

describe('DatasetsRepo', () => {
  it('creates, finds by id or name, renames and deletes', () => {
    const repo = new DatasetsRepo(open().db)
    const d = repo.create({ name: 'Cats', classes: ['tabby', 'black'] })
    expect(d.classes.map((c) => [c.name, c.position])).toEqual([['tabby', 0], ['black', 1]])
    expect(repo.get(d.id).name).toBe('Cats')
    expect(repo.get('cats').id).toBe(d.id)
    expect(() => repo.create({ name: 'CATS' })).toThrow(ConflictError)
    expect(() => repo.create({ name: 'Dogs', classes: ['a', 'A'] })).toThrow(/twice/)
    expect(repo.list().map((x) => x.name)).toEqual(['Cats']) // the failed create left nothing
    repo.create({ name: 'Birds' })
    expect(() => repo.rename('Cats', 'birds')).toThrow(ConflictError)
    expect(repo.rename('Cats', 'Felines').name).toBe('Felines')
    expect(repo.delete('Felines')).toEqual({ id: d.id })
    expect(() => repo.get(d.id)).toThrow(NotFoundError)
    expect(lib.db.prepare('SELECT count(*) AS n FROM classes').get()).toEqual({ n: 0 })
  })
})

describe('SettingsRepo', () => {
  it('defaults, then persists changes', () => {
    const repo = new SettingsRepo(open().db)
    expect(repo.get()).toEqual(DEFAULT_SETTINGS)
    expect(repo.set({ theme: 'dark' })).toEqual({ ...DEFAULT_SETTINGS, theme: 'dark' })
    expect(new SettingsRepo(lib.db).get().theme).toBe('dark')
  })
})

describe('resolveLibraryDir', () => {
  it('prefers --library, then TESSERA_LIBRARY, then the Electron user-data folder', () => {
    expect(resolveLibraryDir({ flag: 'x', env: { TESSERA_LIBRARY: '/e' }, cwd: '/c' })).toBe('/c/x')
    expect(resolveLibraryDir({ env: { TESSERA_LIBRARY: '/e' }, userDataDir: '/u', cwd: '/c' })).toBe('/e')
    expect(resolveLibraryDir({ env: {}, userDataDir: '/u', cwd: '/c' })).toBe('/u/library')
    expect(resolveLibraryDir({ env: {}, cwd: '/c' })).toBe('/c/.tessera')
  })
})
