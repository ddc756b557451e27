'use strict'
// The package as users get it: `npm pack` the repository once, install the
// tarball into two new applications, one next to mongoose 6 and one next to
// mongoose 9, and run there, against the test server, what users write: a
// CommonJS script exactly as 0.0.x's README shows (callbacks), an ES module
// with both imports and `await`, and TypeScript type-checked (`tsc --strict`)
// against the types the installed package ships (scripts in
// fixtures/fresh-app/).
const { execFile } = require('child_process')
const fs = require('fs')
const os = require('os')
const path = require('path')
const { packLocal } = require('../scripts/platforms')
const { uriFor, freshDb, rawDb } = require('./support/helpers')

const ROOT = path.join(__dirname, '..')
const FIXTURES = path.join(__dirname, 'fixtures', 'fresh-app')
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
const PACKAGE = 'mongoose-distributed-lock'
// The exact mongoose versions the suite tests (devDependencies mongoose6/9).
const MONGOOSE = {
  6: require('mongoose6/package.json').version,
  9: require('mongoose9/package.json').version
}
// Node's types as the suite has them (a TypeScript app installs them too).
const TYPES_NODE = (() => {
  try { return `@types/node@${require('@types/node/package.json').version}` } catch { return '@types/node' }
})()

/** Runs a command; resolves { code, stdout, stderr } (code null: killed). */
function run (file, args, { cwd, env = process.env, timeout = 120000 } = {}) {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, env, timeout, killSignal: 'SIGKILL', maxBuffer: 64 << 20, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = !err ? 0 : typeof err.code === 'number' ? err.code : null
      resolve({ code, stdout, stderr: err && !stderr ? err.message : stderr })
    })
  })
}

/** Fails with the command's output when it did not exit 0. */
function ok (result, what) {
  if (result.code !== 0) {
    throw new Error(`${what} exited with ${result.code === null ? 'a kill (timeout?)' : result.code}\n${result.stdout}\n${result.stderr}`)
  }
  return result
}

// The apps run what they installed, as a user's would: none of the suite's
// settings (its debug build of the native module, the command monitor, a
// default MONGODB_URI).
const appEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) =>
  !k.startsWith('MONGOOSE_DISTRIBUTED_LOCK_') && !k.startsWith('NAPI_RS_') && k !== 'MONGODB_URI'))

let work
let packed
const apps = {}
const databases = []

/** A fresh database of the test server for one script run. */
function freshUri () {
  const name = freshDb('freshapp')
  databases.push(name)
  return uriFor(name)
}

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'mdl-fresh-app-'))
  // As pack.test.js: the release binary built from the current sources
  // (incremental), the main tarball and this machine's platform package.
  packed = packLocal(work)

  // Both apps at once, from the npm cache where it can.
  await Promise.all(Object.entries(MONGOOSE).map(async ([major, version]) => {
    const app = path.join(work, `app-mongoose${major}`)
    fs.mkdirSync(app)
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: `app-mongoose${major}`, version: '1.0.0', private: true }, null, 2))
    for (const f of fs.readdirSync(FIXTURES)) fs.copyFileSync(path.join(FIXTURES, f), path.join(app, f))
    ok(await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', packed.main, packed.platform, `mongoose@${version}`, TYPES_NODE], { cwd: app, timeout: 300000 }), `npm install in ${app}`)
    apps[major] = app
  }))
}, 900000)

afterAll(async () => {
  if (databases.length) {
    const raw = await rawDb(databases[0])
    try {
      for (const name of databases) await raw.client.db(name).dropDatabase()
    } finally {
      await raw.close()
    }
  }
  if (work) fs.rmSync(work, { recursive: true, force: true })
})

test('the tarball ships both entries, their types and the exports map', () => {
  expect(packed.files).toEqual(expect.arrayContaining(['index.js', 'index.mjs', 'index.d.ts', 'index.d.mts', 'package.json']))
  const installed = require(path.join(apps[9], 'node_modules', PACKAGE, 'package.json'))
  expect(installed.exports['.']).toEqual({
    import: { types: './index.d.mts', default: './index.mjs' },
    require: { types: './index.d.ts', default: './index.js' },
    default: './index.js'
  })
})

describe.each(Object.keys(MONGOOSE))('next to mongoose %s', (major) => {
  test('a CommonJS script written as 0.0.x\'s README shows runs and exits on its own', async () => {
    const { stdout } = ok(await run(process.execPath, ['legacy.js', freshUri()], { cwd: apps[major], env: appEnv, timeout: 60000 }), 'legacy.js')
    expect(JSON.parse(stdout.trim().split('\n').pop())).toEqual({
      properties: { name: 'testLock', lockId: null, timeout: 60000, pollInterval: 500, probeMaxAttempts: 122 },
      acquired: true,
      lockIdIsHex: true,
      acquireAgain: 'lock_already_aquired',
      otherAcquired: false,
      lockTimeouted: false,
      otherPolled: true,
      otherTimeouted: false,
      releaseAgain: 'releasing_not_aquired_lock'
    })
  }, 90000)

  test('an ES module with both imports and await runs and exits on its own', async () => {
    const { stdout } = ok(await run(process.execPath, ['esm.mjs', freshUri()], { cwd: apps[major], env: appEnv, timeout: 60000 }), 'esm.mjs')
    const seen = JSON.parse(stdout.trim().split('\n').pop())
    expect(seen).toEqual({
      sameFactory: true,
      codes: 'ERR_POLL_TIMEOUT',
      version: require('../package.json').version,
      acquired: true,
      otherAcquired: false,
      extended: true,
      extendedLease: true,
      lockTimeouted: false,
      events: ['acquired', 'extended', 'released'],
      releaseAgain: 'releasing_not_aquired_lock',
      withLock: { held: true, aborted: false },
      freeAfterWithLock: true,
      native: [expect.any(String)]
    })
    // The binary of the installed platform package, not one of the repository.
    expect(seen.native[0].startsWith(path.join(fs.realpathSync(apps[major]), 'node_modules', packed.platformName) + path.sep)).toBe(true)
  }, 90000)
})

test('TypeScript type-checks the installed types (node16: ESM and CJS; bundler) and rejects misuse', async () => {
  const app = apps[9]
  const base = ['--noEmit', '--strict', '--target', 'es2022', '--types', 'node', '--listFiles']
  const variants = {
    node16: ['--module', 'node16', '--moduleResolution', 'node16', 'types-esm.mts', 'types-cjs.cts'],
    bundler: ['--module', 'esnext', '--moduleResolution', 'bundler', 'types-esm.mts']
  }
  const results = await Promise.all(Object.entries(variants).map(async ([name, args]) =>
    [name, ok(await run(process.execPath, [TSC, ...base, ...args], { cwd: app }), `tsc (${name})`)]))
  const shipped = path.join(fs.realpathSync(app), 'node_modules', PACKAGE)
  for (const [name, { stdout }] of results) {
    const files = stdout.split('\n').map((l) => l.trim())
    // The installed package's own declarations, not anything of the repository.
    const ours = files.filter((f) => f.includes(PACKAGE))
    expect({ name, ours }).toEqual({
      name,
      ours: expect.arrayContaining([path.join(shipped, 'index.d.ts'), path.join(shipped, 'index.d.mts')])
    })
    expect(ours.every((f) => f.startsWith(shipped))).toBe(true)
  }
}, 120000)
