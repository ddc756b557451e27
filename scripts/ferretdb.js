'use strict'
// Builds (once, cached) and starts the embedded FerretDB test server: a small
// Go launcher around FerretDB v1.24.2 with its SQLite backend, on a free
// loopback port. Used by the tests, the demo and the benchmarks whenever
// MONGODB_URI is not set. With `tls` it serves TLS (or mutual TLS) on a
// second port as well.
const { spawn, execFileSync } = require('child_process')
const fs = require('fs')
const os = require('os')
const path = require('path')
const readline = require('readline')

const LAUNCHER_DIR = path.join(__dirname, '..', 'ferretdb')
const BINARY = path.join(LAUNCHER_DIR, 'bin', 'ferretdb-launcher')
const SOURCES = ['main.go', 'go.mod', 'go.sum']

function isStale () {
  if (!fs.existsSync(BINARY)) return true
  const built = fs.statSync(BINARY).mtimeMs
  return SOURCES.some((f) => fs.statSync(path.join(LAUNCHER_DIR, f)).mtimeMs > built)
}

/** Builds the launcher if it is missing or older than its sources. */
function buildLauncher ({ log = console.error } = {}) {
  if (!isStale()) return BINARY
  log('building the FerretDB launcher (go build; first time takes a minute or two)…')
  const build = (extra) => execFileSync('go', ['build', ...extra, '-o', BINARY, '.'], {
    cwd: LAUNCHER_DIR,
    stdio: ['ignore', 'inherit', 'pipe'],
    env: { ...process.env, GOFLAGS: process.env.GOFLAGS || '-mod=readonly' }
  })
  try {
    build([])
  } catch (err) {
    // Newer Go refuses some go:linkname uses in FerretDB's dependencies.
    if (!/linkname/.test(String(err.stderr))) {
      process.stderr.write(String(err.stderr))
      throw err
    }
    build(['-ldflags=-checklinkname=0'])
  }
  return BINARY
}

/**
 * Starts a server in a fresh data directory.
 *
 * With `tls: { cert, key, ca }` (PEM file paths; `ca` optional) it also
 * listens for TLS on `tlsPort` (0: a free one); with `ca`, clients must
 * present a certificate signed by it (mutual TLS). The plain port stays on.
 * @returns {Promise<{ uri: string, tlsUri?: string, pid: number, dataDir: string, stop: () => Promise<void> }>}
 */
async function startFerretDB ({ dataDir, port = 0, tls, tlsPort = 0, log } = {}) {
  const binary = buildLauncher({ log })
  const dir = dataDir || fs.mkdtempSync(path.join(os.tmpdir(), 'mdl-ferretdb-'))
  const args = ['-dir', dir, '-listen', `127.0.0.1:${port}`]
  if (tls) {
    if (!tls.cert || !tls.key) throw new Error('startFerretDB: tls needs cert and key (PEM file paths)')
    args.push('-tls-listen', `127.0.0.1:${tlsPort}`, '-tls-cert', path.resolve(tls.cert), '-tls-key', path.resolve(tls.key))
    if (tls.ca) args.push('-tls-ca', path.resolve(tls.ca))
  }
  const logPath = path.join(dir, 'ferretdb.log')
  const logFile = fs.openSync(logPath, 'a')
  const child = spawn(binary, args, {
    // stdin stays open as a lifeline: the launcher exits when it closes.
    stdio: ['pipe', 'pipe', logFile]
  })
  fs.closeSync(logFile)

  const { uri, tlsUri } = await new Promise((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout })
    const fail = (why) => {
      let last = ''
      try { last = fs.readFileSync(logPath, 'utf8').trim().split('\n').slice(-3).join('\n') } catch {}
      reject(new Error(`FerretDB did not start: ${why}; see ${logPath}${last ? `:\n${last}` : ''}`))
    }
    let tlsUri
    child.once('error', (err) => fail(err.message))
    child.once('exit', (code, signal) => fail(`exited with ${signal || code}`))
    lines.on('line', (line) => {
      const t = /^ready-tls (\S+)/.exec(line)
      if (t) tlsUri = t[1]
      const m = /^ready (\S+)/.exec(line)
      if (m) resolve({ uri: m[1], tlsUri })
    })
  })
  child.removeAllListeners('exit')
  child.stdout.resume()

  let exited = child.exitCode !== null
  const exit = new Promise((resolve) => child.once('exit', () => { exited = true; resolve() }))
  return {
    uri,
    tlsUri,
    pid: child.pid,
    dataDir: dir,
    child,
    async stop () {
      if (exited) return
      child.stdin.end()
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      await exit
      clearTimeout(timer)
    }
  }
}

module.exports = { buildLauncher, startFerretDB, BINARY }

if (require.main === module) {
  // `node scripts/ferretdb.js [--build]`: build only, or run until Ctrl-C.
  if (process.argv.includes('--build')) {
    buildLauncher()
  } else {
    startFerretDB().then((server) => {
      console.log(server.uri)
      process.on('SIGINT', () => server.stop().then(() => process.exit(0)))
    }, (err) => { console.error(err.message); process.exit(1) })
  }
}
