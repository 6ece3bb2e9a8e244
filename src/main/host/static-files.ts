// What both front-end hosts serve besides the contract: the built renderer's files and
// the library's media. The browser host serves them over HTTP; the Electron window over
// the privileged `tessera://app/` scheme. In both, a request path is only a lookup key:
// renderer files come from a listing made at start, media from a database row by hash.

import { existsSync, readdirSync, statSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import { type AppContext } from '../context'
import { SHA256_HEX, isReferencedPath, mediaFilePath } from '../library/media'

export const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8'
}

/** A library file opened on its own (say an imported SVG) must not run script in our origin. */
export const MEDIA_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"

/** url path ("/assets/x.js") -> absolute file, for every file of the built renderer. */
export function scanRenderer(dir: string): Map<string, string> {
  const files = new Map<string, string>()
  if (!existsSync(dir)) return files
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue
      const abs = join(d, e.name)
      if (e.isDirectory()) walk(abs)
      else if (e.isFile()) files.set('/' + relative(dir, abs).split(sep).join('/'), abs)
    }
  }
  walk(dir)
  return files
}

/** `/media/<sha256>` or `/thumbs/<sha256>` -> its kind and hash, else null. */
export function parseMediaPath(pathname: string): { kind: 'media' | 'thumbs'; sha: string } | null {
  const m = /^\/(media|thumbs)\/([^/]+)$/.exec(pathname)
  return m ? { kind: m[1] as 'media' | 'thumbs', sha: (m[2] as string).toLowerCase() } : null
}

/**
 * The file behind a media or thumbnail hash: the hash only selects a database row, and
 * the path comes from that row, resolved and checked to stay inside the library (a file
 * imported by reference is served from the source path its row records).
 */
export function mediaFile(context: AppContext, kind: 'media' | 'thumbs', sha: string): { path: string; mime: string } | null {
  const row = SHA256_HEX.test(sha) ? context.repos.media.get(sha) : undefined
  const rel = kind === 'media' ? row?.path : row?.thumb_path
  if (!row || !rel) return null
  let abs: string
  try {
    abs = kind === 'media' ? mediaFilePath(context.library, rel) : context.library.resolveInside(rel)
  } catch {
    return null
  }
  if (kind === 'media' && isReferencedPath(rel)) {
    // A referenced file lives outside the library: serve it only while it is still a regular
    // file of the recorded size (not a folder, not something else put at that path since).
    try {
      const st = statSync(abs)
      if (!st.isFile() || st.size !== row.bytes) return null
    } catch {
      return null
    }
  } else if (!existsSync(abs)) return null
  return { path: abs, mime: kind === 'media' ? row.mime : rel.endsWith('.jpg') ? 'image/jpeg' : 'image/webp' }
}
