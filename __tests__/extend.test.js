'use strict'
// extend([ms]), forceAcquire() and what a holder learns when its lock is no
// longer its own: 'lost' once, with the reason, then release() answers
// lockTimeouted = true, as 0.0.1 does for an expired lock.
const Lock = require('..')
const native = require('../lib/native')
const { useTestDatabase, waitFor, runFixture } = require('./support/helpers')

const testDb = useTestDatabase('extend')
const { uri } = testDb
let names = 0
const fresh = () => `ext-${++names}`
const docOf = (name) => testDb.raw.db.collection('distributedlocks').findOne({ name })

/** Every event of `lock`, in order, with its arguments. */
function recorder (lock) {
  const seen = []
  for (const event of ['acquired', 'released', 'extended', 'timeout', 'lost']) {
    lock.on(event, (...args) => seen.push([event, ...args]))
  }
  return seen
}

describe('extend', () => {
  test('renews the lease to ms from now on the server clock, in one round trip, and emits extended', async () => {
    const lock = Lock(fresh(), { uri, timeout: 1000 })
    const seen = recorder(lock)
    await lock.acquire()
    native.resetCommandCounts()
    expect(await lock.extend(30000)).toBe(true)
    const counts = native.commandCounts()
    delete counts.hello
    expect(counts).toEqual({ update: 1 })
    const doc = await docOf(lock.name)
    const [, expiry] = seen.find(([e]) => e === 'extended')
    expect(doc.expire.getTime()).toBe(expiry)
    expect(expiry - Date.now()).toBeGreaterThan(25000)
    // Past the original timeout, the lock is still ours.
    await new Promise((resolve) => setTimeout(resolve, 1100))
    expect(await Lock(lock.name, { uri }).acquire()).toBe(false)
    expect(await lock.release()).toBe(false)
    expect(seen.map(([e]) => e)).toEqual(['acquired', 'extended', 'released'])
  })

  test('without ms it renews to the lock\'s timeout; with a callback it calls back', (done) => {
    const lock = Lock(fresh(), { uri, timeout: 20000 })
    lock.acquire((err) => {
      expect(err).toBeNull()
      lock.extend((err, extended) => {
        expect(err).toBeNull()
        expect(extended).toBe(true)
        docOf(lock.name).then((doc) => {
          expect(doc.expire.getTime() - Date.now()).toBeGreaterThan(15000)
          lock.release(done)
        }, done)
      })
    })
  })

  test('extending a lock this instance does not hold is extending_not_aquired_lock', async () => {
    const lock = Lock(fresh(), { uri })
    const error = await lock.extend().catch((e) => e)
    expect(error.message).toBe('extending_not_aquired_lock')
    expect(error.code).toBe('ERR_LOCK_NOT_ACQUIRED')
    await lock.acquire()
    for (const bad of [-1, 0, NaN, '5', Infinity]) {
      await expect(lock.extend(bad)).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' })
    }
    await lock.release()
  })

  test('an expired lease is never revived: false, lost (expired) once, then release says true', async () => {
    const lock = Lock(fresh(), { uri, timeout: 200 })
    const seen = recorder(lock)
    await lock.acquire()
    await waitFor(async () => (await docOf(lock.name)).expire.getTime() < Date.now() - 50)
    expect(await lock.extend(60000)).toBe(false)
    expect(await lock.extend(60000)).toBe(false) // no second 'lost'
    expect((await docOf(lock.name)).expire.getTime()).toBeLessThan(Date.now())
    // As in 0.0.1: the instance keeps its lockId until release, and acquire fails meanwhile.
    expect(lock.lockId).not.toBeNull()
    await expect(lock.acquire()).rejects.toMatchObject({ message: 'lock_already_aquired' })
    expect(await lock.release()).toBe(true)
    expect(lock.lockId).toBeNull()
    expect(seen.filter(([e]) => e === 'lost')).toEqual([['lost', 'expired']])
    expect(seen.map(([e]) => e)).toEqual(['acquired', 'lost', 'released'])
  })

  test('a lease taken over behind the holder\'s back: extend says false, lost (taken), and never touches the new holder', async () => {
    const name = fresh()
    const first = Lock(name, { uri, timeout: 200 })
    const seen = recorder(first)
    await first.acquire()
    const second = Lock(name, { uri, timeout: 30000, pollInterval: 20 })
    expect(await second.pollAcquire()).toBe(true)
    const before = await docOf(name)
    expect(await first.extend(60000)).toBe(false)
    const after = await docOf(name)
    expect(after).toEqual(before) // the new holder's document, untouched
    expect(seen).toContainEqual(['lost', 'taken'])
    expect(await first.release()).toBe(true)
    expect(await second.release()).toBe(false)
  })
})

describe('forceAcquire', () => {
  test('takes a live lock through a new document; the holder learns it was forced', async () => {
    const name = fresh()
    const holder = Lock(name, { uri, timeout: 60000 })
    const seen = recorder(holder)
    await holder.acquire()
    const forcer = Lock(name, { uri })
    expect(await forcer.forceAcquire()).toBe(true)
    const doc = await docOf(name)
    expect(doc._id.toHexString()).toBe(forcer.lockId)
    expect(doc.forcedFrom.toHexString()).toBe(holder.lockId)
    // The old holder finds out on its next call.
    expect(await holder.extend()).toBe(false)
    expect(await holder.release()).toBe(true)
    expect(seen).toEqual([['acquired', expect.any(String)], ['lost', 'forced'], ['released', true]])
    expect(await forcer.release()).toBe(false)
  })

  test('on a free name it simply acquires; on a held instance it is lock_already_aquired', (done) => {
    const lock = Lock(fresh(), { uri })
    lock.forceAcquire((err, ok) => {
      expect(err).toBeNull()
      expect(ok).toBe(true)
      lock.forceAcquire((err) => {
        expect(err.message).toBe('lock_already_aquired')
        lock.release(done)
      })
    })
  })

  test('a release by the forced-out holder is reported true even without an extend first', async () => {
    const name = fresh()
    const holder = Lock(name, { uri })
    const lost = new Promise((resolve) => holder.once('lost', resolve))
    await holder.acquire()
    await Lock(name, { uri }).forceAcquire()
    expect(await holder.release()).toBe(true)
    expect(await lost).toBe('forced')
  })
})

describe('concurrent calls on one instance', () => {
  test('two releases at once: one round trip, the same answer, no loss that did not happen', async () => {
    const lock = Lock(fresh(), { uri })
    const seen = recorder(lock)
    await lock.acquire()
    native.resetCommandCounts()
    expect(await Promise.all([lock.release(), lock.release()])).toEqual([false, false])
    expect(native.commandCounts().delete).toBe(1)
    expect(seen.map(([e]) => e)).toEqual(['acquired', 'released'])
  })

  test('two forced acquires at once: the instance never forces itself out', async () => {
    const lock = Lock(fresh(), { uri })
    const seen = recorder(lock)
    const outcomes = await Promise.all([lock.forceAcquire(), lock.forceAcquire()].map((p) => p.then((v) => v, (e) => e.message)))
    expect(outcomes.sort()).toEqual(['lock_already_aquired', true].sort())
    expect(seen.map(([e]) => e)).toEqual(['acquired'])
    expect(await lock.release()).toBe(false)
  })

  test('a timeout property of 0 is refused: a lease that ends as it starts excludes no one', async () => {
    const lock = Lock(fresh(), { uri })
    lock.timeout = 0
    await expect(lock.acquire()).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' })
    expect(() => Lock('x', { uri, keepAlive: 0.5 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }))
  })
})

describe('events', () => {
  test('no listeners, a lost lock, a throwing listener, keep-alive on: nothing crashes the app and it exits on its own', async () => {
    const name = fresh()
    const started = Date.now()
    const { code, stdout, stderr } = await runFixture('events.js', [uri, name], { timeoutMs: 30000 })
    const out = JSON.parse(stdout.trim().split('\n').pop() || '{}')
    expect({ code, stderr: stderr.includes('Error') ? stderr : '' }).toEqual({ code: 0, stderr: '' })
    expect(out).toEqual({
      quietReleased: true,
      forcerReleased: false,
      acquired: true,
      lockIdSet: true,
      uncaught: ['listener bug'],
      stillHeld: true
    })
    // Exited without waiting for its 60 s lease or keep-alive timers.
    expect(Date.now() - started).toBeLessThan(20000)
  })

  test('pollAcquire emits timeout when it gives up', async () => {
    const name = fresh()
    const holder = Lock(name, { uri })
    await holder.acquire()
    const waiter = Lock(name, { uri, pollInterval: 10 })
    const seen = recorder(waiter)
    await expect(waiter.pollAcquire({ maxAttempts: 3 })).rejects.toMatchObject({ code: 'ERR_POLL_TIMEOUT' })
    expect(seen).toEqual([['timeout']])
    await holder.release()
  })
})
