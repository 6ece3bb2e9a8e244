// The Datasets page's Snapshots tab in headless Chromium against a real browser host: a
// snapshot taken from the CLI and one taken in the page, the diff between a snapshot and the
// current state after labels and splits changed, and the export form's format choice writing
// a zip. Screenshots under test-results/screenshots/snapshots-*.png.

import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Browser } from 'playwright-core'
import { openLibrary } from '../../src/main/library/library'
import { picture } from '../unit/datasets/images'
import { assertBuilt, dismissNotice, findChromium, launchStudio, openPanel, openStudioPage, runCli, screenshotPath, stopStudio, tempLibrary, type RunningHost } from './support'

const found = await findChromium()
if (!found.chromium) console.warn(`[e2e] Skipping the snapshots end-to-end test: ${found.reason}.`)

describe.skipIf(!found.chromium)('Datasets snapshots (Chromium)', () => {
  let library: ReturnType<typeof tempLibrary>
  let photos: ReturnType<typeof tempLibrary>
  let host: RunningHost
  let browser: Browser

  beforeAll(async () => {
    assertBuilt()
    library = tempLibrary()
    photos = tempLibrary('tessera-e2e-photos-')
    let seed = 1
    for (const name of ['robin', 'wren', 'sparrow'])
      for (let i = 0; i < 8; i++) {
        const rel = `${i % 4 === 0 ? 'val' : 'train'}/${name}/${name}-${i}.png`
        mkdirSync(join(photos.dir, rel, '..'), { recursive: true })
        writeFileSync(join(photos.dir, rel), await picture(seed++, 'png', [96, 80]))
      }
    runCli(library.dir, ['dataset', 'import', photos.dir, '--name', 'Birds', '--split-from-folders'])
    runCli(library.dir, ['dataset', 'snapshot', 'create', 'Birds', '--name', 'as imported', '--note', 'straight from the folders'])
    // Changes after the snapshot: two relabelled, three moved to test, one removed.
    const lib = openLibrary(library.dir)
    const id = (name: string) => (lib.db.prepare('SELECT id FROM items WHERE original_name = ?').get(name) as { id: string }).id
    const wren = (lib.db.prepare("SELECT id FROM classes WHERE name = 'wren'").get() as { id: string }).id
    for (const n of ['train/robin/robin-1.png', 'train/sparrow/sparrow-1.png']) lib.db.prepare("UPDATE labels SET class_id = ? WHERE item_id = ? AND source = 'human'").run(wren, id(n))
    for (const n of ['train/robin/robin-2.png', 'train/wren/wren-2.png', 'train/sparrow/sparrow-3.png']) lib.db.prepare("UPDATE splits SET split = 'test' WHERE item_id = ?").run(id(n))
    lib.db.prepare('DELETE FROM items WHERE id = ?').run(id('train/wren/wren-5.png'))
    lib.close()
    ;({ host, browser } = await launchStudio(library.dir, found.chromium!))
  })

  afterAll(async () => {
    await stopStudio(browser, host, library, photos)
  })

  it('lists snapshots, takes one, diffs against the current state, and exports a zip', async () => {
    const { context, page, problems } = await openStudioPage(browser, host.url, { viewport: { width: 1280, height: 800 }, colorScheme: 'light' })
    await openPanel(page, 'datasets', 'Datasets')
    await page.getByText('Birds', { exact: true }).first().click()
    await page.getByRole('heading', { level: 1, name: 'Birds' }).waitFor()
    await page.getByTestId('tab-snapshots').click()
    await expect.poll(() => page.getByTestId('snapshot-row').count()).toBe(1)

    // The diff of the newest snapshot against now opens by default.
    const counts = page.getByTestId('snapshot-diff-counts')
    await expect.poll(() => counts.textContent(), { timeout: 20_000 }).toBe('0 added1 removed2 relabelled3 moved18 unchanged')
    await expect.poll(() => page.getByTestId('snapshot-diff-items').locator('tbody tr').count()).toBe(6)
    await expect
      .poll(() => page.locator('[data-testid=snapshot-diff-items] img').evaluateAll((imgs) => imgs.every((i) => (i as unknown as { complete: boolean }).complete)))
      .toBe(true)
    await page.screenshot({ path: screenshotPath('snapshots-diff-light'), fullPage: true })

    // Filter to moved items only.
    await counts.getByText('3 moved').click()
    await expect.poll(() => page.getByTestId('snapshot-diff-items').locator('tbody tr').count()).toBe(3)

    // Take a snapshot now: it becomes the newest, and its diff against now is empty.
    await page.getByTestId('snapshot-name').fill('after review')
    await page.getByTestId('snapshot-create').click()
    await expect.poll(() => page.getByTestId('snapshot-row').count()).toBe(2)
    await dismissNotice(page)
    await page.getByTestId('snapshot-diff-current').first().click()
    await page.mouse.move(640, 790)
    await expect.poll(() => page.getByTestId('snapshot-diff').textContent()).toContain('No differences')
    await page.screenshot({ path: screenshotPath('snapshots-list-light'), fullPage: true })

    // Export as a zip from the Overview tab.
    await page.getByTestId('tab-overview').click()
    const form = page.getByTestId('export-form')
    await form.getByTestId('export-format').click()
    await page.getByRole('option', { name: 'Zip' }).click()
    const zip = join(library.dir, 'exports', 'birds.zip')
    await form.getByLabel('Folder or .zip file').fill(zip)
    await form.getByRole('button', { name: 'Export' }).click()
    await expect.poll(() => existsSync(zip), { timeout: 20_000 }).toBe(true)
    await page.getByTestId('notice').waitFor()
    await form.scrollIntoViewIfNeeded()
    await page.screenshot({ path: screenshotPath('snapshots-export-light') })
    expect(problems).toEqual([])
    await context.close()
  }, 120_000)
})
