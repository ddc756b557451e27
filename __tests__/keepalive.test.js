'use strict'
// Keep-alive: renewals every timeout / 3 (or a given period) on the event
// loop; 'lost' when a renewal is refused, or when renewals fail until the
// lease is gone; release() stops it so that no renewal lands after it; a
// frozen JS thread loses the lock rather than keeping it.
const Lock = require('..')
const native = require('../lib/native')
const { useTestDatabase, waitFor } = require('./support/helpers')
const { faultProxy } = require('./support/fault-proxy')

const testDb = useTestDatabase('keepalive')
const { uri } = testDb
let names = 0
const fresh = () => `ka-${++names}`
const docOf = (name) => testDb.raw.db.collection('distributedlocks').findOne({ name })
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

function recorder (lock) {
  const seen = []
  for (const event of ['acquired', 'released', 'extended', 'lost']) {
    lock.on(event, (arg) => seen.push([event, arg, Date.now()]))
  }
  return seen
}

test('keepAlive: true holds the lock past its timeout, renewing every timeout / 3', async () => {
  const name = fresh()
  const lock = Lock(name, { uri, timeout: 600, keepAlive: true })
  const seen = recorder(lock)
  await lock.acquire()
  const first = (await docOf(name)).expire.getTime()
  await waitFor(() => seen.filter(([e]) => e === 'extended').length >= 4, { timeoutMs: 5000 })
  // 4 renewals at 200 ms: well past the 600 ms timeout, and still ours.
  expect(await Lock(name, { uri }).acquire()).toBe(false)
  expect((await docOf(name)).expire.getTime()).toBeGreaterThan(first)
  const gaps = seen.filter(([e]) => e === 'extended').map(([, , at], i, all) => i ? at - all[i - 1][2] : null).slice(1)
  for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(150)
  expect(await lock.release()).toBe(false)
})

test('release() stops it: no renewal lands after release() settled, even racing a renewal, many times over', async () => {
  const name = fresh()
  for (let round = 0; round < 25; round++) {
    const lock = Lock(name, { uri, timeout: 3000, keepAlive: 7 })
    const seen = recorder(lock)
    await lock.acquire()
    await sleep(round % 12) // release at every point of the 7 ms period
    expect(await lock.release()).toBe(false)
    const settledAt = Date.now()
    const count = seen.length
    await sleep(25)
    expect(seen.length).toBe(count) // no 'extended' after the release settled
    expect(seen.filter(([, , at]) => at > settledAt)).toEqual([])
    expect(await docOf(name)).toBeNull() // and nothing revived the document
  }
})

test('a refused renewal (the lock was forced away) emits lost once and stops renewing', async () => {
  const name = fresh()
  const lock = Lock(name, { uri, timeout: 900, keepAlive: 60 })
  const seen = recorder(lock)
  await lock.acquire()
  const forcer = Lock(name, { uri })
  await forcer.forceAcquire()
  await waitFor(() => seen.some(([e]) => e === 'lost'))
  native.resetCommandCounts()
  await sleep(300) // five periods
  expect(native.commandCounts().update).toBeUndefined()
  expect(seen.filter(([e]) => e === 'lost').map(([, reason]) => reason)).toEqual(['forced'])
  expect(await lock.release()).toBe(true)
  expect(await forcer.release()).toBe(false)
})

test('a frozen JS thread loses the lock instead of keeping it (keep-alive runs on the event loop)', async () => {
  const name = fresh()
  const lock = Lock(name, { uri, timeout: 400, keepAlive: true })
  const seen = recorder(lock)
  await lock.acquire()
  const until = Date.now() + 700
  while (Date.now() < until) { /* a long synchronous loop, past the lease */ }
  const other = Lock(name, { uri, pollInterval: 20 })
  expect(await other.pollAcquire()).toBe(true)
  await waitFor(() => seen.some(([e]) => e === 'lost'))
  expect(['expired', 'taken']).toContain(seen.find(([e]) => e === 'lost')[1])
  expect(await lock.release()).toBe(true)
  expect(await other.release()).toBe(false)
})

test('closing the connection stops renewing: no new client is opened, and lost (expired) comes at the lease end', async () => {
  const name = fresh()
  const lock = Lock(name, { uri, timeout: 600, keepAlive: 50 })
  const seen = recorder(lock)
  await lock.acquire()
  await waitFor(() => seen.some(([e]) => e === 'extended'))
  await Lock.close()
  const closedAt = Date.now()
  await waitFor(() => seen.some(([e]) => e === 'lost'), { timeoutMs: 5000 })
  expect(native.openClients()).toBe(0)
  const [, reason, lostAt] = seen.find(([e]) => e === 'lost')
  expect(reason).toBe('expired')
  expect(lostAt - closedAt).toBeLessThan(600 + 1000)
  // release() then goes through the lock's current connection and tells the truth.
  expect(await lock.release()).toBe(true)
})

describe('through a cut connection', () => {
  let fp
  beforeAll(async () => { fp = await faultProxy(uri) })
  afterAll(async () => { await Lock.close(); await fp.close() })

  test('failed renewals are retried until the lease would be gone, then lost (expired), not before', async () => {
    const name = fresh()
    const lockUri = `${fp.uri}${fp.uri.includes('?') ? '&' : '?'}socketTimeoutMS=300&serverSelectionTimeoutMS=300`
    const lock = Lock(name, { uri: lockUri, timeout: 1500, keepAlive: 300 })
    const seen = recorder(lock)
    await lock.acquire()
    await waitFor(() => seen.some(([e]) => e === 'extended'))
    const lastRenewal = seen.filter(([e]) => e === 'extended').pop()[2]
    await fp.proxy.addToxic({ name: 'cut', type: 'reset_peer', stream: 'upstream', attributes: { timeout: 0 } })
    await waitFor(() => seen.some(([e]) => e === 'lost'), { timeoutMs: 10000 })
    const [, reason, lostAt] = seen.find(([e]) => e === 'lost')
    expect(reason).toBe('expired')
    // Not before the lease of the last renewal had run out…
    expect(lostAt - lastRenewal).toBeGreaterThanOrEqual(1500 - 50)
    // …and not long after it (retries at most every second).
    expect(lostAt - lastRenewal).toBeLessThan(1500 + 1500)
    await fp.proxy.removeToxic('cut')
    // Once the server is found again, release tells the truth: it was lost.
    const released = await waitFor(() => lock.release().then((v) => ({ v }), () => null), { timeoutMs: 10000 })
    expect(released.v).toBe(true)
  })

  test('a server that stops answering (no reply, no reset) still ends the holding at the lease end, not at socketTimeoutMS', async () => {
    const name = fresh()
    // The default operation bound (60 s) applies: nothing shortens it here.
    const lock = Lock(name, { uri: fp.uri, timeout: 1500, keepAlive: 300 })
    const seen = recorder(lock)
    await lock.acquire()
    await waitFor(() => seen.some(([e]) => e === 'extended'))
    const lastRenewal = seen.filter(([e]) => e === 'extended').pop()[2]
    await fp.proxy.addToxic({ name: 'silence', type: 'timeout', stream: 'downstream', attributes: { timeout: 0 } })
    await waitFor(() => seen.some(([e]) => e === 'lost'), { timeoutMs: 10000 })
    const [, reason, lostAt] = seen.find(([e]) => e === 'lost')
    expect(reason).toBe('expired')
    expect(lostAt - lastRenewal).toBeGreaterThanOrEqual(1500 - 50)
    expect(lostAt - lastRenewal).toBeLessThan(1500 + 1000)
    await fp.proxy.removeToxic('silence')
    await Lock.close() // ends the calls still waiting on the silent connection
  })
})

test('a keep-alive goes on through a reconnect of its mongoose connection', async () => {
  const mongoose = require('mongoose8')
  const connection = mongoose.createConnection(uri)
  await connection.asPromise()
  const name = fresh()
  const lock = Lock(name, { connection, timeout: 1500, keepAlive: 300 })
  const seen = recorder(lock)
  try {
    expect(await lock.acquire()).toBe(true)
    await connection.close()
    await connection.openUri(uri)
    const reopened = Date.now()
    // Renewals past the lease it had when the connection closed: through the new one.
    await waitFor(() => seen.filter(([e, , at]) => e === 'extended' && at > reopened).length >= 6, { timeoutMs: 10000 })
    expect(seen.some(([e]) => e === 'lost')).toBe(false)
    expect(await lock.release()).toBe(false)
  } finally {
    await connection.close()
  }
})

test('a lease longer than a Node timer can wait (100 days, a renewal every 33) is kept alive, not reported lost at once', async () => {
  const lock = Lock('keepalive-100-days', { uri, timeout: 100 * 24 * 3600 * 1000, keepAlive: true })
  const lost = []
  lock.on('lost', (why) => lost.push(why))
  expect(await lock.acquire()).toBe(true)
  // A few round trips later (a timer of more than 2^31-1 ms used to fire at once).
  for (let i = 0; i < 3; i++) expect(await lock.isLocked()).toBe(true)
  await new Promise((resolve) => setImmediate(resolve))
  expect(lost).toEqual([])
  expect(await lock.release()).toBe(false)
})
