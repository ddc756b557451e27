'use strict'
// Starts the test server once for the whole run: MONGODB_URI when set (a real
// mongod, say), otherwise the embedded FerretDB. Test files read the address
// from TEST_MONGODB_URI and use a database of their own.
const { startFerretDB } = require('../../scripts/ferretdb')
const { binaryPath } = require('../../scripts/ensure-build')

module.exports = async () => {
  // The debug build has the test-only panic trigger.
  process.env.MONGOOSE_DISTRIBUTED_LOCK_NATIVE = process.env.MONGOOSE_DISTRIBUTED_LOCK_NATIVE || binaryPath('debug')
  // Count commands (round trips) through the driver's command monitoring.
  process.env.MONGOOSE_DISTRIBUTED_LOCK_MONITOR = '1'
  if (process.env.MONGODB_URI) {
    process.env.TEST_MONGODB_URI = process.env.MONGODB_URI
    process.env.TEST_SERVER = 'MONGODB_URI'
    return
  }
  const server = await startFerretDB()
  globalThis.__MDL_TEST_SERVER__ = server
  process.env.TEST_MONGODB_URI = server.uri
  process.env.TEST_SERVER = 'ferretdb'
  process.env.TEST_FERRETDB_PID = String(server.pid)
  console.log(`\ntest server: embedded FerretDB v1.24.2 at ${server.uri}`)
}
