// npm's `prepare` hook (runs after `npm install` / `npm ci` in this project): build the
// studio so `npx tessera` and `npm start` work straight after installing.
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildIfStale } from './build-if-stale.mjs'

if (process.env.TESSERA_SKIP_PREPARE === '1') process.exit(0)
buildIfStale(join(dirname(fileURLToPath(import.meta.url)), '..'))
