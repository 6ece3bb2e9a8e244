// The Train panel in headless Chromium against a real browser host: a labelled 8x8 dataset
// and the fixture's tiny ImageGPT, one click on Train (auto picks a probe and says why), live
// progress, then the charts, the confusion matrix and the run history; a second, joint run
// from the advanced section. Screenshots under test-results/screenshots/train-*.png.

import { mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Browser } from 'playwright-core'
import { assertBuilt, findChromium, launchStudio, openPanel, openStudioPage, runCli, screenshotPath, stopStudio, tempLibrary, type RunningHost } from './support'
import { CLASSES, palette16, synthTokens, tokensPng } from '../unit/ml/train/synth'

const found = await findChromium()
if (!found.chromium) console.warn(`[e2e] Skipping the train end-to-end test: ${found.reason}.`)
const LM_DIR = resolve(__dirname, '../../../shared/fixtures/imagegpt-tiny-lm')

describe.skipIf(!found.chromium)('Train panel (Chromium)', () => {
  let library: ReturnType<typeof tempLibrary>
  let images: ReturnType<typeof tempLibrary>
  let host: RunningHost
  let browser: Browser

  beforeAll(async () => {
    assertBuilt()
    library = tempLibrary()
    images = tempLibrary('tessera-e2e-train-')
    const palette = palette16()
    for (const [ci, name] of CLASSES.entries())
      for (let i = 0; i < 20; i++) {
        const split = i % 5 === 3 ? 'val' : i % 5 === 4 ? 'test' : 'train'
        const dir = join(images.dir, split, name)
        mkdirSync(dir, { recursive: true })
        writeFileSync(join(dir, `${name}-${i}.png`), await tokensPng(synthTokens(ci, i), palette))
      }
    runCli(library.dir, ['dataset', 'import', images.dir, '--name', 'Patterns', '--split-from-folders'])
    runCli(library.dir, ['model', 'import', LM_DIR, '--name', 'tiny-lm'])
    ;({ host, browser } = await launchStudio(library.dir, found.chromium!))
  })

  afterAll(async () => {
    await stopStudio(browser, host, library, images)
  })

  it('trains with one click, then shows charts, a confusion matrix and the run history', async () => {
    const { page, problems } = await openStudioPage(browser, host.url, { viewport: { width: 1280, height: 1000 }, colorScheme: 'light' })
    await openPanel(page, 'train', 'Train')
    await page.getByTestId('train-empty').waitFor()
    await page.screenshot({ path: screenshotPath('train-empty-light') })

    await page.getByTestId('train-start').click()
    const state = page.getByTestId('train-run-state')
    await expect.poll(() => state.textContent(), { timeout: 90_000 }).toBe('done')
    await expect(page.getByTestId('train-reason').textContent()).resolves.toMatch(/^Training a linear probe, because \d+ labelled images are too few/)
    await page.getByTestId('confusion-matrix').waitFor()
    await expect(page.getByTestId('confusion-matrix').textContent()).resolves.toMatch(/hstripes.*vstripes.*checker/)
    await page.waitForTimeout(300)
    await page.screenshot({ path: screenshotPath('train-probe-done-light'), fullPage: true })

    // A joint fine-tune from the advanced section: 40 steps.
    await page.getByTestId('train-advanced').click()
    await page.getByLabel('Objective').click()
    await page.getByRole('option', { name: 'joint' }).click()
    await page.getByLabel('Steps').fill('40')
    await page.getByLabel('Batch size (or all)').fill('8')
    // The mirror-flips choice defaults to the base model's word; pick "off" explicitly.
    await page.getByTestId('train-flip').click()
    await page.getByRole('option', { name: 'off (shifts only)' }).click()
    await expect(page.getByTestId('train-flip').textContent()).resolves.toBe('off (shifts only)')
    await page.screenshot({ path: screenshotPath('train-advanced-light'), fullPage: true })
    await page.getByTestId('train-start').click()
    await expect.poll(() => page.getByTestId('train-history').locator('tbody tr').count(), { timeout: 20_000 }).toBe(2)
    await expect.poll(() => state.textContent(), { timeout: 120_000 }).toBe('done')
    await expect(page.getByTestId('train-reason').textContent()).resolves.toMatch(/^Training joint as asked: AdamW at lr 0.0003, batch 8, 40 steps/)
    await expect(page.getByTestId('train-outcome').textContent()).resolves.toMatch(/kept the weights of step \d+, the best on the validation split/)
    await page.waitForTimeout(300)
    await page.screenshot({ path: screenshotPath('train-joint-done-light'), fullPage: true })
    // Click-through: an off-diagonal cell shows exactly its images.
    let clicked = false
    for (let i = 0; i < 3 && !clicked; i++)
      for (let j = 0; j < 3 && !clicked; j++) {
        if (i === j) continue
        const cell = page.getByTestId(`cell-${i}-${j}`)
        const n = Number(await cell.textContent())
        if (n > 0) {
          await cell.click()
          await page.getByTestId('misclassified').waitFor()
          await expect.poll(() => page.getByTestId('misclassified').locator('img').count()).toBe(n)
          await expect.poll(() => page.getByTestId('misclassified').locator('img').evaluateAll((imgs) => imgs.every((x) => (x as unknown as { naturalWidth: number }).naturalWidth > 0))).toBe(true)
          await page.getByTestId('misclassified').scrollIntoViewIfNeeded()
          await page.mouse.move(1200, 40)
          await page.screenshot({ path: screenshotPath('train-misclassified-light') })
          clicked = true
        }
      }
    // Compare the two runs side by side.
    const boxes = page.getByTestId('train-history').getByRole('checkbox')
    await boxes.nth(0).check()
    await boxes.nth(1).check()
    await page.getByTestId('train-compare').waitFor()
    await expect(page.getByTestId('train-compare').textContent()).resolves.toMatch(/Objective.*joint.*probe/)
    await page.getByTestId('train-compare').scrollIntoViewIfNeeded()
    await page.mouse.move(1200, 40)
    await page.screenshot({ path: screenshotPath('train-compare-light') })
    if (!clicked) console.warn('[e2e] the joint run made no mistakes on the test split; click-through not exercised')
    expect(problems).toEqual([])
  })
})
