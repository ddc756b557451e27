'use strict'
/**
 * The Lock: 0.0.x's API (a factory that works with or without `new`,
 * callbacks or Promises, the 0.0.x error messages), and what its to-do list
 * promised: events ('acquired', 'released', 'extended', 'timeout', 'lost',
 * 'queued'), forceAcquire, extend, keep-alive, unbounded and
 * cancellable waits, indexes on demand, history. The protocol itself is the
 * native core's (src/protocol/); this file keeps Node's conventions.
 */
const EventEmitter = require('events')
const util = require('util')
const { performance } = require('perf_hooks')
const native = require('./native')
const check = require('./options')
const errors = require('./errors')
const wait = require('./wait')
const history = require('./history')
const { log } = require('./log')
const { startKeepAlive } = require('./keepalive')
const { resolveStore, cachedStore, storeNow, closeAll } = require('./store')
const scoped = require('./scoped')
const { settingsFor } = require('./settings')

// Hidden per-lock state: the shared, frozen settings of its options (see
// lib/settings.js) until the Lock is first used, then an object of its own
// whose prototype is those settings (see own).
const kState = Symbol('state')
// The checked options of the Lock being made (copied into its settings), and
// the descriptor of its hidden state: reused, so making a Lock allocates little.
const scratch = {}
let scratchInUse = false
const stateDescriptor = { value: undefined, writable: true, enumerable: false, configurable: false }
// At most this many lock ids with an unknown outcome are remembered.
const MAX_UNRESOLVED = 16

/**
 * The state of `lock` that it may change: what it holds (see holdingOf),
 * its inserts that got no reply ({ name, ids }), a forced acquire under way,
 * its fencing token. Made on first use; reads of the settings go through.
 */
function own (lock) {
  let state = lock[kState]
  if (Object.isFrozen(state)) {
    state = Object.create(state)
    state.holding = null
    state.unresolved = { name: null, ids: [] }
    state.forcing = false
    state.fencingToken = null
    lock[kState] = state
  }
  return state
}

/**
 * Creates a lock. Works with or without `new`, like 0.0.x's factory. Each
 * Lock is an EventEmitter: 'acquired', 'released', 'extended', 'timeout',
 * 'lost'; never 'error'.
 * @param {string|number} name
 * @param {object} [options] see index.d.ts (LockOptions)
 */
function Lock (name, options) {
  if (!(this instanceof Lock)) return new Lock(name, options)
  check.storedName(name)
  // Options are checked into the reused scratch object, unless it is in use
  // (an options getter that makes a Lock itself gets an object of its own).
  const reuse = !scratchInUse
  scratchInUse = true
  try {
    const opts = reuse ? check.lockOptions(options, scratch) : check.lockOptions(options)
    this.name = name
    this.lockId = null
    this.timeAquired = null
    this.timeout = opts.timeout
    this.pollInterval = opts.pollInterval
    this.probeMaxAttempts = this.timeout / this.pollInterval + 2
    // Hidden (Object.assign and util.inspect skip it: the settings hold the uri).
    stateDescriptor.value = settingsFor(opts)
    Object.defineProperty(this, kState, stateDescriptor)
    stateDescriptor.value = undefined
  } finally {
    if (reuse) {
      // The scratch keeps no connection alive, even when a check threw.
      scratch.connection = undefined
      scratch.writeConcern = undefined
      scratchInUse = false
    }
  }
}
// EventEmitter's state is created on the first listener: an idle Lock costs
// no more than 0.0.x's object.
Object.setPrototypeOf(Lock.prototype, EventEmitter.prototype)

// With `fencing: true`, the token of the current holding (else null). On the
// prototype, so that an idle Lock has no field for it.
Object.defineProperty(Lock.prototype, 'fencingToken', {
  get () {
    const state = this[kState] // undefined on Lock.prototype itself
    return state && state.fencingToken !== undefined ? state.fencingToken : null
  },
  set (value) { own(this).fencingToken = value },
  enumerable: true,
  configurable: true
})

// util.inspect (console.log, and '%o', which shows hidden properties) shows
// the public fields only: the hidden settings hold the uri, which may carry a
// password.
Lock.prototype[util.inspect.custom] = function (depth, options, inspect) {
  if (depth < 0) return '[Lock]'
  const view = {
    name: this.name,
    lockId: this.lockId,
    timeAquired: this.timeAquired,
    timeout: this.timeout,
    pollInterval: this.pollInterval,
    probeMaxAttempts: this.probeMaxAttempts,
    fencingToken: this.fencingToken
  }
  return `Lock ${inspect(view, { ...options, showHidden: false, depth: options.depth === null ? null : options.depth - 1 })}`
}

/**
 * Emits `event` to the application's listeners. The lock itself never emits
 * 'error', so an application without listeners never crashes because of it;
 * a listener that throws does not disturb the lock's state (its error is
 * rethrown on its own tick, as an uncaught exception of the application's).
 */
function emit (lock, event, ...args) {
  try {
    lock.emit(event, ...args)
  } catch (err) {
    process.nextTick(() => { throw err })
  }
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
 * `(options, callback)`, `(callback)` or `()`: a first argument that is
 * neither an options object nor a function is a bad callback, as 0.0.x's
 * one-argument forms had it.
 */
function optionsAndCallback (options, callback) {
  if (typeof options === 'function' && callback === undefined) return [undefined, options]
  if (options !== undefined && options !== null && (typeof options !== 'object' || Array.isArray(options))) {
    check.callback(options)
  }
  return [options, check.callback(callback)]
}

/** An error a wait may ride out: the server could not be reached or did not answer. */
function transient (error) {
  return error.code === errors.codes.MONGODB_NETWORK || error.code === errors.codes.MONGODB_TIMEOUT
}

// The server's code for a write that was applied but whose write concern
// (majority) was not confirmed in time.
const WRITE_CONCERN_FAILED = 64

/**
 * Whether a failure leaves the outcome of a write unknown: no reply came, or
 * the write landed but its write concern was not confirmed.
 */
function noReply (failure) {
  return failure.code === errors.codes.MONGODB_NETWORK || failure.code === errors.codes.MONGODB_TIMEOUT ||
    failure.serverCode === WRITE_CONCERN_FAILED
}

/** The holding this instance knows for `lockId` (null for an id set by hand). */
function holdingOf (lock, lockId) {
  const holding = lock[kState].holding
  return holding && holding.id === lockId ? holding : null
}

/** Records a new holding from an acquire's reply, and starts what comes with it. */
function hold (lock, store, name, reply) {
  const state = own(lock)
  const now = performance.now()
  const holding = {
    tracked: true,
    id: reply.lockId,
    name,
    store,
    // Lease end on the server's clock, and on this process's monotonic clock.
    expire: reply.expire,
    leaseEnd: now + (reply.expire - reply.timeAcquired),
    // When the acquire's reply came, on the monotonic clock (holdAtLeast counts from it).
    acquiredAt: now,
    // The reason, once the holding is known to be lost ('lost' was emitted).
    lost: null,
    // A release got no reply: the next one explains a document already gone.
    releaseUnresolved: false,
    keepAlive: null
  }
  state.holding = holding
  state.unresolved.ids = []
  lock.lockId = reply.lockId
  lock.timeAquired = reply.timeAcquired
  lock.fencingToken = reply.fencingToken === undefined ? null : reply.fencingToken
  if (reply.replaced) {
    log('%s: took over from %s (%s)', name, reply.replaced.lockId, reply.replaced.how)
    history.ended(store, reply.replaced.lockId, name, reply.replaced.how, reply.replaced.ended)
  }
  log('%s: acquired %s', name, holding.id)
  history.started(store, holding.id, name, reply.timeAcquired)
  if (state.keepAlive) startRenewing(lock, holding)
  emit(lock, 'acquired', holding.id)
}

/** The holding is no longer ours: 'lost' once, keep-alive stopped, history. */
function lose (lock, holding, reason) {
  if (holding.lost) return
  holding.lost = reason
  if (holding.keepAlive) holding.keepAlive.stop()
  log('%s: lost %s (%s)', holding.name, holding.id, reason)
  history.ended(holding.store, holding.id, holding.name, reason)
  emit(lock, 'lost', reason)
}

function startRenewing (lock, holding) {
  const { keepAlive, maxHoldTime } = lock[kState]
  const period = keepAlive === true ? lock.timeout / 3 : keepAlive
  holding.keepAlive = startKeepAlive({
    period,
    until: maxHoldTime === undefined ? Infinity : performance.now() + maxHoldTime,
    leaseEnd: () => holding.leaseEnd,
    onExpired: () => lose(lock, holding, 'expired'),
    renew: async (bound) => {
      const renewed = await renew(lock, holding, lock.timeout, { bound })
      if (renewed === null) throw new Error('no answer') // retried by the keep-alive
      return renewed
    }
  })
}

/**
 * One extend of `holding` to `ms`: true (renewed), false (lost), or null
 * when no answer came (the error is logged; the caller decides).
 */
async function renew (lock, holding, ms, { rethrow = false, bound } = {}) {
  if (holding.store.closed && !rethrow) {
    // The keep-alive's connection closed: renew on the connection that
    // replaced it (a reconnect), if there is one now; else no answer came.
    const live = storeNow(lock[kState].where)
    if (!live) return null
    holding.store = live
  }
  const store = holding.store.closed ? await resolveStore(lock[kState].where) : holding.store
  const reply = await store.extend(holding.id, holding.name, holding.expire, check.leaseMs(ms, lock.timeout), bound)
  if (reply.error) {
    const error = errors.fromFailure(reply.error)
    log('%s: extend failed: %s', holding.name, error.message)
    if (rethrow) throw error
    return null
  }
  if (holding.tracked && lock[kState].holding !== holding) return false // released meanwhile
  if (!reply.extended) {
    lose(lock, holding, reply.reason)
    return false
  }
  holding.expire = reply.expire
  holding.leaseEnd = performance.now() + ms
  log('%s: lease of %s renewed for %d ms', holding.name, holding.id, ms)
  emit(lock, 'extended', reply.expire)
  return true
}

/** Tries once on `store` (the lock's own unless given, as a poll pins one). */
async function acquireOnce (lock, pinned, signal) {
  const name = check.storedName(lock.name)
  if (lock.lockId) throw errors.alreadyAcquired()
  const timeout = check.timeout(lock.timeout)
  const state = own(lock)
  const store = pinned || cachedStore(state.where) || await wait.abortable(resolveStore(state.where), signal)
  if (store.closed) throw errors.connectionClosed()
  const unresolved = state.unresolved
  if (unresolved.name !== name) Object.assign(unresolved, { name, ids: [] })
  const reply = await abortableAcquire(store, name, timeout, unresolved.ids, signal)
  if (reply.error) {
    if (store.closed) throw errors.connectionClosed()
    if (reply.error.unresolvedLockId) {
      unresolved.ids = [...unresolved.ids, reply.error.unresolvedLockId].slice(-MAX_UNRESOLVED)
    }
    throw reply.error.code === errors.codes.ABORT ? errors.aborted(signal) : errors.fromFailure(reply.error)
  }
  if (reply.acquired && signal && signal.aborted) {
    // Taken just as the caller gave up: give it back, leave nothing behind.
    await store.release(reply.lockId, name, reply.expire, false)
    throw errors.aborted(signal)
  }
  if (!reply.acquired) return { acquired: false, store, name, holderExpiresIn: reply.holderExpiresIn, watch: reply.holder }
  hold(lock, store, name, reply)
  return { acquired: true }
}

/**
 * The pause before the next try (see lib/wait.js): until a wake-up from the
 * holding `attempt` found (the holder, or for a fair waiter the waiter just
 * ahead), at the latest when that holding's lease ends (server clock: a dead
 * holder's lock is taken right at its expiry), when the wait ends, or when a
 * fair waiter's registration needs renewing; polling where no wake-up can
 * come. A holding that already woke this wait once and is still there is
 * not watched again (it ended here but not on the server: a release with no
 * answer, say): polled.
 */
function pausePlan (attempt, pollInterval, giveUpAt, queue, lastGone) {
  const now = performance.now()
  const expiresIn = attempt.holderExpiresIn
  let until = expiresIn === undefined || expiresIn === null ? Infinity : Math.max(0, expiresIn - (now - attempt.at)) + 1
  until = Math.min(until, giveUpAt - now)
  const watch = attempt.watch && attempt.watch.id !== lastGone ? attempt.watch : null
  // A fair waiter wakes to renew its registration, then (watching) waits on.
  const renewing = Boolean(queue && watch && queue.renewIn() < until)
  if (queue) until = Math.min(until, queue.renewIn())
  // Nothing to watch and no expiry known: the fallback tick bounds it.
  return { until: until === Infinity ? pollInterval : until, watch, pollInterval, renewing }
}

/** The native acquire, stopped in the core when `signal` fires. */
async function abortableAcquire (store, name, timeout, own, signal) {
  if (!signal) return store.acquire(name, timeout, own)
  if (signal.aborted) throw errors.aborted(signal)
  const id = native.abortSwitch()
  const onAbort = () => native.abort(id)
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    return await store.acquire(name, timeout, own, id)
  } finally {
    signal.removeEventListener('abort', onAbort)
    native.releaseAbortSwitch(id)
  }
}

async function pollAcquire (lock, { maxAttempts, signal }) {
  if (signal && signal.aborted) throw errors.aborted(signal)
  // Checked before joining a queue, so that a holder never waits behind itself.
  if (lock.lockId) throw errors.alreadyAcquired()
  check.storedName(lock.name)
  const limit = maxAttempts === undefined ? check.probeMaxAttempts(lock.probeMaxAttempts) : maxAttempts
  const pollInterval = check.pollInterval(lock.pollInterval)
  // The wait's bound, as in 0.0.x: `limit` tries `pollInterval` apart. How
  // many tries fit in it depends on the wake-ups; the bound does not.
  const giveUpAt = limit === Infinity ? Infinity : performance.now() + (limit - 1) * pollInterval
  // One store for the whole wait: if its connection closes, the wait ends.
  const store = await wait.abortable(resolveStore(lock[kState].where), signal)
  const queue = lock[kState].where.fair ? await wait.joinQueue(store, check.storedName(lock.name), lock.pollInterval, signal) : null
  if (queue) emit(lock, 'queued', queue.ticket())
  let lastGone = null
  try {
    for (let attempts = 1; ; attempts++) {
      // Fair: only the head of the queue tries; the others watch the waiter
      // just ahead of them (woken when it leaves the queue).
      let attempt
      try {
        const place = queue ? await queue.place() : { head: true }
        attempt = place.head
          ? await acquireOnce(lock, store, signal)
          : { acquired: false, name: queue.name, holderExpiresIn: place.aheadExpiresIn, watch: place.ahead, waiting: true }
      } catch (error) {
        // A wait without end rides out a server that is away (a restart, a
        // cut connection): it tries again next poll. Any other wait ends.
        if (maxAttempts !== Infinity || !transient(error) || store.closed) throw error
        log('%s: try %d failed, trying again: %s (%s)', lock.name, attempts, error.message, error.code)
        attempt = { acquired: false, name: check.storedName(lock.name) }
      }
      if (attempt.acquired) return true
      log('%s: try %d%s: %s', attempt.name, attempts, limit === Infinity ? '' : ` (of about ${limit})`, attempt.waiting ? 'waiting for its turn' : `held${attempt.holderExpiresIn ? ` for ${Math.round(attempt.holderExpiresIn)} ms more` : ''}`)
      if (performance.now() >= giveUpAt) {
        emit(lock, 'timeout')
        throw errors.pollTimeout(lock.name)
      }
      // Closed while the attempt ran: no pause, the wait is over.
      if (store.closed) throw errors.connectionClosed()
      attempt.at = performance.now()
      // A Lock without wake-ups never watches: it polls, as 1.1 did.
      if (lock[kState].where.wakeUps === false) attempt.watch = null
      for (;;) {
        const plan = pausePlan(attempt, pollInterval, giveUpAt, queue, lastGone)
        const how = await wait.pause(store, attempt.name, plan, signal)
        if (how === 'gone') lastGone = attempt.watch.id
        if (store.closed) throw errors.connectionClosed()
        const rejoined = queue ? await queue.keepRegistered() : false
        // Woken only to renew: the holding it watches has not ended.
        if (how !== 'timer' || !plan.renewing || rejoined) break
      }
    }
  } finally {
    if (queue) await queue.leave()
  }
}

async function forceAcquire (lock) {
  const name = check.storedName(lock.name)
  const state = own(lock)
  // One forced acquire at a time per instance: a second would force out the first.
  if (lock.lockId || state.forcing) throw errors.alreadyAcquired()
  state.forcing = true
  try {
    return await forceAcquireOnce(lock, name)
  } finally {
    state.forcing = false
  }
}

async function forceAcquireOnce (lock, name) {
  const timeout = check.timeout(lock.timeout)
  const store = await resolveStore(lock[kState].where)
  const reply = await store.forceAcquire(name, timeout)
  if (reply.error) throw errors.fromFailure(reply.error)
  if (!reply.acquired) return false
  hold(lock, store, name, reply)
  return true
}

async function release (lock) {
  if (!lock.lockId) throw errors.notAcquired()
  const lockId = check.lockId(lock.lockId)
  const holding = holdingOf(lock, lockId)
  // Two releases at once (a finally block and a signal handler, say): one
  // round trip, one answer for both, never a loss that did not happen.
  if (holding && holding.releasing) return holding.releasing
  const releasing = releaseOnce(lock, lockId, holding)
  if (holding) {
    holding.releasing = releasing
    releasing.then(() => {}, () => { holding.releasing = null })
  }
  return releasing
}

async function releaseOnce (lock, lockId, holding) {
  const state = own(lock)
  // The keep-alive stops before the release's round trip; a renewal under
  // way settles first, so none can land after the release.
  if (holding && holding.keepAlive) await holding.keepAlive.stop()
  // The store it was acquired on, unless that one closed: then the current one.
  const store = holding && !holding.store.closed ? holding.store : await resolveStore(state.where)
  // A lockId set by hand (not from acquire) has no known name or lease.
  const name = holding ? holding.name : check.storedName(lock.name)
  // holdAtLeast: a release before the bound ends the lease at the bound
  // instead of deleting (an extend of our own document, by its exact _id).
  const keepFor = holding && state.holdAtLeast ? Math.ceil(holding.acquiredAt + state.holdAtLeast - performance.now()) : 0
  const reply = keepFor > 0
    ? await shortenLease(store, holding, keepFor)
    : await store.release(lockId, name, holding ? holding.expire : undefined, Boolean(holding && holding.releaseUnresolved))
  if (reply.error) {
    if (holding && noReply(reply.error)) holding.releaseUnresolved = true
    throw errors.fromFailure(reply.error)
  }
  if (lock.lockId === lockId) {
    lock.lockId = null
    lock.timeAquired = null
    lock.fencingToken = null
    if (state.holding === holding) state.holding = null
  }
  if (holding) {
    if (reply.timedOut) lose(lock, holding, reply.reason)
    else history.ended(store, lockId, name, 'released')
  }
  log('%s: released %s%s', name, lockId, reply.timedOut ? ` (it was lost: ${reply.reason})` : keepFor > 0 ? ` (its lease now ends in ${keepFor} ms: holdAtLeast)` : '')
  emit(lock, 'released', reply.timedOut)
  // The name is free (or was already taken over): let local waiters try now;
  // after a holdAtLeast release, when the lease ends (a timer that keeps
  // nothing alive).
  if (keepFor <= 0) wait.wake(store, name)
  else if (!reply.timedOut) setTimeout(boundPassed, Math.min(check.MAX_TIMER_MS, keepFor), store, name, lockId).unref()
  return reply.timedOut
}

/** A holdAtLeast bound passed: waiters here and in other processes try now. */
function boundPassed (store, name, lockId) {
  wait.wake(store, name)
  if (!store.closed) store.ended(lockId).catch(() => {})
}

/**
 * A release within holdAtLeast: the lease of our document (exact _id) ends
 * `ms` from now, so nobody takes the name before the bound. Answers as a
 * release does: timedOut when the document was no longer ours.
 */
async function shortenLease (store, holding, ms) {
  const reply = await store.extend(holding.id, holding.name, holding.expire, ms, undefined)
  if (reply.error) return reply
  return reply.extended ? { timedOut: false } : { timedOut: true, reason: reply.reason }
}

async function extend (lock, ms) {
  if (!lock.lockId) throw errors.extendNotAcquired()
  const lockId = check.lockId(lock.lockId)
  const lease = check.leaseMs(ms, lock.timeout)
  let holding = holdingOf(lock, lockId)
  if (holding && holding.lost) return false
  if (!holding) {
    // A lockId set by hand: extend what the name's document says.
    const store = await resolveStore(lock[kState].where)
    holding = { id: lockId, name: check.storedName(lock.name), store, expire: undefined, lost: null }
  }
  return renew(lock, holding, lease, { rethrow: true })
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
 * Tries every `pollInterval` ms until the lock is taken or `maxAttempts`
 * (default `probeMaxAttempts`; `Infinity` waits for good) tries are used up,
 * then fails with `timeout in pollAquire for lock name…` and emits 'timeout'.
 * `signal` (an AbortSignal) ends the wait with an AbortError. A release of
 * the same lock in this process wakes it at once.
 */
Lock.prototype.pollAcquire = function (options, callback) {
  [options, callback] = optionsAndCallback(options, callback)
  const poll = check.pollOptions(options, undefined)
  return deliver(pollAcquire(this, poll), callback)
}
// 0.0.x spelled it this way; both names stay.
Lock.prototype.pollAquire = Lock.prototype.pollAcquire

/**
 * Takes the lock whoever holds it: the holder's document is removed by its
 * exact `_id`, then this one's inserted. Resolves `true`. The holder learns
 * on its next call or keep-alive ('lost' with 'forced').
 */
Lock.prototype.forceAcquire = function (callback) {
  check.callback(callback)
  return deliver(forceAcquire(this), callback)
}

/**
 * Releases the lock: `false` when released in time, `true` when it was no
 * longer ours (`lockTimeouted`; 'lost' is emitted then, once). Either way the
 * instance no longer holds it. Stops the keep-alive first.
 */
Lock.prototype.release = function (callback) {
  check.callback(callback)
  return deliver(release(this), callback)
}

/**
 * Renews the lease to `ms` (default `timeout`) from now on the server's
 * clock: `true` (and 'extended'), or `false` when the lock is no longer ours
 * (and 'lost'). One round trip.
 */
Lock.prototype.extend = function (ms, callback) {
  if (typeof ms === 'function' && callback === undefined) [ms, callback] = [undefined, ms]
  check.callback(callback)
  return deliver(extend(this, ms), callback)
}

/**
 * Waits for the lock (as pollAcquire with maxAttempts Infinity, unless given;
 * `signal` cancels the wait) and resolves a held-lock handle:
 * `{ lockId, fencingToken, signal, release(), [Symbol.asyncDispose]() }`.
 * The handle's `signal` aborts when the lock is lost. Keep-alive stays as
 * the Lock was made (Lock.withLock turns it on by default).
 */
Lock.prototype.hold = function (options) {
  return scoped.hold(this, options)
}

/**
 * `Lock.withLock(name, options, fn)`: waits for the lock, keeps it alive
 * while `fn(signal)` runs, aborts `signal` if the lock is lost, always
 * releases, and resolves with what `fn` resolves. Rejections: `fn`'s own
 * error (a failed release attached as `releaseError`); ERR_LOCK_LOST (with
 * `result`) when the lock was lost while `fn` ran.
 */
Lock.withLock = function withLock (name, options, fn) {
  return scoped.withLock(Lock, name, options, fn)
}

/** Who holds `name` now, through the store for `where` (one round trip). */
async function status (where, name) {
  const store = await resolveStore(where)
  const reply = await store.status(check.storedName(name))
  if (reply.error) throw errors.fromFailure(reply.error)
  return reply
}

/** Whether anyone holds this lock's name now (a live lease; one round trip). */
Lock.prototype.isLocked = function (callback) {
  check.callback(callback)
  return deliver(status(this[kState].where, this.name).then((s) => Boolean(s.holder)), callback)
}

/**
 * Ms left on the current holding of this lock's name (ours, or whoever's
 * holds it), on the server's clock; `null` when nobody holds it. One round trip.
 */
Lock.prototype.expiresIn = function (callback) {
  check.callback(callback)
  return deliver(status(this[kState].where, this.name).then((s) => s.holder ? s.holder.expiresIn : null), callback)
}

/**
 * The current holder of `name`: `{ lockId, host, pid, owner, acquired,
 * expires }` (times in ms since the epoch, server clock; host, pid and owner
 * are null for holders that did not record them, as 0.0.x), or `null`.
 * `options` takes `uri`, `connection` and `collection` like a Lock.
 */
Lock.holder = function holder (name, options, callback) {
  [options, callback] = optionsAndCallback(options, callback)
  const where = check.callStoreOptions(options, 'Lock.holder option')
  const run = async () => {
    const { holder } = await status(where, name)
    if (!holder) return null
    const orNull = (value) => value === undefined ? null : value
    return {
      lockId: orNull(holder.lockId),
      host: orNull(holder.host),
      pid: orNull(holder.pid),
      owner: orNull(holder.owner),
      acquired: orNull(holder.acquired),
      expires: holder.expire
    }
  }
  return deliver(run(), callback)
}

/**
 * Ensures the indexes of a lock collection now (a deploy step): the unique
 * index on `name` and, unless `ttl: false`, the TTL index on `expire`.
 * `options` takes `uri`, `connection`, `collection` and `ttl` like a Lock.
 * Resolves `{ collection: 'db.collection', ttl: boolean }`.
 */
Lock.ensureIndexes = function ensureIndexes (options, callback) {
  [options, callback] = optionsAndCallback(options, callback)
  const run = async () => {
    const store = await resolveStore(check.callStoreOptions(options, 'Lock.ensureIndexes option'))
    const reply = await store.ensureIndexes()
    if (reply.error) throw errors.fromFailure(reply.error)
    return { collection: reply.namespace, ttl: reply.ttl }
  }
  return deliver(run(), callback)
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
