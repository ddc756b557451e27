'use strict'
/**
 * mongoose-distributed-lock 1.x: distributed locks on MongoDB, a drop-in
 * replacement for the 0.0.x JavaScript package with a native (Rust) core.
 *
 * This file keeps Node's conventions (a factory that works with or without
 * `new`, callbacks or Promises, errors with stable codes); the protocol
 * itself lives in src/protocol.rs.
 */
const native = require('./lib/native')
const check = require('./lib/options')
const errors = require('./lib/errors')
const { resolveStore } = require('./lib/connection')

const kOptions = Symbol('options')

/**
 * Creates a lock. Works with or without `new`, like 0.0.x's factory.
 * @param {string|number} name
 * @param {{ timeout?: number, pollInterval?: number, uri?: string, connection?: object }} [options]
 */
function Lock (name, options) {
  if (!(this instanceof Lock)) return new Lock(name, options)
  check.storedName(name)
  const opts = check.lockOptions(options)

  this.name = name
  this.lockId = null
  this.timeAquired = null
  this.timeout = opts.timeout
  this.pollInterval = opts.pollInterval
  this.probeMaxAttempts = this.timeout / this.pollInterval + 2
  Object.defineProperty(this, kOptions, { value: { uri: opts.uri, connection: opts.connection } })
}

/**
 * Hands `promise`'s outcome to `callback` (asynchronously, exactly once), or
 * returns the promise when there is no callback.
 */
function deliver (promise, callback) {
  if (callback === undefined) return promise
  promise.then(
    (value) => process.nextTick(callback, null, value),
    // pollAcquire's timeout comes with `false`, as in 0.0.x.
    (error) => error && error.code === errors.codes.POLL_TIMEOUT
      ? process.nextTick(callback, error, false)
      : process.nextTick(callback, error)
  )
  return undefined
}

Lock.prototype._acquireOnce = async function () {
  const name = check.storedName(this.name)
  if (this.lockId) throw errors.alreadyAcquired()
  const timeout = check.timeout(this.timeout)
  const store = await resolveStore(this[kOptions])
  const reply = await store.acquire(name, timeout)
  if (reply.error) throw errors.fromFailure(reply.error)
  if (!reply.acquired) return false
  this.lockId = reply.lockId
  this.timeAquired = reply.timeAcquired
  return true
}

Lock.prototype._pollAcquire = async function () {
  for (let attempts = 1; ; attempts++) {
    if (await this._acquireOnce()) return true
    if (attempts >= check.probeMaxAttempts(this.probeMaxAttempts)) throw errors.pollTimeout(this.name)
    await new Promise((resolve) => setTimeout(resolve, check.pollInterval(this.pollInterval)))
  }
}

Lock.prototype._release = async function () {
  if (!this.lockId) throw errors.notAcquired()
  const lockId = check.lockId(this.lockId)
  const store = await resolveStore(this[kOptions])
  const reply = await store.release(lockId)
  if (reply.error) throw errors.fromFailure(reply.error)
  if (this.lockId === lockId) {
    this.lockId = null
    this.timeAquired = null
  }
  return reply.timedOut
}

/**
 * Tries once to take the lock: `true` when taken, `false` when someone else
 * holds it. Errors with `lock_already_aquired` when this instance holds it.
 */
Lock.prototype.acquire = function (callback) {
  check.callback(callback)
  return deliver(this._acquireOnce(), callback)
}

/**
 * Tries every `pollInterval` ms until the lock is taken or `probeMaxAttempts`
 * tries are used up, then fails with `timeout in pollAquire for lock name…`.
 */
Lock.prototype.pollAcquire = function (callback) {
  check.callback(callback)
  return deliver(this._pollAcquire(), callback)
}
// 0.0.x spelled it this way; both names stay.
Lock.prototype.pollAquire = Lock.prototype.pollAcquire

/**
 * Releases the lock: `false` when released in time, `true` when it had
 * already expired (`lockTimeouted`). Either way the instance no longer holds it.
 */
Lock.prototype.release = function (callback) {
  check.callback(callback)
  return deliver(this._release(), callback)
}

/** Closes every pooled connection; locks used afterwards connect again. */
Lock.close = function close (callback) {
  check.callback(callback)
  return deliver(native.closeAll(), callback)
}

Lock.Lock = Lock
Lock.default = Lock
Lock.codes = errors.codes

module.exports = Lock
