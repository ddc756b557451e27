'use strict'
// Every Error this package makes, with its stable `code`. The messages of the
// 0.0.x package are kept to the letter: users compare `err.message` with them.

const { constants } = require('./native')

/**
 * The codes, by name (`ERR_MISSING_NAME` is `codes.MISSING_NAME`, `ABORT_ERR`
 * is `codes.ABORT`). The list itself is the core's (src/error.rs ERROR_CODES).
 */
const codes = Object.freeze(Object.fromEntries(constants().errorCodes.map(({ code }) =>
  [code.replace(/^ERR_/, '').replace(/_ERR$/, ''), code])))

function withCode (error, code) {
  error.code = code
  return error
}

const missingName = () => withCode(new Error('missing_name'), codes.MISSING_NAME)
const invalidName = (message, Type = TypeError) => withCode(new Type(message), codes.INVALID_NAME)
const invalidOption = (message, Type = TypeError) => withCode(new Type(message), codes.INVALID_OPTION)
const invalidCallback = (value) =>
  withCode(new TypeError(`callback must be a function, got ${describe(value)}`), codes.INVALID_CALLBACK)
const invalidLockId = () =>
  withCode(new TypeError('lockId must be null or the 24-character hex string of an ObjectId'), codes.INVALID_LOCK_ID)
const alreadyAcquired = () => withCode(new Error('lock_already_aquired'), codes.LOCK_ALREADY_ACQUIRED)
const notAcquired = () => withCode(new Error('releasing_not_aquired_lock'), codes.LOCK_NOT_ACQUIRED)
// The 0.0.x spelling, for the operation 0.0.x never had.
const extendNotAcquired = () => withCode(new Error('extending_not_aquired_lock'), codes.LOCK_NOT_ACQUIRED)
/** The lock was lost while work ran under it (scoped locks). */
function lockLost (name, reason) {
  const error = withCode(new Error(`lock_lost: the lock ${JSON.stringify(String(name))} was lost${reason ? ` (${reason})` : ''} while the work ran; it may not have been exclusive`), codes.LOCK_LOST)
  error.reason = reason || null
  return error
}

/** As Node's own APIs reject when their AbortSignal fires. */
function aborted (signal) {
  const error = withCode(new Error('The operation was aborted'), codes.ABORT)
  error.name = 'AbortError'
  if (signal && signal.reason !== undefined) error.cause = signal.reason
  return error
}
// 0.0.1 glues the name to the text without a space; kept for err.message checks.
const pollTimeout = (name) => withCode(new Error('timeout in pollAquire for lock name' + name), codes.POLL_TIMEOUT)
const noConnection = (detail, cause) => withCode(new Error(`no_connection: ${detail}`, cause ? { cause } : undefined), codes.NO_CONNECTION)
const connectionClosed = () => withCode(new Error(
  'connection_closed: the lock\'s connection was closed (mongoose.disconnect(), connection.close() or Lock.close())'),
codes.CONNECTION_CLOSED)
/** The application's connection uses settings the native client cannot reproduce. */
function unsupportedConnectionOption (names) {
  const error = withCode(new Error(
    `unsupported_connection_option: the lock cannot reproduce the connection setting${names.length > 1 ? 's' : ''} ` +
    `${names.join(', ')}; give the lock its own \`uri\` option (see the README, "Connection settings")`),
  codes.UNSUPPORTED_CONNECTION_OPTION)
  error.options = names.slice()
  return error
}

/** An Error from a failure reported by the native core. */
function fromFailure (failure) {
  if (failure.code === codes.ABORT) return aborted()
  const error = new Error(failure.message)
  if (failure.serverCode !== undefined && failure.serverCode !== null) {
    // Like the Node driver's MongoServerError: the server's numeric code.
    error.name = 'MongoServerError'
    error.code = failure.serverCode
    if (failure.codeName) error.codeName = failure.codeName
  } else {
    error.code = failure.code
  }
  if (failure.labels && failure.labels.length) error.errorLabels = failure.labels
  return error
}

function describe (value) {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value).slice(0, 40)}`
}

module.exports = {
  codes,
  missingName,
  invalidName,
  invalidOption,
  invalidCallback,
  invalidLockId,
  alreadyAcquired,
  notAcquired,
  extendNotAcquired,
  lockLost,
  aborted,
  pollTimeout,
  noConnection,
  connectionClosed,
  unsupportedConnectionOption,
  fromFailure,
  describe
}
