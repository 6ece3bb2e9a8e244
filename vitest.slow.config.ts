import { defineConfig } from 'vitest/config'

// Slow tests (`npm run test:slow`): large libraries, long runs and fault injection that do not
// fit the quick suite. They assert on results and bounds (rows, plans, memory), never on time.
export default defineConfig({
  test: {
    include: ['test/slow/**/*.test.ts'],
    environment: 'node',
    testTimeout: 900_000,
    hookTimeout: 600_000,
    pool: 'forks',
    fileParallelism: false
  }
})
