'use strict'
/**
 * The Lock: 0.0.x's API (a factory that works with or without `new`,
 * callbacks or Promises, errors with stable codes) over the native store.
 * The protocol itself lives in src/protocol/.
 */
const native = require('./native')
const check = require('./options')
const errors = require('./errors')
const wait = require('./wait')
const { resolveStore, closeAll } = require('./store')

// Hidden per-lock state: the connection options, what it holds, and the
// writes whose reply never came (their outcome is unknown).
const kState = Symbol('state')
// At most this many lock ids with an unknown outcome are remembered.
const MAX_UNRESOLVED = 16

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
  Object.defineProperty(this, kState, {
    value: {
      options: { uri: opts.uri, connection: opts.connection },
      // The name and lease end (server clock) of what this instance holds.
      heldName: null,
      expire: null,
      // Inserts of this instance that got no reply: { name, ids }.
      unresolved: { name: null, ids: [] },
      // A release of the held lock got no reply: the next one explains a gone document.
      releaseUnresolved: false
    }
  })
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

/** Whether a failure leaves the outcome of a write unknown (no reply came). */
function noReply (failure) {
  return failure.code === errors.codes.MONGODB_NETWORK || failure.code === errors.codes.MONGODB_TIMEOUT
}

/** Tries once on `store` (the lock's own unless given, as a poll pins one). */
async function acquireOnce (lock, pinned) {
  const name = check.storedName(lock.name)
  if (lock.lockId) throw errors.alreadyAcquired()
  const timeout = check.timeout(lock.timeout)
  const state = lock[kState]
  const store = pinned || await resolveStore(state.options)
  if (store.closed) throw errors.connectionClosed()
  const unresolved = state.unresolved
  if (unresolved.name !== name) Object.assign(unresolved, { name, ids: [] })
  const reply = await store.acquire(name, timeout, unresolved.ids)
  if (reply.error) {
    if (store.closed) throw errors.connectionClosed()
    if (reply.error.unresolvedLockId) {
      unresolved.ids = [...unresolved.ids, reply.error.unresolvedLockId].slice(-MAX_UNRESOLVED)
    }
    throw errors.fromFailure(reply.error)
  }
  if (!reply.acquired) return { acquired: false, store, name }
  unresolved.ids = []
  state.heldName = name
  state.expire = reply.expire
  state.releaseUnresolved = false
  lock.lockId = reply.lockId
  lock.timeAquired = reply.timeAcquired
  return { acquired: true }
}

async function pollAcquire (lock) {
  // One store for the whole wait: if its connection closes, the wait ends.
  const store = await resolveStore(lock[kState].options)
  for (let attempts = 1; ; attempts++) {
    const attempt = await acquireOnce(lock, store)
    if (attempt.acquired) return true
    if (attempts >= check.probeMaxAttempts(lock.probeMaxAttempts)) throw errors.pollTimeout(lock.name)
    // Closed while the attempt ran: no pause, the wait is over.
    if (store.closed) throw errors.connectionClosed()
    await wait.pause(store, attempt.name, check.pollInterval(lock.pollInterval))
    if (store.closed) throw errors.connectionClosed()
  }
}

async function release (lock) {
  if (!lock.lockId) throw errors.notAcquired()
  const lockId = check.lockId(lock.lockId)
  const state = lock[kState]
  const store = await resolveStore(state.options)
  // A lockId set by hand (not from acquire) has no known name or lease.
  const name = state.heldName !== null ? state.heldName : check.storedName(lock.name)
  const expire = state.heldName !== null ? state.expire : undefined
  const reply = await store.release(lockId, name, expire, state.releaseUnresolved)
  if (reply.error) {
    if (noReply(reply.error) && lock.lockId === lockId) state.releaseUnresolved = true
    throw errors.fromFailure(reply.error)
  }
  const heldName = state.heldName
  if (lock.lockId === lockId) {
    lock.lockId = null
    lock.timeAquired = null
    state.heldName = null
    state.expire = null
    state.releaseUnresolved = false
  }
  // The name is free (or was already taken over): let local waiters try now.
  if (heldName !== null) wait.wake(store, heldName)
  return reply.timedOut
}

/**
 * Tries once to take the lock: `true` when taken, `false` when someone else
 * holds it. Errors with `lock_already_aquired` when this instance holds it.
 */
Lock.prototype.acquire = function (callback) {
  check.callback(callback)
  return deliver(acquireOnce(this).then((attempt) => attempt.acquired), callback)
}

/**
 * Tries every `pollInterval` ms until the lock is taken or `probeMaxAttempts`
 * tries are used up, then fails with `timeout in pollAquire for lock name…`.
 * A release of the same lock in this process wakes it at once.
 */
Lock.prototype.pollAcquire = function (callback) {
  check.callback(callback)
  return deliver(pollAcquire(this), callback)
}
// 0.0.x spelled it this way; both names stay.
Lock.prototype.pollAquire = Lock.prototype.pollAcquire

/**
 * Releases the lock: `false` when released in time, `true` when it had
 * already expired (`lockTimeouted`). Either way the instance no longer holds it.
 */
Lock.prototype.release = function (callback) {
  check.callback(callback)
  return deliver(release(this), callback)
}

/**
 * Closes every pooled connection; waits in progress end with
 * ERR_CONNECTION_CLOSED. Locks used afterwards connect again.
 */
Lock.close = function close (callback) {
  check.callback(callback)
  return deliver(closeAll().then(() => native.closeAll()), callback)
}

Lock.Lock = Lock
Lock.default = Lock
Lock.codes = errors.codes

module.exports = Lock
