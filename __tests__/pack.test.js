'use strict'
// `npm pack` makes a tarball that works in a fresh application without any
// build step, next to this machine's platform package (npm/<platform>/ with
// the binary, as published), where binding.js finds the binary.
const { execFileSync } = require('child_process')
const fs = require('fs')
const os = require('os')
const path = require('path')
const { packLocal } = require('../scripts/platforms')
const { uriFor, freshDb } = require('./support/helpers')

const npm = (args, cwd) => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
const run = (script, cwd, env = {}) => execFileSync(process.execPath, ['-e', script], {
  cwd, encoding: 'utf8', env: { ...process.env, MONGOOSE_DISTRIBUTED_LOCK_NATIVE: '', MONGODB_URI: '', ...env }
})

let work
let packed
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'mdl-pack-'))
  // Builds the release binary from the current sources first (incremental).
  packed = packLocal(work)
}, 900000)
afterAll(() => fs.rmSync(work, { recursive: true, force: true }))

test('the tarball installs into a fresh app and works without building', () => {
  const files = packed.files
  expect(files).toEqual(expect.arrayContaining([
    'index.js', 'index.d.ts', 'binding.js', 'lib/store.js', 'lib/client-spec.js'
  ]))
  expect(files.some((f) => f.startsWith('src/') || f.startsWith('__tests__/'))).toBe(false)
  // The binary is in the platform package only.
  expect(files.some((f) => f.endsWith('.node'))).toBe(false)

  const app = path.join(work, 'app')
  fs.mkdirSync(app)
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }))
  npm(['install', '--no-audit', '--no-fund', '--prefer-offline', packed.main, packed.platform], app)

  // Without mongoose at all: require works, the first call says what is missing.
  const alone = run(`
    const Lock = require('mongoose-distributed-lock')
    Lock('x').acquire().catch((e) => console.log(e.code))`, app)
  expect(alone.trim()).toBe('ERR_NO_CONNECTION')

  // Next to mongoose, as a 0.0.x user has it.
  npm(['install', '--no-audit', '--no-fund', '--prefer-offline', `mongoose@${require('mongoose/package.json').version}`], app)
  const uri = uriFor(freshDb('pack'))
  const out = run(`
    const mongoose = require('mongoose')
    const Lock = require('mongoose-distributed-lock')
    mongoose.connect(${JSON.stringify(uri)}).then(() => {
      const lock = Lock('packed')
      lock.acquire((err, ok) => {
        if (err) throw err
        lock.release((err, timedOut) => {
          if (err) throw err
          console.log(JSON.stringify({ ok, timedOut }))
          mongoose.connection.db.dropDatabase().then(() => mongoose.disconnect())
        })
      })
    })`, app)
  expect(JSON.parse(out.trim())).toEqual({ ok: true, timedOut: false })
  // Nothing was compiled in the app.
  expect(fs.existsSync(path.join(app, 'node_modules', 'mongoose-distributed-lock', 'target'))).toBe(false)
}, 300000)
