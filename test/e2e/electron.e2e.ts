// The studio in its Electron window (Playwright `_electron`): the preload's
// `window.tessera` carries the same contract, the panels render without console
// errors, and a dataset created in the window is listed. Runs only where the
// Electron binary exists and a display is available; otherwise reports the skip.

import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { _electron as electron, type ElectronApplication, type Page } from 'playwright-core'
import { dismissNotice, openPanel, panels, root, screenshotPath, tempLibrary, watchConsole } from './support'

function electronBinary(): { path: string | null; reason: string } {
  const dir = join(root, 'node_modules', 'electron')
  const pathFile = join(dir, 'path.txt')
  const candidate = existsSync(pathFile) ? join(dir, 'dist', readFileSync(pathFile, 'utf8').trim()) : join(dir, 'dist', 'electron')
  if (!existsSync(candidate)) {
    return {
      path: null,
      reason: `the Electron binary is not installed (${candidate} is missing; npm does not run electron's download script here)`
    }
  }
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    return { path: null, reason: 'there is no display (DISPLAY / WAYLAND_DISPLAY unset) to open an Electron window on' }
  }
  return { path: candidate, reason: '' }
}

const binary = electronBinary()
if (!binary.path) console.warn(`[e2e] Skipping the Electron end-to-end test: ${binary.reason}.`)

describe.skipIf(!binary.path)('studio in Electron', () => {
  let library: ReturnType<typeof tempLibrary>
  let app: ElectronApplication
  let page: Page
  let problems: string[]

  beforeAll(async () => {
    const main = join(root, 'out', 'main', 'index.js')
    if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` before the end-to-end tests.`)
    library = tempLibrary('tessera-e2e-electron-')
    app = await electron.launch({
      executablePath: binary.path!,
      args: [root],
      cwd: root,
      env: { ...process.env, TESSERA_LIBRARY: library.dir }
    })
    page = await app.firstWindow()
    problems = watchConsole(page)
    await page.getByTestId('nav-datasets').waitFor()
  })

  afterAll(async () => {
    await app?.close()
    library?.remove()
  })

  it('exposes the contract on window.tessera and reports the Electron host', async () => {
    await openPanel(page, 'settings', 'Settings')
    await expect(page.getByTestId('app-info').textContent()).resolves.toContain('Desktop window (Electron)')
  })

  it('renders every panel without console errors', async () => {
    for (const panel of panels) {
      await openPanel(page, panel.id, panel.heading)
      await page.screenshot({ path: screenshotPath(`electron-${panel.id}`) })
    }
    expect(problems).toEqual([])
  })

  it('creates a dataset in the window', async () => {
    await openPanel(page, 'datasets', 'Datasets')
    await page.getByTestId('dataset-new').click()
    await page.getByTestId('dataset-name').fill('Electron birds')
    await page.getByTestId('dataset-classes').fill('finch, sparrow')
    await page.getByTestId('dataset-create-submit').click()
    await page.getByTestId('dataset-row').filter({ hasText: 'Electron birds' }).waitFor()
    await dismissNotice(page)
    expect(problems).toEqual([])
  })
})
