'use strict'
// The old package's own mocha suite (from the 0.0.1 npm tarball), pointed at
// this package by scripts/legacy-suite.js and run against the test server on a
// database of its own: every one of its `it(` tests must pass.
const { spawn } = require('child_process')
const fs = require('fs')
const path = require('path')
const { uriFor, freshDb, rawDb } = require('./support/helpers')

const SCRIPT = path.join(__dirname, '..', 'scripts', 'legacy-suite.js')
const LEGACY_TESTS = path.join(path.dirname(require.resolve('mongoose-distributed-lock-legacy/package.json')), 'test')
const DB = freshDb('legacy')
const RUN_TIMEOUT_MS = 110000
// After mocha's summary, how long it may take to exit before we call it a hang.
const EXIT_GRACE_MS = 15000

/** The `it(` tests in the old suite, counted from its files. */
function countLegacyTests (dir = LEGACY_TESTS) {
  return fs.readdirSync(dir, { withFileTypes: true }).reduce((n, entry) => {
    const file = path.join(dir, entry.name)
    if (entry.isDirectory()) return n + countLegacyTests(file)
    if (!entry.name.endsWith('.js')) return n
    return n + (fs.readFileSync(file, 'utf8').match(/(?<![\w$.])it\(/g) || []).length
  }, 0)
}

/**
 * Runs the script; resolves with its output, exit code, and whether it hung
 * (its summary printed but no exit within EXIT_GRACE_MS, or no end at all).
 */
function runLegacySuite (uri) {
  return new Promise((resolve, reject) => {
    // Its own process group, so that a hung mocha (its child) can be stopped with it.
    const child = spawn(process.execPath, [SCRIPT, uri], {
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true
    })
    let output = ''
    let hung = null
    let graceTimer = null
    const stop = (why) => {
      hung = why
      try { process.kill(-child.pid, 'SIGKILL') } catch (_) { /* already gone */ }
    }
    const onData = (d) => {
      output += d
      if (!graceTimer && /^\s*\d+ passing/m.test(output)) {
        graceTimer = setTimeout(() => stop(`mocha printed its summary but did not exit within ${EXIT_GRACE_MS} ms`), EXIT_GRACE_MS)
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    const timer = setTimeout(() => stop(`the legacy suite did not finish within ${RUN_TIMEOUT_MS} ms`), RUN_TIMEOUT_MS)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      clearTimeout(graceTimer)
      resolve({ output, code, signal, hung })
    })
  })
}

/** The numbers in mocha's closing summary (spec reporter). */
function summaryOf (output) {
  const count = (word) => {
    const m = new RegExp(`^\\s*(\\d+) ${word}\\b`, 'm').exec(output)
    return m ? Number(m[1]) : 0
  }
  return { passing: count('passing'), failing: count('failing'), pending: count('pending') }
}

afterAll(async () => {
  const raw = await rawDb(DB)
  await raw.db.dropDatabase()
  await raw.close()
})

// The old suite calls property assertions as functions (`expect(err).to.not.exist()`),
// which chai has supported since 1.10.0: what its devDependency chai ^1.9.1 resolved to.
test('the chai the old suite gets supports its call style (chai >= 1.10.0)', () => {
  const chai = require(require.resolve('chai', { paths: [path.join(__dirname, '..', 'build', 'legacy-suite')] }))
  expect(() => chai.expect(null).to.not.exist()).not.toThrow()
})

test('the 0.0.1 mocha suite passes in full against this package', async () => {
  const expected = countLegacyTests()
  expect(expected).toBeGreaterThan(0)
  const run = await runLegacySuite(uriFor(DB))
  const seen = { ...summaryOf(run.output), exitCode: run.code, hung: run.hung }
  const wanted = { passing: expected, failing: 0, pending: 0, exitCode: 0, hung: null }
  if (JSON.stringify(seen) !== JSON.stringify(wanted)) console.log(`legacy suite output:\n${run.output}`)
  expect(seen).toEqual(wanted)
}, 120000)
