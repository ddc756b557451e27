'use strict'
// Builds (once, cached) and starts a FerretDB test server that checks
// passwords for real: FerretDB v1.24.2's own program (`cmd/ferretdb`) in its
// "new authentication" mode (--test-enable-new-auth), SQLite in a fresh
// directory, SCRAM-SHA-1 and SCRAM-SHA-256, every command but the handshake
// refused until the client has authenticated, and createUser enabled. The
// SCRAM tests use it (__tests__/scram.test.js).
//
// Why not the embedded launcher (ferretdb/main.go): the library's
// ferretdb.Config has no switch for the new authentication, and the handler
// options that have one live in FerretDB's internal packages, which a module
// of ours cannot import. So we build FerretDB's own command from the module
// that ferretdb/go.mod pins, taken from the Go module cache: the module lacks
// the generated build/version/version.txt (a plain `go install` panics at
// start without it), so the module is copied outside the clone, made
// writable, given that file, and built there. No FerretDB source is kept in
// this repository.
//
//   node scripts/ferretdb-auth.js --build   build only (CI)
//   node scripts/ferretdb-auth.js           run until Ctrl-C, print the URI
//
// Every listener is on 127.0.0.1, the debug HTTP handler is off and so is
// telemetry. The server runs under the supervisor of scripts/toxiproxy.js
// (stdin is its lifeline), so it dies with the process that started it.
const { execFileSync } = require('child_process')
const fs = require('fs')
const os = require('os')
const path = require('path')
const { freePort, startSupervised } = require('./toxiproxy')

const MODULE = 'github.com/FerretDB/FerretDB'
const LAUNCHER_DIR = path.join(__dirname, '..', 'ferretdb')
const CACHE = path.join(os.homedir(), '.cache', 'mongoose-distributed-lock')
const HOST = '127.0.0.1'

/** The FerretDB version ferretdb/go.mod pins (one version for both servers). */
function pinnedVersion () {
  const gomod = fs.readFileSync(path.join(LAUNCHER_DIR, 'go.mod'), 'utf8')
  const m = /^\s*(?:require\s+)?github\.com\/FerretDB\/FerretDB\s+(v\S+)/m.exec(gomod)
  if (!m) throw new Error('ferretdb/go.mod does not require github.com/FerretDB/FerretDB')
  return m[1]
}

function go (args, { cwd, env } = {}) {
  try {
    return execFileSync('go', args, {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
      maxBuffer: 64 << 20
    }).toString()
  } catch (err) {
    if (err.code === 'ENOENT') throw new Error('cannot build FerretDB: the go command is not installed')
    throw Object.assign(new Error(`go ${args.join(' ')}: ${String(err.stderr || err.message).trim()}`), { stderr: String(err.stderr || '') })
  }
}

/**
 * Builds FerretDB's own command at the pinned version unless it is built
 * already; returns the binary's path (~/.cache/mongoose-distributed-lock/bin).
 */
function buildFerretDBServer ({ log = console.error } = {}) {
  const version = pinnedVersion()
  const binDir = path.join(CACHE, 'bin')
  const binary = path.join(binDir, `ferretdb-${version}${process.platform === 'win32' ? '.exe' : ''}`)
  if (fs.existsSync(binary)) return binary
  log(`building FerretDB ${version}'s own server (go build; first time takes a minute or two)…`)
  // The module as ferretdb/go.mod and go.sum pin and verify it.
  const { Dir: moduleDir } = JSON.parse(go(['mod', 'download', '-json', MODULE], { cwd: LAUNCHER_DIR }))
  fs.mkdirSync(binDir, { recursive: true })
  // A private copy (the module cache is read-only), renamed into place at the
  // end: concurrent builds never leave a half-written binary under its name.
  const work = fs.mkdtempSync(path.join(CACHE, '.ferretdb-build-'))
  try {
    const src = path.join(work, 'src')
    fs.cpSync(moduleDir, src, { recursive: true })
    makeWritable(src)
    fs.writeFileSync(path.join(src, 'build', 'version', 'version.txt'), `${version}\n`)
    const out = path.join(work, path.basename(binary))
    const build = (extra) => go(['build', ...extra, '-o', out, './cmd/ferretdb'], {
      cwd: src,
      env: { GOFLAGS: '-mod=readonly', GOWORK: 'off' }
    })
    try {
      build(['-trimpath'])
    } catch (err) {
      // Newer Go refuses some go:linkname uses in FerretDB's dependencies.
      if (!/linkname/.test(err.stderr)) throw err
      build(['-trimpath', '-ldflags=-checklinkname=0'])
    }
    fs.renameSync(out, binary)
  } catch (err) {
    throw new Error(`cannot build FerretDB ${version}: ${err.message}`)
  } finally {
    fs.rmSync(work, { recursive: true, force: true })
  }
  return binary
}

function makeWritable (dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name)
    fs.chmodSync(p, entry.isDirectory() ? 0o755 : 0o644)
    if (entry.isDirectory()) makeWritable(p)
  }
  fs.chmodSync(dir, 0o755)
}

/**
 * Starts the server with one user, created by FerretDB's setup with both
 * SCRAM credentials (SCRAM-SHA-1 and SCRAM-SHA-256).
 * @param {{ username: string, password: string, database?: string, log?: Function }} options
 *   `database`: where the user lives (its authSource); default 'admin'.
 * @returns {Promise<{ host: string, port: number, address: string, uri: string,
 *   pid: number, logPath: string, stop: () => Promise<void> }>}
 *   `uri`: mongodb://127.0.0.1:PORT without credentials.
 */
async function startFerretDBAuth ({ username, password, database = 'admin', log } = {}) {
  if (!username || !password) throw new Error('startFerretDBAuth needs username and password')
  const binary = buildFerretDBServer({ log })
  for (let attempt = 1; ; attempt++) {
    const port = await freePort()
    try {
      return await launch(binary, port, { username, password, database })
    } catch (err) {
      // Someone else took the port between freePort() and the bind: retry.
      if (!err.portTaken || attempt >= 5) throw err
    }
  }
}

async function launch (binary, port, { username, password, database }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mdl-ferretdb-auth-'))
  const logPath = path.join(dir, 'ferretdb.log')
  const args = [
    '--handler=sqlite',
    `--sqlite-url=file:${path.join(dir, 'data')}${path.sep}`,
    `--state-dir=${dir}`,
    `--listen-addr=${HOST}:${port}`,
    '--debug-addr=-',
    '--telemetry=disable',
    '--log-level=info',
    '--test-enable-new-auth',
    `--setup-database=${database}`,
    `--setup-username=${username}`,
    `--setup-password=${password}`
  ]
  fs.mkdirSync(path.join(dir, 'data'))
  const { child, shutdown, untilReady } = startSupervised(logPath, binary, args)
  const listening = `Listening on TCP ${HOST}:${port}`
  await untilReady({
    name: 'FerretDB',
    port,
    dir,
    timeoutMs: 60000,
    waited: `did not listen on ${HOST}:${port}`,
    isReady: () => fs.existsSync(logPath) && fs.readFileSync(logPath, 'utf8').includes(listening)
  })
  return {
    host: HOST,
    port,
    address: `${HOST}:${port}`,
    uri: `mongodb://${HOST}:${port}`,
    pid: child.pid,
    logPath,
    async stop () {
      await shutdown()
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }
}

module.exports = { buildFerretDBServer, startFerretDBAuth, pinnedVersion }

if (require.main === module) {
  if (process.argv.includes('--build')) {
    try {
      console.log(buildFerretDBServer())
    } catch (err) {
      console.error(err.message)
      process.exit(1)
    }
  } else {
    const username = process.env.MDL_AUTH_USER || 'admin'
    const password = process.env.MDL_AUTH_PASSWORD || 'secret'
    startFerretDBAuth({ username, password }).then((server) => {
      console.log(`${server.uri} (user ${username} in admin; password from MDL_AUTH_PASSWORD, default "secret")`)
      setInterval(() => {}, 1 << 30) // the server handle is unref'd: stay up
      process.on('SIGINT', () => server.stop().then(() => process.exit(0)))
    }, (err) => { console.error(err.message); process.exit(1) })
  }
}
