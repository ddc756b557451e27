'use strict'
// Expiry runs on the server's clock: clients whose clocks are 10 minutes off
// (libfaketime) neither steal live locks nor wait past dead ones.
const { execFileSync } = require('child_process')
const fs = require('fs')
const os = require('os')
const path = require('path')
const Lock = require('..')
const { useTestDatabase, lockWorker } = require('./support/helpers')

const testDb = useTestDatabase('clock')
const { uri } = testDb
const locks = () => testDb.raw.db.collection('distributedlocks')
beforeAll(() => {
  // npm test provisions faketime first (scripts/provision.js); fails loudly if it is missing.
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

describe('a client whose wall clock steps while it runs (NTP, a resumed VM)', () => {
  // libfaketime reads the offset from a file on every call; the monotonic
  // clock is left alone, as a real clock step leaves it.
  const lib = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/faketime/libfaketime.so.1'].find((f) => fs.existsSync(f))
  const run = lib ? test : test.skip
  run('does not steal a live lock after its clock jumps 10 minutes ahead', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mdl-step-')), 'faketime')
    fs.writeFileSync(file, '+0\n')
    const stepping = await lockWorker('native', uri, {
      env: { LD_PRELOAD: lib, FAKETIME_TIMESTAMP_FILE: file, FAKETIME_NO_CACHE: '1', DONT_FAKE_MONOTONIC: '1' }
    })
    try {
      const name = 'stepped'
      const holder = Lock(name, { uri, timeout: 60000 })
      expect(await holder.acquire()).toBe(true)
      // It measures the server's clock on this first call, with its clock right.
      expect((await stepping.call('acquire', name)).value).toBe(false)
      const before = (await stepping.call('now', 'clock')).value
      fs.writeFileSync(file, '+10m\n')
      const after = (await stepping.call('now', 'clock')).value
      expect(after - before).toBeGreaterThan(590000) // the step happened
      // Within the 30 s before the next measurement, it still sees the live lease.
      expect((await stepping.call('acquire', name)).value).toBe(false)
      expect(await holder.release()).toBe(false)
    } finally {
      await stepping.exit()
    }
  })
})
