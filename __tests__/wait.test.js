'use strict'
// Unbounded and cancellable waits: pollAcquire({ maxAttempts, signal }).
// An aborted wait leaves nothing behind: no document, no timer, no native work.
const Lock = require('..')
const native = require('../lib/native')
const { useTestDatabase, runFixture, waitFor } = require('./support/helpers')

const testDb = useTestDatabase('wait')
const { uri } = testDb
let names = 0
const fresh = () => `wait-${++names}`
const docsOf = (name) => testDb.raw.db.collection('distributedlocks').find({ name }).toArray()

test('maxAttempts: Infinity waits past probeMaxAttempts until the lock is free', async () => {
  const name = fresh()
  const holder = Lock(name, { uri })
  await holder.acquire()
  // Polling (no wake-ups): the tries can be counted.
  const waiter = Lock(name, { uri, pollInterval: 5, wakeUps: false })
  waiter.probeMaxAttempts = 2
  native.resetCommandCounts()
  const waiting = waiter.pollAcquire({ maxAttempts: Infinity })
  // Many more tries than probeMaxAttempts (each try is one insert)…
  await waitFor(() => (native.commandCounts().insert || 0) > 10)
  // …then the holder lets go and the wait ends with the lock.
  await holder.release()
  expect(await waiting).toBe(true)
  await waiter.release()
})

test('maxAttempts bounds the wait (1: one try); without it the instance\'s probeMaxAttempts applies (0.0.1)', async () => {
  const name = fresh()
  const holder = Lock(name, { uri })
  await holder.acquire()
  const waiter = Lock(name, { uri, pollInterval: 1 })
  const started = Date.now()
  await expect(waiter.pollAcquire({ maxAttempts: 1 })).rejects.toMatchObject({ code: 'ERR_POLL_TIMEOUT' })
  waiter.probeMaxAttempts = 2
  await expect(waiter.pollAcquire()).rejects.toMatchObject({ message: `timeout in pollAquire for lock name${name}` })
  expect(Date.now() - started).toBeLessThan(5000)
  for (const bad of [0, -1, NaN, '3']) {
    expect(() => waiter.pollAcquire({ maxAttempts: bad })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }))
  }
  expect(() => waiter.pollAcquire({ signal: {} })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }))
  // A look-alike without removeEventListener, or with a getter that throws.
  expect(() => waiter.pollAcquire({ signal: { aborted: false, addEventListener () {} } })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }))
  const throwing = { get aborted () { throw new Error('boom') }, addEventListener () {}, removeEventListener () {} }
  expect(() => waiter.pollAcquire({ signal: throwing })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }))
  await holder.release()
})

test('an AbortSignal ends the wait with AbortError / ABORT_ERR, and the callback gets it too', async () => {
  const name = fresh()
  const holder = Lock(name, { uri })
  await holder.acquire()
  const waiter = Lock(name, { uri, pollInterval: 5000 })
  const controller = new AbortController()
  const waiting = waiter.pollAcquire({ maxAttempts: Infinity, signal: controller.signal })
  await new Promise((resolve) => setTimeout(resolve, 100))
  const abortedAt = Date.now()
  controller.abort()
  const error = await waiting.catch((e) => e)
  expect(Date.now() - abortedAt).toBeLessThan(1000) // not at the next poll, 5 s away
  expect(error).toBeInstanceOf(Error)
  expect(error.name).toBe('AbortError')
  expect(error.code).toBe('ABORT_ERR')
  expect(waiter.lockId).toBeNull()
  const viaCallback = await new Promise((resolve) => {
    const c = new AbortController()
    waiter.pollAcquire({ signal: c.signal }, (err, value) => resolve({ err, value }))
    setTimeout(() => c.abort(), 50)
  })
  expect(viaCallback.err.name).toBe('AbortError')
  await holder.release()
  expect((await docsOf(name))).toHaveLength(0)
})

test('an already-aborted signal rejects at once, before any round trip', async () => {
  const lock = Lock(fresh(), { uri })
  const error = await lock.pollAcquire({ signal: AbortSignal.abort() }).catch((e) => e)
  expect(error.name).toBe('AbortError')
  expect(error.code).toBe('ABORT_ERR')
  expect(await docsOf(lock.name)).toHaveLength(0)
})

test('abort leaves nothing behind: no document, and the process exits on its own right after', async () => {
  const name = fresh()
  const holder = Lock(name, { uri })
  await holder.acquire()
  const started = Date.now()
  const { code, stdout } = await runFixture('abort.js', [uri, name], { timeoutMs: 30000 })
  const out = JSON.parse(stdout.trim().split('\n').pop())
  expect(code).toBe(0)
  expect(out.error).toEqual({ name: 'AbortError', code: 'ABORT_ERR' })
  // It exited on its own long before the 60 s poll interval it was pausing in.
  expect(Date.now() - started).toBeLessThan(20000)
  await holder.release()
  expect(await docsOf(name)).toHaveLength(0)
})

test('many aborts while acquires are in flight leave no document behind', async () => {
  const name = fresh()
  const lock = Lock(name, { uri, pollInterval: 1 })
  for (let i = 0; i < 30; i++) {
    const controller = new AbortController()
    const attempt = lock.pollAcquire({ signal: controller.signal }).then(() => 'acquired', (e) => e.code)
    // Abort at every point of the first round trip.
    setTimeout(() => controller.abort(), i % 5)
    const outcome = await attempt
    if (outcome === 'acquired') await lock.release()
    else expect(outcome).toBe('ABORT_ERR')
  }
  // Withdrawn in the background if an insert was under way: none stays.
  await waitFor(async () => (await docsOf(name)).length === 0, { timeoutMs: 10000 })
})

test('a wait that never gets the lock gives up after (probeMaxAttempts - 1) × pollInterval, as 0.0.1, without polling in between', async () => {
  const name = fresh()
  const holder = Lock(name, { uri })
  await holder.acquire()
  const waiter = Lock(name, { uri, pollInterval: 200 })
  waiter.probeMaxAttempts = 4
  const timeouts = []
  waiter.on('timeout', () => timeouts.push(Date.now()))
  native.resetCommandCounts()
  const started = Date.now()
  await expect(waiter.pollAcquire()).rejects.toMatchObject({ code: 'ERR_POLL_TIMEOUT', message: `timeout in pollAquire for lock name${name}` })
  expect(Date.now() - started).toBeGreaterThanOrEqual(3 * 200)
  expect(timeouts).toHaveLength(1)
  // Woken by nothing (the holder held on): a try at the start and one at the end.
  expect(native.commandCounts().insert).toBe(2)
  await holder.release()
})
