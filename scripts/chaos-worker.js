'use strict'
// One worker of the chaos run (scripts/chaos.js). argv: <json config>
//   { worker, uri, names, timeout, pollInterval, holdMinMs, holdMaxMs }
// Loops over the names, one after another (starting at its own offset, so
// that every name always has someone waiting for it): pollAcquire with
// `fencing: true` and `keepAlive: true`, then writes to the shared resource
// (the parent, over IPC) with its fencing token at the start and at the end
// of a short holding, then releases. Faults (the parent pauses this process,
// cuts its connections, kills the server) make calls fail: every error is
// reported ({ type: 'error', op, code }) and retried, never fatal. A release
// that keeps failing is given up once the lease has surely run out, and the
// name gets a fresh Lock.
//
// Messages to the parent, all stamped `at` on the monotonic clock shared by
// the processes of this machine (ms): ready, acquired, write, releasing,
// released, lost, error, done. On { cmd: 'stop' } it ends its round (a wait
// is aborted at once) and reports 'done'; when the parent goes away (the IPC
// channel closes) it exits at once.
const Lock = require('..')

const config = JSON.parse(process.argv[2])
const { worker, names, timeout, pollInterval } = config

const now = () => Number(process.hrtime.bigint()) / 1e6
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const send = (m) => { if (process.connected) process.send({ worker, at: now(), ...m }) }
const between = (min, max) => min + Math.random() * (max - min)

// The lifeline: no parent, no worker.
process.on('disconnect', () => process.exit(0))

const stopper = new AbortController()
process.on('message', (m) => { if (m && m.cmd === 'stop') stopper.abort(new Error('stopping')) })

const stats = { holdings: 0, errors: 0, lost: 0, timedOutReleases: 0, abandonedReleases: 0 }

/** A fresh Lock for `name`, reporting its losses and renewals. */
function newLock (name) {
  const lock = Lock(name, { uri: config.uri, timeout, pollInterval, keepAlive: true, fencing: true })
  lock.on('extended', (expire) => { lock.lastExpire = expire })
  lock.on('lost', (reason) => {
    stats.lost++
    // The token of the holding lost (a release clears lock.fencingToken first).
    send({ type: 'lost', name, token: lock.heldToken, holding: stats.holdings, reason })
  })
  return lock
}
const locks = new Map(names.map((name) => [name, newLock(name)]))

function reportError (op, name, err) {
  stats.errors++
  send({ type: 'error', op, name, code: err && err.code !== undefined ? String(err.code) : 'no code', message: String(err && err.message).slice(0, 300) })
}

/**
 * Releases `lock`, retrying through faults until it answers or the lease
 * has surely ended (the keep-alive stopped when the first release began).
 * Then the name gets a fresh Lock: the old one still thinks it holds.
 */
async function release (name, lock, token, holding) {
  const giveUpAt = now() + timeout + 1000
  for (let attempt = 1; ; attempt++) {
    try {
      const timedOut = await lock.release()
      if (timedOut) stats.timedOutReleases++
      send({ type: 'released', name, token, holding, timedOut, attempts: attempt })
      return
    } catch (err) {
      if (err.code === 'ERR_LOCK_NOT_ACQUIRED') {
        send({ type: 'released', name, token, holding, timedOut: true, attempts: attempt })
        return
      }
      reportError('release', name, err)
      if (now() > giveUpAt) {
        stats.abandonedReleases++
        locks.set(name, newLock(name))
        send({ type: 'released', name, token, holding, abandoned: true, attempts: attempt })
        return
      }
      await sleep(between(50, 150))
    }
  }
}

async function main () {
  send({ type: 'ready', pid: process.pid })
  for (let round = worker; !stopper.signal.aborted; round++) {
    const name = names[round % names.length]
    const lock = locks.get(name)
    try {
      await lock.pollAcquire({ maxAttempts: Infinity, signal: stopper.signal })
    } catch (err) {
      if (err.code === 'ABORT_ERR') break
      reportError('acquire', name, err)
      if (err.code === 'ERR_LOCK_ALREADY_ACQUIRED') locks.set(name, newLock(name))
      await sleep(between(50, 250))
      continue
    }
    const holding = ++stats.holdings
    const token = lock.fencingToken
    lock.heldToken = token
    const timeAcquired = lock.timeAquired
    send({ type: 'acquired', name, token, holding, lockId: lock.lockId, timeAcquired })
    // The holding: a write at its start, a short hold, a write at its end.
    // The end write goes out even if the lock was lost meanwhile (a holder
    // paused past its lease does not know yet): the resource must refuse it.
    send({ type: 'write', name, token, holding, phase: 'start' })
    await sleep(between(config.holdMinMs, config.holdMaxMs))
    send({ type: 'write', name, token, holding, phase: 'end' })
    send({
      type: 'releasing',
      name,
      token,
      holding,
      wall: Date.now(),
      // The end of the lease as this holder last knew it (server clock).
      leaseEnd: lock.lastExpire || timeAcquired + timeout
    })
    lock.lastExpire = null
    await release(name, lock, token, holding)
  }
  // The IPC channel keeps a forked process alive: say goodbye, then let go.
  await Lock.close().catch((err) => reportError('close', null, err))
  if (process.connected) process.send({ worker, at: now(), type: 'done', stats }, () => process.disconnect())
}

process.on('unhandledRejection', (err) => {
  send({ type: 'crash', message: String(err && err.stack) })
  console.error(`chaos worker ${worker}: unhandled rejection`, err)
  process.exit(1)
})

main().catch((err) => {
  send({ type: 'crash', message: String(err && err.stack) })
  console.error(`chaos worker ${worker}:`, err)
  process.exit(1)
})
