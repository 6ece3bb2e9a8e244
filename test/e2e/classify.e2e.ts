// The Classify panel in headless Chromium against a real browser host: the fixture classifier
// imported with the CLI, a folder of 400 generated images plus two broken files, a run started
// from the panel (setup screenshot), watched while it runs (progress, images/s; screenshot), its
// results table (thumbnails, labels, confidence, top-3; screenshot), errors-only filter, a label
// corrected and sent into a dataset as training data, and a move run undone from the panel.
// Screenshots: test-results/screenshots/classify-{setup,running,results,errors}.png.

import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Browser } from 'playwright-core'
import { assertBuilt, findChromium, launchStudio, openPanel, openStudioPage, root, runCli, screenshotPath, stopStudio, tempLibrary, type RunningHost } from './support'

const found = await findChromium()
if (!found.chromium) console.warn(`[e2e] Skipping the classify end-to-end test: ${found.reason}.`)
const CLS = resolve(root, '..', 'shared', 'fixtures', 'imagegpt-tiny-cls')

describe.skipIf(!found.chromium)('Classify panel (Chromium)', () => {
  let library: ReturnType<typeof tempLibrary>
  let host: RunningHost
  let browser: Browser
  let src: string

  beforeAll(async () => {
    assertBuilt()
    library = tempLibrary()
    runCli(library.dir, ['model', 'import', CLS, '--name', 'tiny classifier'])
    runCli(library.dir, ['dataset', 'create', 'corrections', '--class', 'class_0', '--class', 'class_1', '--class', 'class_2'])
    src = join(library.dir, 'incoming')
    for (let i = 0; i < 400; i++) {
      const dir = join(src, `batch-${Math.floor(i / 100)}`)
      mkdirSync(dir, { recursive: true })
      const raw = Buffer.alloc(24 * 24 * 3)
      for (let j = 0; j < raw.length; j++) raw[j] = (j * (5 + (i % 13)) + i * 29) & 255
      writeFileSync(join(dir, `photo-${String(i).padStart(3, '0')}.png`), await sharp(raw, { raw: { width: 24, height: 24, channels: 3 } }).png().toBuffer())
    }
    writeFileSync(join(src, 'empty.png'), Buffer.alloc(0))
    writeFileSync(join(src, 'notes.jpg'), 'not an image')
    // Slow the job down (per batch) so the running state can be seen and photographed.
    process.env.TESSERA_CLASSIFY_TEST_DELAY_MS = '700'
    ;({ host, browser } = await launchStudio(library.dir, found.chromium!))
  }, 120_000)

  afterAll(async () => {
    delete process.env.TESSERA_CLASSIFY_TEST_DELAY_MS
    await stopStudio(browser, host, library)
  })

  it('setup, running job, results table, errors, correction to a dataset, move + undo', async () => {
    const { context, page, problems } = await openStudioPage(browser, host.url, { viewport: { width: 1400, height: 1150 }, colorScheme: 'light' })
    await openPanel(page, 'classify', 'Classify')
    await page.getByTestId('classify-empty').waitFor()

    await page.getByTestId('classify-folders').fill(src)
    await page.getByTestId('classify-threshold').fill('0.6')
    await page.mouse.move(1300, 1100)
    await page.screenshot({ path: screenshotPath('classify-setup') })

    await page.getByTestId('classify-start').click()
    await expect.poll(() => page.getByTestId('classify-state').textContent(), { timeout: 60_000 }).toBe('running')
    await expect.poll(async () => Number((await page.getByTestId('classify-progress').textContent())?.match(/(\d+) \/ 402 files/)?.[1] ?? 0), { timeout: 60_000 }).toBeGreaterThan(60)
    await page.getByTestId('classify-results').getByTestId('classify-row').first().waitFor()
    await page.screenshot({ path: screenshotPath('classify-running') })

    await expect.poll(() => page.getByTestId('classify-state').textContent(), { timeout: 120_000 }).toBe('done')
    await expect.poll(() => page.getByTestId('classify-progress').textContent(), { timeout: 30_000 }).toContain('400 classified')
    // Virtualized: far fewer rows in the DOM than files.
    const inDom = await page.getByTestId('classify-row').count()
    expect(inDom).toBeGreaterThan(3)
    expect(inDom).toBeLessThan(60)
    await page.locator('[data-testid=classify-row] img').first().waitFor()
    await page.screenshot({ path: screenshotPath('classify-results') })
    // Rows come in pages of 250 as the table scrolls: the last file (read last) can be reached.
    await expect
      .poll(
        async () => {
          await page.getByTestId('classify-results').evaluate((el) => (el.scrollTop = el.scrollHeight))
          return page.getByTestId('classify-results').textContent()
        },
        { timeout: 30_000 }
      )
      .toContain('notes.jpg')
    await page.getByTestId('classify-results').evaluate((el) => (el.scrollTop = 0))

    await page.getByLabel(/Errors only/).check()
    await expect.poll(() => page.getByTestId('classify-row').count()).toBe(2)
    await expect(page.getByTestId('classify-results').textContent()).resolves.toMatch(/could not be read/)
    await page.screenshot({ path: screenshotPath('classify-errors') })
    await page.getByLabel(/Errors only/).uncheck()

    // Correct the first file's label and send it to the dataset as training data.
    const first = page.getByTestId('classify-row').first()
    const combo = first.getByTestId('classify-label').locator('[role=combobox]')
    const current = await combo.textContent()
    await combo.click()
    const target = current === 'class_2' ? 'class_1' : 'class_2'
    await page.getByRole('option', { name: target, exact: true }).click()
    await expect.poll(() => page.getByTestId('classify-to-dataset').textContent()).toContain('1 selected')
    await page.getByTestId('classify-to-dataset').click()
    await page.getByText(/Added 1 images to the dataset/).waitFor()
    const ds = JSON.parse(runCli(library.dir, ['--json', 'dataset', 'list'])) as { name: string; itemCount: number; labelledCount: number }[]
    expect(ds.find((d) => d.name === 'corrections')).toMatchObject({ itemCount: 1, labelledCount: 1 })

    // A move run, then undo from the panel: every file back.
    const dest = join(library.dir, 'sorted')
    await page.getByTestId('classify-action-field').locator('[role=combobox]').click()
    await page.getByRole('option', { name: 'Move into class folders' }).click()
    await page.getByTestId('classify-root').fill(dest)
    await page.getByTestId('classify-start').click()
    await expect.poll(() => page.getByTestId('classify-plan').textContent(), { timeout: 120_000 }).toContain('Moved into')
    await expect.poll(() => page.getByTestId('classify-state').textContent(), { timeout: 120_000 }).toBe('done')
    await expect.poll(() => page.getByTestId('classify-progress').textContent(), { timeout: 30_000 }).toContain('400 classified')
    await page.screenshot({ path: screenshotPath('classify-moved') })
    expect(readdirSync(join(src, 'batch-0'))).toHaveLength(0)
    await page.getByTestId('classify-undo').click()
    await page.getByText(/400 files moved back/).waitFor()
    expect(readdirSync(join(src, 'batch-0'))).toHaveLength(100)
    expect(existsSync(join(dest, 'class_0'))).toBe(false)
    expect(problems).toEqual([])
    await context.close()
  }, 300_000)
})
