'use strict'
// Builds (once, cached) and starts Toxiproxy, Shopify's fault-injecting TCP
// proxy, for the tests: proxies between a client and the test server whose
// "toxics" add latency, drop replies, reset connections, cut bandwidth...
// The server is built from the Go module proxy at a pinned version into
// ~/.cache/mongoose-distributed-lock/bin and driven through its HTTP API.
//
//   node scripts/toxiproxy.js --build   build only (CI)
//   node scripts/toxiproxy.js           run until Ctrl-C, print the API URL
//
// The server runs under a small supervisor (this file, `--supervise`) that
// stops it when its stdin closes, so it dies with the process that started
// it, even if that one is killed with SIGKILL.
const { spawn, execFileSync } = require('child_process')
const fs = require('fs')
const net = require('net')
const os = require('os')
const path = require('path')

const VERSION = 'v2.12.0'
const MODULE = 'github.com/Shopify/toxiproxy/v2'
const BIN_DIR = path.join(os.homedir(), '.cache', 'mongoose-distributed-lock', 'bin')
const BINARY = path.join(BIN_DIR, `toxiproxy-server-${VERSION}`)
const HOST = '127.0.0.1'

/** Builds toxiproxy-server (go install) unless this version is already built. */
function buildToxiproxy ({ log = console.error } = {}) {
  if (fs.existsSync(BINARY)) return BINARY
  log(`building Toxiproxy ${VERSION} (go install; first time takes about half a minute)…`)
  fs.mkdirSync(BIN_DIR, { recursive: true })
  // Install into a directory of our own, then rename: concurrent builds never
  // leave a half-written binary under the final name.
  const tmp = fs.mkdtempSync(path.join(BIN_DIR, '.toxiproxy-build-'))
  try {
    execFileSync('go', [
      'install',
      `-ldflags=-X ${MODULE}.Version=${VERSION}`,
      `${MODULE}/cmd/server@${VERSION}`
    ], {
      cwd: tmp, // outside any Go module
      stdio: ['ignore', 'inherit', 'pipe'],
      env: { ...process.env, GOBIN: tmp }
    })
    fs.renameSync(path.join(tmp, 'server'), BINARY)
  } catch (err) {
    if (err.code === 'ENOENT') throw new Error('cannot build Toxiproxy: the go command is not installed')
    throw new Error(`cannot build Toxiproxy ${VERSION}: ${String(err.stderr || err.message).trim()}`)
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
  return BINARY
}

/** A TCP port free on 127.0.0.1 right now (the tests' servers and proxies). */
function freePort () {
  return new Promise((resolve, reject) => {
    const srv = net.createServer().listen(0, HOST, () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    }).on('error', reject)
  })
}

/** One call to Toxiproxy's HTTP API; resolves with the parsed JSON reply. */
async function request (apiUrl, method, route, body) {
  let res
  try {
    res = await fetch(apiUrl + route, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10000)
    })
  } catch (err) {
    throw new Error(`toxiproxy ${method} ${route}: ${err.cause ? err.cause.message : err.message}`)
  }
  const text = await res.text()
  if (!res.ok) {
    let why = text.trim()
    try { why = JSON.parse(text).error || why } catch {}
    throw new Error(`toxiproxy ${method} ${route}: ${res.status} ${why}`)
  }
  return text ? JSON.parse(text) : null
}

/** The handle of one proxy; every method goes through the HTTP API. */
function proxyHandle (apiUrl, created) {
  const route = `/proxies/${encodeURIComponent(created.name)}`
  const [host, port] = splitHostPort(created.listen)
  return {
    name: created.name,
    upstream: created.upstream,
    host,
    port,
    listen: created.listen,
    /**
     * Adds a toxic. `stream`: 'downstream' (server to client, the default)
     * or 'upstream'; `toxicity`: the share of connections it hits (default 1);
     * `name` defaults to `${type}_${stream}`. See Toxiproxy's README for the
     * types (latency, bandwidth, slow_close, timeout, reset_peer, slicer,
     * limit_data) and their attributes.
     */
    addToxic ({ type, stream = 'downstream', toxicity = 1, attributes = {}, name } = {}) {
      if (!type) throw new Error('addToxic needs a type')
      return request(apiUrl, 'POST', `${route}/toxics`, { name: name || `${type}_${stream}`, type, stream, toxicity, attributes })
    },
    /** Changes a toxic's attributes or toxicity. */
    updateToxic (name, { attributes, toxicity } = {}) {
      return request(apiUrl, 'POST', `${route}/toxics/${encodeURIComponent(name)}`, { attributes, toxicity })
    },
    removeToxic (name) {
      return request(apiUrl, 'DELETE', `${route}/toxics/${encodeURIComponent(name)}`)
    },
    toxics () {
      return request(apiUrl, 'GET', `${route}/toxics`)
    },
    /** Stops listening and closes every connection through the proxy. */
    disable () {
      return request(apiUrl, 'POST', route, { enabled: false })
    },
    /** Listens again, on the same port. */
    enable () {
      return request(apiUrl, 'POST', route, { enabled: true })
    },
    remove () {
      return request(apiUrl, 'DELETE', route)
    }
  }
}

function splitHostPort (hostPort) {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(hostPort)
  if (!m) throw new Error(`not a host:port: ${hostPort}`)
  return [m[1], Number(m[2])]
}

/**
 * Starts a Toxiproxy server on a free loopback port and resolves, once its
 * API answers, with { apiUrl, pid, createProxy(name, upstreamHostPort),
 * reset(), stop() }. createProxy listens on a free loopback port.
 */
async function startToxiproxy ({ log } = {}) {
  const binary = buildToxiproxy({ log })
  for (let attempt = 1; ; attempt++) {
    const port = await freePort()
    try {
      return await launch(binary, port)
    } catch (err) {
      // Someone else took the port between freePort() and the bind: retry.
      if (!err.portTaken || attempt >= 5) throw err
    }
  }
}

/**
 * Starts `binary args…` under the supervisor (this file, `--supervise`),
 * its output in `logPath`. The supervisor's stdin is the lifeline: it stops
 * the server when it closes, so the server dies with the process that
 * started it. `shutdown()` goes through the supervisor (a SIGKILL to it
 * would orphan the server). Used for Toxiproxy and for FerretDB's own
 * program (scripts/ferretdb-auth.js).
 */
function startSupervised (logPath, binary, args) {
  const child = spawn(process.execPath, [__filename, '--supervise', logPath, binary, ...args], {
    stdio: ['pipe', 'ignore', 'inherit']
  })
  let exited = false
  const exitCode = new Promise((resolve) => child.once('exit', (code, signal) => { exited = true; resolve(signal || code) }))
  let spawnError = null
  child.once('error', (err) => { spawnError = err })
  const shutdown = async () => {
    if (exited) return
    child.stdin.end()
    const timer = setTimeout(() => child.kill('SIGKILL'), 10000)
    await exitCode
    clearTimeout(timer)
  }
  const readLog = () => (fs.existsSync(logPath) ? fs.readFileSync(logPath, 'utf8') : '')
  const logTail = () => {
    const text = readLog().trim()
    return text ? `:\n${text.split('\n').slice(-3).join('\n')}` : ''
  }
  /**
   * Waits until `isReady()` (polled every 20 ms), then lets the process that
   * started the server exit without stopping it (the closed stdin ends it).
   * Fails when the supervisor cannot start, the server exits, its port is
   * taken (`portTaken`: the caller tries another; `dir` is removed) or
   * `timeoutMs` passes (`waited`: what did not happen, for the message).
   */
  async function untilReady ({ name, port, dir, timeoutMs, isReady, waited }) {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      if (spawnError) throw new Error(`cannot start the ${name} supervisor: ${spawnError.message}`)
      if (exited) throw new Error(`${name} exited before it was ready (exit ${await exitCode}); see ${logPath}${logTail()}`)
      // A server whose port is taken logs it (Toxiproxy then keeps running).
      if (/address already in use/.test(readLog())) {
        await shutdown()
        fs.rmSync(dir, { recursive: true, force: true })
        throw Object.assign(new Error(`${name}: port ${port} is taken`), { portTaken: true })
      }
      if (await isReady()) break
      if (Date.now() > deadline) {
        const err = new Error(`${name} ${waited} within ${timeoutMs / 1000}s; its log${logTail()}`)
        await shutdown()
        throw err
      }
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    child.unref()
    child.stdin.unref()
  }
  return { child, shutdown, untilReady }
}

async function launch (binary, port) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mdl-toxiproxy-'))
  const logPath = path.join(dir, 'toxiproxy.log')
  const apiUrl = `http://${HOST}:${port}`
  const { child, shutdown, untilReady } = startSupervised(logPath, binary, ['-host', HOST, '-port', String(port)])
  await untilReady({
    name: 'Toxiproxy',
    port,
    dir,
    timeoutMs: 30000,
    waited: `did not answer on ${apiUrl}`,
    isReady: async () => {
      try {
        const res = await fetch(`${apiUrl}/version`, { signal: AbortSignal.timeout(1000) })
        const body = await res.json()
        return res.ok && body.version === VERSION
      } catch {
        return false
      }
    }
  })

  return {
    apiUrl,
    pid: child.pid,
    logPath,
    /** Creates a proxy from a free loopback port to `upstream` ('host:port'). */
    async createProxy (name, upstream) {
      const created = await request(apiUrl, 'POST', '/proxies', { name, listen: `${HOST}:0`, upstream, enabled: true })
      return proxyHandle(apiUrl, created)
    },
    /** Re-enables every proxy and removes every toxic. */
    reset () {
      return request(apiUrl, 'POST', '/reset')
    },
    async stop () {
      await shutdown()
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }
}

/**
 * `--supervise LOG BINARY ARGS...`: runs BINARY with its output in LOG and
 * stops it (SIGTERM, then SIGKILL) when stdin closes or on SIGTERM/SIGINT;
 * exits when it does. When stopped through stdin (by stop(), or because its
 * parent died) it removes LOG's directory; otherwise it keeps it to be read.
 */
function supervise ([logPath, binary, ...args]) {
  const out = fs.openSync(logPath, 'a')
  const child = spawn(binary, args, { stdio: ['ignore', out, out] })
  let stopping = false
  const stop = () => {
    if (stopping) return
    stopping = true
    child.kill('SIGTERM')
    setTimeout(() => child.kill('SIGKILL'), 3000).unref()
  }
  let released = false
  const release = () => { released = true; stop() }
  process.stdin.on('end', release)
  process.stdin.on('error', release)
  process.stdin.resume()
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  child.on('error', (err) => {
    fs.writeSync(out, `cannot start ${binary}: ${err.message}\n`)
    process.exit(1)
  })
  child.on('exit', (code) => {
    if (released) fs.rmSync(path.dirname(logPath), { recursive: true, force: true })
    process.exit(code === null ? 1 : code)
  })
}

module.exports = { buildToxiproxy, startToxiproxy, startSupervised, freePort, BINARY, VERSION }

if (require.main === module) {
  const argv = process.argv.slice(2)
  if (argv[0] === '--supervise') {
    supervise(argv.slice(1))
  } else if (argv.includes('--build')) {
    try {
      console.log(buildToxiproxy())
    } catch (err) {
      console.error(err.message)
      process.exit(1)
    }
  } else {
    startToxiproxy().then((server) => {
      console.log(server.apiUrl)
      setInterval(() => {}, 1 << 30) // the server handle is unref'd: stay up
      process.on('SIGINT', () => server.stop().then(() => process.exit(0)))
    }, (err) => { console.error(err.message); process.exit(1) })
  }
}
