'use strict'
// The public API as 0.0.1 defines it: factory, options, properties,
// acquire / pollAcquire / release, callbacks and Promises, and errors.
const Lock = require('..')
const native = require('../lib/native')
const { uriFor, useTestDatabase, waitFor } = require('./support/helpers')

const testDb = useTestDatabase('api')
const { uri } = testDb
let names = 0
const fresh = () => `api-lock-${++names}`
const make = (name, options = {}) => Lock(name, { uri, ...options })

const locks = () => testDb.raw.db.collection('distributedlocks')

describe('module shape', () => {
  test('require() gives the Lock factory, also exported as Lock', () => {
    expect(typeof Lock).toBe('function')
    expect(Lock.Lock).toBe(Lock)
  })

  test('Lock works with and without new', () => {
    const a = Lock('x', { uri })
    const b = new Lock('x', { uri })
    for (const lock of [a, b]) {
      expect(lock).toBeInstanceOf(Lock)
      for (const m of ['acquire', 'pollAcquire', 'pollAquire', 'release']) expect(typeof lock[m]).toBe('function')
    }
  })

  test('pollAquire (0.0.1 spelling) is pollAcquire', () => {
    expect(Lock.prototype.pollAquire).toBe(Lock.prototype.pollAcquire)
  })
})

describe('construction', () => {
  test.each([undefined, null, '', 0, false, NaN])('falsy name %p throws missing_name', (name) => {
    let error
    try { Lock(name) } catch (e) { error = e }
    expect(error).toBeInstanceOf(Error)
    expect(error.message).toBe('missing_name')
    expect(error.code).toBe('ERR_MISSING_NAME')
  })

  test('defaults and computed properties', () => {
    const lock = Lock('props')
    expect(lock.name).toBe('props')
    expect(lock.lockId).toBeNull()
    expect(lock.timeAquired).toBeNull()
    expect(lock.timeout).toBe(60000)
    expect(lock.pollInterval).toBe(500)
    expect(lock.probeMaxAttempts).toBe(60000 / 500 + 2)
    const custom = Lock('props', { timeout: 1000, pollInterval: 300 })
    expect(custom.probeMaxAttempts).toBeCloseTo(1000 / 300 + 2)
  })

  test.each([0, null, undefined, false, ''])('falsy option %p takes the default', (value) => {
    const lock = Lock('x', { timeout: value, pollInterval: value })
    expect(lock.timeout).toBe(60000)
    expect(lock.pollInterval).toBe(500)
  })
})

describe('acquire and release', () => {
  test('acquire takes a free lock, then others get false, then release frees it', async () => {
    const name = fresh()
    const a = make(name)
    const b = make(name)
    expect(await a.acquire()).toBe(true)
    expect(a.lockId).toMatch(/^[0-9a-f]{24}$/)
    expect(typeof a.timeAquired).toBe('number')
    expect(Math.abs(a.timeAquired - Date.now())).toBeLessThan(60000)
    expect(await b.acquire()).toBe(false)
    expect(b.lockId).toBeNull()
    expect(await a.release()).toBe(false)
    expect(a.lockId).toBeNull()
    expect(a.timeAquired).toBeNull()
    expect(await b.acquire()).toBe(true)
    await b.release()
  })

  test('acquiring twice on one instance is lock_already_aquired', async () => {
    const a = make(fresh())
    expect(await a.acquire()).toBe(true)
    await expect(a.acquire()).rejects.toMatchObject({ message: 'lock_already_aquired', code: 'ERR_LOCK_ALREADY_ACQUIRED' })
    await a.release()
  })

  test('release without acquire, and twice, is releasing_not_aquired_lock', async () => {
    const a = make(fresh())
    await expect(a.release()).rejects.toMatchObject({ message: 'releasing_not_aquired_lock', code: 'ERR_LOCK_NOT_ACQUIRED' })
    await a.acquire()
    expect(await a.release()).toBe(false)
    await expect(a.release()).rejects.toMatchObject({ message: 'releasing_not_aquired_lock' })
  })

  test('release after expiry reports lockTimeouted = true and clears the state', async () => {
    const a = make(fresh(), { timeout: 200 })
    const b = make(a.name, { timeout: 200 })
    expect(await a.acquire()).toBe(true)
    // Wait on the condition "the lock is free again", not a fixed time.
    while (!(await b.acquire())) await new Promise((resolve) => setTimeout(resolve, 20))
    expect(await a.release()).toBe(true)
    expect(a.lockId).toBeNull()
    expect(a.timeAquired).toBeNull()
    // b's lock survived a's late release.
    expect(await make(a.name).acquire()).toBe(false)
    expect(await b.release()).toBe(false)
  })

  test('locks with different names do not interact', async () => {
    const a = make(fresh())
    const b = make(fresh())
    expect(await a.acquire()).toBe(true)
    expect(await b.acquire()).toBe(true)
    await Promise.all([a.release(), b.release()])
  })

  test('a number names the same lock as its decimal string (0.0.1 stored names as String)', async () => {
    const n = 7000 + names++
    const a = make(n)
    expect(a.name).toBe(n)
    expect(await a.acquire()).toBe(true)
    expect(await make(String(n)).acquire()).toBe(false)
    const doc = await locks().findOne({ name: String(n) })
    expect(doc._id.toHexString()).toBe(a.lockId)
    await a.release()
  })

  test('two acquires at once on one instance: exactly one true, state consistent', async () => {
    const a = make(fresh())
    const results = await Promise.all([a.acquire(), a.acquire()])
    expect(results.filter(Boolean)).toHaveLength(1)
    expect(a.lockId).toMatch(/^[0-9a-f]{24}$/)
    expect(await locks().countDocuments({ name: a.name })).toBe(1)
    expect(await a.release()).toBe(false)
  })
})

describe('pollAcquire', () => {
  test('waits for a holder to release, then acquires', async () => {
    const holder = make(fresh())
    const waiter = make(holder.name, { pollInterval: 30 })
    expect(await holder.acquire()).toBe(true)
    let settled = false
    const polling = waiter.pollAcquire().finally(() => { settled = true })
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(settled).toBe(false)
    await holder.release()
    expect(await polling).toBe(true)
    expect(waiter.lockId).toMatch(/^[0-9a-f]{24}$/)
    await waiter.release()
  })

  test('a release in this process wakes a local waiter at once, not at its next poll', async () => {
    const holder = make(fresh())
    const waiter = make(holder.name, { pollInterval: 30000 })
    expect(await holder.acquire()).toBe(true)
    native.resetCommandCounts()
    const polling = waiter.pollAcquire()
    // Wait for the waiter's first (failed) try: its look at the holder.
    await waitFor(() => native.commandCounts().find >= 1)
    const released = Date.now()
    await holder.release()
    expect(await polling).toBe(true)
    expect(Date.now() - released).toBeLessThan(10000) // its next poll was 30 s away
    await waiter.release()
  })

  test('gives up after probeMaxAttempts with the 0.0.1 timeout error and false', (done) => {
    const holder = make(fresh(), { timeout: 5000 })
    const waiter = make(holder.name, { timeout: 500, pollInterval: 100 })
    holder.acquire((err, ok) => {
      expect(err).toBeNull()
      expect(ok).toBe(true)
      const started = Date.now()
      waiter.pollAquire((err, ok) => {
        expect(err).toBeInstanceOf(Error)
        // 0.0.1 has no space between "name" and the name.
        expect(err.message).toBe('timeout in pollAquire for lock name' + holder.name)
        expect(err.code).toBe('ERR_POLL_TIMEOUT')
        expect(ok).toBe(false)
        // (500 / 100) + 2 = 7 attempts, 6 pauses of 100 ms.
        expect(Date.now() - started).toBeGreaterThanOrEqual(550)
        holder.release(done)
      })
    })
  })

  test('counts attempts: probeMaxAttempts = 1 makes a single try', async () => {
    const holder = make(fresh())
    await holder.acquire()
    const waiter = make(holder.name, { pollInterval: 10000 })
    waiter.probeMaxAttempts = 1
    await expect(waiter.pollAcquire()).rejects.toMatchObject({ code: 'ERR_POLL_TIMEOUT' })
    await holder.release()
  })

  test('while already holding the lock it fails with lock_already_aquired', async () => {
    const a = make(fresh())
    await a.acquire()
    await expect(a.pollAcquire()).rejects.toMatchObject({ message: 'lock_already_aquired' })
    await a.release()
  })
})

describe('properties can be changed at run time', () => {
  test('timeout and name changes apply from the next call', async () => {
    const a = make(fresh())
    a.timeout = 1234
    const other = fresh()
    a.name = other
    await a.acquire()
    const doc = await locks().findOne({ name: other })
    expect(doc._id.toHexString()).toBe(a.lockId)
    expect(doc.expire.getTime() - doc.inserted.getTime()).toBe(1234)
    await a.release()
  })
})

describe('callbacks and Promises', () => {
  test('without a callback every method returns a Promise', async () => {
    const a = make(fresh())
    const p = a.acquire()
    expect(p).toBeInstanceOf(Promise)
    await p
    const r = a.release()
    expect(r).toBeInstanceOf(Promise)
    await r
  })

  test('with a callback nothing is returned and the callback runs asynchronously, once', async () => {
    const a = make(fresh())
    const calls = []
    let returned = false
    const result = a.acquire((...args) => calls.push({ args, afterReturn: returned }))
    returned = true
    expect(result).toBeUndefined()
    await new Promise((resolve) => { const check = () => calls.length ? resolve() : setTimeout(check, 5); check() })
    expect(calls).toEqual([{ args: [null, true], afterReturn: true }])
    // even an error known at once (lock_already_aquired) is delivered asynchronously
    let sync = true
    const errCalls = []
    a.acquire((err) => errCalls.push({ message: err.message, sync }))
    sync = false
    await new Promise((resolve) => setImmediate(resolve))
    expect(errCalls).toEqual([{ message: 'lock_already_aquired', sync: false }])
    // and nothing is called a second time later
    await new Promise((resolve) => a.release(resolve))
    expect(calls).toHaveLength(1)
    expect(errCalls).toHaveLength(1)
  })

  test('the Promise rejects with the same Error the callback gets', async () => {
    const a = make(fresh())
    const viaCallback = await new Promise((resolve) => a.release((err) => resolve(err)))
    const viaPromise = await a.release().catch((e) => e)
    expect(viaPromise.message).toBe(viaCallback.message)
    expect(viaPromise.code).toBe(viaCallback.code)
  })
})

describe('errors from the server and the connection', () => {
  test('a server error carries the server message and code', async () => {
    const bad = Lock('x', { uri: uriFor('bad.db') })
    const error = await bad.acquire().catch((e) => e)
    expect(error).toBeInstanceOf(Error)
    expect(error.name).toBe('MongoServerError')
    expect(error.code).toBe(73)
    expect(error.codeName).toBe('InvalidNamespace')
    expect(error.message).toMatch(/bad\.db/)
  })
})

describe('what a Lock shows and keeps', () => {
  test('util.inspect, console.log and %o (hidden properties too) show the public fields, never the uri (it may carry a password)', () => {
    const util = require('util')
    const lock = Lock('shown', { uri: 'mongodb://user:s3cret-pw@127.0.0.1:1/x' })
    for (const text of [util.format('%o', lock), util.inspect(lock, { showHidden: true, depth: Infinity }), util.inspect(lock)]) {
      expect(text).not.toContain('s3cret-pw')
      expect(text).toContain("name: 'shown'")
    }
  })

  test('Locks made with the same options keep their own state', async () => {
    const name = fresh()
    const a = make(name)
    const b = make(name)
    expect(await a.acquire()).toBe(true)
    expect(b.lockId).toBeNull()
    expect(await b.acquire()).toBe(false)
    a.fencingToken = 5
    b.timeout = 100
    expect(b.fencingToken).toBeNull()
    expect(a.timeout).toBe(60000)
    expect(await a.release()).toBe(false)
  })

  test('an options getter that makes a Lock itself does not change the outer Lock\'s options', async () => {
    const name = fresh()
    const outer = Lock(name, {
      uri,
      get collection () {
        Lock('inner', { uri: 'mongodb://127.0.0.1:1/elsewhere', timeout: 5 })
        return 'outer_locks'
      }
    })
    expect(outer.timeout).toBe(60000)
    expect(await outer.acquire()).toBe(true)
    expect(await testDb.raw.db.collection('outer_locks').countDocuments({ name })).toBe(1)
    await outer.release()
  })
})
