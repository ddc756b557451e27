'use strict'
// Waiting for a lock: pauses between acquire attempts that end early when
// the name is released in this process (local handoff), when the store
// closes, or when the caller's AbortSignal fires. A pause only exists while
// a call the application awaits is running.
const { performance } = require('perf_hooks')
const errors = require('./errors')

// Waiters in this process, per lock collection and name: a release wakes
// every local waiter on that name, whatever other options their Locks have.
const waiters = new Map() // handoff key -> Map<name, Set<{ wake, store }>>

function waitersOf (store, name) {
  let byName = waiters.get(store.handoffKey)
  if (!byName) waiters.set(store.handoffKey, (byName = new Map()))
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
      set.delete(entry)
      const byName = waiters.get(store.handoffKey)
      if (set.size === 0 && byName && byName.get(name) === set) {
        byName.delete(name)
        if (byName.size === 0) waiters.delete(store.handoffKey)
      }
      if (signal) signal.removeEventListener('abort', onAbort)
      settle(value)
    }
    const entry = { wake: () => done(resolve), store }
    const onAbort = () => done(reject, errors.aborted(signal))
    const timer = setTimeout(entry.wake, ms)
    set.add(entry)
    if (signal) signal.addEventListener('abort', onAbort, { once: true })
  })
}

/** Ends the pauses of every local waiter for `name` in `store`'s collection: the name is free. */
function wake (store, name) {
  const byName = waiters.get(store.handoffKey)
  const set = byName && byName.get(name)
  if (set) for (const entry of [...set]) entry.wake()
}

/** Ends every pause on `store` (it was closed). */
function wakeAll (store) {
  const byName = waiters.get(store.handoffKey)
  if (!byName) return
  for (const set of [...byName.values()]) for (const entry of [...set]) if (entry.store === store) entry.wake()
}

/** `promise`, or an AbortError as soon as `signal` fires. */
function abortable (promise, signal) {
  if (!signal) return promise
  if (signal.aborted) return Promise.reject(errors.aborted(signal))
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(errors.aborted(signal))
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort)).catch(() => {})
  })
}

// A fair waiter's registration lives this long (or four poll intervals, if
// longer) unless renewed; one that dies leaves the queue when it runs out.
const MIN_REGISTRATION_MS = 2000

/**
 * Fair waiting: joins the queue of `name` on `store` (arrival order across
 * processes, see src/protocol/queue.rs) and returns the waiter's handle:
 * `isHead()`, `keepRegistered()` (renews the registration when half of it
 * is used up) and `leave()` (never fails: a registration left behind expires).
 */
async function joinQueue (store, name, pollInterval, signal) {
  const lease = Math.max(MIN_REGISTRATION_MS, 4 * pollInterval)
  const enqueue = async () => {
    const joined = await abortable(store.enqueue(name, lease), signal)
    if (joined.error) throw errors.fromFailure(joined.error)
    return joined.ticket
  }
  let ticket = await enqueue()
  let renewedAt = performance.now()
  return {
    name,
    /** The waiter's ticket number: its place in arrival order. */
    ticket: () => ticket.number,
    async isHead () {
      const reply = await store.isHead(name, ticket)
      if (reply.error) throw errors.fromFailure(reply.error)
      return reply.yes
    },
    async keepRegistered () {
      if (performance.now() - renewedAt < lease / 2) return
      const reply = await store.refresh(ticket, lease)
      if (reply.error) throw errors.fromFailure(reply.error)
      // Its registration ran out (this waiter was frozen): back of the queue.
      if (!reply.yes) ticket = await enqueue()
      renewedAt = performance.now()
    },
    leave () {
      return store.leave(ticket).then(() => {}, () => {})
    }
  }
}

module.exports = { pause, wake, wakeAll, abortable, joinQueue }
