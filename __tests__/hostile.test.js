'use strict'
// Hostile and bad input, table-driven: every row ends in a clear Error with a
// stable code (or, for valid input, a normal acquire/release), and never in a
// crash, a hang or a wrong acquisition.
const Lock = require('..')
const { useTestDatabase } = require('./support/helpers')

const testDb = useTestDatabase('hostile')
const { uri } = testDb
const HANG_LIMIT_MS = 10000

/** Runs `fn` (sync or async); resolves with { error } or { value }, failing on a hang. */
async function outcome (fn) {
  let timer
  const hang = new Promise((resolve, reject) => { timer = setTimeout(() => reject(new Error('hang')), HANG_LIMIT_MS) })
  try {
    return { value: await Promise.race([Promise.resolve().then(fn), hang]) }
  } catch (error) {
    if (error.message === 'hang') throw error
    return { error }
  } finally {
    clearTimeout(timer)
  }
}

/** Construct, acquire and release: what a user's code does with a name. */
const useName = (name) => async () => {
  const lock = Lock(name, { uri })
  const acquired = await lock.acquire()
  const timedOut = await lock.release()
  return { acquired, timedOut }
}
const OK = { value: { acquired: true, timedOut: false } }
const fails = (code, message) => ({ code, message })

const names = [
  ['undefined', undefined, fails('ERR_MISSING_NAME', 'missing_name')],
  ['null', null, fails('ERR_MISSING_NAME', 'missing_name')],
  ['false', false, fails('ERR_MISSING_NAME', 'missing_name')],
  ['0', 0, fails('ERR_MISSING_NAME', 'missing_name')],
  ['NaN', NaN, fails('ERR_MISSING_NAME', 'missing_name')],
  ['empty string', '', fails('ERR_MISSING_NAME', 'missing_name')],
  ['true', true, fails('ERR_INVALID_NAME')],
  ['Infinity', Infinity, fails('ERR_INVALID_NAME')],
  ['bigint', 10n, fails('ERR_INVALID_NAME')],
  ['symbol', Symbol('lock'), fails('ERR_INVALID_NAME')],
  ['object', {}, fails('ERR_INVALID_NAME')],
  ['query object { $gt: "" }', { $gt: '' }, fails('ERR_INVALID_NAME')],
  ['query object { $ne: null }', { $ne: null }, fails('ERR_INVALID_NAME')],
  ['empty array', [], fails('ERR_INVALID_NAME')],
  ['array', ['a'], fails('ERR_INVALID_NAME')],
  ['function', () => 'name', fails('ERR_INVALID_NAME')],
  ['Date', new Date(), fails('ERR_INVALID_NAME')],
  ['RegExp', /.*/, fails('ERR_INVALID_NAME')],
  ['Map', new Map(), fails('ERR_INVALID_NAME')],
  ['Buffer', Buffer.from('x'), fails('ERR_INVALID_NAME')],
  ['String object', new String('x'), fails('ERR_INVALID_NAME')], // eslint-disable-line no-new-wrappers
  ['null-prototype object', Object.create(null), fails('ERR_INVALID_NAME')],
  ['100,000-character string', 'x'.repeat(100000), fails('ERR_INVALID_NAME')],
  ['NUL byte', 'a\u0000b', fails('ERR_INVALID_NAME')],
  ['lone surrogate', 'a\ud800b', fails('ERR_INVALID_NAME')],
  ['number', 12345, OK],
  ['negative fraction', -1.5, OK],
  ['unicode', '🔒 ключ 鍵 مفتاح', OK],
  ['1000-byte string (the limit)', 'y'.repeat(1000), OK],
  ['string that looks like a query', '{ "$gt": "" }', OK],
  ['dots and dollars', '$where.a.b', OK]
]

describe('names', () => {
  test.each(names)('%s', async (_label, name, expected) => {
    const result = await outcome(useName(name))
    if (expected === OK) {
      expect(result).toEqual(OK)
    } else {
      expect(result.error).toBeInstanceOf(Error)
      expect(result.error.code).toBe(expected.code)
      if (expected.message) expect(result.error.message).toBe(expected.message)
    }
  })
})

const badNumbers = [['negative', -1], ['NaN', NaN], ['string', '100'], ['Infinity', Infinity], ['1e300', 1e300]]
describe.each(['timeout', 'pollInterval'])('option %s', (option) => {
  test.each(badNumbers)('%s', async (_label, value) => {
    const { error } = await outcome(() => Lock('opt', { uri, [option]: value }))
    expect(error).toBeInstanceOf(Error)
    expect(error.code).toBe('ERR_INVALID_OPTION')
    expect(error.message).toMatch(new RegExp(`^${option} must be`))
  })
})

describe('properties set to garbage after construction', () => {
  const rows = [
    ['name', { $gt: '' }, 'acquire', 'ERR_INVALID_NAME'],
    ['name', ['x'], 'pollAcquire', 'ERR_INVALID_NAME'],
    ['timeout', 'forever', 'acquire', 'ERR_INVALID_OPTION'],
    ['timeout', NaN, 'acquire', 'ERR_INVALID_OPTION'],
    ['timeout', 1e300, 'acquire', 'ERR_INVALID_OPTION'],
    ['pollInterval', -1, 'pollAcquire', 'ERR_INVALID_OPTION'],
    ['pollInterval', Infinity, 'pollAcquire', 'ERR_INVALID_OPTION'],
    ['probeMaxAttempts', 'lots', 'pollAcquire', 'ERR_INVALID_OPTION'],
    ['lockId', { $ne: null }, 'release', 'ERR_INVALID_LOCK_ID'],
    ['lockId', 'not-an-object-id', 'release', 'ERR_INVALID_LOCK_ID']
  ]
  test.each(rows)('%s = %p, then %s', async (prop, value, method, code) => {
    // pollAcquire only reads pollInterval/probeMaxAttempts when it has to wait.
    const holder = Lock(`held-${prop}`, { uri })
    await holder.acquire()
    const lock = Lock(`held-${prop}`, { uri })
    lock[prop] = value
    const { error } = await outcome(() => lock[method]())
    expect(error).toBeInstanceOf(Error)
    expect(error.code).toBe(code)
    await holder.release()
  })
})

describe('callbacks', () => {
  test.each([[42], ['done'], [{}], [null], [[]]])('%p is a TypeError, thrown at once, and nothing runs', async (cb) => {
    const lock = Lock('cb', { uri })
    // pollAcquire(options) takes an object (or null) as its options since 1.1.
    const optionsToo = cb === null || (typeof cb === 'object' && !Array.isArray(cb))
    const methods = optionsToo ? ['acquire', 'release', 'forceAcquire'] : ['acquire', 'pollAcquire', 'pollAquire', 'release', 'forceAcquire']
    for (const method of methods) {
      let error
      try { lock[method](cb) } catch (e) { error = e }
      expect(error).toBeInstanceOf(TypeError)
      expect(error.code).toBe('ERR_INVALID_CALLBACK')
    }
    expect(lock.lockId).toBeNull()
  })
})

describe('connection strings and options', () => {
  test.each([
    ['unreachable server', 'mongodb://127.0.0.1:9/x?serverSelectionTimeoutMS=300', 'ERR_MONGODB_NETWORK'],
    ['no scheme', 'localhost:27017', 'ERR_INVALID_URI'],
    ['wrong scheme', 'http://localhost/', 'ERR_INVALID_URI'],
    ['no host', 'mongodb://', 'ERR_INVALID_URI'],
    ['bad port', 'mongodb://localhost:99999/', 'ERR_INVALID_URI'],
    ['credentials, no host', 'mongodb://user:s3cr3t@/db', 'ERR_INVALID_URI']
  ])('%s', async (_label, badUri, code) => {
    const { error } = await outcome(() => Lock('conn', { uri: badUri }).acquire())
    expect(error).toBeInstanceOf(Error)
    expect(error.code).toBe(code)
    expect(error.message).not.toContain('s3cr3t')
  })

  test.each([
    ['uri: 42', { uri: 42 }], ['uri: ""', { uri: '' }], ['connection: {}', { connection: {} }],
    ['connection: "str"', { connection: 'mongodb://x' }], ['options: 5', 5], ['options: "s"', 's']
  ])('%s is ERR_INVALID_OPTION', async (_label, options) => {
    const { error } = await outcome(() => Lock('x', options))
    expect(error.code).toBe('ERR_INVALID_OPTION')
  })
})

describe('order of calls', () => {
  test.each([
    ['release before acquire', async (l) => l.release(), 'releasing_not_aquired_lock'],
    ['release twice', async (l) => { await l.acquire(); await l.release(); return l.release() }, 'releasing_not_aquired_lock'],
    ['acquire while holding', async (l) => { await l.acquire(); return l.acquire() }, 'lock_already_aquired'],
    ['pollAcquire while holding', async (l) => { await l.acquire(); return l.pollAcquire() }, 'lock_already_aquired']
  ])('%s', async (label, steps, message) => {
    const lock = Lock(`order-${label}`, { uri })
    const { error } = await outcome(() => steps(lock))
    expect(error.message).toBe(message)
    if (lock.lockId) await lock.release()
  })
})

test('after all of the above, no lock document was left behind', async () => {
  const left = await testDb.raw.db.collection('distributedlocks').find({}).toArray()
  expect(left).toEqual([])
})
