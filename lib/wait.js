'use strict'
// Waiting for a lock: the pause between two tries. A pause ends at the first
// of: a wake-up (the holding it waits on ended in another process: see
// src/listener.rs), a release in this process (local handoff), the holder's
// expiry, the end of the wait, and, where no wake-up can come, the fallback
// tick (`pollInterval`). It also ends when the store closes, and rejects
// when the caller's AbortSignal fires. A pause only exists while a call the
// application awaits is running.
const { performance } = require('perf_hooks')
const native = require('./native')
const errors = require('./errors')
const { log } = require('./log')

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

// A pause bounded only by a holder's expiry or the end of a wait may be
// longer than setTimeout honours (a lease of 30 days: a longer delay fires at
// once); it then ends at MAX_TIMER_MS and the waiter tries once more.
const { MAX_TIMER_MS } = require('./options')

// Jitter added to every fallback tick, at most this much (or a tenth of
// the interval): many pollers do not all come back in the same millisecond.
const MAX_JITTER_MS = 25

/** The fallback tick: `pollInterval` plus jitter. */
function tick (pollInterval) {
  return pollInterval + Math.random() * Math.min(MAX_JITTER_MS, pollInterval / 10)
}

/**
 * Pauses until the next try is worth making (see the top of this file).
 * `plan`: `{ until, watch, pollInterval }`, where `until` (ms from now) is
 * the latest the pause may last (the holder's expiry, the end of the wait),
 * `watch` the holding to watch (`{ id, host, wakeUp }` from the core, or
 * nothing) and `pollInterval` the fallback tick. Resolves with `'gone'`
 * after a wake-up, `'woken'` after a local release, `'timer'` otherwise;
 * rejects with an AbortError when `signal` fires.
 */
function pause (store, name, plan, signal) {
  return new Promise((resolve, reject) => {
    if (signal && signal.aborted) return reject(errors.aborted(signal))
    const set = waitersOf(store, name)
    const startedAt = performance.now()
    let timer = null
    let watching = null // the abort switch of the watch under way
    const done = (settle, value) => {
      if (!set.has(entry)) return
      clearTimeout(timer)
      if (watching !== null) native.abort(watching)
      set.delete(entry)
      const byName = waiters.get(store.handoffKey)
      if (set.size === 0 && byName && byName.get(name) === set) {
        byName.delete(name)
        if (byName.size === 0) waiters.delete(store.handoffKey)
      }
      if (signal) signal.removeEventListener('abort', onAbort)
      settle(value)
    }
    const entry = { wake: () => done(resolve, 'woken'), store }
    const onAbort = () => done(reject, errors.aborted(signal))
    const arm = (ms) => {
      clearTimeout(timer)
      timer = setTimeout(() => done(resolve, 'timer'), Math.min(MAX_TIMER_MS, Math.max(0, ms)))
    }
    set.add(entry)
    if (signal) signal.addEventListener('abort', onAbort, { once: true })
    if (!plan.watch || !plan.watch.wakeUp) return arm(Math.min(plan.until, tick(plan.pollInterval)))
    // Wake-ups: no tick while the watch stands, only the expiry and the end.
    arm(plan.until)
    watching = native.abortSwitch()
    const id = watching
    store.watch(plan.watch, id).then((how) => {
      native.releaseAbortSwitch(id)
      if (watching === id) watching = null
      if (how === 'gone' || how === 'closed') return done(resolve, how === 'gone' ? 'gone' : 'woken')
      // Over already (the watch settled after the pause ended): no timer.
      if (how === 'aborted' || !set.has(entry)) return
      // No wake-up will come (another host, the holder's process is gone,
      // a connection cut): back to the fallback tick, counted from the start.
      log('%s: no wake-up from its holder (%s): polling every %d ms', name, how, plan.pollInterval)
      const left = plan.until - (performance.now() - startedAt)
      arm(Math.min(left, tick(plan.pollInterval) - (performance.now() - startedAt)))
    }, () => {
      native.releaseAbortSwitch(id)
      arm(0)
    })
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
    /** `{ head: true }`, or `{ head: false, ahead, aheadExpiresIn }`: the registration to watch. */
    async place () {
      const reply = await store.isHead(name, ticket)
      if (reply.error) throw errors.fromFailure(reply.error)
      return { head: reply.yes, ahead: reply.ahead, aheadExpiresIn: reply.aheadExpiresIn }
    },
    /** Ms until the registration must be renewed. */
    renewIn: () => Math.max(0, lease / 2 - (performance.now() - renewedAt)),
    /** Renews when due; true when the registration had run out and the waiter joined again (at the back). */
    async keepRegistered () {
      if (performance.now() - renewedAt < lease / 2) return false
      const reply = await store.refresh(ticket, lease)
      if (reply.error) throw errors.fromFailure(reply.error)
      // Its registration ran out (this waiter was frozen): back of the queue.
      if (!reply.yes) ticket = await enqueue()
      renewedAt = performance.now()
      return !reply.yes
    },
    leave () {
      return store.leave(ticket).then(() => {}, () => {})
    }
  }
}

module.exports = { pause, wake, wakeAll, abortable, joinQueue }
