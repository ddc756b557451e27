'use strict'
// Waiting between acquire attempts: a pause of `pollInterval` that a release
// of the same lock in this process, or the closing of the lock's store, ends
// at once (local handoff). Timers never keep Node alive on their own account:
// a pause only exists while a call the application awaits is running.

const waiters = new WeakMap() // Store -> Map<name, Set<wake>>

function waitersOf (store, name) {
  let byName = waiters.get(store)
  if (!byName) waiters.set(store, (byName = new Map()))
  let set = byName.get(name)
  if (!set) byName.set(name, (set = new Set()))
  return set
}

/** Sleeps `ms`, or less if `wake(store, name)` or `wakeAll(store)` comes first. */
function pause (store, name, ms) {
  return new Promise((resolve) => {
    const set = waitersOf(store, name)
    const wake = () => {
      clearTimeout(timer)
      set.delete(wake)
      const byName = waiters.get(store)
      if (set.size === 0 && byName) byName.delete(name)
      resolve()
    }
    const timer = setTimeout(wake, ms)
    set.add(wake)
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

module.exports = { pause, wake, wakeAll }
