// Shared pieces of the end-to-end tests: the built studio, a browser host child process
// with its own library folder, and the Chromium to drive.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium as playwright, type Browser, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core'

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const screenshotDir = join(root, 'test-results', 'screenshots')
export const cliPath = join(root, 'out', 'main', 'cli.js')
export const rendererIndex = join(root, 'out', 'renderer', 'index.html')

/** Every panel in the rail, with the heading it shows. */
export const panels = [
  { id: 'datasets', heading: 'Datasets' },
  { id: 'label', heading: 'Label' },
  { id: 'train', heading: 'Train' },
  { id: 'classify', heading: 'Classify' },
  { id: 'generate', heading: 'Generate' },
  { id: 'gallery', heading: 'Gallery' },
  { id: 'models', heading: 'Models' },
  { id: 'settings', heading: 'Settings' }
] as const

export function assertBuilt(): void {
  const files = process.env.TESSERA_E2E_CLI ? [process.env.TESSERA_E2E_CLI] : [rendererIndex, cliPath]
  for (const file of files) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` before the end-to-end tests.`)
  }
}

export function tempLibrary(prefix = 'tessera-e2e-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

export interface RunningHost {
  url: string
  child: ChildProcess
  output: () => string
  close: () => Promise<void>
}

function cli(): string {
  return process.env.TESSERA_E2E_CLI ?? cliPath
}

/** Runs one `tessera --library DIR ...` command to completion; throws with its output when it fails. */
export function runCli(libraryDir: string, args: string[]): string {
  const result = spawnSync(process.execPath, [cli(), '--library', libraryDir, ...args], { cwd: root, encoding: 'utf8' })
  if (result.status !== 0) throw new Error(`tessera ${args.join(' ')} exited ${result.status}:\n${result.stdout}${result.stderr}`)
  return result.stdout
}

/**
 * Starts `tessera --library DIR serve --port 0 --no-open` and waits for the URL it prints.
 * An empty library stays empty (TESSERA_SAMPLES=0) unless `samples` asks for the first-run sample library.
 */
export function startHost(libraryDir: string, options: { samples?: boolean } = {}): Promise<RunningHost> {
  const child = spawn(process.execPath, [cli(), '--library', libraryDir, 'serve', '--port', '0', '--no-open'], {
    cwd: root,
    env: { ...process.env, TESSERA_LIBRARY: libraryDir, TESSERA_SAMPLES: options.samples ? '1' : '0' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let log = ''
  const close = () =>
    new Promise<void>((done) => {
      if (child.exitCode !== null || child.signalCode !== null) return done()
      child.once('exit', () => done())
      child.kill('SIGTERM')
    })
  return new Promise((resolveHost, reject) => {
    const onData = (chunk: Buffer) => {
      log += chunk.toString()
      const match = /(http:\/\/(?:127\.0\.0\.1|localhost|\[::1\]):\d+\/\S*token=[A-Za-z0-9_-]+)/.exec(log)
      if (match?.[1]) {
        child.stdout?.off('data', onData)
        resolveHost({ url: match[1], child, output: () => log, close })
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()))
    child.once('exit', (code) => reject(new Error(`The browser host exited (code ${code}) before printing its URL:\n${log}`)))
    child.once('error', reject)
  })
}

export interface Chromium {
  executablePath: string
  source: string
  args: string[]
}

/** Debian Chromium (or $TESSERA_CHROMIUM, or the packaged fallback); null with the reason when none is usable. */
export async function findChromium(): Promise<{ chromium: Chromium | null; reason: string }> {
  try {
    const finder = (await import(join(root, 'scripts', 'find-chromium.mjs'))) as {
      findChromium: () => Promise<{ executablePath: string; source: string }>
      CHROMIUM_ARGS: string[]
    }
    const found = await finder.findChromium()
    return { chromium: { ...found, args: finder.CHROMIUM_ARGS }, reason: '' }
  } catch (error) {
    return { chromium: null, reason: error instanceof Error ? error.message : String(error) }
  }
}

/** Collects console errors and uncaught page errors; the tests assert it stays empty. */
export function watchConsole(page: Page): string[] {
  const problems: string[] = []
  page.on('console', (message: ConsoleMessage) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()} (${message.location().url})`)
  })
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
  return problems
}

export function screenshotPath(name: string): string {
  mkdirSync(screenshotDir, { recursive: true })
  return join(screenshotDir, `${name}.png`)
}

/** Waits until a panel has rendered its heading and finished loading. */
export async function openPanel(page: Page, id: string, heading: string): Promise<void> {
  await page.getByTestId(`nav-${id}`).click()
  await page.mouse.move(640, 790) // off the rail, so no hover highlight in screenshots
  const main = page.getByTestId(`panel-${id}`)
  await main.getByRole('heading', { level: 1, name: heading }).waitFor()
  await main.locator('.MuiLinearProgress-root').first().waitFor({ state: 'detached' }).catch(() => undefined)
  if (id === 'datasets') await main.locator('[data-testid=datasets-table], [data-testid=datasets-empty]').first().waitFor()
  if (id === 'models') await main.locator('[data-testid=models-table], [data-testid=models-empty]').first().waitFor()
  if (id === 'settings') await main.getByTestId('app-info').waitFor()
}

/** Closes the snackbar, if one is showing, so it does not cover a screenshot. */
export async function dismissNotice(page: Page): Promise<void> {
  const notice = page.getByTestId('notice')
  if (await notice.count()) {
    await notice.getByRole('button', { name: /close/i }).click()
    await notice.waitFor({ state: 'detached' })
  }
}

/**
 * Starts a browser host on `libraryDir` (see startHost) and launches headless Chromium to drive it.
 * When Chromium fails to launch, the host is stopped again before the error is thrown.
 */
export async function launchStudio(libraryDir: string, chromium: Chromium, options: { samples?: boolean } = {}): Promise<{ host: RunningHost; browser: Browser }> {
  const host = await startHost(libraryDir, options)
  try {
    const browser = await playwright.launch({ executablePath: chromium.executablePath, args: chromium.args, headless: true })
    return { host, browser }
  } catch (error) {
    await host.close()
    throw error
  }
}

/**
 * Opens the studio at `url` in a fresh context (reduced motion, so the studio turns its transitions
 * off and screenshots show settled frames), collecting console problems from the start (watchConsole).
 */
export async function openStudioPage(
  browser: Browser,
  url: string,
  options: { viewport: { width: number; height: number }; colorScheme: 'light' | 'dark' }
): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: options.viewport, colorScheme: options.colorScheme, reducedMotion: 'reduce' })
  const page = await context.newPage()
  const problems = watchConsole(page)
  await page.goto(url)
  return { context, page, problems }
}

/** afterAll's counterpart of launchStudio: closes Chromium, stops the host, then removes the folders (each may be unset). */
export async function stopStudio(browser: Browser | undefined, host: RunningHost | undefined, ...folders: ({ remove: () => void } | undefined)[]): Promise<void> {
  await browser?.close()
  await host?.close()
  for (const folder of folders) folder?.remove()
}
