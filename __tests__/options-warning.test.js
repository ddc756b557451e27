'use strict'
// A mistyped option is ignored, as 0.0.x ignored unknown options (so drop-in
// code keeps working), but warned about once per key and process, with the
// nearest known option.
const { runFixture } = require('./support/helpers')

/** Runs `code` in a fresh process (no server needed) and returns its warnings. */
async function warningsOf (code) {
  const script = `
    const warnings = []
    process.on('warning', (w) => warnings.push({ message: w.message, code: w.code }))
    const Lock = require(${JSON.stringify(require.resolve('..'))})
    ;(async () => { ${code} })().then(
      () => setImmediate(() => process.send({ warnings }, () => process.disconnect())),
      (e) => process.send({ error: e.message, code: e.code }, () => process.disconnect()))`
  const { messages } = await runFixture('eval.js', [script])
  return messages[0]
}

test('an unknown Lock option is ignored with one warning naming the nearest option', async () => {
  const { warnings } = await warningsOf(`
    const lock = Lock('w', { keepalive: true, fiar: true, timeout: 5000 })
    Lock('w2', { keepalive: true }) // the same key again: no second warning
    if (lock.timeout !== 5000) throw new Error('known options still apply')`)
  expect(warnings).toEqual([
    { code: 'MDL_UNKNOWN_OPTION', message: 'mongoose-distributed-lock: unknown option "keepalive" is ignored; did you mean "keepAlive"?' },
    { code: 'MDL_UNKNOWN_OPTION', message: 'mongoose-distributed-lock: unknown option "fiar" is ignored; did you mean "fair"?' }
  ])
})

test('a key close to no option is named without a suggestion; known options give no warning', async () => {
  const { warnings } = await warningsOf(`
    Lock('w', { timeout: 1000, pollInterval: 10, keepAlive: false, fair: false, fencing: false, holdAtLeast: 0, owner: 'me' })
    Lock('w', { somethingElse: 1 })`)
  expect(warnings).toEqual([
    { code: 'MDL_UNKNOWN_OPTION', message: 'mongoose-distributed-lock: unknown option "somethingElse" is ignored' }
  ])
})

test('pollAcquire, hold and withLock warn of their own unknown keys (and not of one another)', async () => {
  const { warnings } = await warningsOf(`
    const lock = Lock('w', { uri: 'mongodb://127.0.0.1:1/x' })
    const signal = AbortSignal.abort()
    await lock.pollAcquire({ maxAtempts: 2, signal }).catch(() => {})
    await lock.hold({ sginal: signal, signal }).catch(() => {})
    await Lock.withLock('w', { uri: 'mongodb://127.0.0.1:1/x', maxAttempts: 1, signal, timout: 10, signl: 1 }, async () => {}).catch(() => {})`)
  expect(warnings.map((w) => w.message)).toEqual([
    'mongoose-distributed-lock: unknown pollAcquire option "maxAtempts" is ignored; did you mean "maxAttempts"?',
    'mongoose-distributed-lock: unknown hold option "sginal" is ignored; did you mean "signal"?',
    'mongoose-distributed-lock: unknown withLock option "timout" is ignored; did you mean "timeout"?',
    'mongoose-distributed-lock: unknown withLock option "signl" is ignored; did you mean "signal"?'
  ])
})

test('Lock.holder and Lock.ensureIndexes warn of unknown keys too', async () => {
  const { warnings } = await warningsOf(`
    await Lock.holder('w', { uri: 'mongodb://127.0.0.1:1/x?serverSelectionTimeoutMS=10', colection: 'x' }).catch(() => {})
    await Lock.ensureIndexes({ uri: 'mongodb://127.0.0.1:1/x?serverSelectionTimeoutMS=10', tll: false }).catch(() => {})`)
  expect(warnings.map((w) => w.message)).toEqual([
    'mongoose-distributed-lock: unknown Lock.holder option "colection" is ignored; did you mean "collection"?',
    'mongoose-distributed-lock: unknown Lock.ensureIndexes option "tll" is ignored; did you mean "ttl"?'
  ])
})

test('a long key is shown cut, a property passed as an option gets a hint, and a flood of made-up keys is reported once', async () => {
  const { warnings } = await warningsOf(`
    Lock('w', { probeMaxAttempts: 3 })
    const long = 'x'.repeat(1000)
    Lock('w', { [long + 'a']: 1 })
    Lock('w', { [long + 'b']: 1 }) // shown the same: warned once
    for (let i = 0; i < 500; i++) Lock('w', { ['made-up-' + i]: 1 })`)
  const messages = warnings.map((w) => w.message)
  expect(messages[0]).toBe('mongoose-distributed-lock: unknown option "probeMaxAttempts" is ignored; it is a property: set lock.probeMaxAttempts after making the Lock')
  expect(messages[1]).toBe(`mongoose-distributed-lock: unknown option "${'x'.repeat(60)}…" is ignored`)
  expect(messages.filter((m) => m.startsWith(`mongoose-distributed-lock: unknown option "${'x'.repeat(60)}`))).toHaveLength(1)
  expect(messages.length).toBeLessThanOrEqual(102)
  expect(messages[messages.length - 1]).toBe('mongoose-distributed-lock: more unknown options are ignored without a warning (100 reported)')
})
