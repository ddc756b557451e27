'use strict'
// The collection option, indexes on first use and on demand, TTL detection,
// and the opt-in history of holdings.
const Lock = require('..')
const { useTestDatabase, withOwnDb, waitFor } = require('./support/helpers')

const testDb = useTestDatabase('colls')
const { uri } = testDb
let names = 0
const fresh = () => `coll-${++names}`
const isUniqueName = (i) => JSON.stringify(i.key) === '{"name":1}' && i.unique === true

describe('collection', () => {
  test('locks in different collections never interact; documents go where the option says', async () => {
    const name = fresh()
    const a = Lock(name, { uri, collection: 'jobs_locks' })
    const b = Lock(name, { uri, collection: 'other_locks' })
    const c = Lock(name, { uri })
    expect(await a.acquire()).toBe(true)
    expect(await b.acquire()).toBe(true)
    expect(await c.acquire()).toBe(true)
    expect(await Lock(name, { uri, collection: 'jobs_locks' }).acquire()).toBe(false)
    const db = testDb.raw.db
    expect((await db.collection('jobs_locks').findOne({ name }))._id.toHexString()).toBe(a.lockId)
    expect((await db.collection('other_locks').findOne({ name }))._id.toHexString()).toBe(b.lockId)
    expect((await db.collection('distributedlocks').findOne({ name }))._id.toHexString()).toBe(c.lockId)
    expect((await db.collection('jobs_locks').indexes()).some(isUniqueName)).toBe(true)
    for (const lock of [a, b, c]) expect(await lock.release()).toBe(false)
  })

  test.each([
    ['', 'empty'], [42, 'a number'], ['a$b', 'a dollar'], ['system.x', 'system.'], ['x\u0000y', 'NUL'], ['.x', 'a leading dot'], [{ $gt: '' }, 'a query object']
  ])('collection %p (%s) is refused with ERR_INVALID_OPTION', (collection) => {
    expect(() => Lock('x', { uri, collection })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }))
  })
})

describe('indexes', () => {
  test('Lock.ensureIndexes builds them on demand (a deploy step), with a Promise or a callback', async () => {
    await withOwnDb('idx_demand', async ({ uri, db }) => {
      const report = await Lock.ensureIndexes({ uri, collection: 'deploy_locks' })
      expect(report.collection).toMatch(/\.deploy_locks$/)
      expect((await db.collection('deploy_locks').indexes()).some(isUniqueName)).toBe(true)
      // The TTL index where the server has them; FerretDB 1.x refuses it, detected and carried on.
      const ttl = (await db.collection('deploy_locks').indexes()).some((i) => i.expireAfterSeconds === 0)
      expect(report.ttl).toBe(ttl)
      if (process.env.TEST_SERVER === 'ferretdb') expect(report.ttl).toBe(false)
      const viaCallback = await new Promise((resolve, reject) =>
        Lock.ensureIndexes({ uri, collection: 'deploy_locks' }, (err, r) => err ? reject(err) : resolve(r)))
      expect(viaCallback).toEqual(report)
      // And a lock works there, whatever TTL did.
      const lock = Lock('after-deploy', { uri, collection: 'deploy_locks' })
      expect(await lock.acquire()).toBe(true)
      expect(await lock.release()).toBe(false)
    })
  })

  test('ttl: false builds no TTL index', async () => {
    await withOwnDb('idx_nottl', async ({ uri, db }) => {
      expect(await Lock.ensureIndexes({ uri, ttl: false })).toMatchObject({ ttl: false })
      expect((await db.collection('distributedlocks').indexes()).some((i) => 'expireAfterSeconds' in i)).toBe(false)
    })
  })

  test('an existing index that would make the lock unsafe (non-unique name_1) is ERR_INDEX, never a lock without it', async () => {
    await withOwnDb('idx_unsafe', async ({ uri, locks }) => {
      await locks.createIndex({ name: 1 }, { name: 'name_1' })
      await expect(Lock.ensureIndexes({ uri })).rejects.toMatchObject({ code: 'ERR_INDEX' })
      const lock = Lock('unsafe', { uri })
      await expect(lock.acquire()).rejects.toMatchObject({ code: 'ERR_INDEX' })
      expect(await locks.countDocuments({})).toBe(0)
    })
  })

  test('a dead holder\'s lock is taken right after its expiry, without waiting for any TTL monitor', async () => {
    const name = fresh()
    const dead = Lock(name, { uri, timeout: 300 })
    await dead.acquire() // and never released: its process "died"
    const started = Date.now()
    const next = Lock(name, { uri, pollInterval: 25 })
    expect(await next.pollAcquire({ maxAttempts: Infinity })).toBe(true)
    expect(Date.now() - started).toBeLessThan(300 + 25 + 1000)
    expect(await next.release()).toBe(false)
  })
})

describe('history', () => {
  const records = (db, collection = 'distributedlocks_history') => db.collection(collection).find({}).sort({ acquired: 1 }).toArray()

  test('history: true records one document per holding: released, expired, taken, forced', async () => {
    await withOwnDb('hist', async ({ uri, db }) => {
      const opts = { uri, history: true }
      const released = Lock('h', { ...opts, timeout: 60000 })
      await released.acquire()
      await released.release()
      const expired = Lock('h', { ...opts, timeout: 100 })
      await expired.acquire()
      await waitFor(async () => (await db.collection('distributedlocks').findOne({ name: 'h' })).expire < new Date(Date.now() - 20))
      await expired.release() // too late: lockTimeouted
      const taken = Lock('h', { ...opts, timeout: 100 })
      await taken.acquire()
      const taker = Lock('h', { ...opts, timeout: 60000, pollInterval: 20 })
      await taker.pollAcquire({ maxAttempts: Infinity }) // takes over the expired one
      const forcer = Lock('h', { ...opts })
      await forcer.forceAcquire()
      await forcer.release()
      // History writes are not awaited by the lock calls: wait for them.
      await waitFor(async () => (await records(db)).filter((r) => r.how).length === 5)
      const all = await records(db)
      const byId = Object.fromEntries(all.map((r) => [r.lockId.toHexString(), r]))
      expect(byId[released.lockId || all[0].lockId.toHexString()].how).toBe('released')
      expect(all.map((r) => r.how)).toEqual(['released', 'expired', 'taken', 'forced', 'released'])
      for (const r of all) {
        expect(r).toMatchObject({ name: 'h', holder: { host: require('os').hostname(), pid: process.pid } })
        expect(r.acquired).toBeInstanceOf(Date)
        expect(r.ended).toBeInstanceOf(Date)
        expect(r.ended.getTime()).toBeGreaterThanOrEqual(r.acquired.getTime())
      }
    })
  })

  test('history may not be a lock collection (a record there would block a name for good)', () => {
    for (const [history, collection] of [['distributedlocks', undefined], ['jobs', 'jobs'], ['jobs_fencing', 'jobs'], ['jobs_queue', 'jobs']]) {
      expect(() => Lock('x', { uri, history, collection })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }))
    }
  })

  test('a history collection name is honoured, and history is off by default', async () => {
    await withOwnDb('hist_named', async ({ uri, db }) => {
      const lock = Lock('n', { uri, history: 'audit' })
      await lock.acquire()
      await lock.release()
      await waitFor(async () => (await records(db, 'audit')).length === 1 && (await records(db, 'audit'))[0].how)
      const plain = Lock('p', { uri })
      await plain.acquire()
      await plain.release()
      const collections = (await db.listCollections().toArray()).map((c) => c.name).sort()
      expect(collections).toEqual(['audit', 'distributedlocks'])
    })
  })
})
