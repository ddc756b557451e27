'use strict'
// Benchmark helper process. argv: <role> <system> <uri>
//   waiter:     a second process for the handoff and idle-waiter figures; on
//               { cmd: 'wait', name, pollInterval, lock } it pollAcquires (with
//               the Lock options `lock`, e.g. { wakeUps: false }), reports
//               { acquiredAt }, releases.
//   releaseCost: time and commands of a release with a waiter (in another
//               process) watching, and without.
//   roundtrips: counts commands per operation and prints them as JSON.
//   memory:     RSS of 10,000 idle Lock objects over a baseline, as JSON.
//   cpu:        this process's CPU time per uncontended cycle, less idling.
//   churn:      heap and RSS while 100,000 distinct names are acquired and released.
//   connections: this process's TCP connections to the server once a lock was used.
//   loop:       loops acquire/release on one name (pollAcquire) for a while:
//               holdings and the longest wait, for the fair-waiting figures.
//   keepalive:  CPU and renewals of locks held with keepAlive (native only).
const { open } = require('./systems')
const { cpuMs, tcpConnections, settledMemory } = require('./probes')
const { performance } = require('perf_hooks')

const [role, system, uri] = process.argv.slice(2)
const now = () => performance.timeOrigin + performance.now()

async function waiter () {
  const sys = await open(system, uri)
  process.on('message', async (m) => {
    if (m.cmd === 'exit') {
      await sys.close()
      process.disconnect()
      return
    }
    const lock = sys.make(m.name, { timeout: m.timeout || 60000, pollInterval: m.pollInterval, ...m.lock })
    process.send({ polling: true })
    try {
      await lock.pollAcquire()
    } catch (err) {
      process.send({ failed: err.message })
      return
    }
    const acquiredAt = now()
    await lock.release()
    process.send({ acquiredAt })
  })
  process.send({ ready: true })
}

async function roundtrips () {
  const sys = await open(system, uri, { monitor: true })
  const name = `rt-${process.pid}`
  const a = sys.make(name, { timeout: 60000 })
  const b = sys.make(name, { timeout: 60000 })
  await a.acquire(); await a.release() // warm up: indexes, clock, connections
  const measure = async (fn) => { sys.resetCounts(); await fn(); return sys.counts() }
  const out = {
    acquire: await measure(() => a.acquire()),
    failedAcquire: await measure(() => b.acquire()),
    release: await measure(() => a.release())
  }
  await sys.close()
  console.log(JSON.stringify(out))
}

async function memory () {
  const sys = await open(system, uri)
  const warm = sys.make(`mem-warm-${process.pid}`, { timeout: 60000 })
  await warm.acquire(); await warm.release()
  const settle = async () => { for (let i = 0; i < 4; i++) { global.gc(); await new Promise((resolve) => setImmediate(resolve)) } }
  // Grow the heap once with throwaway locks, so the baseline already has the
  // young generation at the size this workload makes it.
  let throwaway = []
  for (let i = 0; i < 10000; i++) throwaway.push(sys.raw(`mem-warm-${i}`, { timeout: 60000 }))
  throwaway = null
  await settle()
  const before = process.memoryUsage()
  const locks = []
  // The systems' own Lock objects, as an application keeps them.
  for (let i = 0; i < 10000; i++) locks.push(sys.raw(`mem-${i}`, { timeout: 60000 }))
  await settle()
  const after = process.memoryUsage()
  console.log(JSON.stringify({
    locks: locks.length,
    baselineMB: before.rss / 2 ** 20,
    deltaMB: (after.rss - before.rss) / 2 ** 20,
    heapMB: (after.heapUsed - before.heapUsed) / 2 ** 20
  }))
  await sys.close()
}

const options = process.argv[5] ? JSON.parse(process.argv[5]) : {}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

async function cpu () {
  const sys = await open(system, uri)
  const lock = sys.make(`cpu-${process.pid}`, { timeout: 60000, ...options.lock })
  for (let i = 0; i < 200; i++) { await lock.acquire(); await lock.release() }
  const n = options.cycles || 3000
  const t0 = now()
  const c0 = cpuMs()
  for (let i = 0; i < n; i++) { await lock.acquire(); await lock.release() }
  const busyCpu = cpuMs() - c0
  const wall = now() - t0
  // The same process idling for as long: what it costs to be alive (runtime
  // threads, monitors, timers), which is not the lock's work.
  const c1 = cpuMs()
  await sleep(wall)
  const idleCpu = cpuMs() - c1
  await sys.close()
  console.log(JSON.stringify({ cycles: n, wallMs: wall, busyCpuMs: busyCpu, idleCpuMs: idleCpu, perCycleMs: (busyCpu - idleCpu) / n }))
}

async function churn () {
  const sys = await open(system, uri)
  const total = options.names || 100000
  const cycle = async (i) => {
    const lock = sys.make(`churn-${process.pid}-${i}`, { timeout: 60000 })
    if (!await lock.acquire()) throw new Error('a fresh name was taken')
    await lock.release()
  }
  // Ten steps of 8 concurrent loops over fresh names; memory after each.
  const marks = []
  let next = 0
  for (let step = 1; step <= 10; step++) {
    const end = Math.round(total * step / 10)
    await Promise.all(Array.from({ length: 8 }, async () => { while (next < end) await cycle(next++) }))
    marks.push({ names: end, ...(await settledMemory()) })
  }
  await sys.close()
  console.log(JSON.stringify({ marks }))
}

async function connections () {
  const sys = await open(system, uri)
  const lock = sys.make(`conn-${process.pid}`, { timeout: 60000, ...options.lock })
  await lock.acquire(); await lock.release()
  await sleep(200)
  const port = Number(/:(\d+)(\/|$)/.exec(uri.replace(/^mongodb:\/\//, '').split('/')[0] + '/')[1])
  const count = tcpConnections(process.pid, port)
  await sys.close()
  console.log(JSON.stringify({ connections: count }))
}

async function loop () {
  const sys = await open(system, uri)
  const lock = sys.make(options.name, { timeout: 60000, pollInterval: options.pollInterval, fair: options.fair, wakeUps: options.wakeUps })
  process.send({ ready: true })
  await new Promise((resolve) => process.once('message', resolve))
  const deadline = Date.now() + options.ms
  let holdings = 0
  let longestWait = 0
  const spans = []
  while (Date.now() < deadline) {
    const t0 = now()
    await lock.pollAcquire()
    const acquiredAt = now()
    longestWait = Math.max(longestWait, acquiredAt - t0)
    holdings++
    const releasing = now()
    await lock.release()
    spans.push([acquiredAt, releasing])
  }
  await sys.close()
  process.send({ holdings, longestWait, spans })
  process.disconnect()
}

async function keepalive () {
  const native = require('../lib/native')
  const sys = await open(system, uri)
  const count = options.locks || 50
  const locks = Array.from({ length: count }, (_, i) => sys.make(`ka-${process.pid}-${i}`, { timeout: options.timeout, keepAlive: true }))
  for (const l of locks) await l.acquire()
  await sleep(500)
  sys.resetCounts()
  const c0 = cpuMs()
  await sleep(options.ms)
  const busy = cpuMs() - c0
  const renewals = native.commandCounts().update || 0
  for (const l of locks) await l.release()
  const c1 = cpuMs()
  await sleep(options.ms)
  const idle = cpuMs() - c1
  await sys.close()
  console.log(JSON.stringify({ locks: count, ms: options.ms, renewals, busyCpuMs: busy, idleCpuMs: idle }))
}

async function featureRoundtrips () {
  const Lock = require('..')
  const native = require('../lib/native')
  const sys = await open(system, uri) // for its connection string and close()
  const dbUri = require('./systems').withDb(uri, 'bench_native')
  const name = `frt-${process.pid}`
  const measure = async (fn) => {
    native.resetCommandCounts()
    await fn()
    const c = native.commandCounts()
    delete c.hello
    return c
  }
  const plain = Lock(name, { uri: dbUri, timeout: 60000 })
  const fenced = Lock(`${name}-f`, { uri: dbUri, timeout: 60000, fencing: true })
  for (const l of [plain, fenced]) { await l.acquire(); await l.release() } // indexes, clock, connections
  await plain.acquire()
  const out = {
    extend: await measure(() => plain.extend(60000)),
    fencedAcquire: await measure(() => fenced.acquire()),
    withLock: await measure(() => Lock.withLock(`${name}-w`, { uri: dbUri, timeout: 60000 }, async () => {}))
  }
  await plain.release()
  await fenced.release()
  await sys.close()
  console.log(JSON.stringify(out))
}

/**
 * A release with a waiter in another process watching the holding (it waits
 * with pollInterval 30,000: it never polls meanwhile), against a release
 * with nobody waiting: how long the release call takes, and the commands
 * this process sends from the release until the waiter holds the lock (or
 * for as long after an uncontended release).
 */
async function releaseCost () {
  const { fork } = require('child_process')
  const native = require('../lib/native')
  const sys = await open(system, uri)
  const w = fork(__filename, ['waiter', system, uri], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  let exited = null
  w.once('exit', (code) => { exited = new Error(`the waiter exited with ${code}`) })
  const next = (key) => new Promise((resolve, reject) => {
    const on = (m) => { if (key in m) { w.off('message', on); resolve(m) } }
    w.on('message', on)
    if (exited) reject(exited)
  })
  await next('ready')
  const out = { contended: { ms: [], commands: [] }, uncontended: { ms: [], commands: [] } }
  const total = (c) => Object.values(c).reduce((a, b) => a + b, 0)
  for (let i = 0; i < (options.samples || 20) * 2; i++) {
    const contended = i % 2 === 0
    const name = `rc-${process.pid}-${i}`
    const holder = sys.make(name, { timeout: 60000 })
    if (!await holder.acquire()) throw new Error(`${name} was not free`)
    let acquired = null
    if (contended) {
      const polling = next('polling')
      acquired = next('acquiredAt')
      w.send({ cmd: 'wait', name, pollInterval: 30000 })
      await polling
    }
    // The waiter's first try fails and its watch starts meanwhile; the same
    // idle pause without a waiter, so that both releases follow one.
    await sleep(200)
    sys.resetCounts()
    const t0 = now()
    await holder.release()
    const ms = now() - t0
    if (acquired) await acquired
    await sleep(50) // anything sent after the call returned
    const c = sys.counts()
    const side = contended ? out.contended : out.uncontended
    side.ms.push(ms)
    side.commands.push(c)
  }
  w.send({ cmd: 'exit' })
  await sys.close()
  native.resetCommandCounts()
  console.log(JSON.stringify({
    ...out,
    commandsPerRelease: {
      contended: out.contended.commands.map(total).reduce((a, b) => a + b, 0) / out.contended.commands.length,
      uncontended: out.uncontended.commands.map(total).reduce((a, b) => a + b, 0) / out.uncontended.commands.length
    }
  }))
}

const roles = { releaseCost, waiter, roundtrips, memory, cpu, churn, connections, loop, keepalive, featureRoundtrips }
roles[role]().catch((err) => { console.error(`${role}/${system}:`, err); process.exit(1) })
