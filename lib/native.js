'use strict'
// Loads the compiled core. One variable names another build of it:
// MONGOOSE_DISTRIBUTED_LOCK_NATIVE (the test suite uses the debug build,
// which has test hooks). Otherwise binding.js, the loader @napi-rs/cli
// generates: ./mongoose-distributed-lock.<platform>.node next to it (a local
// build), else the installed package mongoose-distributed-lock-<platform>.
//
// binding.js would also obey NAPI_RS_NATIVE_LIBRARY_PATH, but every napi-rs
// package's loader reads that same variable: set for this package it makes
// the others load this binary (Jest 30's resolver, unrs-resolver, among
// them), and set for another package it would load that one's binary here.
// So it is hidden from binding.js for its one synchronous require.
const path = require('path')

function loadBinding () {
  const shared = process.env.NAPI_RS_NATIVE_LIBRARY_PATH
  if (shared === undefined) return require('../binding.js')
  delete process.env.NAPI_RS_NATIVE_LIBRARY_PATH
  try {
    return require('../binding.js')
  } finally {
    process.env.NAPI_RS_NATIVE_LIBRARY_PATH = shared
  }
}

const override = process.env.MONGOOSE_DISTRIBUTED_LOCK_NATIVE
module.exports = override ? require(path.resolve(override)) : loadBinding()
