'use strict'
module.exports = async () => {
  const server = globalThis.__MDL_TEST_SERVER__
  if (server) await server.stop()
}
