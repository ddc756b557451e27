'use strict'
// lib/client-spec: what each mongoose (4.13 to 9) really resolved for its
// connection, turned into the native core's client spec, and the settings the
// native client cannot reproduce. Real connections: to the test server when
// they can open, else to a closed port (the resolved options are what count).
const { execFileSync } = require('child_process')
const crypto = require('crypto')
const fs = require('fs')
const os = require('os')
const path = require('path')
const { describeConnection, specKey } = require('../lib/client-spec')
const { BASE_URI, uriFor, waitFor } = require('./support/helpers')

const SERVER = /^mongodb:\/\/([^/?]+)/.exec(BASE_URI)[1] // host:port of the test server
const CLOSED = 'mongodb://127.0.0.1:1' // nothing listens there: fails at once
const PASSWORD = 'pa55-w0rd-never-in-a-key'
const PASSPHRASE = 's3cret-passphrase'

const VERSIONS = ['mongoose4', 'mongoose5', 'mongoose6', 'mongoose7', 'mongoose8', 'mongoose9']
const MODERN = ['mongoose6', 'mongoose7', 'mongoose8', 'mongoose9'] // mongodb 4.x to 7.x: client.options
// The drivers that keep TLS file paths (mongodb 6.x/7.x); the older ones keep the contents only.
const KEEPS_PATHS = ['mongoose8', 'mongoose9']

// Options that make each version resolve settings the current way: mongoose 4
// through MongoClient (useMongoClient), mongoose 5 with the new URL parser and
// the unified topology. Their legacy ways have tests of their own below.
function flavour (m, options = {}) {
  if (m === 'mongoose4') return { useMongoClient: true, ...options }
  if (m === 'mongoose5') return { useNewUrlParser: true, useUnifiedTopology: true, ...options }
  return options
}

let tmp
const files = {}
beforeAll(() => {
  // A throwaway CA and a client certificate, with the key also encrypted.
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mdl-client-spec-'))
  const f = (name) => path.join(tmp, name)
  const openssl = (...args) => execFileSync('openssl', args, { cwd: tmp, stdio: 'pipe' })
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-sha256', '-subj', '/CN=mdl-test-ca',
    '-keyout', f('ca.key'), '-out', f('ca.pem'))
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=mdl-client', '-keyout', f('client.key'), '-out', f('client.csr'))
  openssl('x509', '-req', '-in', f('client.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial',
    '-days', '2', '-sha256', '-out', f('client.crt'))
  openssl('pkcs8', '-topk8', '-v2', 'aes-256-cbc', '-in', f('client.key'), '-passout', `pass:${PASSPHRASE}`, '-out', f('client.enc.key'))
  fs.writeFileSync(f('client.pem'), fs.readFileSync(f('client.crt'), 'utf8') + fs.readFileSync(f('client.key'), 'utf8'))
  fs.writeFileSync(f('client-enc.pem'), fs.readFileSync(f('client.crt'), 'utf8') + fs.readFileSync(f('client.enc.key'), 'utf8'))
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-sha256', '-subj', '/CN=other-ca',
    '-keyout', f('other.key'), '-out', f('other.pem'))
  // A self-signed server certificate: any client that checks certificates refuses it.
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-sha256', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', f('server.key'), '-out', f('server.pem'))
  for (const name of ['ca.pem', 'other.pem', 'client.crt', 'client.key', 'client.enc.key', 'client.pem', 'client-enc.pem',
    'server.key', 'server.pem']) {
    files[name] = f(name)
    files[`${name}:text`] = fs.readFileSync(f(name), 'utf8')
  }
})
afterAll(() => { if (tmp) fs.rmSync(tmp, { recursive: true, force: true }) })

const opened = []
afterEach(async () => {
  const all = opened.splice(0)
  await Promise.all(all.map((conn) => Promise.race([
    Promise.resolve().then(() => conn.close()).catch(() => {}),
    new Promise((resolve) => setTimeout(resolve, 3000).unref())
  ])))
})

/**
 * Opens a connection as the application would; a failure to connect is fine.
 * Resolves with `{ conn }`: mongoose 4 and 5 connections are thenables.
 */
async function connect (m, uri, options = {}) {
  const mongoose = require(m)
  if (m === 'mongoose4') mongoose.Promise = global.Promise
  const conn = mongoose.createConnection(uri, options)
  opened.push(conn)
  conn.on('error', () => {})
  try {
    if (typeof conn.asPromise === 'function') await conn.asPromise()
    else if (typeof conn.then === 'function') await conn
    else await settled(conn) // mongoose 4 without useMongoClient
  } catch (_) { /* the resolved settings are what this file checks */ }
  return { conn }
}

function settled (conn, ms = 5000) {
  if (conn.readyState === 1) return Promise.resolve()
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      conn.removeListener('open', done)
      conn.removeListener('error', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    conn.once('open', done)
    conn.once('error', done)
  })
}

const describeAt = async (m, uri, options) => describeConnection((await connect(m, uri, options)).conn)

/** The private key of a PEM, as comparable DER. */
const keyDer = (pem, passphrase) => crypto.createPrivateKey({ key: pem, passphrase }).export({ type: 'pkcs8', format: 'der' })

describe.each(VERSIONS)('%s', (m) => {
  const modern = MODERN.includes(m)
  const older = !modern // mongoose 4 and 5: ssl* option names
  const quick = { serverSelectionTimeoutMS: 200, connectTimeoutMS: 300 }
  if (m === 'mongoose4') delete quick.serverSelectionTimeoutMS // unknown to mongodb 2.2

  test('user/pass, authMechanism PLAIN, authSource and dbName: the object wins over the URI', async () => {
    const uri = `${uriFor('uridb')}?authSource=fromuri`
    const options = m === 'mongoose4'
      ? { user: 'alice', pass: PASSWORD, auth: { authMechanism: 'PLAIN', authSource: 'admin' } }
      : { user: 'alice', pass: PASSWORD, authMechanism: 'PLAIN', authSource: 'admin', dbName: 'objdb' }
    const { conn } = await connect(m, uri, flavour(m, options))
    expect(conn.readyState).toBe(1) // FerretDB takes PLAIN with any password
    const { spec, dbName, refused } = describeConnection(conn)
    expect(spec).toMatchObject({
      hosts: [SERVER],
      username: 'alice',
      password: PASSWORD,
      authSource: 'admin',
      authMechanism: 'PLAIN',
      tls: false
    })
    // mongoose 4 has no dbName option: the URI's database.
    expect(dbName).toBe(m === 'mongoose4' ? 'uridb' : 'objdb')
    expect(refused).toEqual([])
  })

  test('auth: { username, password } in the object', async () => {
    const auth = m === 'mongoose4' ? { user: 'bob', password: PASSWORD } : { username: 'bob', password: PASSWORD }
    const options = flavour(m, { auth, authMechanism: 'PLAIN', authSource: 'admin' })
    const { spec } = await describeAt(m, uriFor('authobj'), options)
    expect(spec).toMatchObject({ username: 'bob', password: PASSWORD, authSource: 'admin', authMechanism: 'PLAIN' })
  })

  test('credentials and mechanism in the URI; no mechanism, no authMechanism', async () => {
    const uri = `mongodb://carol:${encodeURIComponent(PASSWORD)}@${SERVER}/app?authMechanism=PLAIN`
    const { spec, dbName } = await describeAt(m, uri, flavour(m))
    expect(spec).toMatchObject({ username: 'carol', password: PASSWORD, authMechanism: 'PLAIN' })
    // Without authSource, every driver authenticates against the URI's database.
    expect(spec.authSource).toBe('app')
    expect(dbName).toBe('app')
    // No credentials at all: no auth keys.
    const none = await describeAt(m, uriFor('noauth'), flavour(m))
    for (const key of ['username', 'password', 'authSource', 'authMechanism']) expect(none.spec).not.toHaveProperty(key)
  })

  test('replicaSet in the string; timeouts in the object win over the URI', async () => {
    const timeouts = m === 'mongoose4'
      ? '&connectTimeoutMS=8888&socketTimeoutMS=7777'
      : '&serverSelectionTimeoutMS=9999&connectTimeoutMS=8888&socketTimeoutMS=7777&heartbeatFrequencyMS=6666'
    const uri = `${CLOSED}/app?replicaSet=rs0${timeouts}`
    let options = { serverSelectionTimeoutMS: 300, connectTimeoutMS: 1500, socketTimeoutMS: 2500, heartbeatFrequencyMS: 1000 }
    if (m === 'mongoose4') {
      // A replica set URI goes through mongoose 4's openSet (its Db exists even when it fails).
      const socketOptions = { connectTimeoutMS: 1500, socketTimeoutMS: 2500 }
      options = { server: { socketOptions }, replset: { socketOptions } }
    }
    const { spec } = await describeAt(m, uri, m === 'mongoose4' ? options : flavour(m, options))
    expect(spec).toMatchObject({
      hosts: ['127.0.0.1:1'],
      replicaSet: 'rs0',
      directConnection: false,
      connectTimeoutMs: 1500,
      socketTimeoutMs: 2500
    })
    if (m !== 'mongoose4') expect(spec).toMatchObject({ serverSelectionTimeoutMs: 300, heartbeatFrequencyMs: 1000 })
  })

  test('unix socket and IPv6 hosts', async () => {
    const socket = path.join(os.tmpdir(), `mdl-nothing-${process.pid}.sock`)
    const socketUri = m === 'mongoose4' ? `mongodb://${socket}/app` : `mongodb://${encodeURIComponent(socket)}/app`
    const a = await describeAt(m, socketUri, flavour(m, quick))
    expect(a.spec.hosts).toEqual([socket])
    // mongoose 4 and 5 cannot parse a seed list with an IPv6 address in it: one host there.
    const b = await describeAt(m, older ? 'mongodb://[::1]:1/app' : 'mongodb://[::1]:1,127.0.0.1:1/app', flavour(m, quick))
    expect(b.spec.hosts).toEqual(older ? ['[::1]:1'] : ['[::1]:1', '127.0.0.1:1'])
  })

  test('tls with a CA file: the path (6.x/7.x drivers) or the contents they keep (older)', async () => {
    if (m === 'mongoose4') return // mongodb 2.2 has no tlsCAFile: see the in-memory CA
    const options = flavour(m, { tls: true, tlsCAFile: files['ca.pem'], ...quick })
    const { spec, refused } = await describeAt(m, `${CLOSED}/app`, options)
    expect(spec.tls).toBe(true)
    expect(spec.tlsAllowInvalidCertificates).toBe(false)
    if (KEEPS_PATHS.includes(m)) {
      expect(spec.tlsCaFile).toBe(files['ca.pem'])
      expect(spec).not.toHaveProperty('tlsCaPem')
    } else {
      expect(spec.tlsCaPem).toBe(files['ca.pem:text'])
      expect(spec).not.toHaveProperty('tlsCaFile')
    }
    expect(refused).toEqual([])
    // TLS off: no TLS key but `tls: false`.
    const off = await describeAt(m, `${CLOSED}/app`, flavour(m, quick))
    expect(off.spec.tls).toBe(false)
    expect(Object.keys(off.spec).filter((k) => /^tls./.test(k))).toEqual([])
  })

  test('tls with an in-memory CA', async () => {
    const ca = fs.readFileSync(files['ca.pem'])
    const options = older ? { ssl: true, sslCA: [ca], sslValidate: true, ...quick } : { tls: true, ca, ...quick }
    const { spec, refused } = await describeAt(m, `${CLOSED}/app`, flavour(m, options))
    expect(spec).toMatchObject({ tls: true, tlsCaPem: files['ca.pem:text'], tlsAllowInvalidCertificates: false })
    expect(refused).toEqual([])
  })

  test('a client certificate with an encrypted key: one PEM, the key decrypted to PKCS#8', async () => {
    const options = m === 'mongoose4'
      ? {
          ssl: true,
          sslCert: fs.readFileSync(files['client.crt']),
          sslKey: fs.readFileSync(files['client.enc.key']),
          sslPass: PASSPHRASE
        }
      : { tls: true, tlsCertificateKeyFile: files['client-enc.pem'], tlsCertificateKeyFilePassword: PASSPHRASE }
    const { spec, refused } = await describeAt(m, `${CLOSED}/app`, flavour(m, { ...options, ...quick }))
    expect(refused).toEqual([])
    expect(spec).not.toHaveProperty('tlsCertKeyFile')
    const pem = spec.tlsCertKeyPem
    expect(pem).toContain(files['client.crt:text'].trim())
    expect(pem).toMatch(/-----BEGIN PRIVATE KEY-----/)
    expect(pem).not.toMatch(/ENCRYPTED/)
    expect(keyDer(pem)).toEqual(keyDer(files['client.key:text']))
    expect(JSON.stringify(spec)).not.toContain(PASSPHRASE)
  })

  test('a client certificate and key in one unencrypted file', async () => {
    if (m === 'mongoose4') return // mongodb 2.2 has no tlsCertificateKeyFile
    const options = flavour(m, { tls: true, tlsCertificateKeyFile: files['client.pem'], ...quick })
    const { spec } = await describeAt(m, `${CLOSED}/app`, options)
    if (KEEPS_PATHS.includes(m)) {
      expect(spec.tlsCertKeyFile).toBe(files['client.pem'])
      expect(spec).not.toHaveProperty('tlsCertKeyPem')
    } else {
      expect(keyDer(spec.tlsCertKeyPem)).toEqual(keyDer(files['client.key:text']))
      expect(spec.tlsCertKeyPem).toContain(files['client.crt:text'].trim())
    }
  })

  test('write concern, appName, pool size and retries', async () => {
    let options
    if (m === 'mongoose4') {
      options = { w: 'majority', wtimeout: 500, j: true, appname: 'my-app', poolSize: 7 }
    } else if (m === 'mongoose5') {
      options = { writeConcern: { w: 'majority', wtimeout: 500, j: true }, appname: 'my-app', poolSize: 7, retryWrites: false }
    } else {
      options = {
        w: 'majority',
        wtimeoutMS: 500,
        journal: true,
        appName: 'my-app',
        maxPoolSize: 7,
        maxIdleTimeMS: 900,
        retryWrites: false,
        retryReads: false
      }
    }
    // mongodb 2.2 keeps the write concern on the Db it makes only when it connects.
    const uri = m === 'mongoose4' ? uriFor('wc') : `${CLOSED}/app`
    const { spec } = await describeAt(m, uri, flavour(m, { ...options, ...quick }))
    expect(spec).toMatchObject({
      writeConcernW: 'majority',
      writeConcernJournal: true,
      writeConcernTimeoutMs: 500,
      appName: 'my-app',
      maxPoolSize: 7
    })
    if (m !== 'mongoose4') expect(spec.retryWrites).toBe(false)
    if (modern) expect(spec).toMatchObject({ retryReads: false, maxIdleTimeMs: 900 })
    // A numeric w becomes its decimal string.
    const two = await describeAt(m, `${uri}?w=2`, flavour(m, quick))
    expect(two.spec.writeConcernW).toBe('2')
  })

  test('the hostname check off: tlsAllowInvalidHostnames, certificates still checked', async () => {
    const off = m === 'mongoose4'
      ? { ssl: true, sslValidate: true, checkServerIdentity: false }
      : { tls: true, tlsAllowInvalidHostnames: true }
    const a = await describeAt(m, `${CLOSED}/app`, flavour(m, { ...off, ...quick }))
    expect(a.refused).toEqual([])
    expect(a.spec).toMatchObject({ tls: true, tlsAllowInvalidHostnames: true, tlsAllowInvalidCertificates: false })
    // Both off.
    const both = m === 'mongoose4'
      ? { ssl: true, checkServerIdentity: false, sslValidate: false }
      : { tls: true, tlsAllowInvalidHostnames: true, tlsAllowInvalidCertificates: true }
    const b = await describeAt(m, `${CLOSED}/app`, flavour(m, { ...both, ...quick }))
    expect(b.refused).toEqual([])
    expect(b.spec).toMatchObject({ tlsAllowInvalidHostnames: true, tlsAllowInvalidCertificates: true })
    if (m !== 'mongoose4') {
      const c = await describeAt(m, `${CLOSED}/app`, flavour(m, { tls: true, tlsInsecure: true, ...quick }))
      expect(c.refused).toEqual([])
      expect(c.spec).toMatchObject({ tlsAllowInvalidHostnames: true, tlsAllowInvalidCertificates: true })
    }
    // Checked: the key is absent.
    const on = await describeAt(m, `${CLOSED}/app`, flavour(m, { ...(older ? { ssl: true, sslValidate: true } : { tls: true }), ...quick }))
    expect(on.spec.tlsAllowInvalidHostnames).toBeUndefined()
  })

  if (KEEPS_PATHS.includes(m)) {
    test('refused: allowPartialTrustChain (a CA that is not a root as the anchor)', async () => {
      const a = await describeAt(m, `${CLOSED}/app`, { tls: true, allowPartialTrustChain: true, ...quick })
      expect(a.refused).toEqual(['allowPartialTrustChain'])
      const b = await describeAt(m, `${CLOSED}/app`, { tls: true, allowPartialTrustChain: false, ...quick })
      expect(b.refused).toEqual([])
    })
  }

  test('refused: a checkServerIdentity of the application\'s own', async () => {
    const check = (host, cert) => (cert ? undefined : new Error('no certificate'))
    const tlsOn = older ? { ssl: true, sslValidate: true } : { tls: true }
    const { refused } = await describeAt(m, `${CLOSED}/app`, flavour(m, { ...tlsOn, checkServerIdentity: check, ...quick }))
    expect(refused).toEqual(['checkServerIdentity'])
  })

  test('refused: secureContext, pfx, crl, servername, and cipher and protocol tuning (with TLS on)', async () => {
    const tlsOn = older ? { ssl: true } : { tls: true }
    const crl = '-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n'
    const cases = [
      [{ secureContext: require('tls').createSecureContext({}) }, 'secureContext'],
      [{ pfx: Buffer.from('not really a pfx') }, 'pfx'],
      [older ? { sslCRL: crl } : { crl }, 'crl'],
      [{ servername: 'elsewhere.example' }, 'servername'],
      [{ ciphers: 'ECDHE-RSA-AES256-GCM-SHA384' }, 'ciphers'],
      [{ ecdhCurve: 'prime256v1' }, 'ecdhCurve'],
      [{ minDHSize: 2048 }, 'minDHSize'],
      [{ secureProtocol: 'TLSv1_2_method' }, 'secureProtocol']
    ]
    for (const [option, name] of cases) {
      const { refused } = await describeAt(m, `${CLOSED}/app`, flavour(m, { ...tlsOn, ...option, ...quick }))
      expect(refused).toEqual([name])
    }
    // TLS off: the application does not use them either.
    const { refused } = await describeAt(m, `${CLOSED}/app`, flavour(m, { servername: 'elsewhere.example', ...quick }))
    expect(refused).toEqual([])
  })

  test('refused: GSSAPI, MONGODB-AWS, MONGODB-CR', async () => {
    const gssapi = m === 'mongoose4'
      ? { user: 'kerberos-user', auth: { authMechanism: 'GSSAPI' } }
      : { user: 'kerberos-user', authMechanism: 'GSSAPI' }
    const a = await describeAt(m, `${CLOSED}/app`, flavour(m, { ...gssapi, ...quick }))
    expect(a.refused).toEqual(['authMechanism=GSSAPI'])
    if (m !== 'mongoose4') { // mongodb 2.2 knows no MONGODB-AWS
      // (mongodb 7.x takes AWS credentials only from the environment.)
      const b = await describeAt(m, `${CLOSED}/app?authMechanism=MONGODB-AWS`, flavour(m, quick))
      expect(b.refused).toEqual(['authMechanism=MONGODB-AWS'])
    }
    if (m !== 'mongoose9') { // mongodb 7.x dropped MONGODB-CR
      const cr = m === 'mongoose4'
        ? { user: 'old', pass: PASSWORD, auth: { authMechanism: 'MONGODB-CR' } }
        : { user: 'old', pass: PASSWORD, authMechanism: 'MONGODB-CR' }
      const c = await describeAt(m, `${CLOSED}/app`, flavour(m, { ...cr, ...quick }))
      expect(c.refused).toEqual(['authMechanism=MONGODB-CR'])
    }
  })

  test('specKey: stable, and holds no secret and no PEM', async () => {
    const credentials = m === 'mongoose4'
      ? { user: 'alice', pass: PASSWORD, auth: { authMechanism: 'PLAIN' } }
      : { user: 'alice', pass: PASSWORD, authMechanism: 'PLAIN' }
    let tlsOptions
    if (m === 'mongoose4') {
      tlsOptions = {
        ssl: true,
        sslCA: [fs.readFileSync(files['ca.pem'])],
        sslCert: fs.readFileSync(files['client.crt']),
        sslKey: fs.readFileSync(files['client.enc.key']),
        sslPass: PASSPHRASE
      }
    } else {
      tlsOptions = {
        tls: true,
        // mongodb 3.x with tls: true reads sslCA as a path.
        ...(m === 'mongoose5' ? { tlsCAFile: files['ca.pem'] } : { ca: fs.readFileSync(files['ca.pem']) }),
        tlsCertificateKeyFile: files['client-enc.pem'],
        tlsCertificateKeyFilePassword: PASSPHRASE
      }
    }
    const { spec, dbName } = await describeAt(m, `${CLOSED}/app`, flavour(m, { ...credentials, ...tlsOptions, ...quick }))
    expect(spec.password).toBe(PASSWORD)
    expect(spec.tlsCaPem).toMatch(/BEGIN CERTIFICATE/)
    expect(spec.tlsCertKeyPem).toMatch(/BEGIN PRIVATE KEY/)
    const key = specKey(spec, dbName)
    expect(key).not.toContain(PASSWORD)
    expect(key).not.toContain(PASSPHRASE)
    expect(key).not.toContain(crypto.createHash('sha256').update(PASSWORD).digest('hex'))
    expect(key).not.toMatch(/BEGIN|PRIVATE|CERTIFICATE|MII/)
    expect(JSON.parse(key)).toMatchObject({ dbName: 'app', spec: { username: 'alice', tls: true } })
    // Stable: the same spec in another key order; different with another password or database.
    const reordered = Object.fromEntries(Object.entries(spec).reverse())
    expect(specKey(reordered, dbName)).toBe(key)
    expect(specKey({ ...spec, password: 'other' }, dbName)).not.toBe(key)
    expect(specKey(spec, 'otherdb')).not.toBe(key)
  })
})

describe.each(MODERN)('%s (mongodb 4.x to 7.x only)', (m) => {
  const quick = { serverSelectionTimeoutMS: 200 }

  test("TLS with no CA named: Node's default CAs go with the spec (NODE_EXTRA_CA_CERTS too)", async () => {
    const tls = require('tls')
    const extra = process.env.NODE_EXTRA_CA_CERTS
    process.env.NODE_EXTRA_CA_CERTS = files['other.pem']
    try {
      const { spec } = await describeAt(m, `${CLOSED}/app`, { tls: true, ...quick })
      const expected = typeof tls.getCACertificates === 'function'
        ? tls.getCACertificates('default')
        : [...tls.rootCertificates, files['other.pem:text'].trim()]
      expect(spec.tlsDefaultCaPem).toBe(expected.join('\n'))
      expect(spec).not.toHaveProperty('tlsCaPem')
      expect(specKey(spec)).not.toContain('BEGIN CERTIFICATE')
      // A CA named, or TLS off: none.
      const named = await describeAt(m, `${CLOSED}/app`, { tls: true, tlsCAFile: files['ca.pem'], ...quick })
      expect(named.spec).not.toHaveProperty('tlsDefaultCaPem')
      const off = await describeAt(m, `${CLOSED}/app`, quick)
      expect(off.spec).not.toHaveProperty('tlsDefaultCaPem')
    } finally {
      if (extra === undefined) delete process.env.NODE_EXTRA_CA_CERTS
      else process.env.NODE_EXTRA_CA_CERTS = extra
    }
  })

  test('SRV: srvHost instead of hosts, TLS on by default', async () => {
    const { spec } = await describeAt(m, 'mongodb+srv://cluster0.example.invalid/app', quick)
    expect(spec).toMatchObject({ srvHost: 'cluster0.example.invalid', srvServiceName: 'mongodb', tls: true })
    expect(spec).not.toHaveProperty('hosts')
    const off = await describeAt(m, 'mongodb+srv://cluster0.example.invalid/app?tls=false', quick)
    expect(off.spec.tls).toBe(false)
  })

  test('proxy, serverApi, compressors and directConnection', async () => {
    const uri = `${CLOSED}/app?compressors=zstd,none,zlib&zlibCompressionLevel=4&directConnection=true`
    const { spec, refused } = await describeAt(m, uri, {
      proxyHost: '127.0.0.1',
      proxyPort: 1080,
      proxyUsername: 'proxy-user',
      proxyPassword: 'proxy-secret',
      serverApi: { version: '1', strict: true, deprecationErrors: false },
      ...quick
    })
    expect(refused).toEqual([])
    expect(spec).toMatchObject({
      proxyHost: '127.0.0.1',
      proxyPort: 1080,
      proxyUsername: 'proxy-user',
      proxyPassword: 'proxy-secret',
      serverApiVersion: '1',
      serverApiStrict: true,
      serverApiDeprecationErrors: false,
      compressors: ['zstd', 'zlib'],
      zlibCompressionLevel: 4,
      directConnection: true
    })
    expect(specKey(spec, 'app')).not.toContain('proxy-secret')
  })

  test('refused: lookup, localAddress, localPort, pskCallback', async () => {
    const cases = [
      [{ lookup: require('dns').lookup }, 'lookup'],
      [{ localAddress: '127.0.0.1' }, 'localAddress'],
      [{ localPort: 40999 }, 'localPort'],
      [{ tls: true, pskCallback: () => null }, 'pskCallback']
    ]
    for (const [option, name] of cases) {
      const { refused } = await describeAt(m, `${CLOSED}/app`, { ...option, ...quick })
      expect(refused).toEqual([name])
    }
  })

  test('mechanism properties: strings kept (and hidden in the key)', async () => {
    const uri = 'mongodb://svc@127.0.0.1:1/app?authMechanism=GSSAPI' +
      '&authMechanismProperties=SERVICE_NAME:mongo,CANONICALIZE_HOST_NAME:true'
    const { spec, refused } = await describeAt(m, uri, quick)
    expect(spec).toMatchObject({ username: 'svc', authSource: '$external', authMechanism: 'GSSAPI' })
    expect(spec.authMechanismProperties).toEqual({ SERVICE_NAME: 'mongo', CANONICALIZE_HOST_NAME: 'true' })
    expect(refused).toEqual(['authMechanism=GSSAPI'])
    expect(specKey(spec, 'app')).not.toContain('"mongo"')
  })
})

describe.each(KEEPS_PATHS)('%s (mongodb 6.x/7.x: paths kept)', (m) => {
  const quick = { serverSelectionTimeoutMS: 200 }

  test('an in-memory ca wins over tlsCAFile, as in the driver', async () => {
    const options = { tls: true, tlsCAFile: files['ca.pem'], ca: fs.readFileSync(files['other.pem']), ...quick }
    const { spec } = await describeAt(m, `${CLOSED}/app`, options)
    expect(spec.tlsCaPem).toBe(files['other.pem:text'])
    expect(spec).not.toHaveProperty('tlsCaFile')
  })

  test('refused: tlsCRLFile', async () => {
    const crlFile = path.join(tmp, 'none.crl')
    fs.writeFileSync(crlFile, '-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n')
    const { refused } = await describeAt(m, `${CLOSED}/app`, { tls: true, tlsCRLFile: crlFile, ...quick })
    expect(refused).toEqual(['tlsCRLFile'])
  })

  test('refused: an OIDC callback; OIDC by ENVIRONMENT is kept', async () => {
    const a = await describeAt(m, `${CLOSED}/app`, {
      authMechanism: 'MONGODB-OIDC',
      authMechanismProperties: { OIDC_CALLBACK: async () => ({ accessToken: 'x' }) },
      ...quick
    })
    expect(a.refused).toEqual(['authMechanismProperties.OIDC_CALLBACK'])
    const uri = 'mongodb://client-id@127.0.0.1:1/app?authMechanism=MONGODB-OIDC' +
      '&authMechanismProperties=ENVIRONMENT:azure,TOKEN_RESOURCE:api%3A%2F%2Fmdl'
    const b = await describeAt(m, uri, quick)
    expect(b.refused).toEqual([])
    expect(b.spec).toMatchObject({
      username: 'client-id',
      authMechanism: 'MONGODB-OIDC',
      authMechanismProperties: { ENVIRONMENT: 'azure', TOKEN_RESOURCE: 'api://mdl' }
    })
  })
})

test('mongoose9: srvHostValidator is refused', async () => {
  const { spec, refused } = await describeAt('mongoose9', 'mongodb+srv://cluster0.example.invalid/app', {
    srvHostValidator: () => true,
    serverSelectionTimeoutMS: 200
  })
  expect(spec.srvHost).toBe('cluster0.example.invalid')
  expect(refused).toEqual(['srvHostValidator'])
})

describe('mongoose 5 with its defaults (mongodb 3.x legacy URL parser and topology)', () => {
  test('socket timeouts in the URI win over the object; the rest of the object wins', async () => {
    const uri = `${uriFor('legacy5')}?connectTimeoutMS=1234&socketTimeoutMS=2345&authSource=fromuri`
    const options = { connectTimeoutMS: 4321, user: 'dave', pass: PASSWORD, authMechanism: 'PLAIN', authSource: 'admin' }
    const { spec } = await describeAt('mongoose5', uri, options)
    expect(spec).toMatchObject({
      connectTimeoutMs: 1234,
      socketTimeoutMs: 2345,
      username: 'dave',
      authSource: 'admin',
      authMechanism: 'PLAIN'
    })
    // The legacy topology talks to its one seed directly.
    expect(spec.directConnection).toBe(true)
  })

  test('tls and tlsCAFile are not understood there: the application runs in plaintext, so does the lock', async () => {
    const { conn } = await connect('mongoose5', uriFor('legacy5'), { tls: true, tlsCAFile: files['ca.pem'] })
    expect(conn.readyState).toBe(1) // the plaintext test server answered
    const { spec, refused } = describeConnection(conn)
    expect(spec.tls).toBe(false)
    expect(refused).toEqual([])
  })

  test('ssl, sslCA, sslValidate: false', async () => {
    const options = { ssl: true, sslCA: fs.readFileSync(files['ca.pem']), sslValidate: false, connectTimeoutMS: 300 }
    const { spec, refused } = await describeAt('mongoose5', `${CLOSED}/app`, options)
    expect(spec).toMatchObject({ tls: true, tlsCaPem: files['ca.pem:text'], tlsAllowInvalidCertificates: true })
    expect(refused).toEqual([])
  })
})

describe('certificate checks, as each driver really does them (a TLS server with a self-signed certificate)', () => {
  let server
  let accepted
  beforeAll(async () => {
    const tls = require('tls')
    server = tls.createServer({ key: files['server.key:text'], cert: files['server.pem:text'] }, (socket) => {
      socket.on('error', () => {})
      // A client that checked the certificate hangs up before sending anything.
      socket.once('data', () => { accepted = true; socket.destroy() })
    })
    server.on('tlsClientError', () => {})
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  })
  afterAll(() => new Promise((resolve) => server.close(resolve)))

  test.each([
    // mongodb-core 2.x and the 3.x legacy topology check certificates only with sslValidate: true.
    ['mongoose4', { useMongoClient: true, ssl: true, connectTimeoutMS: 1000 }, true],
    ['mongoose4', { useMongoClient: true, ssl: true, sslValidate: true, connectTimeoutMS: 1000 }, false],
    ['mongoose4', { server: { ssl: true, socketOptions: { connectTimeoutMS: 1000 } } }, true],
    ['mongoose5', { ssl: true, connectTimeoutMS: 1000 }, true],
    ['mongoose5', { ssl: true, sslValidate: true, connectTimeoutMS: 1000 }, false],
    ['mongoose5', { ssl: true, useUnifiedTopology: true, serverSelectionTimeoutMS: 1000 }, false],
    ['mongoose5', { ssl: true, useNewUrlParser: true, connectTimeoutMS: 1000 }, false],
    ['mongoose6', { tls: true, serverSelectionTimeoutMS: 1000 }, false],
    ['mongoose9', { tls: true, serverSelectionTimeoutMS: 1000 }, false],
    ['mongoose9', { tls: true, tlsAllowInvalidCertificates: true, serverSelectionTimeoutMS: 1000 }, true]
  ])('%s %j: certificates unchecked = %s', async (m, options, unchecked) => {
    accepted = false
    const uri = `mongodb://127.0.0.1:${server.address().port}/app`
    const { conn } = await connect(m, uri, options)
    if (unchecked) await waitFor(() => accepted, { timeoutMs: 5000 })
    expect(accepted).toBe(unchecked)
    const { spec, refused } = describeConnection(conn)
    expect(spec.tls).toBe(true)
    expect(spec.tlsAllowInvalidCertificates).toBe(unchecked)
    expect(refused).toEqual([])
  })
})

describe('mongoose 4 without useMongoClient (the legacy open())', () => {
  test('credentials (as authenticated), database and write concern', async () => {
    const options = { user: 'erin', pass: PASSWORD, auth: { authMechanism: 'PLAIN' }, db: { w: 'majority', wtimeout: 700 } }
    const { conn } = await connect('mongoose4', `${uriFor('legacy4')}?authSource=admin`, options)
    expect(conn.readyState).toBe(1)
    const { spec, dbName, refused } = describeConnection(conn)
    expect(spec).toMatchObject({
      hosts: [SERVER],
      directConnection: true,
      username: 'erin',
      password: PASSWORD,
      authSource: 'admin',
      authMechanism: 'PLAIN',
      tls: false,
      writeConcernW: 'majority',
      writeConcernTimeoutMs: 700
    })
    expect(dbName).toBe('legacy4')
    expect(refused).toEqual([])
  })

  test('server.ssl with an in-memory CA', async () => {
    const server = {
      ssl: true,
      sslCA: [fs.readFileSync(files['ca.pem'])],
      sslValidate: true,
      socketOptions: { connectTimeoutMS: 300 }
    }
    const { spec } = await describeAt('mongoose4', `${CLOSED}/app`, { server })
    expect(spec).toMatchObject({ tls: true, tlsCaPem: files['ca.pem:text'], tlsAllowInvalidCertificates: false, connectTimeoutMs: 300 })
  })

  test('with useMongoClient, socket timeouts in the URI win over the object (mongodb 2.2)', async () => {
    const uri = `${uriFor('legacy4')}?connectTimeoutMS=1234&socketTimeoutMS=2345`
    const { conn } = await connect('mongoose4', uri, { useMongoClient: true, connectTimeoutMS: 4321, socketTimeoutMS: 5432 })
    expect(conn.readyState).toBe(1)
    expect(describeConnection(conn).spec).toMatchObject({ connectTimeoutMs: 1234, socketTimeoutMs: 2345 })
  })
})

test('a connection that never started has nothing to describe', () => {
  for (const m of ['mongoose4', 'mongoose5', 'mongoose6', 'mongoose9']) {
    const conn = require(m).createConnection()
    expect(() => describeConnection(conn)).toThrow(expect.objectContaining({ code: 'ERR_NO_CONNECTION' }))
  }
  expect(() => describeConnection(null)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }))
})
