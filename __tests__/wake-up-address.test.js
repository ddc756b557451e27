'use strict'
// Wake-ups for waiters on other hosts: MONGOOSE_DISTRIBUTED_LOCK_WAKE_UP_ADDRESS
// makes a process's wake-up listener listen on that address and give it to
// waiters (in holder.wakeUp), instead of loopback for this host only.
const Lock = require('..')
const native = require('../lib/native')
const { useTestDatabase, lockWorker, waitFor } = require('./support/helpers')

const testDb = useTestDatabase('wakeaddr')
const { uri } = testDb
const ENV = 'MONGOOSE_DISTRIBUTED_LOCK_WAKE_UP_ADDRESS'

test('a holder with a wake-up address gives it to waiters, and they are woken through it', async () => {
  // 127.0.0.2: an address of this machine other than 127.0.0.1 (all of 127/8 is loopback).
  const holder = await lockWorker('native', uri, { env: { [ENV]: '127.0.0.2' } })
  try {
    expect((await holder.call('acquire', 'far', 'far', { timeout: 20000 })).value).toBe(true)
    const doc = await testDb.raw.db.collection('distributedlocks').findOne({ name: 'far' })
    expect(doc.holder.wakeUp).toMatch(/^\d+:[0-9a-f]{24}@127\.0\.0\.2$/)
    const waiter = Lock('far', { uri, pollInterval: 30000, timeout: 20000 })
    const waiting = waiter.pollAcquire({ maxAttempts: Infinity })
    waiting.catch(() => {}) // awaited below; a failed assertion must not leave it unhandled
    await waitFor(() => native.openWakeUpWatches() === 1)
    const releasedAt = Date.now()
    await holder.call('release', 'far')
    expect(await waiting).toBe(true)
    // Long before its first poll (30 s): it was woken.
    expect(Date.now() - releasedAt).toBeLessThan(2000)
    await waiter.release()
  } finally {
    await holder.exit()
  }
})

test('a wake-up address that is not an IP address fails lock calls with ERR_INVALID_OPTION, naming the variable', async () => {
  const holder = await lockWorker('native', uri, { env: { [ENV]: 'db.example.com' } })
  try {
    const reply = await holder.call('acquire', 'bad-address', 'bad-address')
    expect(reply).toMatchObject({ ok: false, code: 'ERR_INVALID_OPTION' })
    expect(reply.message).toContain(ENV)
    expect(reply.message).toContain('"db.example.com"')
  } finally {
    await holder.exit()
  }
})

test('a wake-up address of another host, or of every interface, fails lock calls with ERR_INVALID_OPTION (wake-ups are not silently off)', async () => {
  // 192.0.2.1: TEST-NET-1, never an address of this machine.
  for (const [value, says] of [['192.0.2.1', 'none of this host\'s addresses'], ['0.0.0.0', 'every interface'], ['::', 'every interface']]) {
    const holder = await lockWorker('native', uri, { env: { [ENV]: value } })
    try {
      const reply = await holder.call('acquire', 'bad-address', 'bad-address')
      expect(reply).toMatchObject({ ok: false, code: 'ERR_INVALID_OPTION' })
      expect(reply.message).toContain(ENV)
      expect(reply.message).toContain(says)
    } finally {
      await holder.exit()
    }
  }
})
