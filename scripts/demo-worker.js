'use strict'
// One demo worker: argv <uri> <worker number> <rounds> <marker dir>
const fs = require('fs')
const path = require('path')
const mongoose = require('mongoose')
const Lock = require('..')

const [uri, worker, rounds, markerDir] = process.argv.slice(2)
const marker = path.join(markerDir, 'held')
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

async function main () {
  await mongoose.connect(uri)
  // The same code a 0.0.x user wrote: no connection option, mongoose is found.
  const lock = Lock('demo-job', { timeout: 10000, pollInterval: 50 })
  for (let round = 0; round < Number(rounds); round++) {
    const started = Date.now()
    await lock.pollAcquire()
    process.send({ event: 'acquired', worker, at: Date.now(), waitedMs: Date.now() - started })
    try {
      // A second holder would find the marker already there.
      fs.writeFileSync(marker, worker, { flag: 'wx' })
    } catch (err) {
      if (err.code !== 'EEXIST') throw err
      process.send({ event: 'overlap', worker, at: Date.now() })
    }
    await sleep(50 + Math.floor(Math.random() * 100)) // the "critical section"
    fs.rmSync(marker, { force: true })
    process.send({ event: 'released', worker, at: Date.now() })
    await lock.release()
    await sleep(Math.floor(Math.random() * 30))
  }
  await mongoose.disconnect()
  await Lock.close()
}

main().catch((err) => { console.error(`worker ${worker}:`, err); process.exit(1) })
