'use strict'
// `node scripts/legacy-suite.js <mongodb-uri-with-db> [extra mocha args…]`
//
// Runs the mocha suite that ships inside the npm tarball of the package we
// replace (mongoose-distributed-lock@0.0.1, installed as the devDependency
// mongoose-distributed-lock-legacy) against THIS package, on a real server.
//
// What it does:
//  1. Copies node_modules/mongoose-distributed-lock-legacy/test, read at run
//     time, into a fresh scratch directory <repo>/build/legacy-suite/run-XXXXXX/test
//     (build/ is git-ignored: the old code is never committed here).
//  2. Rewrites the copies, mechanically, and nothing else:
//       require("../index")  -> this package (the repo root)
//       require("../model")  -> the legacy package's own model.js
//       require("mongoose")  -> (bootstrap.js) the very mongoose file that
//                               the legacy model.js resolves, so the model and
//                               the bootstrap share one mongoose and one
//                               connection, and our package finds that
//                               mongoose in require.cache as an app's would be
//       'mongodb://localhost/mongoose-distributed-lock' -> the given URI
//     Each rewrite must apply (else the tarball is not the one we know and we
//     stop), and afterwards no relative require, no other mongoose and no
//     localhost may remain. The copies' other requires, chai and async, resolve
//     to our devDependencies. The suite calls chai's property assertions as
//     functions (`expect(err).to.not.exist()`), which needs chai >= 1.10.0 (its
//     `chai ^1.9.1` resolved to 1.10.0); with chai 1.9.2 every test fails with
//     "expect(...).to.not.exist is not a function".
//  3. Runs mocha 10 from our devDependencies in the scratch directory, as the
//     old `npm test` did (`mocha test`), with the options of the old
//     test/mocha.opts (read from the tarball) on the command line, since mocha
//     10 no longer reads mocha.opts: --require ./test/bootstrap.js --recursive
//     --slow 5000 --timeout 10000 --check-leaks --globals Promise. Plus
//     --no-config --no-package, so no .mocharc or package.json "mocha" key found
//     above the scratch directory changes the run. No --exit: if mocha does not
//     exit on its own, something keeps the event loop alive, and we must see it.
//  4. Prints mocha's output as it comes and exits with mocha's code. The
//     scratch directory is removed after a passing run and kept (its path is
//     printed) after a failing one, for the stack traces that point into it.
//
// Why only mechanical rewrites: the point is to run the old tests as they were
// written, assertions and timings included. Changing a test to make it pass
// would prove nothing about drop-in compatibility; a failure is a finding
// about this package (or about the server), not something to edit away.
const { spawn } = require('child_process')
const fs = require('fs')
const path = require('path')
const { createRequire } = require('module')

const ROOT = path.join(__dirname, '..')
const LEGACY_DIR = path.dirname(require.resolve('mongoose-distributed-lock-legacy/package.json'))
const LEGACY_TESTS = path.join(LEGACY_DIR, 'test')
const LEGACY_MODEL = path.join(LEGACY_DIR, 'model.js')
// What `require("mongoose")` means inside the legacy model.js.
const LEGACY_MONGOOSE = createRequire(LEGACY_MODEL).resolve('mongoose')
const MOCHA = require.resolve('mocha/bin/mocha.js')
const SCRATCH_PARENT = path.join(ROOT, 'build', 'legacy-suite')

function fail (message) {
  console.error(`legacy-suite: ${message}`)
  process.exit(2)
}

/** A JavaScript string literal for `s` (paths and URIs, quotes included). */
const literal = (s) => JSON.stringify(s)

/** The rewrites: `pattern` must match in the files `only` names (all when absent). */
const REWRITES = [
  { what: 'require("../index")', pattern: /require\((["'])\.\.\/index(\.js)?\1\)/g, to: () => `require(${literal(ROOT)})` },
  { what: 'require("../model")', pattern: /require\((["'])\.\.\/model(\.js)?\1\)/g, to: () => `require(${literal(LEGACY_MODEL)})` },
  { what: 'require("mongoose")', only: 'bootstrap.js', pattern: /require\((["'])mongoose\1\)/g, to: () => `require(${literal(LEGACY_MONGOOSE)})` },
  { what: 'the localhost URI', pattern: /(["'])mongodb:\/\/localhost\/mongoose-distributed-lock\1/g, to: (uri) => literal(uri) }
]

/** What must not survive the rewrites (it would reach outside the copy, or the wrong thing). */
const LEFTOVERS = [
  { what: 'a relative require', pattern: /require\((["'])\.{1,2}\// },
  { what: 'another mongoose', pattern: /require\((["'])mongoose\1\)/ },
  { what: 'localhost', pattern: /localhost/ }
]

function jsFiles (dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name)
    if (entry.isDirectory()) return jsFiles(file)
    return entry.name.endsWith('.js') ? [file] : []
  })
}

/** Copies the old test directory to `scratch`/test and applies the rewrites. */
function prepare (scratch, uri) {
  const testDir = path.join(scratch, 'test')
  fs.cpSync(LEGACY_TESTS, testDir, { recursive: true })
  const hits = new Map(REWRITES.map((r) => [r, 0]))
  for (const file of jsFiles(testDir)) {
    const rel = path.relative(testDir, file)
    const original = fs.readFileSync(file, 'utf8')
    let source = original
    let rest = original // what the rewrites leave untouched (the URI may well say localhost)
    for (const r of REWRITES) {
      if (r.only && rel !== r.only) continue
      source = source.replace(r.pattern, () => {
        hits.set(r, hits.get(r) + 1)
        return r.to(uri)
      })
      rest = rest.replace(r.pattern, '')
    }
    for (const l of LEFTOVERS) {
      const m = l.pattern.exec(rest)
      if (m) throw new Error(`${rel} still has ${l.what} after the rewrites (${m[0]}): the legacy suite is not the one this script knows`)
    }
    fs.writeFileSync(file, source)
  }
  for (const [r, n] of hits) {
    if (n === 0) throw new Error(`${r.what} was not found in the legacy suite: it is not the one this script knows`)
  }
  return testDir
}

/** The options of the old test/mocha.opts, one token per whitespace-separated word, as mocha 1.x read them. */
function mochaOpts () {
  return fs.readFileSync(path.join(LEGACY_TESTS, 'mocha.opts'), 'utf8').split(/\s+/).filter(Boolean)
}

function main () {
  const [uri, ...extra] = process.argv.slice(2)
  if (!uri) fail('usage: node scripts/legacy-suite.js <mongodb-uri-with-db> [extra mocha args…]')
  // The old suite drops its database before every test: never let it fall back to a default one.
  if (!/^mongodb(\+srv)?:\/\/[^/?]+\/[^/?]+/.test(uri)) fail(`the URI must name a database (the suite drops it): ${uri}`)

  fs.mkdirSync(SCRATCH_PARENT, { recursive: true })
  const scratch = fs.mkdtempSync(path.join(SCRATCH_PARENT, 'run-'))
  try {
    prepare(scratch, uri)
  } catch (err) {
    fs.rmSync(scratch, { recursive: true, force: true })
    fail(err.message)
  }

  // `mocha test`, as in the old package.json, with mocha.opts on the command line.
  const args = [MOCHA, '--no-config', '--no-package', ...mochaOpts(), ...extra, 'test']
  const mocha = spawn(process.execPath, args, { cwd: scratch, stdio: 'inherit' })
  // If we are asked to stop, mocha stops too (it is our child, stopped by its id).
  const forward = (signal) => { if (mocha.exitCode === null) mocha.kill(signal) }
  process.on('SIGTERM', forward)
  process.on('SIGINT', forward)
  mocha.on('error', (err) => fail(`cannot start mocha: ${err.message}`))
  mocha.on('exit', (code, signal) => {
    if (code === 0) fs.rmSync(scratch, { recursive: true, force: true })
    else console.error(`legacy-suite: mocha ${signal ? `was stopped by ${signal}` : `exited with ${code}`}; the rewritten suite is kept in ${scratch}`)
    process.exit(code === null ? 1 : code)
  })
}

main()
