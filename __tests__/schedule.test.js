'use strict'
// A job that must run once per schedule (docs/run-once-per-schedule.md):
// four processes fire the same cron tick with up to 80 ms of scheduling
// jitter, each runs the 10 ms job if `acquire()` says true, and releases in
// `finally`. Without holdAtLeast, the first process releases before the late
// ones try, so they run it again; with holdAtLeast the lease outlives the
// early release and the job runs exactly once per tick.
const { useTestDatabase, startFixture, nextMessage } = require('./support/helpers')

const testDb = useTestDatabase('schedule')
const { uri } = testDb
const PROCESSES = 4
const TICKS = 6
// The schedule's period, and holdAtLeast well inside it and well past the jitter.
const PERIOD_MS = 1500
const HOLD_AT_LEAST_MS = 700

/** Runs TICKS ticks of the schedule; the number of runs of the job in each. */
async function schedule (name, holdAtLeast) {
  const workers = Array.from({ length: PROCESSES }, () =>
    startFixture('schedule-worker.js', [uri, name, String(holdAtLeast)]))
  try {
    await Promise.all(workers.map((w) => nextMessage(w, (m) => m.ready || m.crash, 60000)))
    const runs = []
    for (let tick = 0; tick < TICKS; tick++) {
      const started = Date.now()
      const replies = workers.map((w) => nextMessage(w, (m) => m.tick === tick, 60000))
      for (const w of workers) w.send({ tick })
      const answers = await Promise.all(replies)
      const crash = answers.find((a) => a.crash)
      if (crash) throw new Error(`worker failed: ${crash.crash} (${crash.code})`)
      runs.push(answers.filter((a) => a.ran).length)
      // The next tick comes one period after this one, as a cron schedule's would.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + PERIOD_MS - Date.now())))
    }
    return runs
  } finally {
    for (const w of workers) if (w.connected) w.send('exit')
  }
}

test('without holdAtLeast, an early release lets late processes run the job again in the same tick', async () => {
  const runs = await schedule('nightly-report-plain', 0)
  console.log(`runs per tick without holdAtLeast: ${runs.join(', ')}`)
  expect(runs.some((n) => n > 1)).toBe(true)
}, 120000)

test('with holdAtLeast, the job runs exactly once per tick across 4 processes', async () => {
  const runs = await schedule('nightly-report', HOLD_AT_LEAST_MS)
  console.log(`runs per tick with holdAtLeast ${HOLD_AT_LEAST_MS}: ${runs.join(', ')}`)
  expect(runs).toEqual(new Array(TICKS).fill(1))
}, 120000)

describe('holdAtLeast', () => {
  const Lock = require('..')
  const locks = () => testDb.raw.db.collection('distributedlocks')

  test('a release before the bound keeps the name until the bound, then it is free; the answer is a normal release', async () => {
    const a = Lock('hold-min', { uri, holdAtLeast: 1500 })
    const released = []
    a.on('released', (timedOut) => released.push(timedOut))
    expect(await a.acquire()).toBe(true)
    const lockId = a.lockId
    const doc = await locks().findOne({ name: 'hold-min' })
    expect(await a.release()).toBe(false)
    expect(released).toEqual([false])
    expect(a.lockId).toBe(null)
    // The document stays, its lease now ending at the bound (not at timeout).
    const kept = await locks().findOne({ name: 'hold-min' })
    expect(String(kept._id)).toBe(lockId)
    expect(kept.expire.getTime()).toBeLessThan(doc.expire.getTime())
    expect(kept.expire.getTime() - doc.inserted.getTime()).toBeGreaterThanOrEqual(1500)
    const b = Lock('hold-min', { uri, pollInterval: 50 })
    expect(await b.acquire()).toBe(false)
    // Taken once the bound has passed.
    expect(await b.pollAcquire({ maxAttempts: Infinity })).toBe(true)
    expect(Date.now()).toBeGreaterThanOrEqual(kept.expire.getTime() - 50)
    await b.release()
  })

  test('a release after the bound deletes the document as usual (callback form)', async () => {
    const a = Lock('hold-past', { uri, holdAtLeast: 1 })
    expect(await a.acquire()).toBe(true)
    await new Promise((resolve) => setTimeout(resolve, 5))
    const timedOut = await new Promise((resolve, reject) => a.release((err, t) => err ? reject(err) : resolve(t)))
    expect(timedOut).toBe(false)
    expect(await locks().countDocuments({ name: 'hold-past' })).toBe(0)
  })

  test('a release of a holding taken over meanwhile answers true and leaves the new holder alone', async () => {
    const a = Lock('hold-lost', { uri, holdAtLeast: 5000 })
    expect(await a.acquire()).toBe(true)
    const b = Lock('hold-lost', { uri })
    expect(await b.forceAcquire()).toBe(true)
    expect(await a.release()).toBe(true)
    const doc = await locks().findOne({ name: 'hold-lost' })
    expect(String(doc._id)).toBe(b.lockId)
    await b.release()
  })

  test('after a release within the bound, the keep-alive is stopped: no renewal and no loss', async () => {
    const a = Lock('hold-keepalive', { uri, timeout: 600, keepAlive: 100, holdAtLeast: 300 })
    const events = []
    for (const e of ['extended', 'lost']) a.on(e, () => events.push(e))
    expect(await a.acquire()).toBe(true)
    expect(await a.release()).toBe(false)
    const after = events.length
    // Past the bound and the old lease: nothing more happened.
    const b = Lock('hold-keepalive', { uri, pollInterval: 50 })
    expect(await b.pollAcquire({ maxAttempts: Infinity })).toBe(true)
    await new Promise((resolve) => setTimeout(resolve, 700))
    expect(events.length).toBe(after)
    expect(events).not.toContain('lost')
    await b.release()
  })

  test.each([[-1], [1.5], ['500'], [NaN], [Infinity], [8.64e15]])('holdAtLeast %p is ERR_INVALID_OPTION', (value) => {
    expect(() => Lock('x', { holdAtLeast: value })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }))
  })

  test('holdAtLeast longer than timeout is refused: the lease is what holds the name', () => {
    expect(() => Lock('x', { timeout: 1000, holdAtLeast: 5000 })).toThrow(expect.objectContaining({
      code: 'ERR_INVALID_OPTION',
      message: 'holdAtLeast (5000 ms) must not be longer than timeout (1000 ms): the lease is what holds the name'
    }))
    expect(() => Lock('x', { timeout: 1000, holdAtLeast: 1000 })).not.toThrow()
    for (const off of [0, false, null, undefined]) expect(() => Lock('x', { holdAtLeast: off })).not.toThrow()
  })

  test('a waiter in the same process is woken when the kept lease ends, not at its next poll', async () => {
    const a = Lock('hold-local', { uri, holdAtLeast: 800 })
    expect(await a.acquire()).toBe(true)
    const waiter = Lock('hold-local', { uri, pollInterval: 30000 })
    const waiting = waiter.pollAcquire({ maxAttempts: Infinity })
    expect(await a.release()).toBe(false)
    const started = Date.now()
    expect(await waiting).toBe(true)
    expect(Date.now() - started).toBeLessThan(20000) // its next poll was 30 s away
    await waiter.release()
  })
})
