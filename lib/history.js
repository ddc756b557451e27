'use strict'
// The opt-in history of holdings (`history: true` or a collection name): one
// record per holding, written by the core. These writes are started and never
// awaited: they cannot delay or fail a lock call; a failure is only logged.
const { log } = require('./log')

// The start write of each holding under way, so that its end is written after it.
const starting = new Map() // lockId -> Promise

function logged (what) {
  return (failure) => { if (failure) log('history: %s failed: %s (%s)', what, failure.message, failure.code) }
}
const unexpected = (what) => (err) => log('history: %s failed: %s', what, err && err.message)

/** A holding began. */
function started (store, lockId, name, acquired) {
  if (!store.history) return
  const write = store.recordStart(lockId, name, acquired).then(logged('start'), unexpected('start'))
  starting.set(lockId, write)
  write.then(() => { if (starting.get(lockId) === write) starting.delete(lockId) })
}

/** A holding ended (`released`, `expired`, `taken`, `forced`, `deleted`), at `ended` or now. */
function ended (store, lockId, name, how, at) {
  if (!store.history) return
  const after = starting.get(lockId) || Promise.resolve()
  after.then(() => store.recordEnd(lockId, name, how, at === undefined ? null : at)).then(logged('end'), unexpected('end'))
}

module.exports = { started, ended }
