'use strict'
// The connection matrix, end to end: for each mongoose (4.13 to 9) an
// application connects with `mongoose.connect(uri, options)` its own way (TLS
// with the CA in the object or the string, mutual TLS with a plain or an
// encrypted key or an X.509 v1 client certificate, an in-memory CA, a server
// chain through an intermediate CA, tlsAllowInvalidHostnames, tlsInsecure,
// PLAIN authentication in each of mongoose's spellings, dbName, a replica set
// the server does not have), then uses a Lock with no connection option, which
// must connect exactly as that connection does: the lock document lands in
// the app's database (read back with a raw driver), or the lock fails clearly
// and fast. A few cases give the lock its own `uri` instead. Every case runs
// in a process of its own (fixtures/matrix-app.js) that must exit on its own.
//
// Servers: the shared test server (plain) and five FerretDBs started here:
// server-only TLS, mutual TLS, TLS with a certificate for the wrong name, and
// two presenting a leaf and an intermediate CA certificate, the leaf an X.509
// v3 one (SAN) or a v1 one for CN=localhost (each keeps its plain port,
// which the raw driver uses to look at documents).
// The embedded FerretDB accepts only the PLAIN mechanism: credentials that
// lose `authMechanism: 'PLAIN'` negotiate SCRAM and are refused, so a lock
// that works proves the mechanism was carried.
//
// A summary table (cases x mongoose versions) is printed at the end.
const fs = require('fs')
const { MongoClient } = require('mongodb')
const { startFerretDB } = require('../scripts/ferretdb')
const { makeCerts } = require('./support/certs')
const { BASE_URI, freshDb } = require('./support/helpers')
const { runCase: runApp, pool, outcome, printTable: printCases, verify, lockFails, both, appWorks } = require('./support/app-case')

const MODERN = ['mongoose6', 'mongoose7', 'mongoose8', 'mongoose9']
const OLD = ['mongoose4', 'mongoose5']
const VERSIONS = [...OLD, ...MODERN]
// Cases run in processes of their own, this many at once (2 cores here).
const CONCURRENCY = 4
// A case process that has not exited by then is killed, and its case fails.
const EXIT_BOUND_MS = 25000
const SELECTION_MS = 1500
// A failure that comes within this shows the lock used the application's
// serverSelectionTimeoutMS (the driver's own default is 30 s), with room for
// a loaded machine: a bound against a hang, not a speed check.
const FAILS_WITHIN_MS = SELECTION_MS + 5000

const certs = makeCerts()
const servers = {} // plain (shared), auth (takes PLAIN), tls, mtls, wrong, chain, chainV1: { uri, tlsUri }
const started = [] // FerretDBs started here
const dbs = Object.fromEntries(VERSIONS.map((m) => [m, freshDb(`matrix_${m.slice(-1)}`)]))
const dbNameDbs = Object.fromEntries(MODERN.map((m) => [m, `${dbs[m]}_dbname`]))

/** `mongodb://host:port/<db>[?query]` from a server's URI (its own query dropped). */
function at (serverUri, db, query) {
  const m = /^(mongodb:\/\/[^/?]+)/.exec(serverUri)
  if (!m) throw new Error(`cannot parse ${serverUri}`)
  return `${m[1]}/${db}${query ? `?${query}` : ''}`
}

const fileBuffer = (file) => ({ $readFile: file }) // a Buffer in the fixture

// ---------------------------------------------------------------------------
// Checks

/** The app connected; the lock took the lock in `db` (and only there), released it in time. */
const works = (db) => (out) => {
  expect(out.app.error).toBeUndefined()
  expect(out.app.connected).toBe(true)
  expect(out.lock.error).toBeUndefined()
  expect(out.lock).toMatchObject({ acquired: true, released: false })
  expect(out.lock.stored).toEqual([{ db, id: true }])
  expect(out.disconnected).toBe(true)
}

// ---------------------------------------------------------------------------
// Cases: { id, label, versions, build(m) -> fixture case, check(m) -> (out) => void }

const tlsOn = (server, m, query) => at(servers[server].tlsUri, dbs[m], query)
const plainAt = (server, m) => at(servers[server].uri, dbs[m])
const lookIn = (server, ...names) => ({ uri: servers[server].uri, dbs: names })

const CASES = [
  // 1-9: mongoose 6 to 9 (mongodb 4.x to 7.x)
  {
    id: 'tls-ca-object',
    label: '1 TLS, tls + tlsCAFile in the object',
    versions: MODERN,
    build: (m) => ({ uri: tlsOn('tls', m), options: { tls: true, tlsCAFile: certs.ca }, appQuery: true, check: lookIn('tls', dbs[m], 'test') }),
    check: (m) => works(dbs[m])
  },
  {
    id: 'tls-string',
    label: '2 TLS, tls=true in the string, tlsCAFile in the object',
    versions: MODERN,
    build: (m) => ({ uri: tlsOn('tls', m, 'tls=true'), options: { tlsCAFile: certs.ca }, appQuery: true, check: lookIn('tls', dbs[m], 'test') }),
    check: (m) => works(dbs[m])
  },
  {
    id: 'mtls-pem',
    label: '3 mutual TLS, tlsCertificateKeyFile',
    versions: MODERN,
    build: (m) => ({
      uri: tlsOn('mtls', m),
      options: { tls: true, tlsCAFile: certs.ca, tlsCertificateKeyFile: certs.clientPem },
      appQuery: true,
      check: lookIn('mtls', dbs[m], 'test')
    }),
    check: (m) => works(dbs[m])
  },
  {
    id: 'mtls-enc-pem',
    label: '3 mutual TLS, encrypted key + tlsCertificateKeyFilePassword',
    versions: MODERN,
    build: (m) => ({
      uri: tlsOn('mtls', m),
      options: { tls: true, tlsCAFile: certs.ca, tlsCertificateKeyFile: certs.clientEncPem, tlsCertificateKeyFilePassword: certs.passphrase },
      appQuery: true,
      check: lookIn('mtls', dbs[m], 'test')
    }),
    check: (m) => works(dbs[m])
  },
  {
    id: 'tls-ca-memory',
    label: '4 TLS, in-memory CA (ca: Buffer)',
    versions: MODERN,
    build: (m) => ({ uri: tlsOn('tls', m), options: { tls: true, ca: fileBuffer(certs.ca) }, appQuery: true, check: lookIn('tls', dbs[m], 'test') }),
    check: (m) => works(dbs[m])
  },
  {
    id: 'mtls-memory',
    label: '4 mutual TLS, in-memory ca, cert and key (Buffers)',
    versions: MODERN,
    build: (m) => ({
      uri: tlsOn('mtls', m),
      options: { tls: true, ca: fileBuffer(certs.ca), cert: fileBuffer(certs.clientCert), key: fileBuffer(certs.clientKey) },
      appQuery: true,
      check: lookIn('mtls', dbs[m], 'test')
    }),
    check: (m) => works(dbs[m])
  },
  {
    id: 'uri-wrong-ca',
    label: '5 lock uri: TLS with a wrong CA (app fine)',
    versions: MODERN,
    build: (m) => ({
      scenario: 'lock-uri',
      uri: tlsOn('tls', m),
      options: { tls: true, tlsCAFile: certs.ca },
      lockUri: `${tlsOn('tls', m, 'tls=true')}&tlsCAFile=${certs.otherCa}&serverSelectionTimeoutMS=${SELECTION_MS}`,
      check: lookIn('tls', dbs[m], 'test')
    }),
    check: () => both(appWorks, lockFails({
      code: expect.stringMatching(/^ERR_/),
      message: /certificate|tls|server selection/i,
      ms: FAILS_WITHIN_MS
    }))
  },
  {
    id: 'uri-tls-to-plain-port',
    label: '5 lock uri: tls=true to a plain port (no plaintext fallback)',
    versions: MODERN,
    build: (m) => ({
      scenario: 'lock-uri',
      uri: tlsOn('tls', m),
      options: { tls: true, tlsCAFile: certs.ca },
      lockUri: `${plainAt('tls', m)}?tls=true&tlsCAFile=${certs.ca}&serverSelectionTimeoutMS=${SELECTION_MS}`,
      check: lookIn('tls', dbs[m], 'test')
    }),
    check: () => both(appWorks, lockFails({
      code: expect.stringMatching(/^ERR_/),
      message: /certificate|tls|handshake|server selection/i,
      ms: FAILS_WITHIN_MS
    }))
  },
  {
    id: 'invalid-hostnames',
    label: '6 wrong-name server, tlsAllowInvalidHostnames',
    versions: MODERN,
    build: (m) => ({
      uri: tlsOn('wrong', m),
      options: { tls: true, tlsCAFile: certs.ca, tlsAllowInvalidHostnames: true },
      appQuery: true,
      check: lookIn('wrong', dbs[m], 'test')
    }),
    check: (m) => works(dbs[m])
  },
  {
    id: 'wrong-name',
    label: '6 control: wrong-name server, no tlsAllowInvalidHostnames (app and lock refuse)',
    versions: MODERN,
    build: (m) => ({
      scenario: 'app-fails',
      uri: tlsOn('wrong', m),
      options: { tls: true, tlsCAFile: certs.ca, serverSelectionTimeoutMS: SELECTION_MS },
      check: lookIn('wrong', dbs[m], 'test')
    }),
    check: () => (out) => {
      expect(out.app.connected).toBe(false)
      expect(JSON.stringify(out.app.error)).toMatch(/altnames|hostname|wrong\.example|IP/i)
      expect(out.lock.acquired).toBeUndefined()
      expect(out.lock.stored).toEqual([])
      expect(out.lock.error.code).toEqual(expect.stringMatching(/^ERR_/))
    }
  },
  {
    id: 'uri-invalid-hostnames',
    label: '6 lock uri: wrong-name server, tlsAllowInvalidHostnames=true in the uri',
    versions: MODERN,
    build: (m) => ({
      scenario: 'lock-uri',
      uri: tlsOn('wrong', m),
      options: { tls: true, tlsCAFile: certs.ca, tlsAllowInvalidHostnames: true },
      lockUri: `${tlsOn('wrong', m, 'tls=true')}&tlsCAFile=${certs.ca}&tlsAllowInvalidHostnames=true`,
      check: lookIn('wrong', dbs[m], 'test')
    }),
    check: (m) => works(dbs[m])
  },
  {
    id: 'uri-wrong-name',
    label: '6 lock uri: wrong-name server, hostnames checked (refused)',
    versions: MODERN,
    build: (m) => ({
      scenario: 'lock-uri',
      uri: tlsOn('wrong', m),
      options: { tls: true, tlsCAFile: certs.ca, tlsAllowInvalidHostnames: true },
      lockUri: `${tlsOn('wrong', m, 'tls=true')}&tlsCAFile=${certs.ca}&serverSelectionTimeoutMS=${SELECTION_MS}`,
      check: lookIn('wrong', dbs[m], 'test')
    }),
    check: () => both(appWorks, lockFails({
      code: expect.stringMatching(/^ERR_/),
      message: /certificate|hostname|tls|server selection/i,
      ms: FAILS_WITHIN_MS
    }))
  },
  {
    id: 'tls-insecure',
    label: '6 wrong-name server, tlsInsecure',
    versions: MODERN,
    build: (m) => ({
      uri: tlsOn('wrong', m),
      options: { tls: true, tlsCAFile: certs.ca, tlsInsecure: true },
      appQuery: true,
      check: lookIn('wrong', dbs[m], 'test')
    }),
    check: (m) => works(dbs[m])
  },
  {
    id: 'mtls-v1-client',
    label: '10 mutual TLS, X.509 v1 client certificate (no extensions)',
    versions: MODERN,
    build: (m) => ({
      uri: tlsOn('mtls', m),
      options: { tls: true, tlsCAFile: certs.ca, tlsCertificateKeyFile: certs.clientV1Pem },
      appQuery: true,
      check: lookIn('mtls', dbs[m], 'test')
    }),
    check: (m) => works(dbs[m])
  },
  {
    id: 'tls-intermediate',
    label: '10 TLS, server chain leaf + intermediate, client trusts the root only',
    versions: MODERN,
    build: (m) => ({
      uri: tlsOn('chain', m),
      options: { tls: true, tlsCAFile: certs.ca },
      appQuery: true,
      check: lookIn('chain', dbs[m], 'test')
    }),
    check: (m) => works(dbs[m])
  },
  {
    id: 'tls-intermediate-v1-leaf',
    label: '10 TLS to localhost, server chain v1 leaf (CN only) + intermediate',
    versions: MODERN,
    build: (m) => ({
      uri: tlsOn('chainV1', m).replace('//127.0.0.1:', '//localhost:'),
      options: { tls: true, tlsCAFile: certs.ca, serverSelectionTimeoutMS: SELECTION_MS },
      appQuery: true,
      check: lookIn('chainV1', dbs[m], 'test')
    }),
    check: (m) => works(dbs[m])
  },
  {
    id: 'ca-replaces-defaults',
    label: "10 lock uri: a CA file replaces the default CAs (OpenSSL's default store has the server's CA)",
    versions: MODERN,
    build: (m) => ({
      scenario: 'lock-uri',
      uri: tlsOn('tls', m),
      options: { tls: true, tlsCAFile: certs.ca },
      lockUri: `${tlsOn('tls', m, 'tls=true')}&tlsCAFile=${certs.otherCa}&serverSelectionTimeoutMS=${SELECTION_MS}`,
      // OpenSSL's default store (SSL_CERT_FILE) holds the CA that signed the
      // server: trusting it besides the named CA would accept what Node
      // refuses (patches/mongodb+3.9.1.patch, second change).
      env: { SSL_CERT_FILE: certs.ca },
      check: lookIn('tls', dbs[m], 'test')
    }),
    check: () => both(appWorks, lockFails({
      code: expect.stringMatching(/^ERR_/),
      message: /certificate|tls|server selection/i,
      ms: FAILS_WITHIN_MS
    }))
  },
  {
    id: 'plain-user-pass',
    label: '7 PLAIN, user + pass (mongoose)',
    versions: MODERN,
    build: (m) => ({
      uri: plainAt('auth', m),
      options: { authMechanism: 'PLAIN', user: 'alice', pass: 'pw' },
      appQuery: true,
      check: lookIn('auth', dbs[m], 'test')
    }),
    check: (m) => works(dbs[m])
  },
  {
    id: 'plain-auth-object',
    label: '7 PLAIN, auth: { username, password }',
    versions: MODERN,
    build: (m) => ({
      uri: plainAt('auth', m),
      options: { authMechanism: 'PLAIN', auth: { username: 'alice', password: 'pw' } },
      appQuery: true,
      check: lookIn('auth', dbs[m], 'test')
    }),
    check: (m) => works(dbs[m])
  },
  {
    id: 'plain-external',
    label: '7 PLAIN, authSource $external + auth',
    versions: MODERN,
    build: (m) => ({
      uri: plainAt('auth', m),
      options: { authMechanism: 'PLAIN', authSource: '$external', auth: { username: 'alice', password: 'pw' } },
      appQuery: true,
      check: lookIn('auth', dbs[m], 'test')
    }),
    check: (m) => works(dbs[m])
  },
  {
    id: 'plain-uri-credentials',
    label: '7 PLAIN, credentials in the URI, mechanism in the object',
    versions: MODERN,
    build: (m) => ({
      uri: plainAt('auth', m).replace('mongodb://', 'mongodb://alice:pw@'),
      options: { authMechanism: 'PLAIN' },
      appQuery: true,
      check: lookIn('auth', dbs[m], 'test')
    }),
    check: (m) => works(dbs[m])
  },
  {
    id: 'no-mechanism',
    label: '7 control: user + pass, no mechanism (SCRAM refused)',
    versions: MODERN,
    build: (m) => ({
      scenario: 'app-fails',
      uri: plainAt('auth', m),
      options: { user: 'alice', pass: 'pw', serverSelectionTimeoutMS: SELECTION_MS },
      check: lookIn('auth', dbs[m], 'test')
    }),
    // The server refuses SCRAM: this is what the PLAIN cases would run into.
    check: () => (out) => {
      expect(out.app.connected).toBe(false)
      expect(out.app.error.message).toMatch(/SCRAM/)
      expect(out.lock.acquired).toBeUndefined()
      expect(out.lock.stored).toEqual([])
      // A stable code: an ERR_ one, or the server's number (README, "Errors").
      expect(out.lock.error.code).toEqual(typeof out.lock.error.code === 'number' ? expect.any(Number) : expect.stringMatching(/^ERR_/))
    }
  },
  {
    id: 'db-name',
    label: '8 dbName in the object',
    versions: MODERN,
    build: (m) => ({
      uri: plainAt('plain', m),
      options: { dbName: dbNameDbs[m] },
      appQuery: true,
      check: lookIn('plain', dbs[m], dbNameDbs[m], 'test')
    }),
    check: (m) => works(dbNameDbs[m])
  },
  {
    id: 'uri-replica-set',
    label: '9 lock uri: replicaSet the server does not have',
    versions: MODERN,
    build: (m) => ({
      scenario: 'lock-uri',
      uri: plainAt('plain', m),
      options: {},
      lockUri: `${plainAt('plain', m)}?replicaSet=nope&serverSelectionTimeoutMS=${SELECTION_MS}`,
      check: lookIn('plain', dbs[m], 'test')
    }),
    check: () => both(appWorks, lockFails({ code: 'ERR_MONGODB_NETWORK', message: /server selection|replica ?set|nope/i, ms: FAILS_WITHIN_MS }))
  },
  {
    id: 'discover-replica-set',
    label: '9 app connect with replicaSet the server does not have',
    versions: MODERN,
    build: (m) => ({
      scenario: 'app-fails',
      uri: plainAt('plain', m),
      options: { replicaSet: 'nope', serverSelectionTimeoutMS: SELECTION_MS },
      check: lookIn('plain', dbs[m], 'test')
    }),
    check: () => (out) => {
      expect(out.app.connected).toBe(false)
      expect(out.app.error.message).toMatch(/server selection|replica ?set|nope|timed out/i)
      // The lock never gets a connection: an Error with a stable code
      // (README: "Every Error has a stable code"), not a hang; nothing stored.
      expect(out.lock.acquired).toBeUndefined()
      expect(out.lock.stored).toEqual([])
      expect(out.lock.error).toEqual(expect.objectContaining({ message: expect.any(String) }))
      expect(out.lock.error.code).toEqual(expect.stringMatching(/^ERR_/))
    }
  },
  {
    id: 'discover-replica-set-quiet',
    label: "9 the same, no 'error' listener, bufferTimeoutMS 2000",
    versions: MODERN,
    build: (m) => ({
      scenario: 'app-fails',
      uri: plainAt('plain', m),
      options: { replicaSet: 'nope', serverSelectionTimeoutMS: SELECTION_MS },
      errorListener: false,
      bufferTimeoutMS: 2000,
      check: lookIn('plain', dbs[m], 'test')
    }),
    // The lock waits as mongoose buffers its own commands, then gives up.
    check: () => (out) => {
      expect(out.app.connected).toBe(false)
      expect(out.lock.acquired).toBeUndefined()
      expect(out.lock.stored).toEqual([])
      expect(out.lock.error).toMatchObject({ code: 'ERR_NO_CONNECTION', message: expect.stringMatching(/^no_connection: /) })
      expect(out.lock.error.ms).toBeGreaterThanOrEqual(1900)
      expect(out.lock.error.ms).toBeLessThan(4000)
    }
  },

  // mongoose 4.13 (mongodb 2.2) and 5.13 (mongodb 3.7), each its own way
  {
    id: 'old-plain',
    label: 'old: plain connect, default options',
    versions: OLD,
    build: (m) => ({ uri: plainAt('plain', m), options: {}, appQuery: m !== 'mongoose4', check: lookIn('plain', dbs[m], 'test') }),
    check: (m) => works(dbs[m])
  },
  {
    id: 'old-plain-modern-flags',
    label: 'old: plain connect, useMongoClient / useNewUrlParser+useUnifiedTopology',
    versions: OLD,
    build: (m) => ({
      uri: plainAt('plain', m),
      options: m === 'mongoose4' ? { useMongoClient: true } : { useNewUrlParser: true, useUnifiedTopology: true },
      appQuery: m !== 'mongoose4',
      check: lookIn('plain', dbs[m], 'test')
    }),
    check: (m) => works(dbs[m])
  },
  {
    id: 'old-plain-auth',
    label: 'old: PLAIN, user + pass (4: auth.authMechanism, 5: authMechanism)',
    versions: OLD,
    build: (m) => ({
      uri: plainAt('auth', m),
      options: m === 'mongoose4'
        ? { user: 'alice', pass: 'pw', auth: { authMechanism: 'PLAIN' } }
        : { user: 'alice', pass: 'pw', authMechanism: 'PLAIN', useNewUrlParser: true, useUnifiedTopology: true },
      appQuery: m !== 'mongoose4',
      check: lookIn('auth', dbs[m], 'test')
    }),
    check: (m) => works(dbs[m])
  },
  {
    id: 'old-plain-auth-other',
    label: 'old: PLAIN, other way (4: useMongoClient, 5: legacy topology)',
    versions: OLD,
    build: (m) => ({
      uri: plainAt('auth', m),
      options: m === 'mongoose4'
        ? { useMongoClient: true, user: 'alice', pass: 'pw', auth: { authMechanism: 'PLAIN' } }
        : { user: 'alice', pass: 'pw', authMechanism: 'PLAIN' },
      appQuery: m !== 'mongoose4',
      check: lookIn('auth', dbs[m], 'test')
    }),
    check: (m) => works(dbs[m])
  },
  {
    id: 'old-tls',
    label: 'old: TLS with CA (4: server.ssl/sslCA/sslValidate, 5: tls+tlsCAFile unified)',
    versions: OLD,
    build: (m) => ({
      uri: tlsOn('tls', m),
      options: m === 'mongoose4'
        ? { server: { ssl: true, sslCA: [fileBuffer(certs.ca)], sslValidate: true } }
        : { useNewUrlParser: true, useUnifiedTopology: true, tls: true, tlsCAFile: certs.ca },
      appQuery: m !== 'mongoose4',
      check: lookIn('tls', dbs[m], 'test')
    }),
    check: (m) => works(dbs[m])
  },
  {
    id: 'old-tls-other',
    label: 'old: TLS with CA (4: useMongoClient ssl/sslCA/sslValidate, 5: legacy ssl/sslCA/sslValidate)',
    versions: OLD,
    build: (m) => ({
      uri: tlsOn('tls', m),
      options: m === 'mongoose4'
        ? { useMongoClient: true, ssl: true, sslCA: [fileBuffer(certs.ca)], sslValidate: true }
        : { ssl: true, sslCA: [fileBuffer(certs.ca)], sslValidate: true },
      appQuery: m !== 'mongoose4',
      check: lookIn('tls', dbs[m], 'test')
    }),
    check: (m) => works(dbs[m])
  },
  {
    id: 'old-tls-unchecked',
    label: 'old: TLS, wrong CA, no sslValidate (driver checks nothing)',
    versions: OLD,
    build: (m) => ({
      uri: tlsOn('tls', m),
      options: m === 'mongoose4'
        ? { useMongoClient: true, ssl: true, sslCA: [fileBuffer(certs.otherCa)] }
        : { ssl: true, sslCA: [fileBuffer(certs.otherCa)] },
      appQuery: m !== 'mongoose4',
      check: lookIn('tls', dbs[m], 'test')
    }),
    // The old drivers do not check the server's certificate without
    // sslValidate: the app connects, and the lock, connecting exactly as the
    // app does, connects too (TLS, certificate unchecked).
    check: (m) => works(dbs[m])
  }
]

// ---------------------------------------------------------------------------
// Running the cases: a pool of processes, each case's promise awaited by its test

const runCase = (m, { env, ...spec }) => runApp(m, spec, { exitBoundMs: EXIT_BOUND_MS, env })

// ---------------------------------------------------------------------------
// The summary table

const casesOf = (m) => CASES.filter((c) => c.versions.includes(m))
const table = new Map(CASES.map((c) => [c.label, {}])) // label -> { m: cell }

function printTable () {
  const rows = [...table].map(([label, cells]) => [label, ...VERSIONS.map((m) => cells[m] || '-')])
  printCases('connection matrix: ok = acquired and released; otherwise the lock\'s error code; ✗ = the case failed',
    ['case', ...VERSIONS.map((m) => m.replace('mongoose', 'mongoose '))], rows)
}

// ---------------------------------------------------------------------------

const results = new Map() // `${m} ${id}` -> Promise of a case's result

beforeAll(async () => {
  const starting = await Promise.allSettled([
    startFerretDB({ tls: { cert: certs.serverCert, key: certs.serverKey } }),
    startFerretDB({ tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca } }),
    startFerretDB({ tls: { cert: certs.wrongCert, key: certs.wrongKey } }),
    startFerretDB({ tls: { cert: certs.chainCert, key: certs.chainKey } }),
    startFerretDB({ tls: { cert: certs.chainV1Cert, key: certs.chainV1Key } })
  ])
  for (const s of starting) if (s.status === 'fulfilled') started.push(s.value)
  const failed = starting.find((s) => s.status === 'rejected')
  if (failed) throw failed.reason
  const [tls, mtls, wrong, chain, chainV1] = started
  Object.assign(servers, { tls, mtls, wrong, chain, chainV1, plain: { uri: BASE_URI } })
  // PLAIN with any password is the embedded FerretDB's; with another server
  // (MONGODB_URI) the auth cases use the FerretDB started here.
  servers.auth = process.env.TEST_SERVER === 'ferretdb' ? servers.plain : { uri: tls.uri }

  const jobs = []
  const keys = []
  for (const m of VERSIONS) { // in the order of the tests below
    for (const c of casesOf(m)) {
      const spec = { scenario: 'discover', name: `matrix-${m}-${c.id}`, ...c.build(m) }
      keys.push(`${m} ${c.id}`)
      jobs.push(() => runCase(m, spec))
    }
  }
  pool(jobs, CONCURRENCY).forEach((promise, i) => results.set(keys[i], promise))
}, 60000)

afterAll(async () => {
  // Let every case process end before the servers go.
  await Promise.all(results.values())
  printTable()
  const client = new MongoClient(BASE_URI)
  try {
    await client.connect()
    for (const name of [...Object.values(dbs), ...Object.values(dbNameDbs)]) await client.db(name).dropDatabase()
  } finally {
    await client.close()
    await Promise.all(started.map(async (server) => {
      await server.stop()
      fs.rmSync(server.dataDir, { recursive: true, force: true })
    }))
  }
}, 120000)

describe.each(VERSIONS)('%s: mongoose.connect(uri, options), then Lock(name)', (m) => {
  test.each(casesOf(m).map((c) => [c.label, c]))('%s', async (_, c) => {
    const r = await results.get(`${m} ${c.id}`)
    const cells = table.get(c.label)
    cells[m] = `✗ ${outcome(r)}`
    verify(r, c.check(m), { exitBoundMs: EXIT_BOUND_MS })
    cells[m] = outcome(r)
  }, EXIT_BOUND_MS * 3)
})
