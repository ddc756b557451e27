'use strict'
// DEBUG=mongoose-distributed-lock: the debug package's convention. It logs
// the connection settings used, clock measurements, TTL detection,
// acquisitions, renewals and releases, and never a password.
const { uriFor, freshDb, runFixture } = require('./support/helpers')

test('DEBUG=mongoose-distributed-lock logs what happens, and never credentials', async () => {
  const password = 'pw-' + Math.random().toString(36).slice(2)
  const { code, stderr } = await runFixture('logging.js', [uriFor(freshDb('log')), password], {
    env: { DEBUG: 'mongoose-distributed-lock', MONGODB_URI: '' }
  })
  expect(code).toBe(0)
  const store = stderr.split('\n').find((line) => line.includes('store for distributedlocks:')) || ''
  expect(store).toMatch(/authMechanism=PLAIN/)
  expect(store).toMatch(/username=alice/)
  expect(store).toMatch(/password=\(set\)/)
  expect(stderr).toMatch(/server clock measured: offset -?\d+ ms/)
  expect(stderr).toMatch(/logged: acquired [0-9a-f]{24}/)
  expect(stderr).toMatch(/logged: lease of [0-9a-f]{24} renewed for 300 ms/)
  expect(stderr).toMatch(/logged: released [0-9a-f]{24}/)
  if (process.env.TEST_SERVER === 'ferretdb') expect(stderr).toMatch(/no TTL index on .*distributedlocks\.expire/)
  expect(stderr).not.toContain(password)
})

test('the debug log shows no certificate: Node\'s default CAs, handed to a lock with its own uri, are "(set)"', async () => {
  const uri = uriFor(freshDb('log'))
  const script = `
    const Lock = require(${JSON.stringify(require.resolve('..'))})
    const lock = Lock('log-ca', { uri: ${JSON.stringify(uri)} })
    lock.acquire().then(() => lock.release()).then(() => Lock.close()).then(
      () => process.send({ ok: true }, () => process.disconnect()),
      (e) => process.send({ error: e.message }, () => process.disconnect()))`
  const { code, stderr, messages } = await runFixture('eval.js', [script], { env: { DEBUG: 'mongoose-distributed-lock' } })
  expect(code).toBe(0)
  expect(messages).toEqual([{ ok: true }])
  const store = stderr.split('\n').find((line) => line.includes('store for distributedlocks:')) || ''
  expect(store).toMatch(/tlsDefaultCaPem=\(set\)/)
  expect(stderr).not.toContain('BEGIN CERTIFICATE')
})
