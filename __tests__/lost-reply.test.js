'use strict'
// A lost reply must not kill the lock. Through a fault-injecting proxy
// (Toxiproxy) between the lock and the server: the reply to an acquire's
// insert or a release's delete is lost, the connection is reset before a
// request, a reply comes later than socketTimeoutMS. Each time the caller gets
// an Error, and then the truth: the name is usable again at once (not after
// the lease), and a retried release says whether the lock was released in time.
const Lock = require('..')
const { useTestDatabase, waitFor } = require('./support/helpers')
const { faultProxy } = require('./support/fault-proxy')

const testDb = useTestDatabase('lost')
const SOCKET_TIMEOUT_MS = 700
const LEASE_MS = 30000
let fp
let names = 0
const fresh = () => `lost-${++names}`
const timings = {}

beforeAll(async () => {
  fp = await faultProxy(testDb.uri)
  // The lock's own bound per operation, and quick failover of server selection.
  const sep = fp.uri.includes('?') ? '&' : '?'
  fp.lockUri = `${fp.uri}${sep}socketTimeoutMS=${SOCKET_TIMEOUT_MS}&serverSelectionTimeoutMS=3000`
})
afterAll(async () => {
  console.log(`lost-reply timings (ms): ${JSON.stringify(timings)}`)
  await Lock.close()
  if (fp) await fp.close()
})
afterEach(async () => {
  for (const t of await fp.proxy.toxics()) await fp.proxy.removeToxic(t.name)
})

const viaProxy = (name) => Lock(name, { uri: fp.lockUri, timeout: LEASE_MS, pollInterval: 50 })
const direct = (name) => Lock(name, { uri: testDb.uri, timeout: LEASE_MS, pollInterval: 50 })
const docsOf = (name) => testDb.raw.db.collection('distributedlocks').find({ name }).toArray()

/** Replies from the server stop arriving; requests still reach it. */
const dropReplies = () => fp.proxy.addToxic({ name: 'drop', type: 'timeout', stream: 'downstream', attributes: { timeout: 0 } })
/** Every connection is reset as soon as data flows towards the server. */
const resetRequests = () => fp.proxy.addToxic({ name: 'reset', type: 'reset_peer', stream: 'upstream', attributes: { timeout: 0 } })
const heal = (name) => fp.proxy.removeToxic(name)

/**
 * Retries a release until it gets an answer: right after a heal, a pooled
 * connection the fault left half-open may still fail once (a network
 * error, which changes nothing). Resolves with the answer.
 */
async function releaseAnswered (lock) {
  const answered = await waitFor(() => lock.release().then((value) => ({ value }), (error) => {
    if (error.code !== 'ERR_MONGODB_NETWORK' && error.code !== 'ERR_MONGODB_TIMEOUT') throw error
    return null
  }), { timeoutMs: 15000 })
  return answered.value
}

/** A warm lock: its index, clock and pooled connection are ready. */
async function warm (lock) {
  expect(await lock.acquire()).toBe(true)
  expect(await lock.release()).toBe(false)
}

async function failure (promise) {
  const started = Date.now()
  const error = await promise.then(() => null, (e) => e)
  expect(error).toBeInstanceOf(Error)
  return { error, ms: Date.now() - started }
}

/**
 * A Lock whose acquire got no reply although its insert went in. Now and
 * then the request itself is held up (a connection the dropped heartbeats
 * made the driver replace): then the scenario is set up again, at most 3 times.
 */
async function strandedInsert () {
  for (let round = 0; round < 3; round++) {
    const name = fresh()
    const lock = viaProxy(name)
    await warm(lock)
    await dropReplies()
    const { error, ms } = await failure(lock.acquire())
    expect(error.code).toBe('ERR_MONGODB_TIMEOUT')
    const landed = (await docsOf(name)).length === 1
    if (landed) return { name, lock, ms }
    await heal('drop')
    await waitFor(() => lock.pollAcquire({ maxAttempts: Infinity }).then(() => lock.release()).then(() => true, () => false))
  }
  throw new Error('the insert never reached the server in 3 tries')
}

test('reply lost after the insert: the same Lock recognises its document and holds the lock', async () => {
  // The insert went in: the name is blocked for others, for now.
  const { name, lock, ms } = await strandedInsert()
  timings.insertReplyLostError = ms
  await heal('drop')
  const started = Date.now()
  // Whether the core's background withdraw or this call comes first, this
  // Lock ends up holding the name, long before the stranded lease would end.
  expect(await lock.pollAcquire({ maxAttempts: Infinity })).toBe(true)
  timings.insertReplyLostReacquire = Date.now() - started
  const docs = await docsOf(name)
  expect(docs.map((d) => d._id.toHexString())).toEqual([lock.lockId])
  expect(await lock.release()).toBe(false)
})

test('reply lost after the insert: the core withdraws the document, so others get the name before its lease ends', async () => {
  const { name } = await strandedInsert()
  await heal('drop')
  const started = Date.now()
  await waitFor(async () => (await docsOf(name)).length === 0, { timeoutMs: LEASE_MS / 2 })
  timings.insertReplyLostWithdrawn = Date.now() - started
  const other = direct(name)
  expect(await other.acquire()).toBe(true)
  expect(await other.release()).toBe(false)
})

test('reply lost after the delete: the retried release reports the truth (released in time)', async () => {
  // The case needs the delete to reach the server while its reply is lost.
  // Now and then the request itself is held up (a connection the dropped
  // heartbeats made the driver replace): then the scenario is tried again.
  let deleteLanded = false
  for (let round = 0; round < 3 && !deleteLanded; round++) {
    const name = fresh()
    const lock = viaProxy(name)
    await warm(lock)
    expect(await lock.acquire()).toBe(true)
    const lockId = lock.lockId
    await dropReplies()
    const { error } = await failure(lock.release())
    expect(error.code).toBe('ERR_MONGODB_TIMEOUT')
    expect(lock.lockId).toBe(lockId) // not released as far as the caller knows
    deleteLanded = (await docsOf(name)).length === 0
    await heal('drop')
    // Either way the retried release tells the truth: released in time.
    // When the delete did land, 1.0.0 answered `true` (as if the lease had run out).
    expect(await releaseAnswered(lock)).toBe(false)
    expect(lock.lockId).toBeNull()
    expect(await docsOf(name)).toHaveLength(0)
  }
  expect(deleteLanded).toBe(true)
})

test('a retried release says true when a forced acquire took the lock during our lease', async () => {
  const name = fresh()
  const lock = viaProxy(name)
  await warm(lock)
  expect(await lock.acquire()).toBe(true)
  await resetRequests()
  await failure(lock.release()) // never reached the server
  await heal('reset')
  const other = direct(name)
  expect(await other.forceAcquire()).toBe(true)
  const lost = new Promise((resolve) => lock.once('lost', resolve))
  expect(await releaseAnswered(lock)).toBe(true)
  expect(await lost).toBe('forced')
  expect(await other.release()).toBe(false)
})

test('a retried release says false when our first release freed the name and another holder came in at once', async () => {
  const name = fresh()
  const lock = viaProxy(name)
  await warm(lock)
  expect(await lock.acquire()).toBe(true)
  await dropReplies()
  await failure(lock.release()) // went through; its reply was lost
  await heal('drop')
  const other = direct(name)
  expect(await other.acquire()).toBe(true) // contention: the name is taken right away
  expect(await releaseAnswered(lock)).toBe(false)
  expect(await other.release()).toBe(false)
})

test('connection reset before the request: a clear network error, nothing written, and the next call works', async () => {
  const name = fresh()
  const lock = viaProxy(name)
  await warm(lock)
  await resetRequests()
  const { error, ms } = await failure(lock.acquire())
  expect(error.code).toBe('ERR_MONGODB_NETWORK')
  timings.resetBeforeRequestError = ms
  expect(await docsOf(name)).toHaveLength(0)
  await heal('reset')
  const started = Date.now()
  expect(await lock.pollAcquire({ maxAttempts: Infinity })).toBe(true)
  timings.resetBeforeRequestReacquire = Date.now() - started
  expect(await lock.release()).toBe(false)
})

test('a reply slower than socketTimeoutMS: ERR_MONGODB_TIMEOUT within the bound, and the late insert does not block the name', async () => {
  const name = fresh()
  const lock = viaProxy(name)
  await warm(lock)
  await fp.proxy.addToxic({ name: 'slow', type: 'latency', stream: 'downstream', attributes: { latency: SOCKET_TIMEOUT_MS * 3 } })
  const { error, ms } = await failure(lock.acquire())
  expect(error.code).toBe('ERR_MONGODB_TIMEOUT')
  expect(ms).toBeLessThan(SOCKET_TIMEOUT_MS * 3)
  timings.slowReplyError = ms
  // Still slow: the background deletes reach the server even though their
  // replies come late, so the name frees up without waiting for the lease.
  const started = Date.now()
  const other = direct(name)
  await waitFor(() => other.acquire(), { timeoutMs: LEASE_MS / 2, everyMs: 100 })
  timings.slowReplyNameFree = Date.now() - started
  expect(await other.release()).toBe(false)
})

test('a wait without end rides out a cut connection and takes the lock once the server answers again', async () => {
  const name = fresh()
  const lock = viaProxy(name)
  await warm(lock)
  const holder = direct(name)
  await holder.acquire()
  const errors = []
  const waiting = lock.pollAcquire({ maxAttempts: Infinity })
  await resetRequests()
  // While the connection is cut, tries fail; the wait goes on.
  await new Promise((resolve) => setTimeout(resolve, 300))
  await heal('reset')
  await holder.release()
  expect(await waiting.catch((e) => { errors.push(e); return null })).toBe(true)
  expect(errors).toEqual([])
  expect(await releaseAnswered(lock)).toBe(false)
})

test('Lock.close() with a server that stopped answering: waits end and close resolves at once', async () => {
  const name = fresh()
  const lock = Lock(name, { uri: fp.uri, pollInterval: 50 }) // the default 60 s bound per call
  await warm(lock)
  const holder = direct(name)
  await holder.acquire()
  const waiting = lock.pollAcquire({ maxAttempts: Infinity }).then(() => null, (e) => e)
  await dropReplies() // the wait's next call hangs on the silent connection
  await new Promise((resolve) => setTimeout(resolve, 200))
  const started = Date.now()
  await Lock.close()
  const closedIn = Date.now() - started
  const error = await waiting
  const endedIn = Date.now() - started
  timings.closeWithSilentServer = closedIn
  expect(error.code).toBe('ERR_CONNECTION_CLOSED')
  expect(closedIn).toBeLessThan(2000)
  expect(endedIn).toBeLessThan(2000)
  await heal('drop')
  await holder.release()
})
