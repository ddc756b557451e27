'use strict'
// npm run demo: four worker processes share one lock on one MongoDB.
// Each worker connects with mongoose (as an application would), then takes
// the lock with pollAcquire a few times, holds it briefly and releases it.
// The demo prints who held it when, and checks that no two held it at once.
const { fork } = require('child_process')
const fs = require('fs')
const os = require('os')
const path = require('path')
const { startFerretDB } = require('./ferretdb')

const WORKERS = Number(process.env.DEMO_WORKERS) || 4
const ROUNDS = Number(process.env.DEMO_ROUNDS) || 5

async function main () {
  let server = null
  let uri = process.env.MONGODB_URI
  if (uri) {
    console.log('server: MONGODB_URI')
  } else {
    server = await startFerretDB()
    uri = `${server.uri}demo`
    console.log(`server: embedded FerretDB v1.24.2 at ${server.uri}`)
  }
  const markerDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mdl-demo-'))
  const t0 = Date.now()
  const holds = []
  const open = new Map()
  let overlapsSeen = 0

  const runs = Array.from({ length: WORKERS }, (_, i) => new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, 'demo-worker.js'), [uri, String(i + 1), String(ROUNDS), markerDir])
    child.on('message', (m) => {
      const at = ((m.at - t0) / 1000).toFixed(3).padStart(7)
      if (m.event === 'acquired') {
        open.set(m.worker, m.at)
        console.log(`${at}s  worker ${m.worker} acquired the lock (waited ${m.waitedMs} ms)`)
      } else if (m.event === 'released') {
        holds.push({ worker: m.worker, from: open.get(m.worker), to: m.at })
        open.delete(m.worker)
        console.log(`${at}s  worker ${m.worker} released it`)
      } else if (m.event === 'overlap') {
        overlapsSeen++
        console.log(`${at}s  worker ${m.worker} found another holder's marker!`)
      }
    })
    child.on('exit', (code) => code === 0 ? resolve() : reject(new Error(`worker ${i + 1} exited with ${code}`)))
  }))

  try {
    await Promise.all(runs)
  } finally {
    if (server) await server.stop()
    fs.rmSync(markerDir, { recursive: true, force: true })
  }

  holds.sort((a, b) => a.from - b.from)
  const overlapping = holds.filter((h, i) => i > 0 && h.from < holds[i - 1].to).length
  const expected = WORKERS * ROUNDS
  console.log(`\n${holds.length} holds by ${WORKERS} workers in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
  if (holds.length === expected && overlapping === 0 && overlapsSeen === 0) {
    console.log('OK: no two workers held the lock at once')
  } else {
    console.log(`FAILED: ${overlapping} overlapping holds, ${overlapsSeen} marker collisions, ${holds.length}/${expected} holds`)
    process.exitCode = 1
  }
}

main().catch((err) => { console.error(err); process.exit(1) })
