'use strict'
// Checks of names, options and the properties users may change at run time.
const errors = require('./errors')
const { constants } = require('./native')

const DEFAULT_TIMEOUT = 60 * 1000
const DEFAULT_POLL_INTERVAL = 500
// Limits defined once, in the core (src/protocol/mod.rs): the latest date a JS
// Date (and so mongoose, in 0.0.x) can hold; the longest name in UTF-8 bytes
// (MongoDB before 4.2 refuses index keys over 1024 bytes); the collections.
const { maxDateMs: MAX_DATE_MS, maxNameBytes: MAX_NAME_BYTES, defaultCollection: DEFAULT_COLLECTION, defaultHistoryCollection: DEFAULT_HISTORY_COLLECTION } = constants()
// Longest delay setTimeout honours; longer ones fire at once.
const MAX_TIMER_MS = 2 ** 31 - 1
const MAX_POLL_INTERVAL = MAX_TIMER_MS
// MongoDB's limit on a namespace ("db.collection") is 255 bytes; keep room for the db.
const MAX_COLLECTION_BYTES = 120
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?:^|[^\uD800-\uDBFF])[\uDC00-\uDFFF]/

/**
 * The lock name as it is stored: 0.0.x stored it through a mongoose String
 * path, so a number names the same lock as its decimal string.
 * A name is data, never a query: objects are refused outright.
 */
function storedName (name) {
  if (!name) throw errors.missingName()
  let text
  if (typeof name === 'string') text = name
  else if (typeof name === 'number' && Number.isFinite(name)) text = String(name)
  else throw errors.invalidName(`lock name must be a string or a finite number, got ${errors.describe(name)}`)
  if (LONE_SURROGATE.test(text)) throw errors.invalidName('lock name must be well-formed unicode (it has a lone surrogate)')
  if (text.includes('\u0000')) throw errors.invalidName('lock name must not contain NUL characters')
  const bytes = Buffer.byteLength(text, 'utf8')
  if (bytes > MAX_NAME_BYTES) {
    throw errors.invalidName(`lock name is ${bytes} bytes long; the limit is ${MAX_NAME_BYTES}`, RangeError)
  }
  return text
}

/** A duration in ms: a non-negative finite number no larger than `max`. */
function duration (value, what, max) {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw errors.invalidOption(`${what} must be a number of milliseconds, got ${errors.describe(value)}`)
  }
  if (!(value >= 0 && value <= max)) {
    throw errors.invalidOption(`${what} must be between 0 and ${max} ms, got ${value}`, RangeError)
  }
  return value
}

const maxTimeout = () => MAX_DATE_MS - Date.now()
/**
 * A lease length. 0 is refused: a lease that ends as it starts excludes no
 * one (the option `timeout: 0` means the default, as in 0.0.x).
 */
function timeout (value) {
  duration(value, 'timeout', maxTimeout())
  if (value < 1) throw errors.invalidOption(`timeout must be at least 1 ms, got ${value}`, RangeError)
  return value
}
const pollInterval = (value) => duration(value, 'pollInterval', MAX_POLL_INTERVAL)

/** As in 0.0.x, a falsy option takes the default; NaN is refused, not defaulted. */
function withDefault (value, fallback, check) {
  if (value === undefined || value === null || value === 0 || value === false || value === '') return fallback
  return check(value)
}

function probeMaxAttempts (value) {
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw errors.invalidOption(`probeMaxAttempts must be a non-negative number, got ${errors.describe(value)}`)
  }
  return value
}

const LOCK_ID = /^[0-9a-f]{24}$/i
function lockId (value) {
  if (typeof value !== 'string' || !LOCK_ID.test(value)) throw errors.invalidLockId()
  return value
}

/** An options argument: an object, or nothing (0.0.x: `opts = opts || {}`). */
function optionsObject (options, what = 'options') {
  if (options === undefined || options === null || options === false) return {}
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw errors.invalidOption(`${what} must be an object, got ${errors.describe(options)}`)
  }
  return options
}

/** Where the lock's documents live: the connection options and the collection's. */
function storeOptions (options, into = {}) {
  into.uri = optionalUri(options.uri)
  into.connection = optionalConnection(options.connection)
  into.collection = collectionName(options.collection, 'collection', DEFAULT_COLLECTION)
  into.ttl = optionalBoolean(options.ttl, 'ttl', true)
  into.history = historyCollection(options.history, into.collection)
  into.owner = owner(options.owner)
  into.writeConcern = writeConcern(options.writeConcern)
  into.fencing = optionalBoolean(options.fencing, 'fencing', false)
  into.fair = optionalBoolean(options.fair, 'fair', false)
  into.wakeUps = optionalBoolean(options.wakeUps, 'wakeUps', true)
  return into
}

/** The options of a call that only needs where the locks live (Lock.holder, Lock.ensureIndexes). */
function callStoreOptions (options, what) {
  options = optionsObject(options)
  warnUnknown(options, STORE_OPTION_KEYS, what)
  return storeOptions(options)
}

/**
 * The options object of `Lock(name, options)`, checked, written into `into`
 * (a Lock passes a scratch object it reuses: making a Lock allocates little).
 */
function lockOptions (options, into = {}) {
  options = optionsObject(options)
  into.timeout = withDefault(options.timeout, DEFAULT_TIMEOUT, timeout)
  into.pollInterval = withDefault(options.pollInterval, DEFAULT_POLL_INTERVAL, pollInterval)
  into.keepAlive = keepAlive(options.keepAlive)
  into.maxHoldTime = optionalDuration(options.maxHoldTime, 'maxHoldTime')
  into.holdAtLeast = holdAtLeast(options.holdAtLeast, into.timeout)
  warnUnknown(options, LOCK_OPTION_KEYS, 'option')
  return storeOptions(options, into)
}

/**
 * `holdAtLeast`: the shortest a holding lasts, in ms from the acquire, even
 * when released sooner (a once-per-schedule job). 0, false or absent: off.
 * At most `timeout`: the lease is what holds the name (ShedLock's
 * lockAtLeastFor <= lockAtMostFor), so a holding is never kept past the
 * lease it was taken with.
 */
function holdAtLeast (value, leaseMs) {
  if (value === undefined || value === null || value === 0 || value === false) return 0
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw errors.invalidOption(`holdAtLeast must be a whole number of milliseconds from 0 to timeout, got ${errors.describe(value)}`, typeof value === 'number' ? RangeError : TypeError)
  }
  if (value > leaseMs) {
    throw errors.invalidOption(`holdAtLeast (${value} ms) must not be longer than timeout (${leaseMs} ms): the lease is what holds the name`, RangeError)
  }
  return value
}

// The options each call knows (index.d.ts): any other key is ignored, as in
// 0.0.x, with a warning once per key and process (a mistyped `fiar: true`
// would otherwise go unnoticed).
const STORE_OPTION_KEYS = ['uri', 'connection', 'collection', 'ttl', 'history', 'owner', 'writeConcern', 'fencing', 'fair', 'wakeUps']
const LOCK_OPTION_KEYS = ['timeout', 'pollInterval', 'keepAlive', 'maxHoldTime', 'holdAtLeast', ...STORE_OPTION_KEYS]
const POLL_OPTION_KEYS = ['maxAttempts', 'signal']
const UNKNOWN_OPTION_WARNING = 'MDL_UNKNOWN_OPTION'
// Keys already warned about (as shown: at most SHOWN_KEY characters), and at
// most this many: a program that makes up keys by the thousand is told once.
const warned = new Set()
const MAX_WARNED = 100
const SHOWN_KEY = 60
// Keys that are no option but something else a user may mean.
const HINTS = { probeMaxAttempts: 'it is a property: set lock.probeMaxAttempts after making the Lock' }

/** Warns (once per key and process) of each key of `options` not in `known`. */
function warnUnknown (options, known, what) {
  for (const key in options) {
    if (!Object.prototype.hasOwnProperty.call(options, key) || known.includes(key)) continue
    const shown = key.length > SHOWN_KEY ? `${key.slice(0, SHOWN_KEY)}…` : key
    if (warned.has(`${what}:${shown}`) || warned.size > MAX_WARNED) continue
    warned.add(`${what}:${shown}`)
    if (warned.size > MAX_WARNED) {
      process.emitWarning(`mongoose-distributed-lock: more unknown options are ignored without a warning (${MAX_WARNED} reported)`, { code: UNKNOWN_OPTION_WARNING })
      return
    }
    const hint = Object.prototype.hasOwnProperty.call(HINTS, key) ? HINTS[key] : undefined
    const near = hint ? undefined : nearest(key, known)
    process.emitWarning(
      `mongoose-distributed-lock: unknown ${what} ${JSON.stringify(shown)} is ignored${hint ? `; ${hint}` : near ? `; did you mean ${JSON.stringify(near)}?` : ''}`,
      { code: UNKNOWN_OPTION_WARNING })
  }
}

/** The known key closest to `key` (case aside, one edit per 3 letters at most), or undefined. */
function nearest (key, known) {
  let best
  let bestDistance = Math.max(1, Math.floor(key.length / 3))
  for (const candidate of known) {
    const d = editDistance(key.toLowerCase(), candidate.toLowerCase())
    if (d <= bestDistance && (best === undefined || d < bestDistance)) [best, bestDistance] = [candidate, d]
  }
  return best
}

/** Edits (insert, delete, substitute, swap two neighbours) that turn `a` into `b`. */
function editDistance (a, b) {
  if (Math.abs(a.length - b.length) > 3 || a.length > 64) return Infinity
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array(b.length).fill(0)])
  for (let j = 1; j <= b.length; j++) d[0][j] = j
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1)
    }
  }
  return d[a.length][b.length]
}

/** A positive number of ms, or undefined. */
function optionalDuration (value, what) {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'number' || !(value > 0) || value > MAX_DATE_MS) {
    throw errors.invalidOption(`${what} must be a positive number of milliseconds, got ${errors.describe(value)}`, typeof value === 'number' ? RangeError : TypeError)
  }
  return value
}

/** `owner`: the application's label for whoever holds the lock (recorded in its document). */
function owner (value) {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string' || value.length > 256 || value.includes('\u0000')) {
    throw errors.invalidOption(`owner must be a string of at most 256 characters without NUL, got ${errors.describe(value)}`)
  }
  return value
}

/**
 * `writeConcern` as the driver takes it ({ w, j | journal, wtimeout | wtimeoutMS }),
 * for the core: `w` as a string. Default (undefined): the core's `{ w: 'majority' }`.
 * `w: 0` is refused: a lock must know its writes landed.
 */
function writeConcern (value) {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw errors.invalidOption(`writeConcern must be an object like { w: 'majority' }, got ${errors.describe(value)}`)
  }
  const out = {}
  const w = value.w
  if (w !== undefined) {
    const ok = (typeof w === 'string' && w !== '' && !/^0+$/.test(w) && !w.includes('\u0000')) || (Number.isInteger(w) && w >= 1 && w <= 50)
    if (!ok) throw errors.invalidOption(`writeConcern.w must be 'majority', a tag, or a number of members from 1 (w: 0 is refused: a lock must know its writes landed), got ${errors.describe(w)}`)
    out.w = String(w)
  }
  const journal = value.journal !== undefined ? value.journal : value.j
  if (journal !== undefined) out.journal = optionalBoolean(journal, 'writeConcern.journal', undefined)
  const wtimeout = value.wtimeoutMS !== undefined ? value.wtimeoutMS : value.wtimeout
  if (wtimeout !== undefined) {
    if (!Number.isInteger(wtimeout) || wtimeout < 0 || wtimeout > 2 ** 32 - 1) {
      throw errors.invalidOption(`writeConcern.wtimeoutMS must be a whole number of ms, got ${errors.describe(wtimeout)}`)
    }
    out.wtimeoutMs = wtimeout
  }
  return out
}

/** A collection name: data, never a query; MongoDB's rules for names. */
function collectionName (value, what, fallback) {
  if (value === undefined || value === null) return fallback
  if (typeof value !== 'string' || value === '') {
    throw errors.invalidOption(`${what} must be a non-empty string, got ${errors.describe(value)}`)
  }
  if (/[$\0]/.test(value) || value.startsWith('system.') || value.startsWith('.') || value.endsWith('.') ||
      LONE_SURROGATE.test(value) || Buffer.byteLength(value, 'utf8') > MAX_COLLECTION_BYTES) {
    throw errors.invalidOption(`${what} ${JSON.stringify(value.slice(0, 60))} is not a usable collection name (no $, NUL, leading "system.", leading or trailing dot; at most ${MAX_COLLECTION_BYTES} bytes)`)
  }
  return value
}

/**
 * `history: true` (the default collection), a collection name, or off. Never
 * a lock collection: a history record there would block a name for good.
 */
function historyCollection (value, lockCollection) {
  if (value === undefined || value === null || value === false) return undefined
  if (value === true) return DEFAULT_HISTORY_COLLECTION
  const name = collectionName(value, 'history', undefined)
  const taken = [lockCollection, DEFAULT_COLLECTION, `${lockCollection}_fencing`, `${lockCollection}_queue`]
  if (taken.includes(name)) {
    throw errors.invalidOption(`history must be a collection of its own, not ${JSON.stringify(name)} (a lock collection, or one the lock uses)`)
  }
  return name
}

function optionalBoolean (value, what, fallback) {
  if (value === undefined || value === null) return fallback
  if (typeof value !== 'boolean') throw errors.invalidOption(`${what} must be true or false, got ${errors.describe(value)}`)
  return value
}

/** `keepAlive: true` (every timeout / 3), a period in ms, or off. */
function keepAlive (value) {
  if (value === undefined || value === null || value === false) return false
  if (value === true) return true
  if (typeof value !== 'number' || !(value >= 1 && value <= MAX_TIMER_MS)) {
    throw errors.invalidOption(`keepAlive must be true, false or a period in ms from 1 to ${MAX_TIMER_MS}, got ${errors.describe(value)}`, typeof value === 'number' ? RangeError : TypeError)
  }
  return value
}

/** The `ms` of `extend(ms)`: a lease length, default the lock's timeout. */
function leaseMs (value, fallback) {
  if (value === undefined || value === null) return timeout(fallback)
  if (typeof value !== 'number' || !(value > 0)) {
    throw errors.invalidOption(`extend's ms must be a positive number of milliseconds, got ${errors.describe(value)}`, typeof value === 'number' ? RangeError : TypeError)
  }
  return timeout(value)
}

/** The options of `pollAcquire([options])`: `maxAttempts` (Infinity allowed) and `signal`. */
function pollOptions (options, fallbackAttempts) {
  options = optionsObject(options, 'pollAcquire options')
  warnUnknown(options, POLL_OPTION_KEYS, 'pollAcquire option')
  let maxAttempts = fallbackAttempts
  if (options.maxAttempts !== undefined && options.maxAttempts !== null) {
    maxAttempts = options.maxAttempts
    if (typeof maxAttempts !== 'number' || Number.isNaN(maxAttempts) || maxAttempts < 1) {
      throw errors.invalidOption(`maxAttempts must be a number of tries from 1 to Infinity, got ${errors.describe(maxAttempts)}`)
    }
  }
  return { maxAttempts, signal: abortSignal(options.signal) }
}

function abortSignal (signal) {
  if (signal === undefined || signal === null) return undefined
  let ok = false
  try {
    ok = typeof signal === 'object' && typeof signal.aborted === 'boolean' &&
      typeof signal.addEventListener === 'function' && typeof signal.removeEventListener === 'function'
  } catch (_) { /* a getter that throws: not a usable signal */ }
  if (!ok) {
    throw errors.invalidOption(`signal must be an AbortSignal, got ${errors.describe(signal)}`)
  }
  return signal
}

function optionalUri (uri) {
  if (uri === undefined || uri === null) return undefined
  if (typeof uri !== 'string' || uri === '') {
    throw errors.invalidOption(`uri must be a MongoDB connection string, got ${errors.describe(uri)}`)
  }
  return uri
}

function optionalConnection (connection) {
  if (connection === undefined || connection === null) return undefined
  if (typeof connection !== 'object' || typeof connection.readyState !== 'number') {
    throw errors.invalidOption('connection must be a mongoose Connection')
  }
  return connection
}

function callback (value) {
  if (value !== undefined && typeof value !== 'function') throw errors.invalidCallback(value)
  return value
}

module.exports = {
  DEFAULT_COLLECTION,
  MAX_TIMER_MS,
  storedName,
  optionsObject,
  storeOptions,
  callStoreOptions,
  leaseMs,
  pollOptions,
  abortSignal,
  timeout,
  pollInterval,
  probeMaxAttempts,
  lockId,
  lockOptions,
  LOCK_OPTION_KEYS,
  POLL_OPTION_KEYS,
  UNKNOWN_OPTION_WARNING,
  warnUnknown,
  callback
}
