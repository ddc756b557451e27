'use strict'
// Scoped locks: Lock.withLock(name, options, fn) and lock.hold([options]).
const Lock = require('..')
const { useTestDatabase, waitFor } = require('./support/helpers')
const { faultProxy } = require('./support/fault-proxy')

const testDb = useTestDatabase('scoped')
const { uri } = testDb
let names = 0
const fresh = () => `sc-${++names}`
const docOf = (name) => testDb.raw.db.collection('distributedlocks').findOne({ name })

// `await using` needs a Node whose V8 has explicit resource management.
let hasAwaitUsing = true
try {
  // eslint-disable-next-line no-new, no-new-func
  new Function('return async () => { await using x = null }')
} catch (_) {
  hasAwaitUsing = false
}

describe('Lock.withLock', () => {
  test('runs fn while holding the lock, returns its value, and releases', async () => {
    const name = fresh()
    const value = await Lock.withLock(name, { uri }, async (signal) => {
      expect(signal).toBeInstanceOf(AbortSignal)
      expect(signal.aborted).toBe(false)
      expect(await Lock(name, { uri }).acquire()).toBe(false)
      return 42
    })
    expect(value).toBe(42)
    expect(await docOf(name)).toBeNull()
  })

  test('waits for a held lock (no attempt limit by default), and its signal cancels the wait', async () => {
    const name = fresh()
    const holder = Lock(name, { uri })
    await holder.acquire()
    const order = []
    const running = Lock.withLock(name, { uri, pollInterval: 10 }, async () => { order.push('fn') })
    setTimeout(() => { order.push('release'); holder.release() }, 200)
    await running
    expect(order).toEqual(['release', 'fn'])
    await holder.acquire()
    const controller = new AbortController()
    const cancelled = Lock.withLock(name, { uri, signal: controller.signal, pollInterval: 10 }, async () => 'never')
    setTimeout(() => controller.abort(), 50)
    await expect(cancelled).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' })
    await holder.release()
  })

  test('if fn throws, that error rejects and the lock is released', async () => {
    const name = fresh()
    const boom = new Error('boom')
    await expect(Lock.withLock(name, { uri }, async () => { throw boom })).rejects.toBe(boom)
    expect(await docOf(name)).toBeNull()
    await expect(Lock.withLock(name, { uri }, 'not a function')).rejects.toMatchObject({ code: 'ERR_INVALID_CALLBACK' })
  })

  test('a lock lost while fn ran: signal aborts, and withLock rejects with ERR_LOCK_LOST carrying fn\'s value', async () => {
    const name = fresh()
    const error = await Lock.withLock(name, { uri, timeout: 3000, keepAlive: 50 }, async (signal) => {
      await Lock(name, { uri }).forceAcquire()
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))
      expect(signal.reason.code).toBe('ERR_LOCK_LOST')
      return 'done anyway'
    }).catch((e) => e)
    expect(error).toBeInstanceOf(Error)
    expect(error.code).toBe('ERR_LOCK_LOST')
    expect(error.result).toBe('done anyway')
    expect(error.reason).toBe('forced')
    await testDb.raw.db.collection('distributedlocks').deleteMany({ name })
  })

  describe('through a cut connection', () => {
    let fp
    beforeAll(async () => { fp = await faultProxy(uri) })
    afterAll(async () => { await Lock.close(); await fp.close() })

    test('a release that fails never replaces fn\'s error: it is attached as releaseError', async () => {
      const name = fresh()
      const lockUri = `${fp.uri}${fp.uri.includes('?') ? '&' : '?'}socketTimeoutMS=300&serverSelectionTimeoutMS=300`
      const boom = new Error('work failed')
      const error = await Lock.withLock(name, { uri: lockUri, keepAlive: false }, async () => {
        await fp.proxy.addToxic({ name: 'cut', type: 'reset_peer', stream: 'upstream', attributes: { timeout: 0 } })
        throw boom
      }).catch((e) => e)
      await fp.proxy.removeToxic('cut')
      expect(error).toBe(boom)
      expect(error.releaseError).toBeInstanceOf(Error)
      expect(['ERR_MONGODB_NETWORK', 'ERR_MONGODB_TIMEOUT']).toContain(error.releaseError.code)
      await testDb.raw.db.collection('distributedlocks').deleteMany({ name })
    })
  })
})

describe('lock.hold', () => {
  test('resolves a handle with release, signal, lockId and Symbol.asyncDispose', async () => {
    const name = fresh()
    const lock = Lock(name, { uri })
    const held = await lock.hold()
    expect(held.lockId).toBe(lock.lockId)
    expect(held.fencingToken).toBeNull()
    expect(held.signal.aborted).toBe(false)
    expect(typeof held[Symbol.asyncDispose]).toBe('function')
    expect(await docOf(name)).not.toBeNull()
    await held[Symbol.asyncDispose]()
    expect(await docOf(name)).toBeNull()
    expect(await held.release()).toBe(false) // the same release, once
  })

  const withUsing = hasAwaitUsing ? test : test.skip
  withUsing('await using releases at the end of the block', async () => {
    const name = fresh()
    // eslint-disable-next-line no-new-func
    const run = new Function('Lock', 'name', 'uri', 'docOf', `return (async () => {
      {
        await using held = await Lock(name, { uri }).hold()
        if (!(await docOf(name))) throw new Error('not held inside the block')
      }
      return docOf(name)
    })()`)
    expect(await run(Lock, name, uri, docOf)).toBeNull()
  })

  test('its signal aborts when the lock is lost', async () => {
    const name = fresh()
    const lock = Lock(name, { uri, keepAlive: 50 })
    const held = await lock.hold()
    await Lock(name, { uri }).forceAcquire()
    await waitFor(() => held.signal.aborted)
    expect(held.signal.reason).toMatchObject({ code: 'ERR_LOCK_LOST', reason: 'forced' })
    expect(await held.release()).toBe(true)
    await testDb.raw.db.collection('distributedlocks').deleteMany({ name })
  })
})
