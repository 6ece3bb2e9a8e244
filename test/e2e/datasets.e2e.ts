// The Datasets page in headless Chromium against a real browser host: import a
// folder tree through the dialog (classes, splits, broken files), the virtualized
// grid with filters and the item detail, class balance bars, and a near-duplicate
// review that keeps one. Screenshots under test-results/screenshots/datasets-*.png.

import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Browser, type Page } from 'playwright-core'
import { openLibrary } from '../../src/main/library/library'
import { picture } from '../unit/datasets/images'
import { assertBuilt, dismissNotice, findChromium, launchStudio, openPanel, openStudioPage, screenshotPath, stopStudio, tempLibrary, watchConsole, type RunningHost } from './support'

const found = await findChromium()
if (!found.chromium) console.warn(`[e2e] Skipping the datasets end-to-end test: ${found.reason}.`)

/** Waits until every image matching `selector` has loaded (the page's CSP forbids string evaluation). */
async function imagesLoaded(page: Page, selector: string): Promise<void> {
  await expect
    .poll(() => page.locator(selector).evaluateAll((imgs) => imgs.every((i) => (i as unknown as { complete: boolean }).complete)), { timeout: 20_000 })
    .toBe(true)
}

const CLASSES = ['robin', 'blackbird', 'wren', 'sparrow']

describe.skipIf(!found.chromium)('Datasets page (Chromium)', () => {
  let library: ReturnType<typeof tempLibrary>
  let photos: ReturnType<typeof tempLibrary>
  let host: RunningHost
  let browser: Browser

  beforeAll(async () => {
    assertBuilt()
    library = tempLibrary()
    photos = tempLibrary('tessera-e2e-photos-')
    const put = async (rel: string, data: Buffer | Promise<Buffer>) => {
      mkdirSync(join(photos.dir, rel, '..'), { recursive: true })
      writeFileSync(join(photos.dir, rel), await data)
    }
    // Unbalanced classes: 36, 24, 14, 8 pictures; about one in six in val.
    let seed = 1
    for (const [ci, name] of CLASSES.entries()) {
      const n = [36, 24, 14, 8][ci]!
      for (let i = 0; i < n; i++) await put(`${i % 6 === 0 ? 'val' : 'train'}/${name}/${name}-${i}.png`, picture(seed++, 'png', [160, 128]))
    }
    // Planted near-duplicates: a smaller JPEG of robin-1 and a bigger WebP of wren-2.
    await put('train/robin/robin-1 small.jpg', picture(2, 'jpeg', [80, 64], 50))
    await put('train/wren/wren-2 big.webp', picture(63, 'webp', [320, 256], 70))
    await put('train/robin/broken.png', Buffer.from('not a png'))
    ;({ host, browser } = await launchStudio(library.dir, found.chromium!))
  })

  afterAll(async () => {
    await stopStudio(browser, host, library, photos)
  })

  it('imports a folder, browses the grid, shows balance bars and reviews near-duplicates', async () => {
    const { context, page, problems } = await openStudioPage(browser, host.url, { viewport: { width: 1280, height: 800 }, colorScheme: 'light' })
    await openPanel(page, 'datasets', 'Datasets')

    await page.getByTestId('dataset-import').click()
    await page.getByTestId('import-source').fill(photos.dir)
    await page.getByTestId('import-name').fill('Garden birds')
    await page.getByTestId('import-submit').click()
    await page.getByRole('heading', { level: 1, name: 'Garden birds' }).waitFor()
    await page.getByTestId('import-progress').waitFor({ state: 'detached', timeout: 60_000 })
    await expect.poll(() => page.getByTestId('grid-count').textContent(), { timeout: 20_000 }).toBe('84 items')
    await dismissNotice(page)
    await page.locator('[data-testid=grid-item] img').first().waitFor()
    // Wait for the visible thumbnails to load before the picture.
    await imagesLoaded(page, '[data-testid=grid-item] img')
    await page.screenshot({ path: screenshotPath('datasets-grid-light') })
    // Virtualized: far fewer cells in the DOM than items.
    expect(await page.getByTestId('grid-item').count()).toBeLessThan(84)

    // Filter by split, then open one item.
    await page.getByTestId('filter-split').click()
    await page.getByRole('option', { name: 'Val' }).click()
    await expect.poll(() => page.getByTestId('grid-count').textContent()).toBe('15 items')
    await page.getByTestId('grid-item').first().click()
    const detail = page.getByTestId('item-detail')
    await detail.waitFor()
    await expect(detail.textContent()).resolves.toMatch(/SHA-256[0-9a-f]{64}/)
    await expect(detail.textContent()).resolves.toMatch(/160×128/)
    await page.waitForTimeout(300)
    await page.screenshot({ path: screenshotPath('datasets-item-detail-light') })
    await page.keyboard.press('Escape')
    await detail.waitFor({ state: 'detached' })

    // Overview: balance bars and the import's error list.
    await page.getByTestId('tab-overview').click()
    await page.getByTestId('balance-bars').waitFor()
    await expect(page.getByTestId('balance-bars').textContent()).resolves.toMatch(/blackbird24robin37sparrow8wren15/)
    await expect(page.getByTestId('import-errors').textContent()).resolves.toContain('train/robin/broken.png')
    await page.screenshot({ path: screenshotPath('datasets-balance-light') })

    // Near-duplicates: the two planted pairs, nothing else; keep one of the first.
    await page.getByTestId('tab-duplicates').click()
    await page.getByTestId('dup-find').click()
    await expect.poll(() => page.getByTestId('dup-summary').textContent()).toBe('2 groups')
    await imagesLoaded(page, '[data-testid=dup-group] img')
    await page.screenshot({ path: screenshotPath('datasets-duplicates-light') })
    await page.getByTestId('dup-keep').first().click()
    await expect.poll(() => page.getByTestId('dup-summary').textContent()).toBe('1 group')
    await page.getByTestId('tab-items').click()
    await expect.poll(() => page.getByTestId('grid-count').textContent()).toBe('83 items')

    expect(problems).toEqual([])
    await context.close()
  })

  it('keeps the grid light at 50k items: a few hundred cells in the DOM, pages fetched as you scroll', async () => {
    // 50k items written straight into the library (importing 50k images would take minutes);
    // they share one real thumbnail file, each with its own hash row, and have no original file, so
    // their size is one the grid shows by thumbnail (it draws images of 64 px or less from the original).
    const lib = openLibrary(library.dir)
    const thumb = (lib.db.prepare('SELECT thumb_path FROM media WHERE thumb_path IS NOT NULL LIMIT 1').get() as { thumb_path: string }).thumb_path
    const now = new Date().toISOString()
    lib.db.transaction(() => {
      lib.db.prepare("INSERT INTO datasets (id, name, created_at, updated_at) VALUES ('big', 'Fifty thousand', ?, ?)").run(now, now)
      const cls = ['ant', 'bee', 'wasp', 'moth'].map((n, i) => {
        lib.db.prepare('INSERT INTO classes (id, dataset_id, name, color, position) VALUES (?, ?, ?, ?, ?)').run(`big-${n}`, 'big', n, ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728'][i], i)
        return `big-${n}`
      })
      const m = lib.db.prepare("INSERT INTO media (sha256, path, mime, bytes, width, height, thumb_path, created_at) VALUES (?, 'media/none', 'image/png', ?, 320, 240, ?, ?)")
      const it = lib.db.prepare("INSERT INTO items (id, dataset_id, sha256, original_name, added_at) VALUES (?, 'big', ?, ?, ?)")
      const lb = lib.db.prepare("INSERT INTO labels (item_id, source, class_id, created_at) VALUES (?, 'human', ?, ?)")
      for (let i = 0; i < 50_000; i++) {
        const sha = (0xbb000000 + i).toString(16).padStart(64, 'b')
        m.run(sha, 1000 + i, thumb, now)
        it.run(`big-${i}`, sha, `img${String(i).padStart(5, '0')}.png`, now)
        lb.run(`big-${i}`, cls[i % 4], now)
      }
    })()
    lib.close()

    const { context, page, problems } = await openStudioPage(browser, host.url, { viewport: { width: 1280, height: 800 }, colorScheme: 'light' })
    await page.getByTestId('nav-datasets').waitFor()
    await page.evaluate("window.location.hash = '#/datasets/big'")
    await expect.poll(() => page.getByTestId('grid-count').textContent(), { timeout: 20_000 }).toBe('50,000 items')
    await page.locator('[data-testid=grid-item]').first().waitFor()
    const cells = await page.getByTestId('grid-item').count()
    expect(cells).toBeGreaterThan(10)
    expect(cells).toBeLessThan(300)
    // Jump to the end: the last items arrive, and the DOM still holds only the rows in view.
    const t0 = Date.now()
    await page.getByTestId('item-grid').evaluate((el) => el.scrollTo({ top: el.scrollHeight }))
    await page.locator('[data-testid=grid-item][title="img49999.png"]').waitFor({ timeout: 20_000 })
    console.log(`[e2e] 50k grid: ${cells} cells in the DOM; last page shown ${Date.now() - t0} ms after jumping to the end`)
    expect(await page.getByTestId('grid-item').count()).toBeLessThan(300)
    await imagesLoaded(page, '[data-testid=grid-item] img')
    await page.screenshot({ path: screenshotPath('datasets-grid-50k-light') })
    expect(problems).toEqual([])
    await context.close()

    // The overview of the first dataset in the dark theme.
    const dark = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'dark', reducedMotion: 'reduce' })
    const darkPage = await dark.newPage()
    const darkProblems = watchConsole(darkPage)
    await darkPage.goto(host.url)
    await darkPage.getByTestId('nav-datasets').waitFor()
    await darkPage.getByTestId('dataset-row').filter({ hasText: 'Garden birds' }).click()
    await darkPage.getByTestId('tab-overview').click()
    await darkPage.getByTestId('balance-bars').waitFor()
    await darkPage.screenshot({ path: screenshotPath('datasets-balance-dark') })
    await darkPage.getByTestId('tab-items').click()
    await imagesLoaded(darkPage, '[data-testid=grid-item] img')
    await darkPage.screenshot({ path: screenshotPath('datasets-grid-dark') })
    expect(darkProblems).toEqual([])
    await dark.close()
  })
})
