'use strict'
// One demo worker: argv <uri> <worker number> <rounds> <marker dir> <lock name> <pollInterval>
// It connects with mongoose, says it is ready, and on the word of the demo
// waits its turn for the lock `rounds` times, holding it briefly each time.
const fs = require('fs')
const path = require('path')
const mongoose = require('mongoose')
const Lock = require('..')

const [uri, worker, rounds, markerDir, name, pollInterval] = process.argv.slice(2)
const marker = path.join(markerDir, 'held')
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

async function main () {
  await mongoose.connect(uri)
  // No connection option: the lock finds mongoose's, as in 0.0.x. `fair`
  // serves waiters in arrival order across processes; with wake-ups (the
  // default) a release wakes the next in line at once, so the long
  // pollInterval is only the fallback for a wake-up that cannot come.
  const lock = Lock(name, { timeout: 10000, pollInterval: Number(pollInterval), fair: true })
  let queuedAt = null
  lock.on('queued', () => { queuedAt = Date.now() })
  process.send({ event: 'ready', worker })
  await new Promise((resolve) => process.once('message', resolve))
  for (let round = 0; round < Number(rounds); round++) {
    const waitFrom = Date.now()
    queuedAt = null
    await lock.pollAcquire()
    process.send({ event: 'acquired', worker, at: Date.now(), waitFrom, queuedAt })
    try {
      // A second holder would find the marker already there.
      fs.writeFileSync(marker, worker, { flag: 'wx' })
    } catch (err) {
      if (err.code !== 'EEXIST') throw err
      process.send({ event: 'overlap', worker, at: Date.now() })
    }
    await sleep(100 + Math.floor(Math.random() * 50)) // the "critical section"
    fs.rmSync(marker, { force: true })
    process.send({ event: 'releasing', worker, at: Date.now() })
    await lock.release()
    // Straight back in line: behind everyone already waiting.
  }
  await mongoose.disconnect()
  await Lock.close()
}

main().catch((err) => { console.error(`worker ${worker}:`, err); process.exit(1) })
