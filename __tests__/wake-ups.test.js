'use strict'
// Wake-ups across processes (issue #16, src/listener.rs, lib/wait.js): a
// waiter in another process takes a released lock within a few round trips
// of the release, at any pollInterval, and does not ask the server while it
// waits; it polls only where no wake-up can come (a 0.0.x holder,
// wakeUps: false), and falls back to the holder's expiry when the holder
// dies or stops.
//
// Holders and waiters run in worker processes (fixtures/wake-worker.js),
// whose debug log lines come here: a wait's tries are counted from its
// `<name>: try N` lines. A handoff at pollInterval 30000 is "fast" when it
// comes within 2 s of the release (the issue's "long before its first
// poll"); a try count is checked against a condition (another waiter's
// polls, a handoff), never against a sleep.
const fs = require('fs')
const os = require('os')
const path = require('path')
const { fork } = require('child_process')
const Lock = require('..')
const { startFerretDB } = require('../scripts/ferretdb')
const { freePort } = require('../scripts/toxiproxy')
const { useTestDatabase, runFixture, lockWorker, waitFor } = require('./support/helpers')

const testDb = useTestDatabase('wake')
const { uri } = testDb
const docOf = (name) => testDb.raw.db.collection('distributedlocks').findOne({ name })

// A poll at this interval comes 30 s after a failed try: a handoff within
// FAST_MS of the release was a wake-up's doing.
const SLOW_POLL = 30000
const FAST_MS = 2000
// How long a test waits for a handoff before it calls it missing.
const HANDOFF_WAIT_MS = 10000
// Leases that never run out during a test.
const LONG_LEASE = 120000

let names = 0
const fresh = (what) => `wk-${what}-${++names}`
const children = [] // every worker started, killed at the end if still alive

afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
})

/** `promise`, or a rejection naming `what` after `ms`. */
function within (promise, ms, what) {
  let timer
  const late = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms)
  })
  return Promise.race([promise, late]).finally(() => clearTimeout(timer))
}

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** A wake-worker process: `call()` runs a command there, `tries(name)` counts its tries on `name`. */
async function wakeWorker () {
  const child = fork(path.join(__dirname, 'fixtures', 'wake-worker.js'), [], {
    env: process.env,
    stdio: ['ignore', 'ignore', 'pipe', 'ipc']
  })
  children.push(child)
  let stderr = ''
  child.stderr.on('data', (d) => { stderr += d })
  const logs = []
  const events = []
  const replies = new Map()
  child.on('message', (m) => {
    if (m.log !== undefined) return logs.push(m.log)
    if (m.id !== undefined) {
      const resolve = replies.get(m.id)
      replies.delete(m.id)
      return resolve && resolve(m)
    }
    events.push(m)
  })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  await within(Promise.race([
    waitFor(() => events.some((e) => e.ready), { timeoutMs: 30000 }),
    exited.then(() => { throw new Error(`wake-worker died: ${stderr}`) })
  ]), 30000, 'wake-worker start')
  let ids = 0
  return {
    child,
    logs,
    events,
    stderr: () => stderr,
    /** Runs `cmd` on the Lock `key` (made with `name` and `options`); resolves with the reply. */
    call (cmd, key, name = key, options = { uri }, poll) {
      const id = ++ids
      const reply = new Promise((resolve) => replies.set(id, resolve))
      child.send({ id, cmd, key, name, options, poll })
      return reply
    },
    /** Log lines of this process that mention `name`. */
    lines (name) {
      const mention = new RegExp(` ${escape(name)}: `)
      return logs.filter((line) => mention.test(line))
    },
    /** How many tries this process made on `name` (all its waits together). */
    tries (name) {
      const pattern = new RegExp(` ${escape(name)}: try \\d+`)
      return logs.filter((line) => pattern.test(line)).length
    },
    /** Resolves once this process made `n` tries on `name` in all. */
    tried (name, n = 1) {
      return waitFor(() => this.tries(name) >= n, { timeoutMs: 20000, everyMs: 5 })
    },
    exited
  }
}

/** Asks a worker to close its clients and go; kills it if it does not. */
async function stop (worker) {
  if (worker.child.connected) worker.child.send({ cmd: 'exit' })
  await within(worker.exited, 10000, 'a worker exiting').catch(() => worker.child.kill('SIGKILL'))
  await worker.exited
}

/**
 * Releases through `release()` (a reply from the holder's process) and
 * waits for `acquired` (the waiter's reply): ms from the release's start to
 * the waiter having the lock.
 */
async function handoff (release, acquired, what = 'the waiter to take the lock', waitMs = HANDOFF_WAIT_MS) {
  const releasedAt = Date.now()
  const released = await release()
  expect(released).toMatchObject({ ok: true, value: false })
  const got = await within(acquired, waitMs, what)
  expect(got).toMatchObject({ ok: true })
  return got.at - releasedAt
}

describe('across processes, with the pool of workers', () => {
  let workers
  beforeAll(async () => {
    workers = await Promise.all([wakeWorker(), wakeWorker(), wakeWorker(), wakeWorker()])
  })
  afterAll(async () => {
    for (const w of workers || []) await stop(w)
  })

  describe('a waiter takes a released lock long before its first poll (pollInterval 30000)', () => {
    test.each(['pollAcquire', 'hold', 'withLock'])('%s', async (how) => {
      const [holder, waiter] = workers
      const name = fresh(how)
      expect((await holder.call('acquire', name, name, { uri, timeout: LONG_LEASE })).value).toBe(true)
      const options = { uri, pollInterval: SLOW_POLL }
      const waiting = how === 'withLock'
        ? waiter.call('withLock', name, name, options)
        : waiter.call(how, name, name, options, how === 'pollAcquire' ? { maxAttempts: 3 } : undefined)
      await waiter.tried(name)
      const ms = await handoff(() => holder.call('release', name), waiting)
      expect(ms).toBeLessThan(FAST_MS)
      expect(waiter.tries(name)).toBe(1)
      if (how === 'withLock') {
        expect((await waiting).value).toBe('done')
        expect(waiter.events.some((e) => e.inside === name)).toBe(true)
      } else {
        expect((await waiter.call(how === 'hold' ? 'releaseHold' : 'release', name)).value).toBe(false)
      }
      expect(await docOf(name)).toBeNull()
    })
  })

  test('fair waiters in three processes take it in arrival order, each long before its first poll', async () => {
    const [holder, ...waiters] = workers
    const name = fresh('fair')
    const options = { uri, fair: true, pollInterval: SLOW_POLL }
    expect((await holder.call('pollAcquire', name, name, { ...options, timeout: LONG_LEASE })).value).toBe(true)
    // They arrive one after the other: each has joined the queue (and made
    // its first try) before the next comes.
    const waits = []
    for (const w of waiters) {
      waits.push(w.call('pollAcquire', name, name, options, { maxAttempts: 3 }))
      await w.tried(name)
    }
    const times = [await handoff(() => holder.call('release', name), waits[0], 'the head of the queue')]
    for (let i = 1; i < waiters.length; i++) {
      times.push(await handoff(() => waiters[i - 1].call('release', name), waits[i], `waiter ${i + 1} of the queue`))
    }
    expect((await waiters[waiters.length - 1].call('release', name)).value).toBe(false)
    for (const ms of times) expect(ms).toBeLessThan(FAST_MS)
    // Nobody polled: one try each, then a wake-up when the one ahead left.
    for (const w of waiters) expect(w.tries(name)).toBeLessThanOrEqual(2)
    await waitFor(async () => (await testDb.raw.db.collection('distributedlocks_queue').countDocuments({ name })) === 0)
  })

  test('a release of name A wakes only A\'s waiters: B\'s waiters make no try until B is released', async () => {
    const [holder, w1, w2] = workers
    const [a, b, clock] = [fresh('a'), fresh('b'), fresh('clock')]
    for (const name of [a, b, clock]) expect((await holder.call('acquire', name, name, { uri, timeout: LONG_LEASE })).value).toBe(true)
    const slow = { uri, pollInterval: SLOW_POLL }
    // w1 waits on A and on B (one connection to the holder's listener
    // carries both watches); w2 waits on B.
    const gotA = w1.call('pollAcquire', a, a, slow, { maxAttempts: 3 })
    const gotB1 = w1.call('pollAcquire', `${b}-1`, b, slow, { maxAttempts: 3 })
    const gotB2 = w2.call('pollAcquire', `${b}-2`, b, slow, { maxAttempts: 3 })
    // A clock in w1's process: a waiter that polls every 50 ms (wakeUps: false).
    const clockGot = w1.call('pollAcquire', clock, clock, { uri, pollInterval: 50, wakeUps: false }, { maxAttempts: 'Infinity' })
    await w1.tried(a)
    await w1.tried(b)
    await w2.tried(b)
    await w1.tried(clock)
    expect(await handoff(() => holder.call('release', a), gotA)).toBeLessThan(FAST_MS)
    // Time for a wrong wake-up to show: four more polls of the clock.
    const ticks = w1.tries(clock)
    await w1.tried(clock, ticks + 4)
    expect({ w1: w1.tries(b), w2: w2.tries(b) }).toEqual({ w1: 1, w2: 1 })
    // B's release wakes both; one takes it, the other waits on the new holder.
    expect((await holder.call('release', b)).value).toBe(false)
    const first = await within(Promise.race([gotB1.then(() => [w1, `${b}-1`, gotB2]), gotB2.then(() => [w2, `${b}-2`, gotB1])]), HANDOFF_WAIT_MS, 'a waiter on B')
    const [winner, key, other] = first
    expect(await handoff(() => winner.call('release', key), other)).toBeLessThan(FAST_MS)
    await (winner === w1 ? w2.call('release', `${b}-2`) : w1.call('release', `${b}-1`))
    expect((await w1.call('release', a)).value).toBe(false)
    expect((await holder.call('release', clock)).value).toBe(false)
    expect((await clockGot).ok).toBe(true)
    expect((await w1.call('release', clock)).value).toBe(false)
  })

  test('a 0.0.1 holder is polled (its waiter gets the lock at its next poll); a holder of ours is watched, not polled', async () => {
    const [holder, w1, w2] = workers
    const legacy = await lockWorker('legacy', uri)
    try {
      const [old, ours] = [fresh('legacy'), fresh('ours')]
      expect((await legacy.call('acquire', old, old, { timeout: 60000 })).value).toBe(true)
      expect((await docOf(old)).holder).toBeUndefined()
      expect((await holder.call('acquire', ours, ours, { uri, timeout: LONG_LEASE })).value).toBe(true)
      const options = { uri, pollInterval: 300 }
      const gotOld = w1.call('pollAcquire', old, old, options, { maxAttempts: 'Infinity' })
      const gotOurs = w2.call('pollAcquire', ours, ours, options, { maxAttempts: 'Infinity' })
      await w2.tried(ours)
      // The waiter on the 0.0.1 holder polls (no wake-up can come from it) ...
      await w1.tried(old, 4)
      // ... while the one on our holder has not asked the server again.
      expect(w2.tries(ours)).toBe(1)
      // The 0.0.1 release: taken at the next poll (300 ms), not at the
      // holder's expiry (60 s).
      const releasedAt = Date.now()
      expect((await legacy.call('release', old)).value).toBe(false)
      const got = await within(gotOld, HANDOFF_WAIT_MS, 'the waiter on the 0.0.1 holder')
      expect(got.ok).toBe(true)
      expect(got.at - releasedAt).toBeLessThan(FAST_MS)
      expect(await handoff(() => holder.call('release', ours), gotOurs)).toBeLessThan(FAST_MS)
      expect(w2.tries(ours)).toBe(1)
      expect((await w1.call('release', old)).value).toBe(false)
      expect((await w2.call('release', ours)).value).toBe(false)
    } finally {
      await legacy.exit()
    }
  })

  test('wakeUps: false polls as 1.1 did; the default waiter beside it makes one try; a wakeUps: false holder writes no endpoint', async () => {
    const [holder, w1, w2] = workers
    const [watched, polled, quiet] = [fresh('watched'), fresh('polled'), fresh('quiet')]
    for (const name of [watched, polled]) expect((await holder.call('acquire', name, name, { uri, timeout: LONG_LEASE })).value).toBe(true)
    const gotWatched = w1.call('pollAcquire', watched, watched, { uri, pollInterval: 200 }, { maxAttempts: 'Infinity' })
    const gotPolled = w2.call('pollAcquire', polled, polled, { uri, pollInterval: 200, wakeUps: false }, { maxAttempts: 'Infinity' })
    await w1.tried(watched)
    await w2.tried(polled, 4)
    expect(w1.tries(watched)).toBe(1)
    // The holder says where it listens for its waiters.
    expect((await docOf(watched)).holder.wakeUp).toMatch(/^\d+:[0-9a-f]{24}$/)
    expect(await handoff(() => holder.call('release', watched), gotWatched)).toBeLessThan(FAST_MS)
    expect((await holder.call('release', polled)).value).toBe(false)
    expect((await within(gotPolled, HANDOFF_WAIT_MS, 'the polling waiter')).ok).toBe(true)
    expect((await w1.call('release', watched)).value).toBe(false)
    expect((await w2.call('release', polled)).value).toBe(false)
    // A holder with wakeUps: false says who it is, but not where it listens.
    expect((await holder.call('acquire', quiet, quiet, { uri, wakeUps: false })).value).toBe(true)
    const doc = await docOf(quiet)
    expect(doc.holder.pid).toBe(holder.child.pid)
    expect(doc.holder.wakeUp).toBeUndefined()
    expect((await holder.call('release', quiet)).value).toBe(false)
  })

  test('a holder with a lease longer than a timer can wait (30 days) is watched, not tried against in a loop', async () => {
    const [holder, w1] = workers
    const [name, clock] = [fresh('long'), fresh('clock')]
    const DAYS_30 = 30 * 24 * 3600 * 1000 // above setTimeout's 2^31 - 1 ms
    expect((await holder.call('acquire', name, name, { uri, timeout: DAYS_30 })).value).toBe(true)
    expect((await holder.call('acquire', clock, clock, { uri, timeout: LONG_LEASE })).value).toBe(true)
    const got = w1.call('hold', name, name, { uri, pollInterval: SLOW_POLL })
    const clockGot = w1.call('pollAcquire', clock, clock, { uri, pollInterval: 50, wakeUps: false }, { maxAttempts: 'Infinity' })
    await w1.tried(name)
    const ticks = w1.tries(clock)
    await w1.tried(clock, ticks + 4)
    expect(w1.tries(name)).toBe(1)
    expect(await handoff(() => holder.call('release', name), got)).toBeLessThan(FAST_MS)
    expect((await w1.call('releaseHold', name)).value).toBe(false)
    expect((await holder.call('release', clock)).value).toBe(false)
    expect((await clockGot).ok).toBe(true)
    expect((await w1.call('release', clock)).value).toBe(false)
  })

  test('holdAtLeast: a release within the bound wakes the waiter in another process when the bound passes', async () => {
    const [holder, w1] = workers
    const name = fresh('atleast')
    const HOLD_AT_LEAST = 1000
    expect((await holder.call('acquire', name, name, { uri, timeout: LONG_LEASE, holdAtLeast: HOLD_AT_LEAST })).value).toBe(true)
    const held = await docOf(name)
    const got = w1.call('pollAcquire', name, name, { uri, pollInterval: SLOW_POLL }, { maxAttempts: 3 })
    await w1.tried(name)
    // The release keeps the lease until the bound: the waiter's first try
    // saw a lease of two minutes, and is woken when the bound passes.
    const ms = await handoff(() => holder.call('release', name), got)
    expect(ms).toBeLessThan(HOLD_AT_LEAST + FAST_MS)
    const taken = await docOf(name)
    expect(taken.inserted.getTime() - held.inserted.getTime()).toBeGreaterThanOrEqual(HOLD_AT_LEAST - 25)
    expect((await w1.call('release', name)).value).toBe(false)
  })

  // The waiter watches the holder it found; a forced acquire by a third
  // process removes that holder's document without the holder knowing, so
  // the forcer tells the holder's listener (ENDED), which wakes the waiter.
  // Without it no wake-up came until the old lease's end (two minutes here).
  test('a holder forced out by another process: its waiter takes the lock once the forcer releases, not at the old lease\'s end', async () => {
    const [holder, w1, w2] = workers
    const name = fresh('forced')
    expect((await holder.call('acquire', name, name, { uri, timeout: LONG_LEASE })).value).toBe(true)
    const got = w1.call('pollAcquire', name, name, { uri, pollInterval: 300 }, { maxAttempts: 'Infinity' })
    await w1.tried(name)
    expect((await w2.call('forceAcquire', name)).value).toBe(true)
    expect(await handoff(() => w2.call('release', name), got, 'the waiter on a forced-out holder', FAST_MS)).toBeLessThan(FAST_MS)
    // The forced-out holder learns on its next call.
    expect((await holder.call('release', name)).value).toBe(true)
    expect((await w1.call('release', name)).value).toBe(false)
  })

  test('Lock.close() ends pending waits with ERR_CONNECTION_CLOSED; waits after it get wake-ups again', async () => {
    const [holder, w1] = workers
    const name = fresh('close')
    expect((await holder.call('acquire', name, name, { uri, timeout: LONG_LEASE })).value).toBe(true)
    const slow = { uri, pollInterval: SLOW_POLL }
    const polling = w1.call('pollAcquire', `${name}-1`, name, slow, { maxAttempts: 3 })
    const holding = w1.call('hold', `${name}-2`, name, slow)
    await w1.tried(name, 2)
    expect((await w1.call('close')).ok).toBe(true)
    for (const ended of [polling, holding]) {
      expect(await within(ended, HANDOFF_WAIT_MS, 'a wait ended by Lock.close()')).toMatchObject({ ok: false, code: 'ERR_CONNECTION_CLOSED' })
    }
    // The same Lock waits again (it connects again), and is woken again.
    const again = w1.call('pollAcquire', `${name}-1`, name, slow, { maxAttempts: 3 })
    await w1.tried(name, 3)
    expect(await handoff(() => holder.call('release', name), again)).toBeLessThan(FAST_MS)
    expect((await w1.call('release', `${name}-1`)).value).toBe(false)
  })

  describe('a holder that dies or stops while a waiter watches it', () => {
    test('SIGKILL: the waiter takes the lock at the holder\'s lease end, not a poll later', async () => {
      const w1 = workers[1]
      const victim = await wakeWorker()
      const name = fresh('killed')
      expect((await victim.call('acquire', name, name, { uri, timeout: 2000 })).value).toBe(true)
      const held = await docOf(name)
      const got = w1.call('pollAcquire', name, name, { uri, pollInterval: SLOW_POLL }, { maxAttempts: 3 })
      await w1.tried(name)
      victim.child.kill('SIGKILL')
      await victim.exited
      expect(await within(got, HANDOFF_WAIT_MS, 'the waiter on a killed holder')).toMatchObject({ ok: true })
      const taken = await docOf(name)
      expect(taken._id.toHexString()).toBe((await got).lockId)
      // Not before the lease ended (the server's clock), and not a poll later.
      expect(taken.inserted.getTime()).toBeGreaterThanOrEqual(held.expire.getTime() - 25)
      expect(taken.inserted.getTime() - held.expire.getTime()).toBeLessThan(FAST_MS)
      // The watch broke when the holder died: the waiter said so, once.
      expect(w1.lines(name).filter((l) => /no wake-up from its holder \(broken\)/.test(l))).toHaveLength(1)
      expect((await w1.call('release', name)).value).toBe(false)
    })

    test('SIGSTOP past its lease: the waiter takes over at the lease end; the stopped holder, resumed, finds it lost and removes nothing', async () => {
      const w1 = workers[1]
      const sleeper = await wakeWorker()
      const name = fresh('stopped')
      try {
        expect((await sleeper.call('acquire', name, name, { uri, timeout: 2000 })).value).toBe(true)
        const held = await docOf(name)
        const got = w1.call('pollAcquire', name, name, { uri, pollInterval: SLOW_POLL }, { maxAttempts: 3 })
        await w1.tried(name)
        process.kill(sleeper.child.pid, 'SIGSTOP')
        try {
          expect(await within(got, HANDOFF_WAIT_MS, 'the waiter on a stopped holder')).toMatchObject({ ok: true })
        } finally {
          process.kill(sleeper.child.pid, 'SIGCONT')
        }
        const taken = await docOf(name)
        expect(taken._id.toHexString()).toBe((await got).lockId)
        expect(taken.inserted.getTime()).toBeGreaterThanOrEqual(held.expire.getTime() - 25)
        expect(taken.inserted.getTime() - held.expire.getTime()).toBeLessThan(FAST_MS)
        // The old holder's release: it was lost (lockTimeouted), and the new
        // holder's document stays.
        expect(await sleeper.call('release', name)).toMatchObject({ ok: true, value: true })
        expect((await docOf(name))._id.toHexString()).toBe((await got).lockId)
        expect((await w1.call('release', name)).value).toBe(false)
      } finally {
        await stop(sleeper)
      }
    })
  })
})

test('Node exits on its own with a listener open: a holder that released, and a waiter it woke', async () => {
  const name = fresh('exit')
  let holderChild = null
  let releasedAt = null
  const holding = runFixture('wake-exit.js', [uri, 'holder', name], {
    timeoutMs: 20000,
    onMessage: (m, child) => { if (m.held) holderChild = child }
  })
  await waitFor(() => holderChild)
  const waiting = runFixture('wake-exit.js', [uri, 'waiter', name], {
    timeoutMs: 20000,
    onMessage: (m) => {
      if (m.tried) {
        releasedAt = Date.now()
        holderChild.send('release')
      }
    }
  })
  const [holder, waiter] = await Promise.all([holding, waiting])
  for (const run of [holder, waiter]) {
    expect({ code: run.code, signal: run.signal, stdout: run.stdout }).toEqual({ code: 0, signal: null, stdout: 'done\n' })
  }
  const acquired = waiter.messages.find((m) => m.acquired)
  expect(acquired.at - releasedAt).toBeLessThan(FAST_MS)
})

// This test kills its server, so it runs on one of its own (the embedded
// FerretDB); with MONGODB_URI pointing elsewhere it is skipped.
const ownServer = process.env.TEST_SERVER === 'ferretdb' ? test : test.skip
ownServer('the server killed and restarted while processes wait: they get the lock after the restart, and handoffs are fast again', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mdl-wake-'))
  const port = await freePort()
  let server = await startFerretDB({ dataDir, port })
  const own = `mongodb://127.0.0.1:${port}/wake_restart?serverSelectionTimeoutMS=1000&connectTimeoutMS=1000&heartbeatFrequencyMS=500`
  const started = []
  try {
    const [holder, w1, w2] = await Promise.all([wakeWorker(), wakeWorker(), wakeWorker()])
    started.push(holder, w1, w2)
    const name = fresh('restart')
    expect((await holder.call('acquire', name, name, { uri: own, timeout: LONG_LEASE })).value).toBe(true)
    // w1 waits from before the kill, w2 starts waiting while the server is away.
    const got1 = w1.call('pollAcquire', name, name, { uri: own, pollInterval: SLOW_POLL }, { maxAttempts: 'Infinity' })
    await w1.tried(name)
    server.child.kill('SIGKILL')
    await server.stop()
    const got2 = w2.call('pollAcquire', name, name, { uri: own, pollInterval: 1000 }, { maxAttempts: 'Infinity' })
    await waitFor(() => w2.lines(name).some((l) => / try \d+ failed, trying again/.test(l)), { timeoutMs: 20000 })
    server = await startFerretDB({ dataDir, port })
    // w2 reaches the server again and finds the holder (the document survived the restart).
    await waitFor(() => w2.lines(name).some((l) => / try \d+[^:]*: held/.test(l)), { timeoutMs: 20000 })
    // The holder's client may need a moment to see the server back: its
    // release is tried until the server answers.
    const releasedAt = Date.now()
    await waitFor(async () => (await holder.call('release', name)).ok, { timeoutMs: 20000, everyMs: 100 })
    const [winner, key, other] = await within(Promise.race([
      got1.then((r) => [w1, r, got2]),
      got2.then((r) => [w2, r, got1])
    ]), HANDOFF_WAIT_MS, 'a waiter after the restart')
    expect(key).toMatchObject({ ok: true })
    expect(key.at - releasedAt).toBeLessThan(FAST_MS)
    // The next handoff goes to the other waiter, woken by the first.
    expect(await handoff(() => winner.call('release', name), other)).toBeLessThan(FAST_MS)
    expect((await (winner === w1 ? w2 : w1).call('release', name)).value).toBe(false)
  } finally {
    for (const w of started) await stop(w)
    await server.stop()
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
})

test('bad input: wakeUps must be true or false', () => {
  let error
  try { Lock('wk-bad', { uri, wakeUps: 'yes' }) } catch (e) { error = e }
  expect(error).toBeInstanceOf(TypeError)
  expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION', message: 'wakeUps must be true or false, got string yes' })
  expect(() => Lock('wk-bad', { uri, wakeUps: false })).not.toThrow()
})
