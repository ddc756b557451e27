'use strict'
// Every Error this package makes, with its stable `code`. The messages of the
// 0.0.x package are kept to the letter: users compare `err.message` with them.

const codes = Object.freeze({
  MISSING_NAME: 'ERR_MISSING_NAME',
  INVALID_NAME: 'ERR_INVALID_NAME',
  INVALID_OPTION: 'ERR_INVALID_OPTION',
  INVALID_CALLBACK: 'ERR_INVALID_CALLBACK',
  INVALID_LOCK_ID: 'ERR_INVALID_LOCK_ID',
  LOCK_ALREADY_ACQUIRED: 'ERR_LOCK_ALREADY_ACQUIRED',
  LOCK_NOT_ACQUIRED: 'ERR_LOCK_NOT_ACQUIRED',
  POLL_TIMEOUT: 'ERR_POLL_TIMEOUT',
  NO_CONNECTION: 'ERR_NO_CONNECTION',
  INVALID_URI: 'ERR_INVALID_URI',
  UNSUPPORTED_CONNECTION_OPTION: 'ERR_UNSUPPORTED_CONNECTION_OPTION',
  TLS_CONFIG: 'ERR_TLS_CONFIG',
  SERVER_VERSION: 'ERR_SERVER_VERSION',
  CONNECTION_CLOSED: 'ERR_CONNECTION_CLOSED',
  INDEX: 'ERR_INDEX',
  MONGODB_SERVER: 'ERR_MONGODB_SERVER',
  MONGODB_NETWORK: 'ERR_MONGODB_NETWORK',
  MONGODB_TIMEOUT: 'ERR_MONGODB_TIMEOUT',
  MONGODB: 'ERR_MONGODB',
  INTERNAL: 'ERR_INTERNAL'
})

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
// 0.0.1 glues the name to the text without a space; kept for err.message checks.
const pollTimeout = (name) => withCode(new Error('timeout in pollAquire for lock name' + name), codes.POLL_TIMEOUT)
const noConnection = (detail) => withCode(new Error(`no_connection: ${detail}`), codes.NO_CONNECTION)
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
  pollTimeout,
  noConnection,
  connectionClosed,
  unsupportedConnectionOption,
  fromFailure,
  describe
}
