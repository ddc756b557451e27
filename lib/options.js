'use strict'
// Checks of names, options and the properties users may change at run time.
const errors = require('./errors')

const DEFAULT_TIMEOUT = 60 * 1000
const DEFAULT_POLL_INTERVAL = 500
// The latest date a JS Date (and so mongoose, in 0.0.x) can hold.
const MAX_DATE_MS = 8.64e15
// Longest delay setTimeout honours; longer ones fire at once.
const MAX_POLL_INTERVAL = 2 ** 31 - 1
// MongoDB before 4.2 refuses index keys over 1024 bytes.
const MAX_NAME_BYTES = 1000
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
const timeout = (value) => duration(value, 'timeout', maxTimeout())
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

/** The options object of `Lock(name, options)`, checked. */
function lockOptions (options) {
  // 0.0.x: `opts = opts || {}`
  if (options === undefined || options === null || options === false) options = {}
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw errors.invalidOption(`options must be an object, got ${errors.describe(options)}`)
  }
  return {
    timeout: withDefault(options.timeout, DEFAULT_TIMEOUT, timeout),
    pollInterval: withDefault(options.pollInterval, DEFAULT_POLL_INTERVAL, pollInterval),
    uri: optionalUri(options.uri),
    connection: optionalConnection(options.connection)
  }
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
  storedName,
  timeout,
  pollInterval,
  probeMaxAttempts,
  lockId,
  lockOptions,
  callback
}
