'use strict'
// What `npm test` needs before anything runs, provisioned up front so that a
// fresh machine never fails after minutes of timeouts:
//
//  1. the toolchains the README names (Node, Rust's cargo, Go): only named,
//     never installed here;
//  2. the system tools: for every native build (also `npm run demo`'s) a C
//     compiler, make and perl with IPC::Cmd (OpenSSL is built from source
//     into the binary); for the tests faketime (the clock-skew tests run a
//     process under libfaketime), openssl (the TLS tests make certificates)
//     and script from util-linux (the CLI tests run it on a terminal). As
//     root on a machine with apt-get they are installed (Debian packages);
//     elsewhere the run stops at once with one line naming what is missing
//     and the command that installs it;
//  3. the builds: the embedded FerretDB launcher, FerretDB's own server for
//     the SCRAM tests (scripts/ferretdb-auth.js), Toxiproxy, and the debug
//     and release native binaries (each cached; an up-to-date tree costs
//     seconds).
//
//   node scripts/provision.js            all three
//   node scripts/provision.js --tools    1 and 2 only
const { execFileSync } = require('child_process')
const fs = require('fs')
const path = require('path')

const TOOLCHAINS = [
  { command: 'cargo', what: 'Rust (cargo), to build the native core', install: 'install Rust with rustup' },
  { command: 'go', what: 'Go, to build the embedded test server', install: 'install Go 1.22 or later' }
]

// What every native build needs besides Rust (scripts/ensure-build.js checks them).
const BUILD_TOOLS = [
  { command: 'cc', label: 'cc (a C compiler)', debian: 'gcc', brew: null, what: 'the native build' },
  { command: 'make', debian: 'make', brew: 'make', what: 'building OpenSSL into the binary' },
  { command: 'perl', label: 'perl with IPC::Cmd', debian: 'perl', brew: 'perl', what: 'building OpenSSL into the binary', works: () => runs('perl', ['-MIPC::Cmd', '-e1']) }
]

// What the tests need besides those.
const TOOLS = [
  ...BUILD_TOOLS,
  { command: 'faketime', debian: 'faketime', brew: 'libfaketime', what: 'the clock-skew tests' },
  { command: 'openssl', debian: 'openssl', brew: 'openssl', what: 'the TLS tests' },
  { command: 'script', label: 'script (util-linux)', debian: 'bsdutils', brew: null, what: 'the CLI tests' }
]

/** The full path of `command` on PATH, or null (no shell involved). */
function which (command, env = process.env) {
  const dirs = (env.PATH || '').split(path.delimiter).filter(Boolean)
  const names = process.platform === 'win32' ? ['.exe', '.cmd', ''].map((e) => command + e) : [command]
  for (const dir of dirs) {
    for (const name of names) {
      const file = path.join(dir, name)
      try {
        fs.accessSync(file, fs.constants.X_OK)
        if (fs.statSync(file).isFile()) return file
      } catch (_) { /* not here */ }
    }
  }
  return null
}

/** Whether `command args` runs and exits 0. */
function runs (command, args) {
  try {
    execFileSync(command, args, { stdio: 'ignore' })
    return true
  } catch (_) {
    return false
  }
}

const present = (t) => which(t.command) && (!t.works || t.works())

// Who is speaking in the one line a stop prints.
let speaker = 'npm test'

/** Stops the run: one line on stderr, exit status 1. */
function stop (line) {
  process.stderr.write(`${speaker}: ${line}\n`)
  process.exit(1)
}

function checkToolchains () {
  const missing = TOOLCHAINS.filter((t) => !which(t.command))
  if (missing.length) {
    stop(`missing ${missing.map((t) => `${t.command} (${t.what})`).join(', ')}: ${missing.map((t) => t.install).join('; ')}, then run it again`)
  }
}

/** Installs the missing `tools` with apt-get where that can work here, or stops. */
function provideTools (tools = TOOLS) {
  const missing = tools.filter((t) => !present(t))
  if (!missing.length) return
  const packages = missing.map((t) => t.debian)
  const names = missing.map((t) => `${t.label || t.command} (for ${t.what})`).join(', ')
  const canInstall = process.platform === 'linux' && typeof process.getuid === 'function' &&
    process.getuid() === 0 && which('apt-get') && process.env.MDL_NO_INSTALL !== '1'
  if (!canInstall) {
    const brew = missing.map((t) => t.brew).filter(Boolean)
    const how = process.platform === 'darwin'
      ? (brew.length ? `brew install ${brew.join(' ')}` : 'install them')
      : `sudo apt-get install -y ${packages.join(' ')}`
    stop(`missing ${names}; install with: ${how}`)
  }
  console.error(`${speaker}: installing ${packages.join(', ')} (apt-get) for ${[...new Set(missing.map((t) => t.what))].join(', ')}…`)
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  try {
    execFileSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env })
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { stdio: ['ignore', 'ignore', 'inherit'], env })
  } catch (err) {
    stop(`could not install ${packages.join(' ')} with apt-get (${err.message.split('\n')[0]}); install them, then run it again`)
  }
  const still = missing.filter((t) => !present(t))
  if (still.length) stop(`apt-get ran, but ${still.map((t) => t.command).join(', ')} is still not on PATH`)
}

function build () {
  const { buildLauncher } = require('./ferretdb')
  const { buildToxiproxy } = require('./toxiproxy')
  const { buildFerretDBServer } = require('./ferretdb-auth')
  const { napiBuild } = require('./ensure-build')
  buildLauncher()
  buildToxiproxy()
  buildFerretDBServer()
  napiBuild('debug')
  napiBuild('release')
}

/** For scripts/ensure-build.js: what a native build needs, once per process. */
let buildToolsChecked = false
function provideBuildTools () {
  if (buildToolsChecked) return
  speaker = 'mongoose-distributed-lock build'
  try {
    provideTools(BUILD_TOOLS)
  } finally {
    speaker = 'npm test'
  }
  buildToolsChecked = true
}

module.exports = { which, provideBuildTools, TOOLS, BUILD_TOOLS, TOOLCHAINS }

// After the exports: the builds require ensure-build.js, which requires this file back.
if (require.main === module) {
  checkToolchains()
  provideTools()
  if (!process.argv.includes('--tools')) build()
}
