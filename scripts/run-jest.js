'use strict'
// Runs Jest (extra arguments pass through), then prints one plain closing
// line, "jest: N passed, N failed", that CI log readers understand.
const { spawnSync } = require('child_process')
const fs = require('fs')
const os = require('os')
const path = require('path')

const results = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mdl-jest-')), 'results.json')
const jest = require.resolve('jest/bin/jest')
const run = spawnSync(process.execPath, [jest, '--json', `--outputFile=${results}`, ...process.argv.slice(2)], {
  stdio: 'inherit'
})
try {
  const r = JSON.parse(fs.readFileSync(results, 'utf8'))
  const failed = r.numFailedTests + r.numRuntimeErrorTestSuites
  const skipped = r.numPendingTests + r.numTodoTests
  console.log(`\njest: ${r.numPassedTests} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`)
} catch (err) {
  console.log(`\njest: no results (${err.message})`)
}
fs.rmSync(path.dirname(results), { recursive: true, force: true })
process.exit(run.status === null ? 1 : run.status)
