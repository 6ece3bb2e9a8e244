// Builds with electron-vite when any source or build config is newer than the last
// build (out/.build-stamp), so `npm start` and `npx tessera` always run current code.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

function newestMtime(path) {
  if (!existsSync(path)) return 0
  const st = statSync(path)
  if (!st.isDirectory()) return st.mtimeMs
  let newest = st.mtimeMs
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)))
  return newest
}

export function isStale(root) {
  const stamp = join(root, 'out', '.build-stamp')
  if (!existsSync(stamp)) return true
  const built = statSync(stamp).mtimeMs
  const inputs = ['src', 'resources', 'electron.vite.config.ts', 'package.json'].map((p) => newestMtime(join(root, p)))
  return Math.max(...inputs) > built
}

export function buildIfStale(root, { force = false } = {}) {
  if (!force && !isStale(root)) return
  console.error('Building Tessera Studio…')
  const bin = join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js')
  const res = spawnSync(process.execPath, [bin, 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] })
  if (res.status !== 0) {
    console.error('The build failed (see the errors above); fix them and run the command again.')
    process.exit(1)
  }
  writeFileSync(join(root, 'out', '.build-stamp'), new Date().toISOString() + '\n')
}

// Run directly (`node scripts/build-if-stale.mjs [--force]`): build this checkout if it is stale.
if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  buildIfStale(resolve(dirname(fileURLToPath(import.meta.url)), '..'), { force: process.argv.includes('--force') })
}
