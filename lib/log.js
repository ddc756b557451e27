'use strict'
// Logging through `debug`, the ecosystem's convention:
// DEBUG=mongoose-distributed-lock. Never credentials or key material: what is
// logged is lock names, ids, codes and the core's notes (which hold none).
const createDebug = require('debug')
const { takeNotes } = require('./native')

const log = createDebug('mongoose-distributed-lock')

/** Logs the core's notes (TTL detection and the like), if logging is on. */
function notes () {
  if (!log.enabled) return
  for (const line of takeNotes()) log(line)
}

module.exports = { log, notes }
