'use strict'
// Scoped locks: Lock.withLock(name, options, fn) and lock.hold([options]).
//
// Both wait for the lock as pollAcquire({ maxAttempts: Infinity }) does
// (unless `maxAttempts` is given; `signal` cancels the wait), keep it alive
// while the work runs (keepAlive on unless the options say otherwise), abort
// the work's signal when the lock is lost, and always release.
const errors = require('./errors')
const check = require('./options')

const WITH_LOCK_KEYS = [...check.LOCK_OPTION_KEYS, ...check.POLL_OPTION_KEYS]

/** A Lock for scoped use: keep-alive on unless the options turn it off. */
function scopedLock (Lock, name, options) {
  const all = check.optionsObject(options)
  // withLock takes the Lock's options and the wait's: warned of as one set.
  check.warnUnknown(all, WITH_LOCK_KEYS, 'withLock option')
  const opts = {}
  for (const key of check.LOCK_OPTION_KEYS) if (all[key] !== undefined) opts[key] = all[key]
  return Lock(name, { ...opts, keepAlive: opts.keepAlive === undefined ? true : opts.keepAlive })
}

/** The wait's options, from a scoped call's options. */
function waitOptions (options) {
  const opts = check.optionsObject(options)
  return { maxAttempts: opts.maxAttempts === undefined ? Infinity : opts.maxAttempts, signal: opts.signal }
}

/**
 * Waits for `lock`, then returns a held-lock handle: `release()`, `signal`
 * (aborted with an ERR_LOCK_LOST error when the lock is lost), `lockId`,
 * `fencingToken` (when fencing is on; else null) and Symbol.asyncDispose
 * (so `await using held = await lock.hold()` works where Node has `using`).
 */
async function hold (lock, options, { scopedOptions = false } = {}) {
  // lock.hold(options) takes the wait's options only; withLock's were checked by scopedLock.
  if (!scopedOptions) check.warnUnknown(check.optionsObject(options), check.POLL_OPTION_KEYS, 'hold option')
  await lock.pollAcquire(waitOptions(options))
  const controller = new AbortController()
  const onLost = (reason) => controller.abort(errors.lockLost(lock.name, reason))
  lock.on('lost', onLost)
  let released = null
  // One release; a failed one may be tried again through the handle.
  const release = () => {
    if (!released) {
      released = lock.release().then((timedOut) => {
        lock.removeListener('lost', onLost)
        return timedOut
      }, (error) => {
        released = null
        throw error
      })
    }
    return released
  }
  return {
    lockId: lock.lockId,
    fencingToken: lock.fencingToken === undefined ? null : lock.fencingToken,
    signal: controller.signal,
    release,
    [Symbol.asyncDispose || Symbol.for('Symbol.asyncDispose')]: () => release().then(() => undefined)
  }
}

/**
 * Runs `fn(signal, { lockId, fencingToken })` while holding the lock `name`, and returns what it
 * returns. If `fn` throws, that error is what rejects (a failed release is
 * attached to it as `releaseError`, never replacing it). If the lock was
 * lost while `fn` ran and `fn` still resolved, it rejects with ERR_LOCK_LOST
 * carrying `fn`'s value as `result`.
 */
async function withLock (Lock, name, options, fn) {
  if (typeof options === 'function' && fn === undefined) [options, fn] = [undefined, options]
  if (typeof fn !== 'function') throw errors.invalidCallback(fn)
  const lock = scopedLock(Lock, name, options)
  const held = await hold(lock, options, { scopedOptions: true })
  let result
  try {
    result = await fn(held.signal, { lockId: held.lockId, fencingToken: held.fencingToken })
  } catch (error) {
    try {
      await held.release()
    } catch (releaseError) {
      if (error !== null && typeof error === 'object') {
        Object.defineProperty(error, 'releaseError', { value: releaseError, configurable: true, writable: true })
      }
    }
    throw error
  }
  const lostBefore = held.signal.aborted
  let timedOut
  try {
    timedOut = await held.release()
  } catch (releaseError) {
    // fn's work is done: its value stays with the error.
    releaseError.result = result
    throw releaseError
  }
  if (lostBefore || timedOut) {
    const error = errors.lockLost(lock.name, held.signal.reason && held.signal.reason.reason)
    error.result = result
    throw error
  }
  return result
}

module.exports = { hold, withLock, scopedLock }
