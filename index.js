'use strict'
/**
 * mongoose-distributed-lock 1.x: distributed locks on MongoDB, a drop-in
 * replacement for the 0.0.x JavaScript package with a native (Rust) core.
 *
 * `require('mongoose-distributed-lock')` is the `Lock` factory, as in 0.0.x.
 * lib/lock.js is the Lock, lib/store.js finds its connection, lib/wait.js
 * waits between attempts, src/ is the native core.
 */
module.exports = require('./lib/lock')
