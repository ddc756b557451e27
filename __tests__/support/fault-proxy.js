'use strict'
// Fault injection for the tests: a Toxiproxy proxy (see scripts/toxiproxy.js)
// in front of a MongoDB server. faultProxy(uri) gives the same connection
// string pointed at the proxy, and the proxy, whose toxics make the network
// slow, cut, silent or reset, on demand:
//
//   const fp = await faultProxy(process.env.TEST_MONGODB_URI)
//   // ... connect to fp.uri ...
//   await fp.proxy.addToxic({ type: 'reset_peer', stream: 'upstream', attributes: { timeout: 0 } })
//   await fp.proxy.removeToxic('reset_peer_upstream')
//   await fp.close()
//
// One Toxiproxy server per test file (Jest gives each file its own modules),
// started on the first faultProxy() and stopped when the last proxy closes;
// if a test file never closes, it ends with the worker process.
//
// The proxy is plain TCP, so TLS goes through it untouched. It forwards to the
// first (only) host of the URI; with a replica set URI the driver would find
// the members' own addresses, so use a single server or directConnection=true.
const crypto = require('crypto')
const { startToxiproxy } = require('../../scripts/toxiproxy')

let server = null // Promise of the running Toxiproxy server
let open = 0

/** Splits a mongodb:// URI into { auth, host, port, rest } (rest: path and query). */
function parseUri (uri) {
  const m = /^mongodb:\/\/([^@/?]*@)?([^/?]+)(.*)$/.exec(uri || '')
  if (!m) throw new Error(`faultProxy needs a mongodb:// connection string, got ${JSON.stringify(uri)}`)
  const [, auth = '', hosts, rest] = m
  if (hosts.includes(',')) throw new Error(`faultProxy proxies one host, the URI has several: ${hosts}`)
  const h = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hosts)
  if (!h) throw new Error(`cannot parse the host of ${uri}`)
  return { auth, host: h[1], port: Number(h[2] || 27017), rest }
}

/**
 * A proxy in front of the server of `upstreamUri` (a single-host mongodb://
 * URI). Resolves with { uri, proxy, toxiproxy, close() }: `uri` is
 * `upstreamUri` with the proxy's address (path and query kept), `proxy` has
 * addToxic/updateToxic/removeToxic/toxics/disable/enable/remove.
 */
async function faultProxy (upstreamUri, { name } = {}) {
  const { auth, host, port, rest } = parseUri(upstreamUri)
  open++
  let proxy
  let toxiproxy
  try {
    if (!server) server = startToxiproxy()
    toxiproxy = await server
    proxy = await toxiproxy.createProxy(name || `mdl_${process.pid}_${crypto.randomBytes(4).toString('hex')}`, `${host}:${port}`)
  } catch (err) {
    await release()
    throw err
  }
  let closed = false
  return {
    uri: `mongodb://${auth}${proxy.host}:${proxy.port}${rest || '/'}`,
    proxy,
    toxiproxy,
    async close () {
      if (closed) return
      closed = true
      try {
        await proxy.remove()
      } finally {
        await release()
      }
    }
  }
}

async function release () {
  if (--open > 0 || !server) return
  const running = server
  server = null
  const toxiproxy = await running.catch(() => null)
  if (toxiproxy) await toxiproxy.stop()
}

module.exports = { faultProxy, parseUri }
