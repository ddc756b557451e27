'use strict'
// npm run demo: four worker processes share one lock on one MongoDB, waiting
// in line (`fair: true`) with a long pollInterval: each turn comes from a
// wake-up sent by the release before it, not from polling. Each worker
// connects with mongoose (as an application would) and takes the lock a few
// times. The demo prints who held it when and each handoff's time (release
// in one worker to acquire in the next), and checks that no two held it at
// once and that every worker's turn came in arrival order.
const { fork } = require('child_process')
const fs = require('fs')
const os = require('os')
const path = require('path')
const { startFerretDB } = require('./ferretdb')

const WORKERS = Number(process.env.DEMO_WORKERS) || 4
const ROUNDS = Number(process.env.DEMO_ROUNDS) || 3
const POLL_INTERVAL = 5000
// A name of its own per run: a run cut short on a shared server leaves
// nothing in the way of the next.
const NAME = `demo-job-${process.pid}`

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
  console.log(`${WORKERS} worker processes, one lock: Lock(name, { fair: true, pollInterval: ${POLL_INTERVAL} })`)
  console.log(`They wait in line; each release wakes the next worker at once (no ${POLL_INTERVAL / 1000} s poll).\n`)
  const markerDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mdl-demo-'))
  const holds = []
  let t0 = null
  let overlapsSeen = 0

  const children = []
  const runs = Array.from({ length: WORKERS }, (_, i) => new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, 'demo-worker.js'), [uri, String(i + 1), String(ROUNDS), markerDir, NAME, String(POLL_INTERVAL)])
    children.push(child)
    let ready = null
    child.ready = new Promise((resolve) => { ready = resolve })
    child.on('message', (m) => {
      if (m.event === 'ready') return ready()
      const at = ((m.at - t0) / 1000).toFixed(3).padStart(7)
      if (m.event === 'acquired') {
        const last = holds[holds.length - 1]
        const handoff = last && last.to !== null ? m.at - last.to : null
        holds.push({ worker: m.worker, from: m.at, to: null, waitFrom: m.waitFrom, queuedAt: m.queuedAt, handoff })
        console.log(`${at}s  worker ${m.worker} holds the lock${handoff === null ? '' : `  (${handoff} ms after worker ${last.worker} released it)`}`)
      } else if (m.event === 'releasing') {
        const hold = holds.findLast((h) => h.worker === m.worker)
        if (hold) hold.to = m.at
      } else if (m.event === 'overlap') {
        overlapsSeen++
        console.log(`${at}s  worker ${m.worker} found another holder's marker!`)
      }
    })
    child.on('exit', (code) => code === 0 ? resolve() : reject(new Error(`worker ${i + 1} exited with ${code}`)))
  }))

  try {
    // Every worker connected first, so that they start waiting together.
    await Promise.race([Promise.all(children.map((c) => c.ready)), Promise.all(runs)])
    t0 = Date.now()
    for (const c of children) c.send({ go: true })
    await Promise.all(runs)
  } finally {
    // One worker failed: the others stop too, before their server does.
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill()
    if (server) await server.stop()
    fs.rmSync(markerDir, { recursive: true, force: true })
  }

  holds.sort((a, b) => a.from - b.from)
  const overlapping = holds.filter((h, i) => i > 0 && (h.from < holds[i - 1].to || holds[i - 1].to === null)).length
  // Out of turn: a hold that went ahead of a worker already in line (its
  // registration acknowledged) before this hold's worker even began to wait.
  const outOfTurn = holds.filter((h, i) => holds.slice(i + 1).some((later) => later.worker !== h.worker && later.queuedAt !== null && later.queuedAt < h.waitFrom)).length
  const handoffs = holds.map((h) => h.handoff).filter((v) => v !== null).sort((a, b) => a - b)
  const expected = WORKERS * ROUNDS
  console.log(`\n${holds.length} holds by ${WORKERS} workers in ${((Date.now() - t0) / 1000).toFixed(1)} s; handoffs: median ${handoffs[Math.floor((handoffs.length - 1) / 2)]} ms, longest ${handoffs[handoffs.length - 1]} ms`)
  if (holds.length === expected && overlapping === 0 && overlapsSeen === 0 && outOfTurn === 0) {
    console.log('OK: no two workers held the lock at once, and every worker\'s turn came in arrival order')
  } else {
    console.log(`FAILED: ${overlapping} overlapping holds, ${overlapsSeen} marker collisions, ${outOfTurn} holds out of turn, ${holds.length}/${expected} holds`)
    process.exitCode = 1
  }
}

main().catch((err) => { console.error(err); process.exit(1) })
