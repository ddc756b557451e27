'use strict'
// The test servers themselves: FerretDB with TLS and mutual TLS (certificates
// from support/certs.js) and the Toxiproxy fault proxy (support/fault-proxy.js),
// checked with plain mongoose 8, so that the lock tests built on them can
// trust what they see.
const fs = require('fs')
const mongoose = require('mongoose8')
const { startFerretDB } = require('../scripts/ferretdb')
const { makeCerts } = require('./support/certs')
const { faultProxy } = require('./support/fault-proxy')
const { freshDb, waitFor } = require('./support/helpers')

const FAST = { serverSelectionTimeoutMS: 1500, connectTimeoutMS: 1500 }
const dbName = freshDb('test_servers')
const certs = makeCerts()
const opened = []

/** A mongoose 8 connection, or the reason there is none. */
async function connect (uri, options = {}) {
  const conn = mongoose.createConnection(uri, { dbName, ...FAST, ...options })
  opened.push(conn)
  await conn.asPromise()
  return conn
}

/** The error with which connecting fails (the test fails if it connects). */
async function connectError (uri, options) {
  try {
    await connect(uri, options)
  } catch (err) {
    return err
  }
  throw new Error(`connected to ${uri} although it should not have`)
}

/** The message of an error and of its causes (the driver nests the TLS error). */
function reasons (err) {
  const parts = []
  const seen = new Set()
  const walk = (e) => {
    if (!e || typeof e !== 'object' || seen.has(e)) return
    seen.add(e)
    if (e.message) parts.push(e.message)
    if (e.code) parts.push(String(e.code))
    walk(e.cause)
    if (e.reason && e.reason.servers) for (const s of e.reason.servers.values()) walk(s.error)
  }
  walk(err)
  return parts.join(' | ')
}

/** Stops a FerretDB started here and removes its data directory. */
async function stopServer (server) {
  if (!server) return
  await server.stop()
  fs.rmSync(server.dataDir, { recursive: true, force: true })
}

afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.close(true).catch(() => {})))
})

describe('FerretDB with TLS (server certificate only)', () => {
  let server
  beforeAll(async () => {
    server = await startFerretDB({ tls: { cert: certs.serverCert, key: certs.serverKey } })
  })
  afterAll(() => stopServer(server))

  test('announces a TLS URI next to the plain one, which still works', async () => {
    expect(server.tlsUri).toMatch(/^mongodb:\/\/127\.0\.0\.1:\d+\/\?tls=true$/)
    expect(server.uri).toMatch(/^mongodb:\/\/127\.0\.0\.1:\d+\/$/)
    expect(server.tlsUri).not.toContain(server.uri.slice('mongodb://'.length, -1))
    const conn = await connect(server.uri)
    await conn.db.collection('probe').insertOne({ plain: true })
  })

  test('a client that trusts the CA connects and a findOne answers', async () => {
    const conn = await connect(server.tlsUri, { tlsCAFile: certs.ca })
    await conn.db.collection('probe').insertOne({ _id: 'tls', ok: 1 })
    expect(await conn.db.collection('probe').findOne({ _id: 'tls' })).toEqual({ _id: 'tls', ok: 1 })
  })

  test('without the CA the certificate is refused', async () => {
    const err = await connectError(server.tlsUri)
    expect(reasons(err)).toMatch(/certificate/i)
  })

  test('with an unrelated CA the certificate is refused', async () => {
    const err = await connectError(server.tlsUri, { tlsCAFile: certs.otherCa })
    expect(reasons(err)).toMatch(/certificate/i)
  })

  test('plain TCP to the TLS port does not get an answer', async () => {
    const port = new URL(server.tlsUri).port
    await connectError(`mongodb://127.0.0.1:${port}/`)
  })
})

describe('FerretDB with a certificate for the wrong name', () => {
  let server
  beforeAll(async () => {
    server = await startFerretDB({ tls: { cert: certs.wrongCert, key: certs.wrongKey } })
  })
  afterAll(() => stopServer(server))

  test('the host name check fails although the CA is trusted', async () => {
    const err = await connectError(server.tlsUri, { tlsCAFile: certs.ca })
    expect(reasons(err)).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID|altnames/i)
  })

  test('tlsAllowInvalidHostnames lets it through', async () => {
    const conn = await connect(server.tlsUri, { tlsCAFile: certs.ca, tlsAllowInvalidHostnames: true })
    expect(await conn.db.collection('probe').findOne({})).toBeNull()
  })
})

describe('FerretDB with mutual TLS', () => {
  let server
  beforeAll(async () => {
    server = await startFerretDB({ tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca } })
  })
  afterAll(() => stopServer(server))

  test('a client with its certificate (cert and key in one PEM) connects', async () => {
    const conn = await connect(server.tlsUri, { tlsCAFile: certs.ca, tlsCertificateKeyFile: certs.clientPem })
    await conn.db.collection('probe').insertOne({ _id: 'mtls' })
    expect(await conn.db.collection('probe').findOne({ _id: 'mtls' })).toEqual({ _id: 'mtls' })
  })

  test('the client key may be encrypted PKCS#8, with its passphrase', async () => {
    const conn = await connect(server.tlsUri, {
      tlsCAFile: certs.ca,
      tlsCertificateKeyFile: certs.clientEncPem,
      tlsCertificateKeyFilePassword: certs.passphrase
    })
    expect(await conn.db.collection('probe').findOne({ _id: 'mtls' })).toEqual({ _id: 'mtls' })
  })

  test('a wrong passphrase for the encrypted key fails on the client side', async () => {
    const err = await connectError(server.tlsUri, {
      tlsCAFile: certs.ca,
      tlsCertificateKeyFile: certs.clientEncPem,
      tlsCertificateKeyFilePassword: 'wrong'
    })
    expect(reasons(err)).toMatch(/bad decrypt/i)
  })

  test('a client without a certificate is turned away', async () => {
    const err = await connectError(server.tlsUri, { tlsCAFile: certs.ca })
    expect(reasons(err)).toMatch(/certificate required/i)
  })

  test('a certificate not meant for clients is turned away', async () => {
    // Signed by the right CA, but its EKU is serverAuth only.
    const pem = `${certs.dir}/server-combined.pem`
    fs.writeFileSync(pem, fs.readFileSync(certs.serverCert, 'utf8') + fs.readFileSync(certs.serverKey, 'utf8'))
    const err = await connectError(server.tlsUri, { tlsCAFile: certs.ca, tlsCertificateKeyFile: pem })
    expect(reasons(err)).toMatch(/alert (bad|unsupported) certificate/i)
  })
})

describe('the fault proxy (Toxiproxy) in front of the test server', () => {
  let fp
  beforeAll(async () => { fp = await faultProxy(process.env.TEST_MONGODB_URI) })
  afterAll(async () => {
    const conn = await connect(process.env.TEST_MONGODB_URI)
    await conn.db.dropDatabase()
    await conn.close()
    if (fp) await fp.close()
  })

  const findOne = (conn) => conn.db.collection('probe').findOne({ _id: 'fp' })

  test('keeps the path and query, and connections through it work', async () => {
    const other = await faultProxy(process.env.TEST_MONGODB_URI.replace(/\/?$/, '/somedb?appName=x'))
    try {
      expect(other.uri).toBe(`mongodb://127.0.0.1:${other.proxy.port}/somedb?appName=x`)
    } finally {
      await other.close()
    }
    expect(fp.uri).toBe(`mongodb://127.0.0.1:${fp.proxy.port}/`)
    const conn = await connect(fp.uri)
    await conn.db.collection('probe').insertOne({ _id: 'fp', n: 1 })
    expect(await findOne(conn)).toEqual({ _id: 'fp', n: 1 })
  })

  test('reset_peer upstream: operations fail fast; after its removal they work again', async () => {
    const conn = await connect(fp.uri, { retryReads: false })
    expect(await findOne(conn)).toEqual({ _id: 'fp', n: 1 })

    await fp.proxy.addToxic({ type: 'reset_peer', stream: 'upstream', attributes: { timeout: 0 } })
    const started = Date.now()
    const err = await findOne(conn).then(() => null, (e) => e)
    expect(err).not.toBeNull()
    expect(reasons(err)).toMatch(/ECONNRESET|closed|reset/i)
    expect(Date.now() - started).toBeLessThan(FAST.serverSelectionTimeoutMS)

    await fp.proxy.removeToxic('reset_peer_upstream')
    expect(await fp.proxy.toxics()).toEqual([])
    const doc = await waitFor(() => findOne(conn).catch(() => null), { timeoutMs: 15000 })
    expect(doc).toEqual({ _id: 'fp', n: 1 })
  })

  test('timeout downstream: the reply never arrives; after its removal operations work again', async () => {
    const conn = await connect(fp.uri, { retryReads: false, socketTimeoutMS: 1000 })
    expect(await findOne(conn)).toEqual({ _id: 'fp', n: 1 })

    await fp.proxy.addToxic({ type: 'timeout', stream: 'downstream', attributes: { timeout: 0 } })
    const started = Date.now()
    // The server answers within maxTimeMS either way; the proxy drops it.
    const err = await conn.db.collection('probe').findOne({ _id: 'fp' }, { maxTimeMS: 300 }).then(() => null, (e) => e)
    const waited = Date.now() - started
    expect(err).not.toBeNull()
    expect(err.name).toBe('MongoNetworkTimeoutError')
    expect(waited).toBeGreaterThanOrEqual(900)

    await fp.proxy.removeToxic('timeout_downstream')
    const doc = await waitFor(() => findOne(conn).catch(() => null), { timeoutMs: 15000 })
    expect(doc).toEqual({ _id: 'fp', n: 1 })
  })

  test('disable closes every connection, enable listens again on the same port', async () => {
    const conn = await connect(fp.uri, { retryReads: false })
    expect(await findOne(conn)).toEqual({ _id: 'fp', n: 1 })
    await fp.proxy.disable()
    await expect(findOne(conn)).rejects.toThrow()
    await fp.proxy.enable()
    const doc = await waitFor(() => findOne(conn).catch(() => null), { timeoutMs: 15000 })
    expect(doc).toEqual({ _id: 'fp', n: 1 })
  })
})
