'use strict'
// `node scripts/ensure-build.js release|debug`: builds the native core with
// @napi-rs/cli. Cargo only rebuilds what changed, so a fresh build is cheap.
//   release -> ./mongoose-distributed-lock.linux-x64-gnu.node (+ binding.js, binding.d.ts)
//   debug   -> ./build/debug/… (has the test-only panic trigger; used by the tests)
const { execFileSync } = require('child_process')
const path = require('path')

const ROOT = path.join(__dirname, '..')
const NAPI = path.join(ROOT, 'node_modules', '.bin', 'napi')
const DEBUG_DIR = path.join(ROOT, 'build', 'debug')

function napiBuild (mode) {
  const args = mode === 'release'
    ? ['build', '--platform', '--release', '--js', 'binding.js', '--dts', 'binding.d.ts']
    : ['build', '--platform', '--no-js', '--output-dir', DEBUG_DIR]
  execFileSync(NAPI, args, { cwd: ROOT, stdio: 'inherit' })
}

/** Path of the .node file a build mode produces. */
function binaryPath (mode) {
  const file = 'mongoose-distributed-lock.linux-x64-gnu.node'
  return mode === 'release' ? path.join(ROOT, file) : path.join(DEBUG_DIR, file)
}

module.exports = { napiBuild, binaryPath }

if (require.main === module) {
  const mode = process.argv[2] || 'release'
  if (!['release', 'debug'].includes(mode)) {
    console.error('usage: node scripts/ensure-build.js release|debug')
    process.exit(2)
  }
  napiBuild(mode)
}
