'use strict'
// Runs Jest (extra arguments pass through), then prints one plain closing
// line, "jest: N passed, N failed[, N skipped]", that CI log readers
// understand. The counts come from our own reporter
// (scripts/jest-summary-reporter.js), which writes numbers only, so any
// failure, even an error with a circular structure, leaves the summary
// intact. A run whose counts cannot be read exits non-zero.
const { spawnSync } = require('child_process')
const fs = require('fs')
const os = require('os')
const path = require('path')

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mdl-jest-'))
const summaryFile = path.join(dir, 'summary.json')
const jest = require.resolve('jest/bin/jest')
const reporters = ['--reporters=default', `--reporters=${path.join(__dirname, 'jest-summary-reporter.js')}`]
const run = spawnSync(process.execPath, [jest, ...process.argv.slice(2), ...reporters], {
  stdio: 'inherit',
  env: { ...process.env, MDL_JEST_SUMMARY: summaryFile }
})
let status = run.status === null ? 1 : run.status
try {
  const r = JSON.parse(fs.readFileSync(summaryFile, 'utf8'))
  const failed = r.failed + r.suitesFailed
  console.log(`\njest: ${r.passed} passed, ${failed} failed${r.skipped ? `, ${r.skipped} skipped` : ''}`)
  if (failed > 0 || r.interrupted) status = status || 1
} catch (err) {
  console.log(`\njest: no results (${err.code === 'ENOENT' ? 'Jest ended before reporting' : err.message})`)
  status = status || 1
}
fs.rmSync(dir, { recursive: true, force: true })
process.exit(status)
