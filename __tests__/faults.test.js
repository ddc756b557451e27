'use strict'
// Faults: the server killed in the middle of a stress run and restarted, a
// server that stops answering, and a lock holder killed with SIGKILL.
const fs = require('fs')
const os = require('os')
const path = require('path')
const Lock = require('..')
const { startFerretDB } = require('../scripts/ferretdb')
const { startStress } = require('../scripts/stress')
const { freePort } = require('../scripts/toxiproxy')
const { uriFor, freshDb, rawDb, lockWorker, waitFor } = require('./support/helpers')

afterAll(() => Lock.close())

// These tests kill and stop their server, so they run on one of their own
// (the embedded FerretDB); with MONGODB_URI pointing elsewhere they are skipped.
const ownServer = process.env.TEST_SERVER === 'ferretdb' ? describe : describe.skip

ownServer('a server that dies or hangs', () => {
  let dataDir
  let port
  let server
  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mdl-faults-'))
    port = await freePort()
    server = await startFerretDB({ dataDir, port })
  })
  afterAll(async () => {
    if (server) await server.stop()
    fs.rmSync(dataDir, { recursive: true, force: true })
  })

  test('killed mid-run: calls fail fast, nothing hangs, locking resumes after restart, never two holders', async () => {
    const uri = `mongodb://127.0.0.1:${port}/faults?serverSelectionTimeoutMS=1000&connectTimeoutMS=1000&heartbeatFrequencyMS=500`
    const acquiredAt = []
    const errorsAt = new Map() // worker -> first error time after the kill
    let killedAt = Infinity
    const run = startStress({
      uri,
      processes: 4,
      iterations: 0, // until stopped
      timeout: 2000,
      pollInterval: 50,
      criticalMs: 5,
      onMessage: (m, _child, i) => {
        if (m.type === 'acquired') acquiredAt.push({ i, at: m.at })
        if (m.type === 'error' && m.at >= killedAt && !errorsAt.has(i)) errorsAt.set(i, m.at)
      }
    })
    try {
      await waitFor(() => acquiredAt.length >= 20)
      killedAt = Date.now()
      server.child.kill('SIGKILL')
      await server.stop()
      // Every worker gets an Error, within the connection string's bounds.
      await waitFor(() => errorsAt.size === 4, { timeoutMs: 15000 })
      const slowest = Math.max(...[...errorsAt.values()].map((at) => at - killedAt))
      expect(slowest).toBeLessThan(1000 + 3000)

      const restartedAt = Date.now()
      server = await startFerretDB({ dataDir, port })
      await waitFor(() => acquiredAt.some((a) => a.at > restartedAt), { timeoutMs: 30000 })
      const recoveryMs = Math.min(...acquiredAt.filter((a) => a.at > restartedAt).map((a) => a.at)) - restartedAt
      // Locking resumes for everyone, not just one lucky worker.
      await waitFor(() => new Set(acquiredAt.filter((a) => a.at > restartedAt).map((a) => a.i)).size === 4, { timeoutMs: 30000 })
      run.stop()
      const total = await run.done
      expect(total.overlaps).toBe(0)
      console.log(`faults: ${JSON.stringify({ ...total, slowestErrorAfterKillMs: slowest, recoveryMs })}`)
    } finally {
      run.stop()
      for (const w of run.workers) if (w.exitCode === null) w.kill('SIGKILL')
    }
  }, 120000)

  test('a server that stops answering: the call fails after socketTimeoutMS instead of hanging', async () => {
    const uri = `mongodb://127.0.0.1:${port}/faults_hang?socketTimeoutMS=1000&serverSelectionTimeoutMS=5000`
    const lock = Lock('hang', { uri })
    expect(await lock.acquire()).toBe(true)
    process.kill(server.pid, 'SIGSTOP')
    try {
      const started = Date.now()
      const error = await lock.release().catch((e) => e)
      expect(error.code).toBe('ERR_MONGODB_TIMEOUT')
      expect(Date.now() - started).toBeLessThan(4000)
      expect(lock.lockId).not.toBeNull() // not released: the state says so
    } finally {
      process.kill(server.pid, 'SIGCONT')
    }
    // The abandoned delete may still have been applied once the server woke
    // up: either way the release goes through and the lock is free again.
    expect(typeof await lock.release()).toBe('boolean')
    expect(lock.lockId).toBeNull()
    expect(await Lock('hang', { uri }).acquire()).toBe(true)
  }, 30000)
})

test('a holder killed with SIGKILL leaves a lock others take once its timeout has passed, not before', async () => {
  const DB = freshDb('faults_holder')
  const uri = uriFor(DB)
  const raw = await rawDb(DB)
  try {
    const holder = await lockWorker('native', uri)
    expect((await holder.call('acquire', 'victim', 'victim', { timeout: 1500 })).value).toBe(true)
    holder.child.kill('SIGKILL')
    const held = await raw.db.collection('distributedlocks').findOne({ name: 'victim' })
    const waiter = Lock('victim', { uri, pollInterval: 25 })
    expect(await waiter.acquire()).toBe(false)
    expect(await waiter.pollAcquire()).toBe(true)
    const taken = await raw.db.collection('distributedlocks').findOne({ name: 'victim' })
    expect(taken._id.toHexString()).toBe(waiter.lockId)
    expect(taken.inserted.getTime()).toBeGreaterThanOrEqual(held.expire.getTime() - 25)
    expect(taken.inserted.getTime() - held.expire.getTime()).toBeLessThan(2000)
    await waiter.release()
  } finally {
    await raw.db.dropDatabase()
    await raw.close()
  }
})

test('wake-up connections cut: the waiter polls, watches again, gets the lock, never two holders; later waits are woken again', async () => {
  const native = require('../lib/native')
  const DB = freshDb('faults_wakeups')
  const uri = uriFor(DB)
  const raw = await rawDb(DB)
  const holder = await lockWorker('native', uri)
  try {
    // A waiter in this process, polling every 300 ms only where no wake-up can come.
    const waiter = Lock('cut', { uri, pollInterval: 300, timeout: 20000 })
    expect((await holder.call('acquire', 'cut', 'cut', { timeout: 20000 })).value).toBe(true)
    native.resetCommandCounts()
    const waiting = waiter.pollAcquire({ maxAttempts: Infinity })
    waiting.catch(() => {}) // awaited below; a failed assertion must not leave it unhandled
    // Watching its holder: one failed try, then no other while it holds.
    await waitFor(() => native.openWakeUpWatches() === 1)
    expect(native.commandCounts().insert).toBe(1)
    expect(native.cutWakeUps()).toBe(true)
    // Cut off from its holder, the waiter polls: a try while it is still held
    // (then it watches again, on a new connection).
    await waitFor(() => (native.commandCounts().insert || 0) >= 2)
    const released = await holder.call('release', 'cut')
    expect(released.value).toBe(false) // released in time: it still held the lock until then
    expect(await waiting).toBe(true)
    const doc = await raw.db.collection('distributedlocks').findOne({ name: 'cut' })
    expect(doc._id.toHexString()).toBe(waiter.lockId)
    await waiter.release()

    // The next wait connects again and is woken, long before its first poll.
    const patient = Lock('cut', { uri, pollInterval: 30000, timeout: 20000 })
    expect((await holder.call('acquire', 'cut', 'cut', { timeout: 20000 })).value).toBe(true)
    native.resetCommandCounts()
    const waitingAgain = patient.pollAcquire({ maxAttempts: Infinity })
    waitingAgain.catch(() => {}) // awaited below; a failed assertion must not leave it unhandled
    await waitFor(() => native.openWakeUpWatches() === 1)
    const releasedAt = Date.now()
    await holder.call('release', 'cut')
    expect(await waitingAgain).toBe(true)
    expect(Date.now() - releasedAt).toBeLessThan(2000)
    expect(native.commandCounts().insert).toBe(2) // the try that found it held, the one that took it
    await patient.release()
  } finally {
    await holder.exit()
    await raw.db.dropDatabase()
    await raw.close()
  }
}, 60000)

test('lost-wake-up race: a release between a waiter\'s failed try and its watch still wakes it at once', async () => {
  const native = require('../lib/native')
  const DB = freshDb('faults_race')
  const uri = uriFor(DB)
  const holder = await lockWorker('native', uri)
  try {
    expect((await holder.call('acquire', 'race', 'race', { timeout: 20000 })).value).toBe(true)
    const waiter = Lock('race', { uri, pollInterval: 30000, timeout: 20000 })
    // The waiter stops after its failed try, before it watches the holder…
    expect(native.pausePointArm('wake-up-watch')).toBe(true)
    const waiting = waiter.pollAcquire({ maxAttempts: Infinity })
    waiting.catch(() => {}) // awaited below; a failed assertion must not leave it unhandled
    await waitFor(() => native.pausePointCaught('wake-up-watch'))
    // …the holder releases right then…
    expect((await holder.call('release', 'race')).value).toBe(false)
    const releasedAt = Date.now()
    native.pausePointOpen('wake-up-watch')
    // …and the watch, arriving late, is answered at once: no 30 s poll, no 20 s expiry.
    expect(await waiting).toBe(true)
    expect(Date.now() - releasedAt).toBeLessThan(2000)
    await waiter.release()
  } finally {
    await holder.exit()
  }
}, 60000)
