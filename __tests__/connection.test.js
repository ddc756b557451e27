'use strict'
// How a lock finds its connection: the application's mongoose (6 to 9), the
// `connection` option, the `uri` option and MONGODB_URI.
const Lock = require('..')
const { uriFor, freshDb, runFixture } = require('./support/helpers')

const DB = freshDb('conn')
const uri = uriFor(DB)

afterAll(() => Lock.close())

async function app (mongoose, scenario, env = {}) {
  const { code, stdout, stderr } = await runFixture('app.js', [mongoose, uri, scenario], {
    env: { MONGODB_URI: '', ...env }
  })
  const line = stdout.trim().split('\n').pop()
  if (code !== 0 || !line) throw new Error(`app exited ${code}: ${stdout}\n${stderr}`)
  return JSON.parse(line)
}

describe.each(['mongoose6', 'mongoose7', 'mongoose8', 'mongoose9'])('the application\'s %s', (mongoose) => {
  test('after mongoose.connect(uri) nothing else is needed; documents go to its database', async () => {
    const out = await app(mongoose, 'connected')
    expect(out).toMatchObject({ acquired: true, released: false, stored: { db: DB, id: true } })
  })
})

test('a lock used before mongoose.connect() works once the connection is open', async () => {
  const out = await app('mongoose8', 'lock-before-connect')
  expect(out).toMatchObject({ acquired: true, stored: { db: DB, id: true } })
})

test('a lock used while mongoose is connecting waits for it', async () => {
  const out = await app('mongoose6', 'connecting')
  expect(out).toMatchObject({ acquired: true, stored: { db: DB, id: true } })
})

test('with no connection anywhere, the first call fails clearly (and require did not)', async () => {
  const out = await app('mongoose8', 'no-connection')
  expect(out.error.code).toBe('ERR_NO_CONNECTION')
  expect(out.error.message).toMatch(/^no_connection: /)
})

test('MONGODB_URI is used when mongoose is not connected', async () => {
  const out = await app('mongoose8', 'env', { MONGODB_URI: uri })
  expect(out).toMatchObject({ acquired: true, released: false })
})

describe.each(['mongoose6', 'mongoose8'])('the connection option with a %s Connection', (m) => {
  const mongoose = require(m)
  let conn
  afterEach(async () => { if (conn) await conn.close() })

  test('uses that connection\'s server and database', async () => {
    const db = freshDb(`conn_${m}`)
    conn = await mongoose.createConnection(uriFor(db)).asPromise()
    const a = Lock('via-connection', { connection: conn })
    expect(await a.acquire()).toBe(true)
    const doc = await conn.db.collection('distributedlocks').findOne({ name: 'via-connection' })
    expect(String(doc._id)).toBe(a.lockId)
    expect(await Lock('via-connection', { uri: uriFor(db) }).acquire()).toBe(false)
    expect(await a.release()).toBe(false)
    await conn.db.dropDatabase()
  })

  test('honours the dbName option of the connection', async () => {
    const db = freshDb(`conn_dbname_${m}`)
    conn = await mongoose.createConnection(uri, { dbName: db }).asPromise()
    const a = Lock('dbname', { connection: conn })
    expect(await a.acquire()).toBe(true)
    expect(await conn.db.collection('distributedlocks').countDocuments({ name: 'dbname' })).toBe(1)
    await a.release()
    await conn.db.dropDatabase()
  })

  test('a Lock made before the connection opens works once it is open', async () => {
    conn = mongoose.createConnection()
    const a = Lock('early', { connection: conn })
    const pending = a.acquire()
    await conn.openUri(uri)
    expect(await pending).toBe(true)
    await a.release()
  })
})

test('locks on one connection string share one pooled client', async () => {
  const native = require('../lib/native')
  native.resetCommandCounts()
  const locks = Array.from({ length: 20 }, (_, i) => Lock(`shared-${i}`, { uri }))
  await Promise.all(locks.map((l) => l.acquire()))
  await Promise.all(locks.map((l) => l.release()))
  // One client measures the clock once (two hello samples), not once per lock.
  expect(native.commandCounts().hello || 0).toBeLessThanOrEqual(2)
})
