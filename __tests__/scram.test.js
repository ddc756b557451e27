'use strict'
// SCRAM with real password checks, end to end, for mongoose 6 to 9: an
// application connects with `mongoose.connect(uri, options)` the ways
// applications authenticate (SCRAM-SHA-256 and SCRAM-SHA-1, credentials in the
// uri or in the options object, authSource in either, users created at run
// time with createUser), then uses a Lock with no connection option (or, in a
// few cases, a Lock with its own `uri`). Every case takes and releases a real
// lock, or must fail with a clear Error, quickly, never hang.
//
// The server is FerretDB v1.24.2's own program with its new authentication
// (scripts/ferretdb-auth.js): it verifies SCRAM proofs, refuses every command
// but the handshake before authentication, and ends a SCRAM conversation in
// three round trips (it ignores skipEmptyExchange), like MongoDB before 4.4.
// The `mongodb` crate 3.9.1 gave up after two round trips ("SCRAM failure:
// expected SCRAM authentication to have completed"); the positive cases fail
// without patches/mongodb+3.9.1.patch and pass with it.
//
// Every case runs with DEBUG=mongoose-distributed-lock*; no password (right
// or wrong, plain or URI-encoded) may appear in its output, error messages
// included. Each case is a process of its own (fixtures/matrix-app.js) that
// must exit on its own. A summary table is printed at the end.
const { execFileSync } = require('child_process')
const crypto = require('crypto')
const fs = require('fs')
const path = require('path')
const { MongoClient } = require('mongodb')
const { startFerretDBAuth } = require('../scripts/ferretdb-auth')
const { listPatches } = require('../scripts/patch-crates')
const { runCase, pool, outcome, printTable, verify, lockFails, both, appWorks } = require('./support/app-case')

const VERSIONS = ['mongoose6', 'mongoose7', 'mongoose8', 'mongoose9']
const CONCURRENCY = 4
const EXIT_BOUND_MS = 25000
// The application's (and so the lock's) server-selection timeout in the failing cases.
const SELECTION_MS = 1500
// A failure that comes within this shows the lock used the application's
// serverSelectionTimeoutMS (the driver's own default is 30 s), with room for
// a loaded machine: a bound against a hang, not a speed check.
const FAILS_WITHIN_MS = SELECTION_MS + 5000

/** A password to look for in the output: distinctive, with characters a URI must encode. */
const secret = (label) => `${label}@${crypto.randomBytes(6).toString('hex')}:/%`
const enc = encodeURIComponent

// FerretDB's setup user (in admin), and users created at run time with one
// mechanism each, in a database of their own.
const ROOT = { user: 'root', pass: secret('rootPw'), db: 'admin' }
const SHA256_USER = { user: 'bob256', pass: secret('bob256Pw'), db: 'scram_users', mechanism: 'SCRAM-SHA-256' }
const SHA1_USER = { user: 'bob1', pass: secret('bob1Pw'), db: 'scram_users', mechanism: 'SCRAM-SHA-1' }
const WRONG = secret('wrongPw')
const SECRETS = [ROOT.pass, SHA256_USER.pass, SHA1_USER.pass, WRONG].flatMap((s) => [s, enc(s)])

let server // { host, port, address, uri, stop }
const dbs = Object.fromEntries(VERSIONS.map((m) => [m, `scram_app_${m.slice(-1)}`]))

/** `mongodb://[user:pass@]address/db[?query]`. */
function uri ({ user, pass } = {}, db = '', query = '') {
  const auth = user ? `${enc(user)}:${enc(pass)}@` : ''
  return `mongodb://${auth}${server.address}/${db}${query ? `?${query}` : ''}`
}

/** Where the fixture looks for the lock document: as root, with the raw driver. */
const lookIn = (...names) => ({ uri: uri(ROOT, '', 'authSource=admin'), dbs: names })

// ---------------------------------------------------------------------------
// Checks

/**
 * A case's result (see app-case.js verify), and no password in anything the
 * process printed: results, errors, the debug log.
 */
function verifyCase (r, check) {
  verify(r, (out) => {
    check(out)
    const printed = r.stdout + r.stderr
    for (const s of SECRETS) expect(printed.includes(s) ? `the output contains a password (${s.split('@')[0]})` : 'no password').toBe('no password')
    // The debug log was on (the check above looked at something), unless the
    // lock never got as far as making a client.
    if (out.lock.error?.code !== 'ERR_NO_CONNECTION') expect(r.stderr).toMatch(/mongoose-distributed-lock store for/)
  }, { exitBoundMs: EXIT_BOUND_MS })
}

/** The app connected and queried; the lock took the lock in `db` (only there) and released it. */
const works = (db) => (out) => {
  expect(out.app.error).toBeUndefined()
  expect(out.app.connected).toBe(true)
  expect(out.app.query).toBe('ok')
  expect(out.lock.error).toBeUndefined()
  expect(out.lock).toMatchObject({ acquired: true, released: false })
  expect(out.lock.stored).toEqual([{ db, id: true }])
  expect(out.lock.releaseError).toBeUndefined()
  expect(out.disconnected).toBe(true)
}

// ---------------------------------------------------------------------------
// Cases: { id, label, build(m) -> fixture case, check(m) -> (out) => void }

const CASES = [
  {
    id: 'sha256-uri',
    label: '1 SCRAM-SHA-256, credentials + authSource + authMechanism in the uri',
    build: (m) => ({ uri: uri(ROOT, dbs[m], 'authSource=admin&authMechanism=SCRAM-SHA-256'), options: {} }),
    check: (m) => works(dbs[m])
  },
  {
    id: 'sha1-uri',
    label: '1 SCRAM-SHA-1, credentials + authSource + authMechanism in the uri',
    build: (m) => ({ uri: uri(ROOT, dbs[m], 'authSource=admin&authMechanism=SCRAM-SHA-1'), options: {} }),
    check: (m) => works(dbs[m])
  },
  {
    id: 'sha256-user-pass',
    label: '2 SCRAM-SHA-256, user + pass + authSource in the object',
    build: (m) => ({ uri: uri({}, dbs[m]), options: { user: ROOT.user, pass: ROOT.pass, authSource: 'admin', authMechanism: 'SCRAM-SHA-256' } }),
    check: (m) => works(dbs[m])
  },
  {
    id: 'sha1-auth-object',
    label: '2 SCRAM-SHA-1, auth: { username, password } + authSource in the object',
    build: (m) => ({ uri: uri({}, dbs[m]), options: { auth: { username: ROOT.user, password: ROOT.pass }, authSource: 'admin', authMechanism: 'SCRAM-SHA-1' } }),
    check: (m) => works(dbs[m])
  },
  {
    id: 'uri-credentials-object-source',
    label: '3 credentials in the uri, authSource in the object, mechanism negotiated',
    build: (m) => ({ uri: uri(ROOT, dbs[m]), options: { authSource: 'admin' } }),
    check: (m) => works(dbs[m])
  },
  {
    id: 'runtime-sha256',
    label: '4 user made by createUser (SCRAM-SHA-256 only), uri, authSource in the uri',
    build: (m) => ({ uri: uri(SHA256_USER, dbs[m], `authSource=${SHA256_USER.db}&authMechanism=SCRAM-SHA-256`), options: {} }),
    check: (m) => works(dbs[m])
  },
  {
    id: 'runtime-sha1',
    label: '4 user made by createUser (SCRAM-SHA-1 only), object, authSource in the object',
    build: (m) => ({
      uri: uri({}, dbs[m]),
      options: { auth: { username: SHA1_USER.user, password: SHA1_USER.pass }, authSource: SHA1_USER.db, authMechanism: 'SCRAM-SHA-1' }
    }),
    check: (m) => works(dbs[m])
  },
  {
    id: 'runtime-source-from-path',
    label: "4 user made by createUser, the uri's database as authSource, dbName elsewhere",
    build: (m) => ({ uri: uri(SHA256_USER, SHA256_USER.db, 'authMechanism=SCRAM-SHA-256'), options: { dbName: dbs[m] } }),
    check: (m) => works(dbs[m])
  },
  {
    id: 'wrong-password-lock-uri',
    label: '5 lock uri with a wrong password (app fine)',
    build: (m) => ({
      scenario: 'lock-uri',
      uri: uri(ROOT, dbs[m], 'authSource=admin'),
      options: {},
      lockUri: uri({ user: ROOT.user, pass: WRONG }, dbs[m], `authSource=admin&serverSelectionTimeoutMS=${SELECTION_MS}`)
    }),
    check: () => both(appWorks, lockFails({ message: /authentication failed/i, ms: FAILS_WITHIN_MS }))
  },
  {
    id: 'wrong-password-app',
    label: "5 app with a wrong password: the lock's Error, not a hang",
    build: (m) => ({
      scenario: 'app-fails',
      uri: uri({ user: ROOT.user, pass: WRONG }, dbs[m], 'authSource=admin'),
      options: { serverSelectionTimeoutMS: SELECTION_MS }
    }),
    // The lock has no connection to use: it says so, with mongoose's reason.
    check: () => (out) => {
      expect(out.app.connected).toBe(false)
      expect(out.app.error.message).toMatch(/authentication failed/i)
      lockFails({ message: /^no_connection: .*authentication failed/i, ms: FAILS_WITHIN_MS })(out)
      expect(out.lock.error.code).toBe('ERR_NO_CONNECTION')
    }
  },
  {
    id: 'no-credentials-app',
    label: "6 app without credentials: the lock's Error, not a hang",
    build: (m) => ({ uri: uri({}, dbs[m]), options: { serverSelectionTimeoutMS: SELECTION_MS } }),
    check: () => (out) => {
      // mongoose connects (the handshake needs no authentication); its first query is refused.
      expect(out.app.connected).toBe(true)
      expect(out.app.query.message).toMatch(/requires authentication/)
      lockFails({ message: /requires authentication/, ms: FAILS_WITHIN_MS })(out)
    }
  },
  {
    id: 'no-credentials-lock-uri',
    label: '6 lock uri without credentials (app fine)',
    build: (m) => ({
      scenario: 'lock-uri',
      uri: uri(ROOT, dbs[m], 'authSource=admin'),
      options: {},
      lockUri: uri({}, dbs[m], `serverSelectionTimeoutMS=${SELECTION_MS}`)
    }),
    check: () => both(appWorks, lockFails({ message: /requires authentication/, ms: FAILS_WITHIN_MS }))
  }
]

// ---------------------------------------------------------------------------

const results = new Map() // `${m} ${id}` -> Promise of a case's result
const table = new Map(CASES.map((c) => [c.label, {}])) // label -> { m: cell }

beforeAll(async () => {
  server = await startFerretDBAuth({ username: ROOT.user, password: ROOT.pass })
  // Users created at run time, one mechanism each (the top-level driver, as root).
  const admin = new MongoClient(uri(ROOT, '', 'authSource=admin'), { serverSelectionTimeoutMS: 10000 })
  try {
    for (const u of [SHA256_USER, SHA1_USER]) {
      await admin.db(u.db).command({ createUser: u.user, pwd: u.pass, roles: [], mechanisms: [u.mechanism] })
    }
  } finally {
    await admin.close()
  }

  const jobs = []
  const keys = []
  for (const m of VERSIONS) { // in the order of the tests below
    for (const c of CASES) {
      const spec = { scenario: 'discover', name: `scram-${m}-${c.id}`, appQuery: true, check: lookIn(dbs[m], 'test', 'admin', SHA256_USER.db), ...c.build(m) }
      keys.push(`${m} ${c.id}`)
      jobs.push(() => runCase(m, spec, { exitBoundMs: EXIT_BOUND_MS, env: { DEBUG: 'mongoose-distributed-lock*' } }))
    }
  }
  pool(jobs, CONCURRENCY).forEach((promise, i) => results.set(keys[i], promise))
}, 120000)

afterAll(async () => {
  // Let every case process end before the server goes.
  await Promise.all(results.values())
  const rows = [...table].map(([label, cells]) => [label, ...VERSIONS.map((m) => cells[m] || '-')])
  printTable('SCRAM matrix (FerretDB v1.24.2, new auth): ok = acquired and released; otherwise the lock\'s error code; ✗ = the case failed',
    ['case', ...VERSIONS.map((m) => m.replace('mongoose', 'mongoose '))], rows)
  if (server) await server.stop()
}, 120000)

describe.each(VERSIONS)('%s: SCRAM, mongoose.connect(uri, options), then Lock(name)', (m) => {
  test.each(CASES.map((c) => [c.label, c]))('%s', async (_, c) => {
    const r = await results.get(`${m} ${c.id}`)
    const cells = table.get(c.label)
    cells[m] = `✗ ${outcome(r)}`
    verifyCase(r, c.check(m))
    cells[m] = outcome(r)
  }, EXIT_BOUND_MS * 3)
})

describe('the patched driver', () => {
  // If Cargo stopped using the patched copy (a version bump that the patch
  // no longer matches, say), it would only warn "patch was not used" and
  // build the published crate: this says so at once.
  test('Cargo builds mongodb from patches/generated, made from the current patch', () => {
    const patches = listPatches()
    expect(patches.map((p) => p.crate)).toContain('mongodb')
    const metadata = JSON.parse(execFileSync('cargo', ['metadata', '--format-version', '1'], {
      cwd: path.join(__dirname, '..'),
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 << 20
    }))
    for (const p of patches) {
      const used = metadata.packages.filter((pkg) => pkg.name === p.crate)
      expect(used.map((pkg) => [pkg.version, pkg.source, path.dirname(pkg.manifest_path)])).toEqual([[p.version, null, p.dest]])
      expect(fs.readFileSync(path.join(p.dest, '.mdl-patched'), 'utf8').trim()).toBe(p.digest)
    }
  })
})
