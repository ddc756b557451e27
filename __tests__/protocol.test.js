'use strict'
// What is stored, and how ownership changes: documents compatible with 0.0.1,
// the unique index, takeover of expired locks, round trips per operation.
const Lock = require('..')
const native = require('../lib/native')
const { useTestDatabase, withOwnDb } = require('./support/helpers')

const testDb = useTestDatabase('protocol')
const { uri } = testDb
let names = 0
const fresh = () => `proto-${++names}`
const make = (name, options = {}) => Lock(name, { uri, ...options })

let locks
beforeAll(() => { locks = testDb.raw.db.collection('distributedlocks') })

/** Commands sent by `fn`, by name; the clock's periodic hello is left out. */
async function commandsOf (fn) {
  native.resetCommandCounts()
  await fn()
  const counts = native.commandCounts()
  delete counts.hello
  return counts
}

const hasUniqueNameIndex = (indexes) =>
  indexes.some((i) => JSON.stringify(i.key) === '{"name":1}' && i.unique === true)

test('documents have the 0.0.1 shape: { _id: ObjectId, name, expire: Date, inserted: Date }', async () => {
  const a = make(fresh(), { timeout: 4321 })
  await a.acquire()
  const doc = await locks.findOne({ name: a.name })
  expect(doc._id.toHexString()).toBe(a.lockId)
  expect(doc.expire).toBeInstanceOf(Date)
  expect(doc.inserted).toBeInstanceOf(Date)
  expect(doc.expire.getTime() - doc.inserted.getTime()).toBe(4321)
  expect(doc.inserted.getTime()).toBe(a.timeAquired)
  await a.release()
  expect(await locks.countDocuments({ name: a.name })).toBe(0)
})

test('the collection holds lock documents and nothing else: the twin that proves the index never stays', async () => {
  await withOwnDb('proto_only', async ({ uri, locks }) => {
    const a = Lock('only-a', { uri })
    const b = Lock('only-b', { uri })
    expect(await a.acquire()).toBe(true)
    expect(await b.acquire()).toBe(true)
    expect(await Lock('only-a', { uri }).acquire()).toBe(false)
    const docs = await locks.find({}).toArray()
    expect(docs.map((d) => d.name).sort()).toEqual(['only-a', 'only-b'])
    expect(docs.map((d) => d._id.toHexString()).sort()).toEqual([a.lockId, b.lockId].sort())
    for (const d of docs) expect(d.expire).toBeInstanceOf(Date)
    await a.release()
    await b.release()
    expect(await locks.countDocuments({})).toBe(0)
  })
})

test('the sentinel document a 1.0.0 process left is removed on first use', async () => {
  await withOwnDb('proto_sentinel', async ({ uri, locks }) => {
    await locks.createIndex({ name: 1 }, { unique: true })
    const sentinel = { name: 'mongoose-distributed-lock:index-probe', note: 'kept by mongoose-distributed-lock 1.0.0' }
    await locks.insertOne(sentinel)
    const a = Lock('after-1.0.0', { uri })
    expect(await a.acquire()).toBe(true)
    expect(await locks.countDocuments({ name: sentinel.name })).toBe(0)
    // The name is a name like any other now.
    const b = Lock(sentinel.name, { uri })
    expect(await b.acquire()).toBe(true)
    expect(await b.release()).toBe(false)
    await a.release()
  })
})

test('the unique index on name is in place after the first acquire', async () => {
  await withOwnDb('proto_index', async ({ uri, locks }) => {
    const lock = Lock('first', { uri })
    expect(await lock.acquire()).toBe(true)
    expect(hasUniqueNameIndex(await locks.indexes())).toBe(true)
  })
})

test('an existing unique index made by the old mongoose model is reused, not duplicated', async () => {
  await withOwnDb('proto_oldidx', async ({ uri, locks }) => {
    // What mongoose (0.0.1's model, autoIndex) creates.
    await locks.createIndex({ name: 1 }, { unique: true, background: true })
    const before = await locks.indexes()
    expect(await Lock('x', { uri }).acquire()).toBe(true)
    const after = await locks.indexes()
    expect(after.map((i) => i.name).sort()).toEqual(before.map((i) => i.name).sort())
  })
})

test('it never acquires without the unique index: if it cannot be built, acquire fails', async () => {
  await withOwnDb('proto_noidx', async ({ uri, locks }) => {
    // Duplicate names make a unique index impossible.
    await locks.insertMany([{ name: 'dup' }, { name: 'dup' }])
    const error = await Lock('other', { uri }).acquire().catch((e) => e)
    expect(error).toBeInstanceOf(Error)
    expect(error.code).toBe('ERR_INDEX')
    expect(await locks.countDocuments({ name: 'other' })).toBe(0)
  })
})

test('after the collection is dropped, the next acquires rebuild the index and exclude each other', async () => {
  await withOwnDb('proto_drop', async ({ uri, db, locks }) => {
    const first = Lock('dropme', { uri })
    expect(await first.acquire()).toBe(true)
    await db.dropDatabase()
    const contenders = Array.from({ length: 6 }, () => Lock('dropme', { uri }))
    const results = await Promise.all(contenders.map((l) => l.acquire()))
    expect(results.filter(Boolean)).toHaveLength(1)
    expect(hasUniqueNameIndex(await locks.indexes())).toBe(true)
    expect(await locks.countDocuments({ name: 'dropme' })).toBe(1)
    // The holder from before the drop lost its document: its release says so.
    expect(await first.release()).toBe(true)
  })
})

test('takeover of an expired lock inserts a new _id; the late holder cannot delete it', async () => {
  const name = fresh()
  const old = make(name, { timeout: 100 })
  await old.acquire()
  const oldId = old.lockId
  const next = make(name)
  await waitUntilAcquired(next)
  expect(next.lockId).not.toBe(oldId)
  expect(await old.release()).toBe(true) // lockTimeouted
  const doc = await locks.findOne({ name })
  expect(doc._id.toHexString()).toBe(next.lockId)
  expect(await next.release()).toBe(false)
})

test('an expired 0.0.1-style document (with __v) is taken over; a live one is respected', async () => {
  const { ObjectId } = require('mongoose8').mongo
  const now = Date.now()
  const liveName = fresh()
  const deadName = fresh()
  await locks.insertMany([
    { _id: new ObjectId(), name: liveName, expire: new Date(now + 60000), inserted: new Date(now), __v: 0 },
    { _id: new ObjectId(), name: deadName, expire: new Date(now - 1000), inserted: new Date(now - 61000), __v: 0 }
  ])
  expect(await make(liveName).acquire()).toBe(false)
  const taker = make(deadName)
  expect(await taker.acquire()).toBe(true)
  await taker.release()
})

test('a document without a usable expire is respected, as 0.0.1 does', async () => {
  const name = fresh()
  await locks.insertOne({ name, inserted: new Date(0) })
  expect(await make(name).acquire()).toBe(false)
  await locks.deleteOne({ name })
})

test('a name that looks like a query is stored as a plain string', async () => {
  const name = '{"$gt":""}'
  const a = make(name)
  expect(await a.acquire()).toBe(true)
  const doc = await locks.findOne({ _id: new (require('mongoose8').mongo.ObjectId)(a.lockId) })
  expect(doc.name).toBe(name)
  expect(await make('another').acquire()).toBe(true) // not matched by the "query"
  await a.release()
})

test('round trips: free acquire = insert, held = insert + find, release = delete', async () => {
  const name = fresh()
  const a = make(name)
  const b = make(name)
  await make(fresh()).acquire() // warm up: index ensured, clock measured
  expect(await commandsOf(() => a.acquire())).toEqual({ insert: 1 })
  expect(await commandsOf(() => b.acquire())).toEqual({ insert: 1, find: 1 })
  expect(await commandsOf(() => a.release())).toEqual({ delete: 1 })
})

async function waitUntilAcquired (lock) {
  for (let i = 0; i < 500; i++) {
    if (await lock.acquire()) return
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error('never acquired')
}

test('acquires and forced acquires racing on one name, with leases of a few ms, never mistake the race for a broken index', async () => {
  // A forced acquire or a takeover can remove a lock between the lock and
  // its twin (one ordered insert is not atomic); the twin then goes in too.
  const name = `race-${Date.now()}`
  const failures = []
  const loop = (force) => async () => {
    const lock = Lock(name, { uri: testDb.uri, timeout: 3 })
    for (let i = 0; i < 60; i++) {
      try {
        if (await (force ? lock.forceAcquire() : lock.acquire())) await lock.release()
      } catch (err) {
        failures.push(`${err.code}: ${err.message}`)
      }
    }
  }
  await Promise.all([loop(false), loop(false), loop(false), loop(true), loop(true)].map((f) => f()))
  expect(failures).toEqual([])
})
