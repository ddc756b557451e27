'use strict'
// Fair waiting across processes (fair: true): waiters are served in arrival
// order. Four processes loop acquire/release on one name; with fair: true no
// waiter waits for more than one turn of each other waiter. The unfair lock
// runs the same loop for comparison (0.0.1's behaviour: a releaser that
// re-acquires at once may win again and again).
const Lock = require('..')
const { useTestDatabase, runFixture, waitFor } = require('./support/helpers')

const testDb = useTestDatabase('fair')
const { uri } = testDb
const WORKERS = 4
const LOOPS = 8

async function loop (name, fair) {
  // Every worker warms up, then all start together when the last is warm.
  const warm = []
  const go = () => { if (warm.length === WORKERS) for (const child of warm) child.send('go') }
  const runs = await Promise.all(Array.from({ length: WORKERS }, () =>
    runFixture('fair-worker.js', [uri, name, String(LOOPS), String(fair)], {
      timeoutMs: 120000,
      onMessage: (m, child) => { if (m.warm) { warm.push(child); go() } }
    })))
  return runs.map(({ code, stdout, stderr }) => {
    const out = JSON.parse(stdout.trim().split('\n').pop() || '{}')
    if (code !== 0 || !out.turns) throw new Error(`worker failed: ${stdout} ${stderr}`)
    return out.turns
  })
}

/** For each wait: how many turns each other worker had while it waited; the most, and the longest wait. */
function measure (workers) {
  let mostTurns = 0
  let longestWait = 0
  workers.forEach((turns, w) => {
    for (const { waitStarted, acquired } of turns) {
      longestWait = Math.max(longestWait, acquired - waitStarted)
      workers.forEach((others, o) => {
        if (o === w) return
        const during = others.filter((t) => t.acquired > waitStarted && t.acquired < acquired).length
        mostTurns = Math.max(mostTurns, during)
      })
    }
  })
  return { mostTurns, longestWait }
}

test('fair: true serves waiters in arrival order: no wait spans more than one turn of any other waiter', async () => {
  const fair = measure(await loop('fair-loop', true))
  const unfair = measure(await loop('unfair-loop', false))
  console.log(`4 processes x ${LOOPS} turns: fair: most turns of one other waiter during a wait ${fair.mostTurns}, longest wait ${fair.longestWait} ms; unfair: ${unfair.mostTurns}, ${unfair.longestWait} ms`)
  expect(fair.mostTurns).toBeLessThanOrEqual(1)
  // The queue is left empty.
  await waitFor(async () => (await testDb.raw.db.collection('distributedlocks_queue').countDocuments({})) === 0)
})

test('a fair waiter that dies leaves the queue when its registration expires; the others go on', async () => {
  const name = 'fair-dead'
  const holder = Lock(name, { uri })
  await holder.acquire()
  const queue = testDb.raw.db.collection('distributedlocks_queue')
  // A waiter that registered first and died (its registration already ran out).
  await queue.insertOne({ name, ticket: 1, expire: new Date(Date.now() - 1000) })
  const waiter = Lock(name, { uri, fair: true, pollInterval: 20 })
  const waiting = waiter.pollAcquire({ maxAttempts: Infinity })
  waiting.catch(() => {}) // awaited below; a failed assertion must not leave it unhandled
  await holder.release()
  expect(await waiting).toBe(true)
  expect(await queue.countDocuments({ name })).toBe(0)
  await waiter.release()
})

test('an aborted fair wait leaves the queue at once', async () => {
  const name = 'fair-abort'
  const holder = Lock(name, { uri })
  await holder.acquire()
  const controller = new AbortController()
  const waiting = Lock(name, { uri, fair: true, pollInterval: 20 }).pollAcquire({ signal: controller.signal })
  const queue = testDb.raw.db.collection('distributedlocks_queue')
  await waitFor(async () => (await queue.countDocuments({ name })) === 1)
  controller.abort()
  await expect(waiting).rejects.toMatchObject({ code: 'ABORT_ERR' })
  expect(await queue.countDocuments({ name })).toBe(0)
  await holder.release()
})

test('in-process handoff stays instant for a fair waiter: a release here wakes it, not its next poll', async () => {
  const name = 'fair-local'
  const holder = Lock(name, { uri })
  await holder.acquire()
  const waiter = Lock(name, { uri, fair: true, pollInterval: 10000 })
  const queued = new Promise((resolve) => waiter.once('queued', resolve))
  const waiting = waiter.pollAcquire()
  await queued
  await holder.release()
  const released = Date.now()
  expect(await waiting).toBe(true)
  expect(Date.now() - released).toBeLessThan(5000) // long before the 10 s poll interval
  await waiter.release()
})

test('an idle fair waiter watching its holder asks the server only to renew its registration', async () => {
  const native = require('../lib/native')
  const { lockWorker } = require('./support/helpers')
  const holder = await lockWorker('native', uri)
  try {
    expect((await holder.call('acquire', 'fair-idle', 'fair-idle', { timeout: 20000 })).value).toBe(true)
    // Registration 2000 ms, renewed every 1000 ms while it waits.
    const waiter = Lock('fair-idle', { uri, fair: true, pollInterval: 500, timeout: 20000 })
    native.resetCommandCounts()
    const waiting = waiter.pollAcquire({ maxAttempts: Infinity })
    waiting.catch(() => {}) // awaited below; a failed assertion must not leave it unhandled
    await waitFor(() => native.openWakeUpWatches() === 1)
    await waitFor(() => (native.commandCounts().update || 0) >= 3, { timeoutMs: 15000 })
    // Joined (1 insert into the queue), tried once (1 lock insert); since
    // then only renewals: no look at the queue, no try.
    const counts = native.commandCounts()
    expect(counts.insert).toBe(2)
    expect(counts.find).toBe(3) // the highest ticket, the head, the holder
    await holder.call('release', 'fair-idle')
    expect(await waiting).toBe(true)
    await waiter.release()
  } finally {
    await holder.exit()
  }
}, 60000)
