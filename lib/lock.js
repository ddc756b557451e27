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

// Hidden per-lock state: the connection options, and the name it holds.
const kState = Symbol('state')

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
    value: { options: { uri: opts.uri, connection: opts.connection }, heldName: null }
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

/**
 * Waiters in this process, per store and lock name: a release here wakes them
 * at once instead of leaving them to their next poll.
 */
const waiters = new WeakMap() // LockStore -> Map<name, Set<wake>>

function waitersOf (store, name) {
  let byName = waiters.get(store)
  if (!byName) waiters.set(store, (byName = new Map()))
  let set = byName.get(name)
  if (!set) byName.set(name, (set = new Set()))
  return set
}

function wakeWaiters (store, name) {
  const byName = waiters.get(store)
  const set = byName && byName.get(name)
  if (set) for (const wake of set) wake()
}

/** Sleeps `ms`, or less if a release of `name` in this process comes first. */
function pause (store, name, ms) {
  return new Promise((resolve) => {
    const set = waitersOf(store, name)
    const wake = () => {
      clearTimeout(timer)
      set.delete(wake)
      if (set.size === 0) waiters.get(store).delete(name)
      resolve()
    }
    const timer = setTimeout(wake, ms)
    set.add(wake)
  })
}

async function acquireOnce (lock) {
  const name = check.storedName(lock.name)
  if (lock.lockId) throw errors.alreadyAcquired()
  const timeout = check.timeout(lock.timeout)
  const store = await resolveStore(lock[kState].options)
  const reply = await store.acquire(name, timeout)
  if (reply.error) throw errors.fromFailure(reply.error)
  if (!reply.acquired) return { acquired: false, store, name }
  lock[kState].heldName = name
  lock.lockId = reply.lockId
  lock.timeAquired = reply.timeAcquired
  return { acquired: true }
}

async function pollAcquire (lock) {
  for (let attempts = 1; ; attempts++) {
    const attempt = await acquireOnce(lock)
    if (attempt.acquired) return true
    if (attempts >= check.probeMaxAttempts(lock.probeMaxAttempts)) throw errors.pollTimeout(lock.name)
    await pause(attempt.store, attempt.name, check.pollInterval(lock.pollInterval))
  }
}

async function release (lock) {
  if (!lock.lockId) throw errors.notAcquired()
  const lockId = check.lockId(lock.lockId)
  const state = lock[kState]
  const store = await resolveStore(state.options)
  const reply = await store.release(lockId)
  if (reply.error) throw errors.fromFailure(reply.error)
  const heldName = state.heldName
  if (lock.lockId === lockId) {
    lock.lockId = null
    lock.timeAquired = null
    state.heldName = null
  }
  // The name is free (or was already taken over): let local waiters try now.
  if (heldName !== null) wakeWaiters(store, heldName)
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

/** Closes every pooled connection; locks used afterwards connect again. */
Lock.close = function close (callback) {
  check.callback(callback)
  return deliver(native.closeAll(), callback)
}

Lock.Lock = Lock
Lock.default = Lock
Lock.codes = errors.codes

module.exports = Lock
