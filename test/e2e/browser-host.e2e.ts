// The studio in headless Chromium against a real browser host with its own library:
// every panel in light and dark theme (screenshots under test-results/screenshots),
// no console errors, datasets created, renamed and deleted through the UI, the theme
// setting persisted by the back end.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Browser, type BrowserContext, type Page } from 'playwright-core'
import {
  assertBuilt,
  dismissNotice,
  findChromium,
  launchStudio,
  openPanel,
  openStudioPage,
  panels,
  runCli,
  screenshotPath,
  startHost,
  stopStudio,
  tempLibrary,
  type RunningHost
} from './support'

const found = await findChromium()
if (!found.chromium) console.warn(`[e2e] Skipping the browser-host end-to-end tests: ${found.reason}.`)

describe.skipIf(!found.chromium)('studio in the browser host (Chromium)', () => {
  let library: ReturnType<typeof tempLibrary>
  let host: RunningHost
  let browser: Browser

  beforeAll(async () => {
    assertBuilt()
    library = tempLibrary()
    // A finished job in the library before the studio opens, so the Jobs drawer has history to show.
    runCli(library.dir, ['library', 'verify'])
    ;({ host, browser } = await launchStudio(library.dir, found.chromium!))
  })

  afterAll(async () => {
    await stopStudio(browser, host, library)
  })

  async function openStudio(colorScheme: 'light' | 'dark'): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
    // Reduced motion: the studio then turns its transitions off, so screenshots show settled frames.
    const { context, page, problems } = await openStudioPage(browser, host.url, { viewport: { width: 1280, height: 800 }, colorScheme })
    await page.getByTestId('nav-datasets').waitFor()
    return { context, page, problems }
  }

  it('refuses the page without its token', async () => {
    const bare = new URL(host.url)
    bare.search = ''
    const response = await fetch(bare)
    expect(response.status).toBe(401)
  })

  it('shows the empty Datasets panel, then creates a dataset through the form', async () => {
    const { context, page, problems } = await openStudio('light')
    await openPanel(page, 'datasets', 'Datasets')
    await page.getByTestId('datasets-empty').waitFor()
    await page.screenshot({ path: screenshotPath('datasets-empty-light') })

    await page.getByTestId('dataset-new').click()
    await page.getByTestId('dataset-name').fill('Garden birds')
    await page.getByTestId('dataset-classes').fill('robin, blackbird\nwren')
    await page.getByTestId('dataset-create-submit').click()

    const row = page.getByTestId('dataset-row').filter({ hasText: 'Garden birds' })
    await row.waitFor()
    for (const name of ['robin', 'blackbird', 'wren']) await expect(row.getByText(name, { exact: true }).count()).resolves.toBe(1)
    await expect(page.getByTestId('notice').textContent()).resolves.toContain('Created dataset')

    // The same name again: the back end's CONFLICT reaches the form as a sentence, not a stack.
    await dismissNotice(page)
    await page.getByTestId('dataset-new').click()
    await page.getByTestId('dataset-name').fill('Garden birds')
    await page.getByTestId('dataset-create-submit').click()
    const dialog = page.getByRole('dialog')
    const error = dialog.locator('.Mui-error, .MuiTypography-root').filter({ hasText: /garden birds|already|exists|taken/i }).first()
    await error.waitFor()
    expect(await error.textContent()).not.toMatch(/\bat .+:\d+:\d+/)
    await page.waitForTimeout(400) // the dialog's fade-in, for the picture
    await page.screenshot({ path: screenshotPath('datasets-name-taken-light') })
    await dialog.getByRole('button', { name: 'Cancel' }).click()
    await dialog.waitFor({ state: 'detached' })

    // A second dataset, so the list screenshots show more than one row.
    await page.getByTestId('dataset-new').click()
    await page.getByTestId('dataset-name').fill('Street scenes')
    await page.getByTestId('dataset-classes').fill('car, bicycle, pedestrian, bus, truck, traffic light, sign, tram')
    await page.getByTestId('dataset-create-submit').click()
    await page.getByTestId('dataset-row').filter({ hasText: 'Street scenes' }).waitFor()
    expect(await page.getByTestId('dataset-row').count()).toBe(2)

    expect(problems).toEqual([])
    await context.close()
  })

  it('renames and deletes a dataset', async () => {
    const { context, page, problems } = await openStudio('light')
    await openPanel(page, 'datasets', 'Datasets')
    await page.getByTestId('dataset-new').click()
    await page.getByTestId('dataset-name').fill('Scratch')
    await page.getByTestId('dataset-create-submit').click()
    await page.getByTestId('dataset-row').filter({ hasText: 'Scratch' }).waitFor()

    await page.getByRole('button', { name: 'Actions for Scratch' }).click()
    await page.getByRole('menuitem', { name: /Rename/ }).click()
    await page.getByTestId('dataset-rename-name').fill('Scratch renamed')
    await page.getByRole('dialog').getByRole('button', { name: 'Rename' }).click()
    await page.getByTestId('dataset-row').filter({ hasText: 'Scratch renamed' }).waitFor()

    await page.getByRole('button', { name: 'Actions for Scratch renamed' }).click()
    await page.getByRole('menuitem', { name: /Delete/ }).click()
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click()
    await page.getByTestId('dataset-row').filter({ hasText: 'Scratch renamed' }).waitFor({ state: 'detached' })
    expect(await page.getByTestId('dataset-row').count()).toBe(2)

    expect(problems).toEqual([])
    await context.close()
  })

  for (const scheme of ['light', 'dark'] as const) {
    it(`renders every panel and the Jobs drawer in the ${scheme} theme without console errors`, async () => {
      const { context, page, problems } = await openStudio(scheme)
      // The theme setting is "system" here, so the page follows the emulated colour scheme.
      await page.locator(`html[data-theme=${scheme}]`).waitFor()
      for (const panel of panels) {
        await openPanel(page, panel.id, panel.heading)
        if (panel.id === 'classify') await page.getByTestId('classify-setup').waitFor()
        await page.screenshot({ path: screenshotPath(`${panel.id}-${scheme}`) })
      }
      await page.getByTestId('jobs-open').click()
      await page.getByTestId('jobs-drawer').getByRole('heading', { name: 'Jobs', exact: true }).waitFor()
      const verifyJob = page.getByTestId('job-row').filter({ hasText: 'Verify library files' })
      await verifyJob.waitFor()
      expect(await verifyJob.getAttribute('data-job-state')).toBe('done')
      await page.waitForTimeout(300) // let the drawer finish sliding in before the picture
      await page.screenshot({ path: screenshotPath(`jobs-${scheme}`) })
      await page.keyboard.press('Escape')

      await page.getByTestId('nav-datasets').click()
      await page.getByTestId('dataset-new').click()
      await page.getByTestId('dataset-name').fill('Flowers')
      await page.getByTestId('dataset-classes').fill('daisy, tulip, rose')
      await page.waitForTimeout(300)
      await page.screenshot({ path: screenshotPath(`datasets-new-dialog-${scheme}`) })
      await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click()

      expect(problems).toEqual([])
      await context.close()
    })
  }

  it('says so when the host goes away', async () => {
    const own = tempLibrary()
    const second = await startHost(own.dir)
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' })
    try {
      const page = await context.newPage()
      await page.goto(second.url)
      await openPanel(page, 'datasets', 'Datasets')
      expect(await page.getByTestId('connection-lost').count()).toBe(0)
      await second.close()
      await page.getByTestId('connection-lost').waitFor()
      await page.screenshot({ path: screenshotPath('connection-lost-light') })
    } finally {
      await context.close()
      await second.close()
      own.remove()
    }
  })

  it('switches theme and execution provider in Settings and keeps them across a reload', async () => {
    const { context, page, problems } = await openStudio('light')
    await openPanel(page, 'settings', 'Settings')
    await page.locator('html[data-theme=light]').waitFor()

    await page.getByTestId('theme-dark').click()
    await page.locator('html[data-theme=dark]').waitFor()
    // The setting lives in the library: a reload (the token now comes from sessionStorage) stays dark.
    await page.reload()
    await page.getByTestId('nav-settings').waitFor()
    await page.locator('html[data-theme=dark]').waitFor()
    expect(await page.getByTestId('theme-dark').getAttribute('aria-pressed')).toBe('true')

    // The execution provider is persisted the same way.
    await page.getByRole('combobox').click()
    await page.getByRole('option', { name: 'CPU', exact: true }).click()
    await expect.poll(() => page.getByRole('combobox').textContent()).toBe('CPU')
    await page.reload()
    await page.getByTestId('app-info').waitFor()
    await expect.poll(() => page.getByRole('combobox').textContent()).toBe('CPU')

    await page.getByTestId('theme-light').click()
    await page.locator('html[data-theme=light]').waitFor()
    await page.getByTestId('theme-system').click()
    await expect.poll(() => page.getByTestId('theme-system').getAttribute('aria-pressed')).toBe('true')

    expect(problems).toEqual([])
    await context.close()
  })
})
