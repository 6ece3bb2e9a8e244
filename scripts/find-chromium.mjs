// Which Chromium the end-to-end tests drive: $TESSERA_CHROMIUM, else Debian's
// /usr/bin/chromium, else the Chromium shipped inside the @sparticuz/chromium npm
// package (unpacked to the temp folder on first use), so `npm test` needs no apt step.
import { existsSync } from 'node:fs'

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync'
]

/** @returns {Promise<{ executablePath: string, source: string }>} */
export async function findChromium() {
  const fromEnv = process.env.TESSERA_CHROMIUM
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`TESSERA_CHROMIUM points at ${fromEnv}, which does not exist.`)
    return { executablePath: fromEnv, source: 'TESSERA_CHROMIUM' }
  }
  if (existsSync('/usr/bin/chromium')) return { executablePath: '/usr/bin/chromium', source: 'Debian chromium' }
  const { default: packaged } = await import('@sparticuz/chromium')
  return { executablePath: await packaged.executablePath(), source: '@sparticuz/chromium' }
}
