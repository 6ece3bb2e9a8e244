#!/usr/bin/env node
// The `tessera` command: the same services as the studio, without a window.
'use strict'
const { existsSync } = require('node:fs')
const { join } = require('node:path')

const cli = join(__dirname, '..', 'out', 'main', 'cli.js')
if (!existsSync(cli)) {
  console.error('Tessera is not built yet: run `npm run build` in ' + join(__dirname, '..') + ' first.')
  process.exit(1)
}
require(cli)
  .main(process.argv)
  .then((code) => {
    process.exitCode = typeof code === 'number' ? code : 0
  })
  .catch((err) => {
    console.error(err && err.message ? err.message : String(err))
    process.exitCode = 1
  })
