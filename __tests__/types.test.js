'use strict'
// index.d.ts describes the API: a usage file type-checks with tsc --strict,
// and its @ts-expect-error lines prove that misuse is a type error.
const { execFileSync } = require('child_process')
const path = require('path')

test('index.d.ts type-checks real usage and rejects misuse', () => {
  const tsc = require.resolve('typescript/bin/tsc')
  const file = path.join(__dirname, 'fixtures', 'usage.ts')
  const run = () => execFileSync(process.execPath, [tsc, '--noEmit', '--strict', '--esModuleInterop', '--target', 'es2020', '--module', 'commonjs', '--types', 'node', file], { encoding: 'utf8' })
  expect(run).not.toThrow()
}, 60000)
