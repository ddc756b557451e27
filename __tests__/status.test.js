'use strict'
// Status (isLocked, expiresIn, Lock.holder), smart polling, write concern and
// maxHoldTime.
const os = require('os')
const { ObjectId } = require('mongoose8').mongo
const Lock = require('..')
const native = require('../lib/native')
const { useTestDatabase, waitFor } = require('./support/helpers')

const testDb = useTestDatabase('status')
const { uri } = testDb
let names = 0
const fresh = () => `st-${++names}`

/** Commands sent by `fn`, by name; the clock's periodic hello is left out. */
async function commandsOf (fn) {
  native.resetCommandCounts()
  const value = await fn()
  const counts = native.commandCounts()
  delete counts.hello
  return { value, counts }
}

describe('status', () => {
  test('a free name: not locked, no expiry, no holder', async () => {
    const lock = Lock(fresh(), { uri })
    expect(await lock.isLocked()).toBe(false)
    expect(await lock.expiresIn()).toBeNull()
    expect(await Lock.holder(lock.name, { uri })).toBeNull()
  })

  test('a held name: locked, ms left on the lease, and who holds it, one round trip each', async () => {
    const name = fresh()
    const lock = Lock(name, { uri, timeout: 30000, owner: 'report-worker-1' })
    await lock.acquire()
    const other = Lock(name, { uri })
    expect(await commandsOf(() => other.isLocked())).toEqual({ value: true, counts: { find: 1 } })
    const { value: left, counts } = await commandsOf(() => other.expiresIn())
    expect(counts).toEqual({ find: 1 })
    expect(left).toBeGreaterThan(25000)
    expect(left).toBeLessThanOrEqual(30000)
    const holder = await new Promise((resolve, reject) => Lock.holder(name, { uri }, (err, h) => err ? reject(err) : resolve(h)))
    expect(holder).toEqual({
      lockId: lock.lockId,
      host: os.hostname(),
      pid: process.pid,
      owner: 'report-worker-1',
      acquired: lock.timeAquired,
      expires: lock.timeAquired + 30000
    })
    await lock.release()
    expect(await other.isLocked()).toBe(false)
  })

  test('a lock taken by 0.0.x (no holder fields) and an expired one', async () => {
    const name = fresh()
    const now = Date.now()
    const locks = testDb.raw.db.collection('distributedlocks')
    await locks.insertOne({ _id: new ObjectId(), name, expire: new Date(now + 60000), inserted: new Date(now) })
    expect(await Lock.holder(name, { uri })).toMatchObject({ host: null, pid: null, owner: null, acquired: now })
    await locks.updateOne({ name }, { $set: { expire: new Date(now - 1000) } })
    expect(await Lock(name, { uri }).isLocked()).toBe(false)
    expect(await Lock.holder(name, { uri })).toBeNull()
  })

  test('bad names and options are refused like a Lock\'s', async () => {
    await expect(Lock.holder({ $gt: '' }, { uri })).rejects.toMatchObject({ code: 'ERR_INVALID_NAME' })
    expect(() => Lock.holder('x', { uri, collection: 'a$b' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }))
    expect(() => Lock('x', { uri, owner: 42 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }))
  })
})

describe('smart polling', () => {
  test('a waiter comes back at the holder\'s expiry, long before its poll interval', async () => {
    const name = fresh()
    const dead = Lock(name, { uri, timeout: 400 })
    await dead.acquire() // and never released
    const waiter = Lock(name, { uri, pollInterval: 10000 })
    const started = Date.now()
    expect(await waiter.pollAcquire({ maxAttempts: 3 })).toBe(true)
    const waited = Date.now() - started
    expect(waited).toBeGreaterThanOrEqual(300) // not before the lease ended…
    expect(waited).toBeLessThan(10000) // …and before the poll interval would have elapsed
    await waiter.release()
  })
})

describe('write concern', () => {
  test('the default { w: "majority" } and a given one work on this server; w: 0 is refused', async () => {
    const a = Lock(fresh(), { uri })
    expect(await a.acquire()).toBe(true)
    expect(await a.release()).toBe(false)
    const b = Lock(fresh(), { uri, writeConcern: { w: 1, j: true, wtimeout: 1000 } })
    expect(await b.acquire()).toBe(true)
    expect(await b.extend()).toBe(true)
    expect(await b.release()).toBe(false)
    for (const bad of [{ w: 0 }, { w: -1 }, { w: '' }, 'majority', { wtimeoutMS: -5 }]) {
      expect(() => Lock('x', { uri, writeConcern: bad })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }))
    }
  })
})

describe('maxHoldTime', () => {
  test('keep-alive stops renewing after maxHoldTime; the lease then runs out and is lost', async () => {
    const name = fresh()
    const lock = Lock(name, { uri, timeout: 300, keepAlive: 50, maxHoldTime: 400 })
    const seen = []
    lock.on('extended', () => seen.push(['extended', Date.now()]))
    lock.on('lost', (reason) => seen.push(['lost', Date.now(), reason]))
    const started = Date.now()
    await lock.acquire()
    await waitFor(() => seen.some(([e]) => e === 'lost'), { timeoutMs: 5000 })
    const renewals = seen.filter(([e]) => e === 'extended')
    expect(renewals.length).toBeGreaterThan(0)
    expect(renewals.every(([, at]) => at - started < 400 + 100)).toBe(true)
    const [, lostAt, reason] = seen.find(([e]) => e === 'lost')
    expect(reason).toBe('expired')
    expect(lostAt - started).toBeGreaterThanOrEqual(400)
    const other = Lock(name, { uri, pollInterval: 20 })
    expect(await other.pollAcquire()).toBe(true)
    expect(await lock.release()).toBe(true)
    expect(await other.release()).toBe(false)
  })
})
