'use strict'
/**
 * The settings of a Lock (where it lives, keep-alive, maxHoldTime, holdAtLeast), shared:
 * Locks made with the same options point to one frozen settings object, so
 * that an idle Lock costs no more heap than a 0.0.x one (a handful of fields).
 * A Lock gets state of its own (lib/lock.js, `own`) only when it is used.
 *
 * The settings in use are found again by comparing values (the connection
 * by identity), among the RECENT most recently made: no key is built, so
 * nothing is hashed or allocated for a Lock made like the ones before it,
 * and no uri (which may carry a password) ever becomes a key.
 */
const RECENT = 16
const recent = []

const FIELDS = ['uri', 'connection', 'collection', 'ttl', 'history', 'owner', 'fencing', 'fair', 'wakeUps']

function sameWriteConcern (a, b) {
  if (a === b) return true
  if (!a || !b) return false
  const ka = Object.keys(a)
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k])
}

function matches (settings, opts) {
  const where = settings.where
  for (let i = 0; i < FIELDS.length; i++) if (where[FIELDS[i]] !== opts[FIELDS[i]]) return false
  return settings.keepAlive === opts.keepAlive && settings.maxHoldTime === opts.maxHoldTime &&
    settings.holdAtLeast === opts.holdAtLeast &&
    sameWriteConcern(where.writeConcern, opts.writeConcern)
}

function make (opts) {
  return Object.freeze({
    where: Object.freeze({
      uri: opts.uri,
      connection: opts.connection,
      collection: opts.collection,
      ttl: opts.ttl,
      history: opts.history,
      owner: opts.owner,
      writeConcern: opts.writeConcern && Object.freeze({ ...opts.writeConcern }),
      fencing: opts.fencing,
      fair: opts.fair,
      wakeUps: opts.wakeUps
    }),
    keepAlive: opts.keepAlive,
    maxHoldTime: opts.maxHoldTime,
    holdAtLeast: opts.holdAtLeast
  })
}

/** The frozen settings for checked Lock options (see options.lockOptions). */
function settingsFor (opts) {
  for (let i = 0; i < recent.length; i++) {
    const settings = recent[i]
    if (matches(settings, opts)) {
      if (i > 0) { // most recent first
        recent.splice(i, 1)
        recent.unshift(settings)
      }
      return settings
    }
  }
  const settings = make(opts)
  recent.unshift(settings)
  if (recent.length > RECENT) recent.pop()
  return settings
}

module.exports = { settingsFor }
