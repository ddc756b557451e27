'use strict'
// JS lint: neostandard (the `standard` style, as a flat eslint config).
const neostandard = require('neostandard')
const globals = require('globals')

module.exports = [
  ...neostandard({ ts: true, ignores: ['binding.js', 'binding.d.ts', 'index.d.ts', 'build/**', 'target/**', 'ferretdb/**', 'docs/**'] }),
  { files: ['__tests__/**/*.js'], languageOptions: { globals: globals.jest } },
  // The type fixture discards Promises on purpose (`void lock.acquire()`).
  { files: ['**/*.ts'], rules: { 'no-void': 'off' } }
]
