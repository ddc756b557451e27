'use strict'
// `npm pack` makes a tarball that works in a fresh application without any
// build step: the linux-x64 binary is inside.
const { execFileSync } = require('child_process')
const fs = require('fs')
const os = require('os')
const path = require('path')
const { napiBuild, binaryPath } = require('../scripts/ensure-build')
const { uriFor, freshDb } = require('./support/helpers')

const ROOT = path.join(__dirname, '..')
const npm = (args, cwd) => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
const run = (script, cwd, env = {}) => execFileSync(process.execPath, ['-e', script], {
  cwd, encoding: 'utf8', env: { ...process.env, MONGOOSE_DISTRIBUTED_LOCK_NATIVE: '', MONGODB_URI: '', ...env }
})

let work
beforeAll(() => {
  if (!fs.existsSync(binaryPath('release'))) napiBuild('release')
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'mdl-pack-'))
}, 900000)
afterAll(() => fs.rmSync(work, { recursive: true, force: true }))

test('the tarball installs into a fresh app and works without building', () => {
  const packed = JSON.parse(npm(['pack', '--ignore-scripts', '--json', '--pack-destination', work], ROOT))
  const files = packed[0].files.map((f) => f.path)
  expect(files).toEqual(expect.arrayContaining([
    'index.js', 'index.d.ts', 'binding.js', 'lib/store.js', 'lib/client-spec.js', 'mongoose-distributed-lock.linux-x64-gnu.node'
  ]))
  expect(files.some((f) => f.startsWith('src/') || f.startsWith('__tests__/'))).toBe(false)

  const app = path.join(work, 'app')
  fs.mkdirSync(app)
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }))
  npm(['install', '--no-audit', '--no-fund', '--prefer-offline', path.join(work, packed[0].filename)], app)

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
