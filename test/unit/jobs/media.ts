import { createHash, randomBytes } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { type Library } from '../../../src/main/library/library'
import { MediaRepo } from '../../../src/main/library/media'

/** Writes n small random files into media/ the way imports do, with their rows. */
export function addRandomMedia(lib: Library, n: number, bytes = 256): string[] {
  const repo = new MediaRepo(lib.db)
  const hashes: string[] = []
  for (let i = 0; i < n; i++) {
    const data = randomBytes(bytes)
    const sha = createHash('sha256').update(data).digest('hex')
    const rel = `media/${sha.slice(0, 2)}/${sha}.bin`
    const abs = lib.resolveInside(rel)
    mkdirSync(dirname(abs), { recursive: true })
    writeFileSync(abs, data)
    repo.put({ sha256: sha, path: rel, mime: 'application/octet-stream', bytes, width: null, height: null })
    hashes.push(sha)
  }
  return hashes.sort()
}
