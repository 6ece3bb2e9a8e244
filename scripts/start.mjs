#!/usr/bin/env node
// `npm start`: build if the sources are newer than the build, then open the studio in
// Electron. Where the Electron runtime is missing and cannot be fetched (an offline
// machine), or there is no display to open a window on, say so in one sentence and
// serve the same studio from the browser host on 127.0.0.1 instead.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildIfStale } from './build-if-stale.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const passThrough = process.argv.slice(2)

buildIfStale(root)

/** The Electron executable, or null when its binary was never downloaded. */
function electronBinary() {
  const dir = join(root, 'node_modules', 'electron')
  const pathFile = join(dir, 'path.txt')
  if (!existsSync(pathFile)) return null
  const bin = join(dir, 'dist', readFileSync(pathFile, 'utf8').trim())
  return existsSync(bin) ? bin : null
}

function tryFetchElectron() {
  const installer = join(root, 'node_modules', 'electron', 'install.js')
  if (!existsSync(installer)) return
  // Electron's own install script downloads the runtime; npm does not run it
  // (allowScripts), so `npm start` tries it once. A closed network fails fast.
  spawnSync(process.execPath, [installer], { cwd: dirname(installer), stdio: 'ignore', timeout: 120_000 })
}

function hasDisplay() {
  if (process.platform !== 'linux') return true
  return Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY)
}

let electron = electronBinary()
if (!electron && process.env.TESSERA_NO_ELECTRON_FETCH !== '1') {
  tryFetchElectron()
  electron = electronBinary()
}

if (electron && hasDisplay() && process.env.TESSERA_BROWSER !== '1') {
  const child = spawn(electron, [root, ...passThrough], { stdio: 'inherit' })
  child.on('exit', (code) => process.exit(code ?? 0))
} else {
  const why = !electron
    ? 'The Electron runtime is not installed and could not be downloaded, so Tessera Studio is running in the browser host instead.'
    : 'There is no display to open a window on, so Tessera Studio is running in the browser host instead.'
  console.log(why)
  const cli = join(root, 'out', 'main', 'cli.js')
  const child = spawn(process.execPath, [cli, ...passThrough, 'serve'], { stdio: 'inherit' })
  const forward = (sig) => child.kill(sig)
  process.on('SIGINT', forward)
  process.on('SIGTERM', forward)
  child.on('exit', (code) => process.exit(code ?? 0))
}
