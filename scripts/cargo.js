'use strict'
// `cargo <args>` on the project's build cache outside the clone (see
// ensure-build.js, TARGET_DIR): the test and lint commands use it.
const { cargo } = require('./ensure-build')

try {
  cargo(process.argv.slice(2))
} catch (err) {
  process.exit(typeof err.status === 'number' ? err.status : 1)
}
