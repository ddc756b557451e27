'use strict'
// A Jest reporter that writes only the counts of a run ({ passed, failed,
// skipped, suitesFailed }) to the file named by MDL_JEST_SUMMARY. Counts are
// numbers: a failure whose error has a circular structure cannot break them,
// as it broke Jest's --json output (scripts/run-jest.js prints them).
const fs = require('fs')

class SummaryReporter {
  onRunComplete (_contexts, results) {
    const file = process.env.MDL_JEST_SUMMARY
    if (!file) return
    const summary = {
      passed: results.numPassedTests,
      failed: results.numFailedTests,
      skipped: results.numPendingTests + results.numTodoTests,
      suitesFailed: results.numRuntimeErrorTestSuites,
      interrupted: Boolean(results.wasInterrupted)
    }
    fs.writeFileSync(file, JSON.stringify(summary))
  }
}

module.exports = SummaryReporter
