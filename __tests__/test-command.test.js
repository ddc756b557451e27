'use strict'
// The README's test command on a fresh machine: what it needs from the system
// is provisioned first, or the run stops at once with one line naming the
// missing tool and the command that installs it (never after minutes of
// timeouts); and its closing summary survives any failure.
const { spawnSync } = require('child_process')
const fs = require('fs')
const os = require('os')
const path = require('path')
const { which } = require('../scripts/provision')

const ROOT = path.join(__dirname, '..')

/** A PATH of one directory holding links to just `commands` (from this machine's PATH). */
function pathWith (commands) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mdl-path-'))
  for (const command of commands) {
    const target = command === 'node' ? process.execPath : which(command)
    if (!target) throw new Error(`${command} is not on this machine's PATH`)
    fs.symlinkSync(target, path.join(dir, command))
  }
  return dir
}

let bin
afterEach(() => { if (bin) fs.rmSync(bin, { recursive: true, force: true }) })

test('npm test with faketime, openssl and script missing (and no apt-get) stops at once, naming them and the install command', () => {
  bin = pathWith(['node', 'npm', 'sh', 'cargo', 'go', 'cc', 'make', 'perl'])
  const run = spawnSync('npm', ['test'], {
    cwd: ROOT,
    env: { ...process.env, PATH: bin },
    encoding: 'utf8',
    timeout: 60000 // a guard against a hang, not a speed check
  })
  expect(run.error).toBeUndefined()
  expect(run.status).not.toBe(0)
  const lines = run.stderr.split('\n').filter((l) => l.startsWith('npm test:'))
  expect(lines).toEqual([
    'npm test: missing faketime (for the clock-skew tests), openssl (for the TLS tests), script (util-linux) (for the CLI tests); install with: sudo apt-get install -y faketime openssl bsdutils'
  ])
  // Nothing ran after it: no build, no Jest.
  expect(run.stdout + run.stderr).not.toMatch(/jest:|Compiling|napi/)
})

test('a missing toolchain is named before anything else', () => {
  bin = pathWith(['cargo'])
  const run = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'provision.js'), '--tools'], {
    env: { ...process.env, PATH: bin }, encoding: 'utf8', timeout: 60000
  })
  expect(run.status).toBe(1)
  expect(run.stderr.trim()).toBe('npm test: missing go (Go, to build the embedded test server): install Go 1.22 or later, then run it again')
})

test('a native build without make (OpenSSL is built from source) stops at once, naming it', () => {
  bin = pathWith(['cargo', 'go', 'cc', 'perl'])
  const run = spawnSync(process.execPath, ['-e', "require('./scripts/ensure-build').napiBuild('debug')"], {
    cwd: ROOT, env: { ...process.env, PATH: bin }, encoding: 'utf8', timeout: 60000
  })
  expect(run.status).toBe(1)
  expect(run.stderr.trim()).toBe('mongoose-distributed-lock build: missing make (for building OpenSSL into the binary); install with: sudo apt-get install -y make')
})

test('the closing summary survives a failure with a circular structure, and the run exits non-zero', () => {
  const fixtures = path.join(__dirname, 'fixtures', 'jest-circular')
  const run = spawnSync(process.execPath, [
    path.join(ROOT, 'scripts', 'run-jest.js'),
    '--config', JSON.stringify({ rootDir: fixtures, testMatch: ['**/*.spec.js'] })
  ], { cwd: ROOT, encoding: 'utf8', timeout: 120000 })
  expect(run.stdout.trim().split('\n').pop()).toBe('jest: 1 passed, 1 failed')
  expect(run.status).not.toBe(0)
})

test('a run whose results cannot be read exits non-zero', () => {
  // Jest refuses the config before running anything: no counts are written.
  const run = spawnSync(process.execPath, [
    path.join(ROOT, 'scripts', 'run-jest.js'), '--config', '{"rootDir": "/nonexistent-mdl"}'
  ], { cwd: ROOT, encoding: 'utf8', timeout: 120000 })
  expect(run.stdout).toMatch(/jest: no results/)
  expect(run.status).not.toBe(0)
})
