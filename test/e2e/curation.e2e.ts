// The Curation tab in headless Chromium against a real browser host with the first-run sample
// library (tessera-digits + 300 MNIST digits): run curation, see the findings, accept one
// suggested label, open the likely mislabels as a grid filter and in the Label panel.
// Screenshots under test-results/screenshots/curation-*.png.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Browser } from 'playwright-core'
import { assertBuilt, dismissNotice, findChromium, launchStudio, openPanel, openStudioPage, screenshotPath, stopStudio, tempLibrary, type RunningHost } from './support'

const found = await findChromium()
if (!found.chromium) console.warn(`[e2e] Skipping the curation end-to-end test: ${found.reason}.`)

describe.skipIf(!found.chromium)('Curation tab (Chromium)', () => {
  let library: ReturnType<typeof tempLibrary>
  let host: RunningHost
  let browser: Browser

  beforeAll(async () => {
    assertBuilt()
    library = tempLibrary()
    ;({ host, browser } = await launchStudio(library.dir, found.chromium!, { samples: true }))
  })

  afterAll(async () => {
    await stopStudio(browser, host, library)
  })

  it('runs curation on the sample digits, accepts a suggestion and opens findings as filters', async () => {
    const { context, page, problems } = await openStudioPage(browser, host.url, { viewport: { width: 1280, height: 1000 }, colorScheme: 'light' })
    await openPanel(page, 'datasets', 'Datasets')
    await expect.poll(() => page.getByTestId('datasets-table').textContent(), { timeout: 60_000 }).toContain('300')
    await page.getByText('Sample: MNIST digits').first().click()
    await page.getByRole('heading', { level: 1, name: 'Sample: MNIST digits' }).waitFor()
    await page.getByTestId('tab-curation').click()
    await expect.poll(() => page.getByTestId('curation-model').textContent(), { timeout: 20_000 }).toContain('tessera-digits')
    // The pretrained tessera-digits, not its fine-tuned classifier (also built in): the classifier
    // agrees with every given label of these real MNIST digits, so it would leave nothing to accept.
    await page.getByTestId('curation-model').click()
    await page.getByRole('option', { name: /^tessera-digits ·/ }).click()
    await expect.poll(() => page.getByTestId('curation-model').textContent()).toMatch(/^tessera-digits ·/)
    await page.getByTestId('curation-run').click()
    await page.getByTestId('curation-findings').waitFor({ timeout: 180_000 })
    await page.getByTestId('curation-progress').waitFor({ state: 'detached', timeout: 60_000 })
    const count = Number(await page.getByTestId('finding-mislabels-count').textContent())
    expect(count).toBeGreaterThan(0)
    await expect.poll(() => page.getByTestId('mislabel-row').count()).toBe(count)
    await dismissNotice(page)
    await page.waitForTimeout(500)
    await page.screenshot({ path: screenshotPath('curation-light'), fullPage: true })

    // One-click accept: the row leaves the list and the count drops.
    await page.getByTestId('mislabel-accept').first().click()
    await expect.poll(() => page.getByTestId('mislabel-row').count()).toBe(count - 1)
    await dismissNotice(page)

    // The finding as a grid filter, sorted least sure first.
    await page.getByTestId('finding-mislabels-grid').click()
    await expect.poll(() => page.getByTestId('grid-count').textContent()).toBe(`${count - 1} item${count - 1 === 1 ? '' : 's'}`)
    await expect(page.getByTestId('filter-flag').textContent()).resolves.toBe('Likely mislabel')
    await page.waitForTimeout(500)
    await page.screenshot({ path: screenshotPath('curation-grid-light') })

    // And in the Label panel.
    await page.getByTestId('tab-curation').click()
    await page.getByTestId('finding-mislabels').getByRole('link', { name: 'Label' }).click()
    await page.getByTestId('panel-label').waitFor()
    await expect.poll(() => page.getByTestId('filter-flag').textContent()).toBe('Likely mislabel')
    await expect.poll(() => page.getByTestId('grid-count').textContent()).toBe(`${count - 1} item${count - 1 === 1 ? '' : 's'}`)
    expect(problems).toEqual([])
    await context.close()
  }, 300_000)
})
