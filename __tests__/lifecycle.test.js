'use strict'
// The lock follows its connection's life: when the application's connection
// closes (mongoose.disconnect(), connection.close(), Lock.close()), waits on
// it end at once with ERR_CONNECTION_CLOSED, the native client closes, and
// Node exits on its own; when the application connects again, locks work.
// Also: how many TCP connections the lock adds next to mongoose.
const { ObjectId } = require('mongoose8').mongo
const { useTestDatabase, startFixture, nextMessage, waitFor } = require('./support/helpers')

const testDb = useTestDatabase('life')
let names = 0
const fresh = () => `life-${++names}`

/** Holds `name` for a minute, as another process would, straight in the collection. */
async function heldElsewhere (name) {
  const now = Date.now()
  await testDb.raw.db.collection('distributedlocks')
    .insertOne({ _id: new ObjectId(), name, expire: new Date(now + 60000), inserted: new Date(now) })
}

/** Runs fixtures/shutdown.js; resolves with its messages and how it exited. */
async function shutdown (mongoose, how) {
  const name = fresh()
  await heldElsewhere(name)
  const child = startFixture('shutdown.js', [mongoose, testDb.uri, name, how])
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  const waiting = await nextMessage(child, (m) => m.step === 'waiting' || m.step === 'crash')
  expect(waiting).toMatchObject({ step: 'waiting', first: false, openClients: 1 })
  const ended = nextMessage(child, (m) => m.step === 'ended' || m.step === 'crash')
  const again = how === 'reconnect' ? nextMessage(child, (m) => m.step === 'again' || m.step === 'crash') : null
  child.send('shut down')
  const result = { name, ended: await ended, again: again && await again }
  // Node must exit on its own: no handle, timer or native work keeps it alive.
  let timer
  const exit = await Promise.race([exited, new Promise((resolve) => { timer = setTimeout(resolve, 10000, 'still running') })])
  clearTimeout(timer)
  if (exit === 'still running') child.kill('SIGKILL')
  result.exit = exit
  return result
}

describe.each(['mongoose6', 'mongoose7', 'mongoose8', 'mongoose9'])('with %s', (mongoose) => {
  test('mongoose.disconnect() ends a waiting pollAcquire before its next poll, with ERR_CONNECTION_CLOSED, and Node exits', async () => {
    const { name, ended, exit } = await shutdown(mongoose, 'disconnect')
    expect(ended.outcome.error.code).toBe('ERR_CONNECTION_CLOSED')
    expect(ended.outcome.error.message).toMatch(/^connection_closed: /)
    expect(ended.ms).toBeLessThan(2000) // the poll interval
    expect(ended.openClients).toBe(0)
    expect(exit).toEqual({ code: 0, signal: null })
    // It never took the lock on its way out.
    const docs = await testDb.raw.db.collection('distributedlocks').find({ name }).toArray()
    expect(docs).toHaveLength(1)
  })
})

test('connection.close() of the connection given as an option ends the wait the same way', async () => {
  const { ended, exit } = await shutdown('mongoose8', 'close')
  expect(ended.outcome.error.code).toBe('ERR_CONNECTION_CLOSED')
  expect(ended.ms).toBeLessThan(2000)
  expect(ended.openClients).toBe(0)
  expect(exit).toEqual({ code: 0, signal: null })
})

test('Lock.close() ends a wait on the uri option the same way', async () => {
  const { ended, exit } = await shutdown('mongoose8', 'lock-close')
  expect(ended.outcome.error.code).toBe('ERR_CONNECTION_CLOSED')
  expect(ended.ms).toBeLessThan(2000)
  expect(ended.openClients).toBe(0)
  expect(exit).toEqual({ code: 0, signal: null })
})

test('when the application connects again, locks work again', async () => {
  const { ended, again, exit } = await shutdown('mongoose8', 'reconnect')
  expect(ended.outcome.error.code).toBe('ERR_CONNECTION_CLOSED')
  expect(again).toMatchObject({ step: 'again', acquired: true, released: false, openClients: 0 })
  expect(exit).toEqual({ code: 0, signal: null })
})

// TCP connections from process `pid` to `port` (Linux /proc): the bench's probe.
const { tcpConnections } = require('../bench/probes')

const onLinux = process.platform === 'linux' ? test : test.skip
onLinux('the lock adds two TCP connections next to mongoose on a standalone server (one monitor, one pooled)', async () => {
  const port = Number(/:(\d+)\//.exec(testDb.uri)[1])
  const child = startFixture('connections.js', ['mongoose8', testDb.uri, fresh()])
  const counts = await nextMessage(child, (m) => 'mongooseOnly' in m || 'crash' in m)
  expect(counts.crash).toBeUndefined()
  const seen = {}
  for (const phase of ['mongooseOnly', 'withLock', 'afterDisconnect']) {
    // The child paused at each phase; count its sockets from here (closing
    // sockets take a moment to leave the table).
    if (phase === 'afterDisconnect') await waitFor(() => tcpConnections(child.pid, port) === 0, { timeoutMs: 5000 }).catch(() => {})
    seen[phase] = tcpConnections(child.pid, port)
    child.send('next')
    if (phase !== 'afterDisconnect') await nextMessage(child, (m) => m.phase)
  }
  await new Promise((resolve) => child.once('exit', resolve))
  console.log(`TCP connections to the server: mongoose alone ${seen.mongooseOnly}, with the lock ${seen.withLock}, after disconnect ${seen.afterDisconnect}`)
  expect(seen.withLock - seen.mongooseOnly).toBe(2)
  expect(seen.afterDisconnect).toBe(0)
})
