// Generate and Gallery in headless Chromium against a real browser host, with the shared tiny
// ImageGPT (8x8, 16 colours) imported by `tessera model import` first: generate 8 images and
// watch the live preview (at least two mid-image frames), star one, put two in a collection,
// compare them, search by seed, recall a recipe into the Generate form.
// Screenshots under test-results/screenshots/generate-*.png and gallery-*.png.

import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import sharp from 'sharp'
import { type Browser, type Page } from 'playwright-core'
import { openLibrary } from '../../src/main/library/library'
import { assertBuilt, dismissNotice, findChromium, launchStudio, openPanel, openStudioPage, root, runCli, screenshotPath, stopStudio, tempLibrary, type RunningHost } from './support'

const found = await findChromium()
if (!found.chromium) console.warn(`[e2e] Skipping the generate end-to-end test: ${found.reason}.`)

const FIXTURE = resolve(root, '..', 'shared', 'fixtures', 'imagegpt-tiny-lm')
const SEED = 4242

async function imagesLoaded(page: Page, selector: string): Promise<void> {
  await expect
    .poll(() => page.locator(`${selector} img`).evaluateAll((imgs) => imgs.every((i) => (i as unknown as { complete: boolean }).complete)), { timeout: 20_000 })
    .toBe(true)
}

describe.skipIf(!found.chromium)('Generate and Gallery (Chromium)', () => {
  let library: ReturnType<typeof tempLibrary>
  let host: RunningHost
  let browser: Browser

  beforeAll(async () => {
    assertBuilt()
    library = tempLibrary()
    runCli(library.dir, ['model', 'import', FIXTURE, '--name', 'tiny-lm'])
    // A 24x24 model for watching an image mid-way: the 8x8 fixture finishes each image in
    // milliseconds on an idle machine, too fast to ever show a half-drawn slot.
    runCli(library.dir, ['model', 'import', join(root, 'resources', 'models', 'tessera-emoji'), '--name', 'emoji'])
    runCli(library.dir, ['dataset', 'create', 'Generated pictures'])
    ;({ host, browser } = await launchStudio(library.dir, found.chromium!))
  })

  afterAll(async () => {
    await stopStudio(browser, host, library)
  })

  it('generates 8 images with a live preview, stars, collects, searches by seed and recalls a recipe', async () => {
    const { context, page, problems } = await openStudioPage(browser, host.url, { viewport: { width: 1280, height: 800 }, colorScheme: 'light' })
    await openPanel(page, 'generate', 'Generate')

    // The form: the fixture model, 8 images in batches of 4, a fixed seed.
    await page.getByTestId('gen-submit').waitFor()
    await page.getByTestId('gen-model').click()
    await page.getByRole('option', { name: /^tiny-lm/ }).click()
    await page.getByTestId('gen-count').fill('8')
    await page.getByTestId('gen-batch').fill('4')
    await page.getByRole('switch', { name: 'Random seed' }).uncheck()
    await page.getByTestId('gen-seed').fill(String(SEED))
    await page.getByTestId('gen-submit').click()
    await expect.poll(() => page.getByTestId('gen-status').textContent(), { timeout: 60_000 }).toMatch(/^Done/)
    await expect.poll(() => page.locator('[data-testid=preview-slot][data-state=done]').count()).toBe(8)
    // Live preview: frames of unfinished images arrived (the first row of each batch at least).
    const intermediate = Number(await page.getByTestId('preview-frames').getAttribute('data-intermediate'))
    expect(intermediate).toBeGreaterThanOrEqual(2)
    expect(await page.getByTestId('gen-job-seed').textContent()).toBe(`seed ${SEED}`)
    await dismissNotice(page)
    await imagesLoaded(page, '[data-testid=preview-grid]')
    await page.screenshot({ path: screenshotPath('generate-done') })

    // The gallery has all 8, crisp.
    await openPanel(page, 'gallery', 'Gallery')
    await expect.poll(() => page.getByTestId('gallery-count').textContent(), { timeout: 20_000 }).toBe('8 images')
    await page.locator('[data-testid=gallery-item] img').first().waitFor()
    await imagesLoaded(page, '[data-testid=gallery-grid]')
    expect(await page.locator('[data-testid=gallery-item] img').first().evaluate((img) => (globalThis as unknown as { getComputedStyle: (e: unknown) => { imageRendering: string } }).getComputedStyle(img).imageRendering)).toBe('pixelated')
    await page.screenshot({ path: screenshotPath('gallery-grid') })

    // Star one from its details panel.
    const third = page.getByTestId('gallery-item').filter({ hasText: '#3' })
    await third.locator('button').first().click()
    await page.getByTestId('gallery-detail').waitFor()
    await page.getByTestId('detail-star').click()
    await page.mouse.move(640, 790) // no tooltip in the picture
    await page.getByTestId('gallery-detail').getByRole('button', { name: 'Unstar' }).waitFor()
    await expect.poll(() => page.getByTestId('gallery-starred').count()).toBe(1)
    await page.getByTestId('gallery-detail').getByText(`Seed ${SEED} · #3`).waitFor()
    await imagesLoaded(page, '[data-testid=gallery-detail]')
    await page.screenshot({ path: screenshotPath('gallery-detail') })

    // Two into a new collection.
    await page.getByTestId('collection-new').click()
    await page.getByTestId('collection-name').fill('Keepers')
    await page.getByTestId('collection-create').click()
    await page.getByTestId('collection-chip').filter({ hasText: 'Keepers' }).waitFor()
    await page.getByTestId('gallery-item').filter({ hasText: '#1' }).getByTestId('gallery-select').check()
    await page.getByTestId('gallery-item').filter({ hasText: '#2' }).getByTestId('gallery-select').check()
    expect(await page.getByTestId('bulk-count').textContent()).toBe('2 selected')
    await page.getByTestId('bulk-add').click()
    await page.getByRole('option', { name: 'Keepers' }).click()
    await page.getByTestId('collection-chip').filter({ hasText: 'Keepers · 2' }).waitFor()
    await dismissNotice(page)
    await page.screenshot({ path: screenshotPath('gallery-collection') })

    // The two selected into a dataset, marked as generated, kept out of test.
    await page.getByTestId('bulk-dataset').click()
    await page.getByTestId('to-dataset').click()
    await page.getByRole('option', { name: 'Generated pictures' }).click()
    await page.screenshot({ path: screenshotPath('gallery-to-dataset') })
    await page.getByRole('dialog').getByRole('button', { name: 'Add' }).click()
    await page.getByRole('dialog').waitFor({ state: 'detached' })
    const shown = JSON.parse(runCli(library.dir, ['--json', 'dataset', 'show', 'Generated pictures'])) as { itemCount: number }
    expect(shown.itemCount).toBe(2)
    await dismissNotice(page)

    // Compare the two side by side.
    await page.getByTestId('bulk-compare').click()
    await page.getByTestId('compare-dialog').getByRole('img').nth(1).waitFor()
    await imagesLoaded(page, '[data-testid=compare-dialog]')
    await page.screenshot({ path: screenshotPath('gallery-compare') })
    await page.keyboard.press('Escape')
    await page.getByTestId('compare-dialog').waitFor({ state: 'detached' })

    // The collection filter, then search by seed.
    await page.getByTestId('collection-chip').filter({ hasText: 'Keepers' }).click()
    await expect.poll(() => page.getByTestId('gallery-count').textContent()).toBe('2 images')
    await page.getByTestId('collection-chip').filter({ hasText: 'Keepers' }).click()
    await page.getByTestId('gallery-search').fill(`seed:${SEED}`)
    await expect.poll(() => page.getByTestId('gallery-count').textContent()).toBe('8 images')
    await page.getByTestId('gallery-search').fill('seed:999')
    await expect.poll(() => page.getByTestId('gallery-count').textContent()).toBe('0 images')
    await page.getByTestId('gallery-search').fill(String(SEED))
    await expect.poll(() => page.getByTestId('gallery-count').textContent()).toBe('8 images')

    // Recall image #3's recipe into the Generate form.
    await page.getByTestId('detail-recall').click()
    await page.getByTestId('panel-generate').getByRole('heading', { level: 1, name: 'Generate' }).waitFor()
    await expect.poll(() => page.getByTestId('gen-seed').inputValue()).toBe(String(SEED))
    expect(await page.getByTestId('gen-count').inputValue()).toBe('1')
    expect(await page.getByTestId('gen-first-index').textContent()).toMatch(/#3/)
    expect(await page.getByRole('switch', { name: 'Random seed' }).isChecked()).toBe(false)
    await page.screenshot({ path: screenshotPath('generate-recalled') })
    // Generating it again makes the same pixels.
    await page.getByTestId('gen-submit').click()
    await expect.poll(() => page.getByTestId('gen-status').textContent(), { timeout: 60_000 }).toMatch(/^Done/)
    const out = JSON.parse(runCli(library.dir, ['--json', 'gallery', 'list', '--seed', String(SEED), '--limit', '20'])) as { items: { index: number; sha256: string }[] }
    const threes = out.items.filter((i) => i.index === 3)
    expect(threes).toHaveLength(2)
    const [a, b] = await Promise.all(threes.map((t) => sharp(join(library.dir, 'outputs', t.sha256.slice(0, 2), `${t.sha256}.png`)).raw().toBuffer()))
    expect(a!.equals(b!)).toBe(true)

    // A bigger request on the 24x24 model, watched mid-image, then cancelled: the finished images stay.
    await page.getByTestId('gen-model').click()
    await page.getByRole('option', { name: /^emoji/ }).click()
    await page.getByTestId('gen-count').fill('200')
    await page.getByTestId('gen-batch').fill('1')
    await page.getByTestId('gen-submit').click()
    await page.locator('[data-testid=preview-slot][data-state=partial]').first().waitFor({ timeout: 60_000 })
    await page.screenshot({ path: screenshotPath('generate-live') })
    await expect.poll(() => page.locator('[data-testid=preview-slot][data-state=done]').count(), { timeout: 60_000 }).toBeGreaterThan(0)
    await page.getByTestId('gen-cancel').click()
    await expect.poll(() => page.getByTestId('gen-status').textContent(), { timeout: 60_000 }).toMatch(/^Cancelled/)
    const kept = await page.locator('[data-testid=preview-slot][data-state=done]').count()
    expect(kept).toBeGreaterThan(0)
    await openPanel(page, 'gallery', 'Gallery')
    const galleryCount = async () => Number(((await page.getByTestId('gallery-count').textContent()) ?? '').split(' ')[0] || 0)
    await expect.poll(galleryCount).toBeGreaterThan(9)
    expect(await galleryCount()).toBeLessThan(9 + 200)

    expect(problems).toEqual([])
    await context.close()
  })

  it('keeps the grid light at 20k images: a few hundred cells in the DOM, pages fetched as you scroll', async () => {
    // 20k outputs written straight into the library, sharing one real image file.
    const lib = openLibrary(library.dir)
    const one = lib.db.prepare('SELECT sha256, params FROM gallery_outputs ORDER BY created_at LIMIT 1').get() as { sha256: string; params: string }
    const before = (lib.db.prepare('SELECT count(*) AS n FROM gallery_outputs').get() as { n: number }).n
    const now = new Date(Date.now() + 60_000).toISOString()
    lib.db.transaction(() => {
      const ins = lib.db.prepare(
        "INSERT INTO gallery_outputs (id, sha256, model_id, params, seed, created_at, model_name, image_index, search_text) VALUES (?, ?, NULL, ?, ?, ?, 'bulk', ?, ?)"
      )
      for (let i = 0; i < 20_000; i++) ins.run(`bulk-${i}`, one.sha256, one.params, 100_000 + i, now, i, `bulk seed:${100_000 + i}`)
    })()
    lib.close()
    const total = before + 20_000

    const { context, page, problems } = await openStudioPage(browser, host.url, { viewport: { width: 1280, height: 800 }, colorScheme: 'dark' })
    await openPanel(page, 'gallery', 'Gallery')
    await expect.poll(() => page.getByTestId('gallery-count').textContent(), { timeout: 20_000 }).toBe(`${total.toLocaleString('en-US')} images`)
    await page.locator('[data-testid=gallery-item]').first().waitFor()
    const cells = await page.getByTestId('gallery-item').count()
    expect(cells).toBeGreaterThan(10)
    expect(cells).toBeLessThan(300)
    // Jump to the end: the oldest images (the ones generated above) arrive; the DOM stays small.
    await page.getByTestId('gallery-grid').evaluate((el) => el.scrollTo({ top: el.scrollHeight }))
    await page.locator(`[data-testid=gallery-item][data-seed="${SEED}"]`).first().waitFor({ timeout: 20_000 })
    expect(await page.getByTestId('gallery-item').count()).toBeLessThan(300)
    await imagesLoaded(page, '[data-testid=gallery-grid]')
    await page.screenshot({ path: screenshotPath('gallery-20k-dark') })
    expect(problems).toEqual([])
    await context.close()
  })
})
