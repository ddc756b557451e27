'use strict'
// Expiry runs on the server's clock: clients whose clocks are 10 minutes off
// (libfaketime) neither steal live locks nor wait past dead ones.
const { execFileSync } = require('child_process')
const Lock = require('..')
const { useTestDatabase, lockWorker } = require('./support/helpers')

const testDb = useTestDatabase('clock')
const { uri } = testDb
const locks = () => testDb.raw.db.collection('distributedlocks')
beforeAll(() => {
  // Fails loudly when faketime is missing: .ci/run installs it (Debian package faketime).
  execFileSync('faketime', ['-f', '+1m', 'true'])
})

describe.each(['+10m', '-10m'])('a client whose clock is %s off', (skew) => {
  let skewed
  beforeAll(async () => { skewed = await lockWorker('native', uri, { faketime: skew }) })
  afterAll(() => skewed.exit())

  test('really runs with a skewed clock', async () => {
    const reported = (await skewed.call('now', 'clock')).value
    expect(Math.abs(reported - Date.now() - (skew === '+10m' ? 600000 : -600000))).toBeLessThan(30000)
  })

  test('does not steal a live lock held by an unskewed client', async () => {
    const holder = Lock(`live${skew}`, { uri, timeout: 60000 })
    expect(await holder.acquire()).toBe(true)
    expect((await skewed.call('acquire', `live${skew}`)).value).toBe(false)
    expect(await holder.release()).toBe(false)
  })

  test('does not wait past the real expiry of a dead holder\'s lock', async () => {
    const name = `dead${skew}`
    const dead = Lock(name, { uri, timeout: 1500 })
    expect(await dead.acquire()).toBe(true) // and never released
    const doc = await locks().findOne({ name })
    const polled = await skewed.call('pollAcquire', name, name, { timeout: 60000, pollInterval: 50 })
    expect(polled).toMatchObject({ ok: true, value: true })
    const taken = await locks().findOne({ name })
    // Taken after the real expiry (server time), and well before 10 minutes.
    expect(taken.inserted.getTime()).toBeGreaterThanOrEqual(doc.expire.getTime() - 25)
    expect(taken.inserted.getTime() - doc.expire.getTime()).toBeLessThan(5000)
    await skewed.call('release', name)
  })

  test('writes documents whose expire - inserted equals its timeout, on server time', async () => {
    const name = `doc${skew}`
    expect((await skewed.call('acquire', name, name, { timeout: 7777 })).value).toBe(true)
    const doc = await locks().findOne({ name })
    expect(doc.expire.getTime() - doc.inserted.getTime()).toBe(7777)
    expect(Math.abs(doc.inserted.getTime() - Date.now())).toBeLessThan(30000)
    await skewed.call('release', name)
  })
})
