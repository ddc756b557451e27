'use strict'
// Waiting for a lock: pauses between acquire attempts that end early when
// the name is released in this process (local handoff), when the store
// closes, or when the caller's AbortSignal fires. A pause only exists while
// a call the application awaits is running.
const errors = require('./errors')

const waiters = new WeakMap() // Store -> Map<name, Set<wake>>

function waitersOf (store, name) {
  let byName = waiters.get(store)
  if (!byName) waiters.set(store, (byName = new Map()))
  let set = byName.get(name)
  if (!set) byName.set(name, (set = new Set()))
  return set
}

/**
 * Sleeps `ms`, or less if `wake(store, name)` or `wakeAll(store)` comes
 * first; rejects with an AbortError when `signal` fires.
 */
function pause (store, name, ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal && signal.aborted) return reject(errors.aborted(signal))
    const set = waitersOf(store, name)
    const done = (settle, value) => {
      clearTimeout(timer)
      set.delete(wake)
      const byName = waiters.get(store)
      if (set.size === 0 && byName && byName.get(name) === set) byName.delete(name)
      if (signal) signal.removeEventListener('abort', onAbort)
      settle(value)
    }
    const wake = () => done(resolve)
    const onAbort = () => done(reject, errors.aborted(signal))
    const timer = setTimeout(wake, ms)
    set.add(wake)
    if (signal) signal.addEventListener('abort', onAbort, { once: true })
  })
}

/** Ends the pauses of every waiter for `name` on `store`: the name is free. */
function wake (store, name) {
  const byName = waiters.get(store)
  const set = byName && byName.get(name)
  if (set) for (const w of [...set]) w()
}

/** Ends every pause on `store` (it was closed). */
function wakeAll (store) {
  const byName = waiters.get(store)
  if (!byName) return
  for (const set of [...byName.values()]) for (const w of [...set]) w()
}

/** `promise`, or an AbortError as soon as `signal` fires. */
function abortable (promise, signal) {
  if (!signal) return promise
  if (signal.aborted) return Promise.reject(errors.aborted(signal))
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(errors.aborted(signal))
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}

module.exports = { pause, wake, wakeAll, abortable }
