'use strict'
// One contender of the stress test. argv: <json config>
//   { impl: 'native'|'legacy', uri, name, iterations (0 = until told to stop),
//     markerDir, timeout, pollInterval, criticalMs }
// Loop: pollAcquire, create a marker file with O_EXCL (a second holder would
// get EEXIST), hold it criticalMs, delete it, release. Reports progress and
// errors over IPC; on { cmd: 'stop' } finishes its round and reports 'done'.
const fs = require('fs')
const path = require('path')

const config = JSON.parse(process.argv[2])
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const send = (m) => { if (process.connected) process.send(m) }
let stopping = false
process.on('message', (m) => { if (m && m.cmd === 'stop') stopping = true })

async function openLock () {
  const options = { timeout: config.timeout, pollInterval: config.pollInterval }
  if (config.impl === 'legacy') {
    const legacyDir = path.dirname(require.resolve('mongoose-distributed-lock-legacy/package.json'))
    const mongoose = require(require.resolve('mongoose', { paths: [legacyDir] }))
    mongoose.set('strictQuery', false)
    await mongoose.connect(config.uri)
    await require('mongoose-distributed-lock-legacy/model').init()
    const lock = require('mongoose-distributed-lock-legacy')(config.name, options)
    const call = (method) => new Promise((resolve, reject) =>
      lock[method]((err, value) => err ? reject(err) : resolve(value)))
    return {
      pollAcquire: () => call('pollAquire'),
      release: () => call('release'),
      close: () => mongoose.disconnect()
    }
  }
  const Lock = require('..')
  const lock = Lock(config.name, { ...options, uri: config.uri })
  return { pollAcquire: () => lock.pollAcquire(), release: () => lock.release(), close: () => Lock.close() }
}

async function main () {
  const stats = { acquisitions: 0, overlaps: 0, pollTimeouts: 0, errors: 0, timedOutReleases: 0 }
  const lock = await openLock()
  const marker = path.join(config.markerDir, `${config.name}.held`)
  send({ type: 'ready' })
  for (let i = 0; config.iterations ? i < config.iterations : !stopping; i++) {
    const started = Date.now()
    try {
      await lock.pollAcquire()
    } catch (err) {
      if (/^timeout in pollAquire/.test(err.message)) {
        stats.pollTimeouts++
      } else {
        stats.errors++
        send({ type: 'error', at: Date.now(), durationMs: Date.now() - started, code: err.code, message: err.message })
        await sleep(config.pollInterval)
      }
      continue
    }
    stats.acquisitions++
    send({ type: 'acquired', at: Date.now() })
    let mine = true
    try {
      fs.writeFileSync(marker, String(process.pid), { flag: 'wx' })
    } catch (err) {
      if (err.code !== 'EEXIST') throw err
      stats.overlaps++
      mine = false
      send({ type: 'overlap', at: Date.now() })
    }
    await sleep(config.criticalMs)
    if (mine) fs.rmSync(marker, { force: true })
    // Keep trying to release through server outages, until the lock is
    // released or has expired on its own.
    for (;;) {
      const releaseStarted = Date.now()
      try {
        if (await lock.release()) stats.timedOutReleases++
        break
      } catch (err) {
        if (err.message === 'releasing_not_aquired_lock') break
        stats.errors++
        send({ type: 'error', at: Date.now(), durationMs: Date.now() - releaseStarted, code: err.code, message: err.message })
        await sleep(config.pollInterval)
      }
    }
  }
  await lock.close()
  // The IPC channel keeps a forked process alive: say goodbye, then let go.
  if (process.connected) process.send({ type: 'done', stats }, () => process.disconnect())
}

main().catch((err) => {
  console.error(`stress worker (${config.impl}):`, err)
  process.exit(1)
})
