'use strict'
// A client key in the lock's own connection string (its `uri` option or
// MONGODB_URI): an encrypted key works with tlsCertificateKeyFilePassword, as
// in the Node driver; without a password the lock refuses it at once, even
// on a terminal, where OpenSSL would ask for the password and wait for good.
const { spawnSync } = require('child_process')
const path = require('path')
const { startFerretDB } = require('../scripts/ferretdb')
const { makeCerts } = require('./support/certs')
const { freshDb } = require('./support/helpers')

const certs = makeCerts()
let server
beforeAll(async () => {
  server = await startFerretDB({ tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca } })
}, 60000)
afterAll(() => server && server.stop())

/** The mutual-TLS server's uri for the lock, with `query` added. */
const lockUri = (query) => `${/^mongodb:\/\/[^/?]+/.exec(server.tlsUri)[0]}/${freshDb('tlskey')}?tls=true&tlsCAFile=${encodeURIComponent(certs.ca)}&serverSelectionTimeoutMS=3000&${query}`

/** Runs one acquire and release with `uri` in a fresh process (on a terminal with `tty`). */
function tryLock (uri, { tty = false } = {}) {
  const code = `
    const Lock = require(${JSON.stringify(path.join(__dirname, '..'))})
    const lock = Lock('tls-key', { uri: process.env.LOCK_URI })
    lock.acquire().then((ok) => lock.release().then(() => ok)).then(
      (ok) => console.log('RESULT ' + JSON.stringify({ ok })),
      (e) => console.log('RESULT ' + JSON.stringify({ code: e.code, message: e.message })))
      .then(() => Lock.close())`
  const env = { ...process.env, LOCK_URI: uri }
  const command = [process.execPath, '-e', code]
  const run = tty
    // util-linux script gives the child a pseudo-terminal, as a developer's shell would.
    ? spawnSync('script', ['-q', '-e', '-c', command.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' '), '/dev/null'], { env, encoding: 'utf8', timeout: 30000 })
    : spawnSync(command[0], command.slice(1), { env, encoding: 'utf8', timeout: 30000 })
  const line = (run.stdout || '').split('\n').find((l) => l.includes('RESULT '))
  return { result: line ? JSON.parse(line.slice(line.indexOf('RESULT ') + 7)) : null, timedOut: Boolean(run.error), output: run.stdout + run.stderr }
}

test('an encrypted key without a password is refused at once, on a terminal too (no password prompt, no hang)', () => {
  const { result, timedOut, output } = tryLock(lockUri(`tlsCertificateKeyFile=${encodeURIComponent(certs.clientEncPem)}`), { tty: true })
  expect(timedOut).toBe(false)
  expect(output).not.toMatch(/pass ?phrase:/i)
  expect(result).toEqual({
    code: 'ERR_TLS_CONFIG',
    message: 'TLS settings cannot be used: the client key in tlsCertificateKeyFile is encrypted, and no tlsCertificateKeyFilePassword is given'
  })
})

test('an encrypted key with tlsCertificateKeyFilePassword in the uri works, as in the Node driver', () => {
  const { result } = tryLock(lockUri(`tlsCertificateKeyFile=${encodeURIComponent(certs.clientEncPem)}&tlsCertificateKeyFilePassword=${encodeURIComponent(certs.passphrase)}`))
  expect(result).toEqual({ ok: true })
})

test('a wrong tlsCertificateKeyFilePassword fails clearly, without the password in the message', () => {
  const wrong = 'not-the-passphrase-123'
  const { result } = tryLock(lockUri(`tlsCertificateKeyFile=${encodeURIComponent(certs.clientEncPem)}&tlsCertificateKeyFilePassword=${wrong}`))
  expect(result.code).toBe('ERR_TLS_CONFIG')
  expect(result.message).not.toContain(wrong)
})
