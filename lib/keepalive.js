'use strict'
// Keep-alive: while a lock is held, renew its lease every period (the lock's
// `timeout / 3` unless given).
//
// It runs on the JavaScript event loop, deliberately: a holder whose JS
// thread is frozen longer than its lease (a long synchronous loop, a
// debugger, SIGSTOP) must LOSE the lock instead of having a native thread
// keep it alive while it does nothing; it learns so on its next call
// ('lost'). Timers are unref'd: a keep-alive never keeps Node alive.
//
// A refused renewal ends it (the caller emits 'lost'). A failed one (no
// reply) is retried sooner, until the lease would be gone by this process's
// own monotonic clock; then it ends with 'expired'.
const { performance } = require('perf_hooks')

// Retries after a failed renewal come at most this far apart, and at least
// this far (so a dead server is not hammered).
const MAX_RETRY_MS = 1000
const MIN_RETRY_MS = 50

/**
 * Starts renewing. `renew(bound)` (bound: ms left on the lease; an answer
 * later than that is worthless) resolves `true` (renewed), `false` (the lock is
 * no longer ours: stop), or rejects (no answer). `leaseEnd()` is the lease's
 * end on `performance.now()`'s clock. `onExpired()` is called when failed
 * renewals outlast the lease, or when the lease runs out after `until` (a
 * `performance.now()` time: maxHoldTime), past which nothing is renewed. Returns `{ stop }`: `stop()` cancels the next
 * renewal at once and resolves once one under way has settled.
 */
// Longer waits than setTimeout honours (a lease of more than 24.8 days: a
// longer delay fires at once) are cut into steps of MAX_TIMER_MS.
const { MAX_TIMER_MS } = require('./options')

function startKeepAlive ({ period, renew, leaseEnd, onExpired, until = Infinity }) {
  let timer = null
  let stopped = false
  let running = Promise.resolve()

  const schedule = (ms) => {
    timer = setTimeout(tick, Math.min(MAX_TIMER_MS, Math.max(0, ms)))
    timer.unref()
  }

  function tick () {
    timer = null
    if (stopped) return
    if (performance.now() >= until) {
      // maxHoldTime: renew no more; the lease runs out, and that is a loss
      // (at the lease's end as it stands then: an extend() may move it).
      const atLeaseEnd = () => {
        const left = leaseEnd() - performance.now()
        if (stopped) return
        if (left > 0) {
          timer = setTimeout(atLeaseEnd, Math.min(MAX_TIMER_MS, left))
          timer.unref()
          return
        }
        stopped = true
        onExpired()
      }
      atLeaseEnd()
      return
    }
    // A renewal that hangs (a server that stopped answering) must not let the
    // lease run out unnoticed: at the lease's end, it is lost, whatever the
    // renewal still does.
    let leaseOver = null
    const armLeaseOver = () => {
      leaseOver = setTimeout(atLeaseOver, Math.min(MAX_TIMER_MS, Math.max(0, leaseEnd() - performance.now())))
      leaseOver.unref()
    }
    const atLeaseOver = () => {
      if (stopped) return
      if (leaseEnd() - performance.now() > 0) return armLeaseOver()
      stopped = true
      onExpired()
    }
    armLeaseOver()
    running = Promise.resolve().then(() => renew(Math.max(1, leaseEnd() - performance.now()))).then(
      (renewed) => {
        clearTimeout(leaseOver)
        if (renewed && !stopped) schedule(period)
      },
      () => {
        clearTimeout(leaseOver)
        if (stopped) return
        const left = leaseEnd() - performance.now()
        if (left <= 0) {
          stopped = true
          onExpired()
        } else {
          schedule(Math.min(period, MAX_RETRY_MS, Math.max(MIN_RETRY_MS, left / 4)))
        }
      })
  }

  schedule(period)
  return {
    stop () {
      stopped = true
      if (timer) clearTimeout(timer)
      timer = null
      return running
    }
  }
}

module.exports = { startKeepAlive }
