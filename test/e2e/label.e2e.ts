// The Label panel in headless Chromium against a real browser host. A dataset of 8x8
// PNGs (made here with sharp) and the tiny ImageGPT classifier fixture are imported
// with the CLI first. Then: a rubber-band selection bulk-assigned, undone and redone;
// 100 unlabelled items labelled with exactly 100 key presses (auto-advance, no
// navigation keys); suggestions computed by the job and every one above a threshold
// accepted as model labels; the disagreement queue. After each step the library
// itself is read to check every label and its source. Screenshots: label-grid,
// label-single, label-keys, label-review (test-results/screenshots/).

import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Browser, type Page } from 'playwright-core'
import { openLibrary, type Library } from '../../src/main/library/library'
import { seededRandom } from '../../src/main/datasets/splits'
import { assertBuilt, dismissNotice, findChromium, launchStudio, openPanel, openStudioPage, root, runCli, screenshotPath, stopStudio, tempLibrary, type RunningHost } from './support'

process.env.TESSERA_SAMPLES = '0'
const FIXTURE = join(root, '..', 'shared', 'fixtures', 'imagegpt-tiny-cls')
const UNLABELLED = 110

const found = await findChromium()
if (!found.chromium) console.warn(`[e2e] Skipping the label end-to-end test: ${found.reason}.`)

async function png8(seed: number): Promise<Buffer> {
  const r = seededRandom(seed)
  const px = Buffer.alloc(8 * 8 * 3)
  // Blocky pictures: a 2x2 grid of colours, so thumbnails show what they are.
  const colours = Array.from({ length: 4 }, () => [Math.floor(r() * 256), Math.floor(r() * 256), Math.floor(r() * 256)])
  for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) px.set(colours[(y >> 2) * 2 + (x >> 2)] as number[], (y * 8 + x) * 3)
  return sharp(px, { raw: { width: 8, height: 8, channels: 3 } }).png().toBuffer()
}

interface LabelRow {
  name: string
  source: 'human' | 'model'
  cls: string
  model: string | null
}

describe.skipIf(!found.chromium)('Label panel (Chromium)', () => {
  let library: ReturnType<typeof tempLibrary>
  let photos: ReturnType<typeof tempLibrary>
  let host: RunningHost
  let browser: Browser
  let lib: Library

  const labels = (): LabelRow[] =>
    lib.db
      .prepare(
        `SELECT i.original_name AS name, l.source AS source, c.name AS cls, l.model_id AS model
         FROM labels l JOIN items i ON i.id = l.item_id JOIN classes c ON c.id = l.class_id ORDER BY 1, 2`
      )
      .all() as LabelRow[]
  const human = (): Map<string, string> => new Map(labels().filter((l) => l.source === 'human').map((l) => [l.name, l.cls]))

  beforeAll(async () => {
    assertBuilt()
    library = tempLibrary()
    photos = tempLibrary('tessera-e2e-label-')
    for (const c of ['class_0', 'class_1', 'class_2']) {
      mkdirSync(join(photos.dir, c))
      await sharp(await png8(1000 + c.length + Number(c.at(-1)))).toFile(join(photos.dir, c, 'seed.png'))
    }
    for (let i = 0; i < UNLABELLED; i++) await sharp(await png8(i + 1)).toFile(join(photos.dir, `u${String(i).padStart(3, '0')}.png`))
    runCli(library.dir, ['dataset', 'import', photos.dir, '--name', 'tiny'])
    runCli(library.dir, ['model', 'import', FIXTURE, '--name', 'tiny-cls'])
    lib = openLibrary(library.dir)
    ;({ host, browser } = await launchStudio(library.dir, found.chromium!))
  })

  afterAll(async () => {
    await stopStudio(browser, host)
    lib?.close()
    library?.remove()
    photos?.remove()
  })

  const pickOption = async (page: Page, testId: string, option: string | RegExp) => {
    await page.getByTestId(testId).click()
    await page.getByRole('option', { name: option }).click()
    await page.locator('.MuiPopover-root').waitFor({ state: 'detached' })
    // Keys go to the panel, not to the select that kept the focus.
    await page.getByTestId('label-progress-text').click()
  }
  const progress = (page: Page) => page.getByTestId('label-progress-text').textContent()
  const TOTAL = UNLABELLED + 3

  it('labels with the keyboard and in bulk, undoes and redoes, accepts model suggestions, and the library holds every label with its source', async () => {
    const { context, page, problems } = await openStudioPage(browser, host.url, { viewport: { width: 1280, height: 860 }, colorScheme: 'light' })
    await openPanel(page, 'label', 'Label')
    await expect.poll(() => progress(page)).toBe(`3 / ${TOTAL} labelled`)
    await page.locator('[data-testid=label-cell]').first().waitFor()

    // Rubber band over the first two cells of the first two rows, then Assign -> class_2.
    const grid = page.getByTestId('label-grid')
    const c0 = (await page.locator('[data-testid=label-cell][data-index="0"]').boundingBox())!
    const tops = await page.locator('[data-testid=label-cell]').evaluateAll((els) => els.map((e) => Math.round(e.getBoundingClientRect().top)))
    const columns = tops.filter((t) => t === tops[0]).length
    expect(columns).toBeGreaterThan(2)
    const c1 = (await page.locator(`[data-testid=label-cell][data-index="${columns + 1}"]`).boundingBox())!
    await page.mouse.move(c0.x + 20, c0.y + 20)
    await page.mouse.down()
    await page.mouse.move(c0.x + 60, c0.y + 60, { steps: 4 })
    await page.mouse.move(c1.x + 30, c1.y + 30, { steps: 6 })
    await page.getByTestId('rubber-band').waitFor()
    await page.mouse.up()
    await expect.poll(() => page.getByTestId('selection-count').textContent()).toBe('4 selected')
    const picked = await page.locator('[data-testid=label-cell][data-selected=true]').evaluateAll((els) => els.map((e) => e.getAttribute('data-name')!).sort())
    expect(picked).toHaveLength(4)
    await page.mouse.move(640, 840)
    await page.screenshot({ path: screenshotPath('label-grid') })
    const start = human()
    const afterBulk = 3 + picked.filter((n) => !start.has(n)).length
    await page.getByTestId('bulk-assign').click()
    await page.getByRole('menuitem', { name: 'class_2' }).click()
    await expect.poll(() => progress(page)).toBe(`${afterBulk} / ${TOTAL} labelled`)
    for (const n of picked) expect(human().get(n), n).toBe('class_2')

    // Undo with the key, redo with the button: the library follows.
    await grid.click({ position: { x: 2, y: 2 } }).catch(() => undefined)
    await page.keyboard.press('Escape')
    await page.keyboard.press('Control+z')
    await expect.poll(() => progress(page)).toBe(`3 / ${TOTAL} labelled`)
    await expect.poll(() => human()).toEqual(start)
    await page.getByTestId('label-redo').click()
    await expect.poll(() => progress(page)).toBe(`${afterBulk} / ${TOTAL} labelled`)
    for (const n of picked) expect(human().get(n)).toBe('class_2')

    // Keyboard: the unlabelled items only, then 100 presses of 1/2/3, nothing else.
    await pickOption(page, 'filter-class', 'No label')
    await expect.poll(() => page.getByTestId('grid-count').textContent()).toBe(`${TOTAL - afterBulk} items`)
    const order = await page.locator('[data-testid=label-cell]').evaluateAll((els) => els.map((e) => e.getAttribute('data-name')!))
    const keys = ['1', '2', '3']
    for (let i = 0; i < 100; i++) await page.keyboard.press(keys[i % 3] as string)
    const afterKeys = afterBulk + 100
    await expect.poll(() => progress(page), { timeout: 60_000 }).toBe(`${afterKeys} / ${TOTAL} labelled`)
    const h = human()
    // The first items in view were labelled in order, each with the key pressed for it.
    for (let i = 0; i < Math.min(order.length, 30); i++) expect(h.get(order[i] as string), order[i]).toBe(`class_${i % 3}`)
    expect(h.size).toBe(afterKeys)
    // The count refetches after the last label lands: wait for it rather than read it once.
    await expect.poll(() => page.getByTestId('grid-count').textContent()).toBe(`${TOTAL - afterKeys} items`)

    // Single view of an item, with the keys help over it.
    await pickOption(page, 'filter-class', 'All classes')
    await page.keyboard.press('v')
    await page.getByTestId('single-view').waitFor()
    await expect.poll(() => page.getByTestId('single-image').evaluate((img) => (img as unknown as { complete: boolean }).complete)).toBe(true)
    await page.keyboard.press('Control+=')
    await page.screenshot({ path: screenshotPath('label-single') })
    await page.keyboard.press('?')
    await page.getByTestId('keys-dialog').getByRole('heading', { name: 'Keys' }).waitFor()
    await page.screenshot({ path: screenshotPath('label-keys') })
    await page.keyboard.press('Escape')
    await page.getByTestId('keys-dialog').waitFor({ state: 'detached' })
    await page.keyboard.press('v')

    // Model: choose it, compute suggestions (a job), then accept everything at 50% or more.
    await pickOption(page, 'label-model', 'tiny-cls')
    await page.getByTestId('label-predict').click()
    await expect.poll(() => page.getByTestId('prediction-status').textContent(), { timeout: 60_000 }).toBe(`Suggestions: ${TOTAL} / ${TOTAL}`)
    const model = lib.db.prepare("SELECT id FROM models WHERE name = 'tiny-cls'").get() as { id: string }
    const preds = lib.db.prepare('SELECT i.original_name AS name, p.class_name AS cls, p.confidence AS p FROM predictions p JOIN items i ON i.id = p.item_id WHERE p.model_id = ?').all(model.id) as { name: string; cls: string; p: number }[]
    expect(preds).toHaveLength(TOTAL)
    await page.locator('[data-testid=cell-suggestion]').first().waitFor()
    const slider = page.getByTestId('accept-threshold').locator('input')
    await slider.focus()
    await page.keyboard.press('Home')
    await page.getByTestId('label-progress-text').click()
    const humanBefore = human()
    const expected = preds.filter((p) => p.p >= 0.5 && !humanBefore.has(p.name))
    await expect.poll(() => page.getByTestId('accept-preview').textContent()).toMatch(new RegExp(`^${expected.length} items? would get a model label`))
    if (expected.length > 0) {
      await page.getByTestId('accept-apply').click()
      await expect.poll(() => progress(page)).toBe(`${afterKeys + expected.length} / ${TOTAL} labelled`)
    }
    const rows = labels()
    // Human labels untouched; model labels exactly the confident unlabelled items, with the model's class and id.
    expect(new Map(rows.filter((l) => l.source === 'human').map((l) => [l.name, l.cls]))).toEqual(humanBefore)
    const modelRows = rows.filter((l) => l.source === 'model')
    expect(modelRows.map((l) => l.name).sort()).toEqual(expected.map((p) => p.name).sort())
    for (const l of modelRows) {
      expect(l.cls).toBe(preds.find((p) => p.name === l.name)?.cls)
      expect(l.model).toBe(model.id)
    }

    // The review queue: human labels the model disagrees with.
    const disagree = preds.filter((p) => humanBefore.has(p.name) && humanBefore.get(p.name) !== p.cls)
    await pickOption(page, 'label-mode', 'Review: model disagrees')
    await expect.poll(() => page.getByTestId('queue-note').textContent()).toMatch(new RegExp(`^${disagree.length} items? where`))
    await page.locator('[data-testid=label-cell]').first().waitFor()
    const shown = await page.locator('[data-testid=label-cell]').evaluateAll((els) => els.map((e) => e.getAttribute('data-name')!))
    expect(shown.length).toBeGreaterThan(0)
    for (const n of shown) expect(disagree.map((d) => d.name)).toContain(n)
    await dismissNotice(page)
    await page.mouse.move(640, 840)
    await page.screenshot({ path: screenshotPath('label-review') })
    // Enter on the first takes the model's class as the human label.
    const first = shown[0] as string
    await page.keyboard.press('Enter')
    await expect.poll(() => human().get(first)).toBe(preds.find((p) => p.name === first)?.cls)

    expect(problems).toEqual([])
    await context.close()
  })
})
