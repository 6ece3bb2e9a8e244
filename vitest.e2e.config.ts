import { defineConfig } from 'vitest/config'

// End-to-end tests: the built studio in headless Chromium against a real browser host
// (`tessera serve`), and in Electron where its binary exists. Run after `npm run build`.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: 'forks',
    fileParallelism: false
  }
})
