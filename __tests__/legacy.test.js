'use strict'
// Old (0.0.1 on mongoose 6) and new instances side by side, as during a
// rolling deploy: one collection, one index, mutual exclusion both ways.
const { uriFor, freshDb, rawDb, lockWorker } = require('./support/helpers')

const DB = freshDb('legacy')
const uri = uriFor(DB)
let legacy
let native
let raw

beforeAll(async () => {
  raw = await rawDb(DB)
  // New first: the legacy model's own index build then runs over ours.
  native = await lockWorker('native', uri)
  expect((await native.call('acquire', 'warmup')).value).toBe(true)
  legacy = await lockWorker('legacy', uri)
}, 120000)

afterAll(async () => {
  await Promise.all([legacy && legacy.exit(), native && native.exit()])
  await raw.db.dropDatabase()
  await raw.close()
})

test('the legacy model builds its index over ours without error, and one index results', async () => {
  expect(legacy.indexError).toBeNull()
  const indexes = await raw.db.collection('distributedlocks').indexes()
  expect(indexes.filter((i) => JSON.stringify(i.key) === '{"name":1}')).toHaveLength(1)
})

test('a lock held by the old package excludes the new one, and the other way round', async () => {
  expect((await legacy.call('acquire', 'L1', 'shared-1')).value).toBe(true)
  expect((await native.call('acquire', 'N1', 'shared-1')).value).toBe(false)
  expect((await legacy.call('release', 'L1')).value).toBe(false)
  expect((await native.call('acquire', 'N1')).value).toBe(true)
  expect((await legacy.call('acquire', 'L1')).value).toBe(false)
  expect((await native.call('release', 'N1')).value).toBe(false)
  expect((await legacy.call('acquire', 'L1')).value).toBe(true)
  expect((await legacy.call('release', 'L1')).value).toBe(false)
})

test('the new package takes over an expired old lock; the old late release cannot touch it', async () => {
  expect((await legacy.call('acquire', 'L2', 'shared-2', { timeout: 300 })).value).toBe(true)
  const polled = await native.call('pollAcquire', 'N2', 'shared-2', { timeout: 60000, pollInterval: 50 })
  expect(polled).toMatchObject({ ok: true, value: true })
  expect((await legacy.call('release', 'L2')).value).toBe(true) // lockTimeouted
  const doc = await raw.db.collection('distributedlocks').findOne({ name: 'shared-2' })
  expect(doc._id.toHexString()).toBe(polled.lockId)
  expect((await native.call('release', 'N2')).value).toBe(false)
})

test('the old package takes over an expired new lock; the new late release cannot touch it', async () => {
  expect((await native.call('acquire', 'N3', 'shared-3', { timeout: 300 })).value).toBe(true)
  const polled = await legacy.call('pollAcquire', 'L3', 'shared-3', { timeout: 60000, pollInterval: 50 })
  expect(polled).toMatchObject({ ok: true, value: true })
  expect((await native.call('release', 'N3')).value).toBe(true) // lockTimeouted
  const doc = await raw.db.collection('distributedlocks').findOne({ name: 'shared-3' })
  expect(doc._id.toHexString()).toBe(polled.lockId)
  expect((await legacy.call('release', 'L3')).value).toBe(false)
})

test('error messages are the old ones, to the letter', async () => {
  for (const w of [legacy, native]) {
    expect((await w.call('release', `${w.impl}-r`, 'msg-r'))).toMatchObject({ ok: false, message: 'releasing_not_aquired_lock' })
  }
  expect((await legacy.call('acquire', 'La', 'msg-a-legacy')).value).toBe(true)
  expect((await native.call('acquire', 'Na', 'msg-a-native')).value).toBe(true)
  const old = await legacy.call('acquire', 'La')
  const neu = await native.call('acquire', 'Na')
  expect(neu.message).toBe(old.message)
  expect(neu.message).toBe('lock_already_aquired')

  // pollAcquire timeout: both waiting on a lock the other side holds.
  const oldTimeout = await legacy.call('pollAcquire', 'Lt', 'msg-a-native', { timeout: 200, pollInterval: 50 })
  const newTimeout = await native.call('pollAcquire', 'Nt', 'msg-a-legacy', { timeout: 200, pollInterval: 50 })
  expect(oldTimeout).toMatchObject({ ok: false, value: false })
  expect(newTimeout).toMatchObject({ ok: false, value: false })
  expect(oldTimeout.message).toBe('timeout in pollAquire for lock name' + 'msg-a-native')
  expect(newTimeout.message).toBe('timeout in pollAquire for lock name' + 'msg-a-legacy')
  await legacy.call('release', 'La')
  await native.call('release', 'Na')
})
