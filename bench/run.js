'use strict'
// npm run bench [-- --quick] [--no-rust]: this package against mongoose-distributed-lock
// 0.0.1 and mongodb-lock 1.0.1 on one server (the embedded FerretDB unless
// MONGODB_URI is set), systems alternating block by block so that drift in
// machine speed hits all of them alike. Prints a markdown table and writes
// docs/bench/{results.md,results.json,latency.svg} and the table of
// docs/performance.md (between its bench markers).
const { fork, execFileSync } = require('child_process')
const fs = require('fs')
const os = require('os')
const path = require('path')
const { performance } = require('perf_hooks')
const { SYSTEMS, LABELS, open, withDb, sleep } = require('./systems')
const { renderSvg } = require('./chart')
const features = require('./features')
const { processCpuMs } = require('./probes')

const QUICK = process.argv.includes('--quick')
const OUT_DIR = path.join(__dirname, '..', 'docs', 'bench')
const now = () => performance.timeOrigin + performance.now()
// Lock names of this run, so that a run cut short leaves nothing in the way of the next.
const RUN = `${process.pid}-${Date.now().toString(36)}`
const log = (...a) => console.error(...a)

// Sizes: enough for stable medians and p99s, small enough for a few minutes.
const SIZES = QUICK
  ? { blocks: 2, perBlock: 10, handoff: { 500: 2, 5000: 1 }, releaseCost: 3, idleWaiters: { processes: 4, ms: 1500 }, inProcess: 3, concurrentBlocks: 1, concurrentMs: 300, noop: 2000, rustCycles: 50, cpuCycles: 100, keepAliveMs: 1500, loopMs: 800, coldStarts: 1, churnNames: 2000 }
  : { blocks: 10, perBlock: 60, handoff: { 500: 40, 5000: 16 }, releaseCost: 40, idleWaiters: { processes: 40, ms: 10000 }, inProcess: 30, concurrentBlocks: 3, concurrentMs: 2000, noop: 20000, rustCycles: 600, cpuCycles: 3000, keepAliveMs: 6000, loopMs: 4000, coldStarts: 8, churnNames: 100000 }

function stats (values) {
  const s = [...values].sort((a, b) => a - b)
  const at = (q) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]
  const mean = s.reduce((a, b) => a + b, 0) / s.length
  return { n: s.length, median: at(0.5), p99: at(0.99), mean, min: s[0], max: s[s.length - 1] }
}

/** Systems in a different order each block. */
const rotated = (list, block) => list.map((_, i) => list[(i + block) % list.length])

async function cycles (systems) {
  const samples = Object.fromEntries(Object.keys(systems).map((s) => [s, []]))
  const locks = Object.fromEntries(Object.entries(systems).map(([s, sys]) => [s, sys.make(`bench-cycle-${RUN}`, { timeout: 60000 })]))
  for (const lock of Object.values(locks)) for (let i = 0; i < 20; i++) { await lock.acquire(); await lock.release() }
  for (let b = 0; b < SIZES.blocks; b++) {
    for (const s of rotated(Object.keys(systems), b)) {
      for (let i = 0; i < SIZES.perBlock; i++) {
        const t0 = now()
        if (!await locks[s].acquire()) throw new Error(`${s}: the cycle lock was not free`)
        await locks[s].release()
        samples[s].push(now() - t0)
      }
    }
  }
  return samples
}

async function heldAcquires (systems) {
  const samples = Object.fromEntries(Object.keys(systems).map((s) => [s, []]))
  const holders = {}
  const contenders = {}
  for (const [s, sys] of Object.entries(systems)) {
    holders[s] = sys.make(`bench-held-${RUN}`, { timeout: 600000 })
    if (!await holders[s].acquire()) throw new Error(`${s}: the held lock was not free`)
    contenders[s] = sys.make(`bench-held-${RUN}`, { timeout: 600000 })
    for (let i = 0; i < 10; i++) await contenders[s].acquire()
  }
  for (let b = 0; b < SIZES.blocks; b++) {
    for (const s of rotated(Object.keys(systems), b)) {
      for (let i = 0; i < SIZES.perBlock; i++) {
        const t0 = now()
        if (await contenders[s].acquire()) throw new Error(`${s}: took a held lock`)
        samples[s].push(now() - t0)
      }
    }
  }
  for (const h of Object.values(holders)) await h.release()
  return samples
}

// The handoff across processes compares wake-ups with polling: this package
// (wake-ups), this package with `wakeUps: false` (polling, as 1.1 did) and
// 0.0.1 (polling). Each runs its waiter in a process of its own.
const HANDOFF = {
  native: { child: 'native', lock: {} },
  'native-polling': { child: 'native', lock: { wakeUps: false } },
  legacy: { child: 'legacy', lock: {} }
}
const POLLING_LABEL = 'this package, wakeUps: false'

function startWaiter (system, uri) {
  const child = fork(path.join(__dirname, 'child.js'), ['waiter', system, uri], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const pending = new Set()
  child.on('exit', (code) => {
    for (const p of pending) p.reject(new Error(`${system} waiter exited with ${code}`))
  })
  const next = (key) => new Promise((resolve, reject) => {
    const entry = { reject }
    const on = (m) => {
      if (!(key in m)) return
      child.off('message', on)
      pending.delete(entry)
      resolve(m)
    }
    pending.add(entry)
    child.on('message', on)
  })
  return { child, next, ready: next('ready') }
}

/**
 * Release in this process, acquisition by a waiter in pollAcquire in another
 * (the variants of HANDOFF whose system could run).
 */
async function crossProcessHandoff (systems, uri) {
  const variants = Object.keys(HANDOFF).filter((v) => systems[HANDOFF[v].child])
  const waiters = {}
  for (const v of variants) { waiters[v] = startWaiter(HANDOFF[v].child, uri); await waiters[v].ready }
  const result = {}
  for (const pollInterval of [500, 5000]) {
    const samples = Object.fromEntries(variants.map((v) => [v, []]))
    for (let k = 0; k < SIZES.handoff[pollInterval]; k++) {
      for (const s of rotated(variants, k)) {
        const name = `bench-handoff-${RUN}-${pollInterval}-${k}`
        const holder = systems[HANDOFF[s].child].make(name, { timeout: 60000, ...HANDOFF[s].lock })
        if (!await holder.acquire()) throw new Error(`${s}: ${name} was not free`)
        const polling = waiters[s].next('polling')
        const acquired = waiters[s].next('acquiredAt')
        waiters[s].child.send({ cmd: 'wait', name, pollInterval, lock: HANDOFF[s].lock })
        await polling
        // Release at a random phase of the waiter's polling.
        await sleep(20 + Math.random() * pollInterval)
        const releasedAt = now()
        await holder.release()
        samples[s].push((await acquired).acquiredAt - releasedAt)
      }
    }
    result[pollInterval] = samples
  }
  for (const w of Object.values(waiters)) w.child.send({ cmd: 'exit' })
  return result
}

/** The same between two waiters in one process (pollInterval 500, the default). */
async function inProcessHandoff (systems) {
  const samples = Object.fromEntries(Object.keys(systems).map((s) => [s, []]))
  const afterRelease = Object.fromEntries(Object.keys(systems).map((s) => [s, []]))
  const releases = Object.fromEntries(Object.keys(systems).map((s) => [s, []]))
  for (let k = 0; k < SIZES.inProcess; k++) {
    for (const s of rotated(Object.keys(systems), k)) {
      const name = `bench-local-${RUN}-${k}`
      const holder = systems[s].make(name, { timeout: 60000, pollInterval: 500 })
      const waiter = systems[s].make(name, { timeout: 60000, pollInterval: 500 })
      if (!await holder.acquire()) throw new Error(`${s}: ${name} was not free`)
      let acquiredAt = 0
      const polling = waiter.pollAcquire().then(() => { acquiredAt = now() })
      await sleep(20 + Math.random() * 500)
      const releasedAt = now()
      await holder.release()
      const releaseReturnedAt = now()
      await polling
      samples[s].push(acquiredAt - releasedAt)
      releases[s].push(releaseReturnedAt - releasedAt)
      afterRelease[s].push(acquiredAt - releaseReturnedAt)
      await waiter.release()
    }
  }
  return { samples, afterRelease, releases }
}

/**
 * 8 concurrent workers over 100 names, one try each time: cycles per second,
 * and the server's CPU time per cycle (when its process is known).
 */
async function concurrentWorkers (systems, serverPid) {
  const samples = Object.fromEntries(Object.keys(systems).map((s) => [s, []]))
  const serverCpu = Object.fromEntries(Object.keys(systems).map((s) => [s, []]))
  for (let b = 0; b < SIZES.concurrentBlocks; b++) {
    for (const s of rotated(Object.keys(systems), b)) {
      const deadline = Date.now() + SIZES.concurrentMs
      let done = 0
      const started = now()
      const cpu0 = serverPid ? processCpuMs(serverPid) : null
      await Promise.all(Array.from({ length: 8 }, async (_, w) => {
        const locks = new Map()
        while (Date.now() < deadline) {
          const name = `bench-many-${RUN}-${Math.floor(Math.random() * 100)}`
          if (!locks.has(name)) locks.set(name, systems[s].make(name, { timeout: 60000 }))
          const lock = locks.get(name)
          if (await lock.acquire()) { await lock.release(); done++ }
        }
      }))
      samples[s].push(done / ((now() - started) / 1000))
      if (cpu0 !== null) serverCpu[s].push((processCpuMs(serverPid) - cpu0) / done)
    }
  }
  return { samples, serverCpu }
}

function childJson (role, system, uri, nodeArgs = [], env = {}) {
  const out = execFileSync(process.execPath, [...nodeArgs, path.join(__dirname, 'child.js'), role, system, uri], {
    encoding: 'utf8', env: { ...process.env, ...env }
  })
  return JSON.parse(out.trim().split('\n').pop())
}

async function noopOverhead () {
  const native = require('../lib/native')
  const samples = []
  for (let i = 0; i < 1000; i++) await native.noop()
  for (let i = 0; i < SIZES.noop; i++) {
    const t0 = now()
    await native.noop()
    samples.push((now() - t0) * 1000)
  }
  return stats(samples)
}

function rustCycle (uri) {
  if (process.argv.includes('--no-rust')) return { error: 'skipped (--no-rust)' }
  try {
    const out = execFileSync('cargo', ['run', '--quiet', '--release', '--no-default-features', '--features', 'bench', '--example', 'cycle', '--', withDb(uri, 'bench_rust'), String(SIZES.rustCycles)], {
      cwd: path.join(__dirname, '..'), encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit']
    })
    return JSON.parse(out.trim().split('\n').pop())
  } catch (err) {
    return { error: err.message.split('\n')[0] }
  }
}

async function serverVersion (uri) {
  const { MongoClient } = require('mongoose8').mongo
  const client = new MongoClient(uri)
  try {
    await client.connect()
    const info = await client.db('admin').command({ buildInfo: 1 })
    if (!info.ferretdbVersion) return `MongoDB ${info.version}`
    // The embedded launcher's build carries no version stamp; its go.mod pins it.
    const version = info.ferretdbVersion === 'unknown' ? 'v1.24.2' : info.ferretdbVersion
    return `FerretDB ${version}, SQLite backend (MongoDB ${info.version} compatible)`
  } finally {
    await client.close()
  }
}

const SIZES_LABEL = (r) => r.churn.native.marks[r.churn.native.marks.length - 1].names.toLocaleString('en-US')
const ms = (v) => v >= 100 ? `${v.toFixed(0)} ms` : v >= 10 ? `${v.toFixed(1)} ms` : `${v.toFixed(2)} ms`
const ratio = (a, b) => `${(a / b).toFixed(2)}×`

async function main () {
  let server = null
  let uri = process.env.MONGODB_URI
  if (!uri) {
    const { startFerretDB } = require('../scripts/ferretdb')
    server = await startFerretDB()
    uri = server.uri
  }
  const started = Date.now()
  const machine = {
    cpu: os.cpus()[0].model.trim(),
    cores: os.cpus().length,
    memoryGB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    server: await serverVersion(uri),
    date: new Date().toISOString().slice(0, 10),
    quick: QUICK
  }
  log(`bench on ${machine.server}; ${machine.cpu}, ${machine.cores} cores${QUICK ? ' (quick run)' : ''}`)

  const systems = {}
  const unavailable = {}
  for (const s of SYSTEMS) {
    try { systems[s] = await open(s, uri) } catch (err) { unavailable[s] = err.message; log(`${s} cannot run: ${err.message}`) }
  }
  const r = { machine, unavailable, labels: LABELS }
  try {
    log('uncontended cycles…'); r.cycle = await cycles(systems)
    log('failed acquires on a held lock…'); r.held = await heldAcquires(systems)
    log('handoff across processes (pollInterval 500 and 5000)…'); r.handoff = await crossProcessHandoff(systems, uri)
    log('handoff within one process…')
    const local = await inProcessHandoff(systems)
    r.localHandoff = local.samples
    r.localAfterRelease = local.afterRelease
    r.localReleases = local.releases
    log('8 concurrent workers over 100 names…')
    const concurrent = await concurrentWorkers(systems, server && server.pid)
    r.concurrent = concurrent.samples
    r.serverCpu = concurrent.serverCpu
    log('memory of 10,000 idle locks…')
    r.memory = {}
    // Five fresh processes per system, alternating; the median of each figure
    // (one process's heap after GC varies by a few hundred KB run to run).
    const runs = Object.fromEntries(Object.keys(systems).map((s) => [s, []]))
    for (let k = 0; k < (QUICK ? 1 : 5); k++) for (const s of rotated(Object.keys(systems), k)) runs[s].push(childJson('memory', s, uri, ['--expose-gc']))
    for (const [s, list] of Object.entries(runs)) {
      r.memory[s] = { runs: list.length, deltaMB: stats(list.map((m) => m.deltaMB)).median, heapMB: stats(list.map((m) => m.heapMB)).median }
    }
    log('round trips per operation (command monitoring)…')
    r.roundTrips = {}
    for (const s of Object.keys(systems)) {
      // The native core counts commands only when monitoring is on at client creation.
      r.roundTrips[s] = childJson('roundtrips', s, uri, [], { MONGOOSE_DISTRIBUTED_LOCK_MONITOR: '1' })
    }
    const present = Object.keys(systems)
    const pair = present.filter((s) => s !== 'mongodb-lock')
    log('client CPU per cycle…'); r.cpu = features.clientCpu(present, uri, SIZES)
    log('extend, fencing, withLock…'); r.paths = await features.paths(uri, SIZES); r.pathRoundTrips = features.pathRoundTrips(uri)
    log('keep-alive…'); r.keepAlive = features.keepAliveCost(uri, SIZES)
    log('fair and unfair waiting, 4 processes on one name…')
    r.fair = {
      fair: await features.loopers(uri, { fair: true, processes: 4, ms: SIZES.loopMs }),
      fairPolling: await features.loopers(uri, { fair: true, processes: 4, ms: SIZES.loopMs, wakeUps: false }),
      fair5000: await features.loopers(uri, { fair: true, processes: 4, ms: SIZES.loopMs, pollInterval: 5000 }),
      unfair: await features.loopers(uri, { fair: false, processes: 4, ms: SIZES.loopMs })
    }
    log(`server CPU with ${SIZES.idleWaiters.processes} idle waiting processes…`)
    r.idleWaiters = await features.idleWaiters(systems.native, uri, server && server.pid, SIZES.idleWaiters)
    log('cost of a contended release…'); r.releaseCost = features.releaseCost(uri, SIZES)
    log('cold starts…'); r.coldStart = features.coldStarts(pair, uri, SIZES)
    log('connections…')
    r.connections = Object.fromEntries(pair.map((s) => [s, features.childJson('connections', s, uri)]))
    log(`memory while ${SIZES.churnNames} names are acquired and released…`)
    r.churn = Object.fromEntries(pair.map((s) => [s, features.childJson('churn', s, uri, { names: SIZES.churnNames }, { nodeArgs: ['--expose-gc'] })]))
    log('N-API boundary…')
    r.noop = await noopOverhead()
    r.rust = rustCycle(uri)
  } finally {
    for (const sys of Object.values(systems)) await sys.close()
    if (server) await server.stop()
  }
  r.seconds = (Date.now() - started) / 1000
  report(r)
}

function report (r) {
  const present = SYSTEMS.filter((s) => r.cycle[s])
  const st = (samples) => Object.fromEntries(Object.entries(samples).map(([s, v]) => [s, stats(v)]))
  const cycle = st(r.cycle)
  const held = st(r.held)
  const h500 = st(r.handoff[500])
  const h5000 = st(r.handoff[5000])
  const local = st(r.localHandoff)
  const afterRelease = st(r.localAfterRelease)
  const releaseRt = st(r.localReleases)
  const conc = st(r.concurrent)
  const total = (counts) => Object.values(counts).reduce((a, b) => a + b, 0)
  const rtText = (c) => `${total(c)} (${Object.entries(c).map(([k, v]) => `${k}${v > 1 ? ` ×${v}` : ''}`).join(', ')})`

  const rows = []
  const row = (figure, cell, headline) => rows.push(`| ${figure} | ${present.map((s) => cell(s)).join(' | ')} | ${headline} |`)
  const faster = (f) => r.cycle.legacy ? `**${ratio(f.legacy, f.native)} faster**` : 'n/a'
  row('uncontended acquire + release, median', (s) => ms(cycle[s].median), faster(Object.fromEntries(present.map((s) => [s, cycle[s].median]))))
  row('uncontended acquire + release, p99', (s) => ms(cycle[s].p99), faster(Object.fromEntries(present.map((s) => [s, cycle[s].p99]))))
  row('uncontended cycles per second (1 / mean)', (s) => (1000 / cycle[s].mean).toFixed(0), `${ratio(cycle.legacy.mean, cycle.native.mean)}`)
  row('failed acquire on a held lock, median', (s) => ms(held[s].median), faster(Object.fromEntries(present.map((s) => [s, held[s].median]))))
  row('failed acquire on a held lock, p99', (s) => ms(held[s].p99), faster(Object.fromEntries(present.map((s) => [s, held[s].p99]))))
  const only = (s, text) => s === 'native' ? text : '–'
  const mp = (x) => `${ms(x.median)} (${ms(x.p99)})`
  for (const [interval, h] of [[500, h500], [5000, h5000]]) {
    row(`handoff to another process, pollInterval ${interval.toLocaleString('en-US')}, median (p99)`, (s) => h[s] ? `${mp(h[s])}${s === 'native' ? ' (wake-ups)' : ''}` : '–', `**${ratio(h.legacy.median, h.native.median)} faster**`)
    row(`handoff to another process, pollInterval ${interval.toLocaleString('en-US')}, wake-ups off (\`wakeUps: false\`: polling, as 1.1), median (p99)`, (s) => only(s, mp(h['native-polling'])), `wake-ups ${ratio(h['native-polling'].median, h.native.median)} faster than polling`)
  }
  row('handoff within one process, pollInterval 500, median (p99)', (s) => `${ms(local[s].median)} (${ms(local[s].p99)})`, `**${ratio(local.legacy.median, local.native.median)} faster**`)
  row('8 workers × 100 names, cycles per second (median of blocks)', (s) => conc[s].median.toFixed(0), `**${ratio(conc.native.median, conc.legacy.median)} the throughput**`)
  row(`10,000 idle Lock objects: RSS above baseline (JS heap), median of ${r.memory.native.runs} processes`, (s) => `${r.memory[s].deltaMB.toFixed(1)} MB (${r.memory[s].heapMB.toFixed(1)} MB)`, `${ratio(r.memory.native.heapMB, r.memory.legacy.heapMB)} the heap`)
  row('round trips per free acquire', (s) => rtText(r.roundTrips[s].acquire), `${total(r.roundTrips.native.acquire)} vs ${total(r.roundTrips.legacy.acquire)}`)
  row('round trips per failed acquire', (s) => rtText(r.roundTrips[s].failedAcquire), `${total(r.roundTrips.native.failedAcquire)} vs ${total(r.roundTrips.legacy.failedAcquire)}`)
  row('round trips per release', (s) => rtText(r.roundTrips[s].release), `${total(r.roundTrips.native.release)} vs ${total(r.roundTrips.legacy.release)}`)
  const median = (v) => stats(v).median
  const paths = st(r.paths)
  const ptotal = (k) => total(r.pathRoundTrips[k])
  row('client CPU per uncontended cycle (process CPU less idling)', (s) => ms(r.cpu[s].perCycleMs), `**${ratio(r.cpu.native.perCycleMs, r.cpu.legacy.perCycleMs)} of 0.0.1's**`)
  const serverCpu = st(Object.fromEntries(Object.entries(r.serverCpu).filter(([, v]) => v.length)))
  if (serverCpu.native && serverCpu.legacy) row('server CPU per cycle, 8 workers × 100 names', (s) => ms(serverCpu[s].median), `${ratio(serverCpu.native.median, serverCpu.legacy.median)} of 0.0.1's`)
  row('extend of a held lock, median', (s) => only(s, `${ms(paths.extend.median)}, ${rtText(r.pathRoundTrips.extend)}`), 'n/a: 0.0.1 has no extend')
  row('fencing: acquire + release, median (round trips of the acquire)', (s) => only(s, `${ms(paths.fencing.median)} (${ptotal('fencedAcquire')}: ${rtText(r.pathRoundTrips.fencedAcquire)}), +${ms(paths.fencing.median - paths.bare.median)} over plain`), 'n/a: 0.0.1 has no fencing')
  row('Lock.withLock with an empty fn, median', (s) => only(s, `${ms(paths.withLock.median)} (${rtText(r.pathRoundTrips.withLock)}), +${ms(paths.withLock.median - paths.bare.median)} over acquire + release`), 'n/a: 0.0.1 has no withLock')
  const ka = r.keepAlive
  const perRenewal = (ka.busyCpuMs - ka.idleCpuMs) / Math.max(1, ka.renewals)
  row('keep-alive, per held lock per minute (default timeout 60 s: a renewal every 20 s)', (s) => only(s, `3 round trips (update), ${(3 * perRenewal).toFixed(2)} ms client CPU (${ka.renewals} renewals of ${ka.locks} locks measured: ${perRenewal.toFixed(3)} ms each)`), 'n/a: 0.0.1 has no keep-alive')
  const fair = r.fair
  const loops = (f) => `${f.perSecond.toFixed(0)}/s, ${ms(median(f.gaps))}, ${ms(f.longestWait)}`
  row('4 processes looping on one name, fair: holdings per second, median handoff, longest wait', (s) => only(s, `wake-ups, pollInterval 50: ${loops(fair.fair)}; pollInterval 5,000: ${loops(fair.fair5000)}; \`wakeUps: false\`, pollInterval 50: ${loops(fair.fairPolling)}`), 'n/a: 0.0.1 has no fair waiting')
  row('4 processes looping on one name, unfair (the default), pollInterval 50: the same', (s) => only(s, loops(fair.unfair)), 'n/a')
  const idle = r.idleWaiters
  const pct = (v) => `${v.toFixed(2)}%`
  row(`server CPU while ${idle.processes} processes wait on one held lock, pollInterval ${idle.pollInterval}, % of one core over ${idle.ms / 1000} s (the waiters' own CPU, summed)`, (s) => only(s, idle.wakeUps === null
    ? 'not measured: the server\'s process is not known (MONGODB_URI)'
    : `wake-ups: ${pct(idle.wakeUps)} (${pct(idle.wakeUpsClientCpu)}); \`wakeUps: false\`: ${pct(idle.polling)} (${pct(idle.pollingClientCpu)}); nobody waiting: ${pct(idle.idleServer)}`),
  idle.wakeUps === null ? 'n/a' : `wake-ups ${ratio(idle.wakeUps, idle.polling)} of polling's`)
  const rc = r.releaseCost
  const rcTime = { contended: stats(rc.contended.ms), uncontended: stats(rc.uncontended.ms) }
  const meanCounts = (list) => {
    const sum = {}
    for (const c of list) for (const [k, v] of Object.entries(c)) sum[k] = (sum[k] || 0) + v
    return `${total(sum) / list.length} (${Object.entries(sum).map(([k, v]) => `${k}${v / list.length !== 1 ? ` ×${+(v / list.length).toFixed(2)}` : ''}`).join(', ')})`
  }
  const extraCommands = rc.commandsPerRelease.contended - rc.commandsPerRelease.uncontended
  row('release with a waiter in another process watching, against nobody waiting: median call (p99); commands this process sends until the waiter holds the lock', (s) => only(s,
    `${mp(rcTime.contended)} against ${mp(rcTime.uncontended)}; ${meanCounts(rc.contended.commands)} against ${meanCounts(rc.uncontended.commands)}`),
  extraCommands === 0 ? 'no extra server command' : `${+extraCommands.toFixed(2)} extra commands`)
  const cold = (s, k) => median(r.coldStart[s].map((c) => c[k]))
  row('cold start: connect mongoose, acquire, release, disconnect, exit; median process time (first acquire)', (s) => r.coldStart[s] ? `${ms(cold(s, 'processMs'))} (${ms(cold(s, 'firstAcquireMs'))})` : '–', `${ratio(cold('native', 'processMs'), cold('legacy', 'processMs'))} of 0.0.1's time (first acquire ${ratio(cold('native', 'firstAcquireMs'), cold('legacy', 'firstAcquireMs'))})`)
  row('TCP connections the lock adds per process: standalone server (replica set: one monitor per member + the pooled ones)', (s) => r.connections[s] ? (s === 'native' ? `${r.connections[s].connections} (a monitor and a pooled one)` : `0 (mongoose's ${r.connections[s].connections})`) : '–', 'measured on a standalone server only')
  const growth = (s) => {
    const m = r.churn[s].marks
    const first = m[0]
    const last = m[m.length - 1]
    return { heap: last.heapMB - first.heapMB, rss: last.rss, from: first.names, to: last.names, last }
  }
  row(`${SIZES_LABEL(r)} distinct names acquired and released: heap growth from the first tenth to the end; RSS at the end (V8's reserved heap)`,
    (s) => r.churn[s] ? `${growth(s).heap.toFixed(2)} MB; ${growth(s).last.rssMB.toFixed(1)} MB (${growth(s).last.heapTotalMB.toFixed(1)} MB)` : '–',
    `RSS ${ratio(growth('native').last.rssMB, growth('legacy').last.rssMB)} of 0.0.1's`)
  const targets = [
    ['uncontended median ≥ 1.5× faster than 0.0.1', cycle.legacy.median / cycle.native.median >= 1.5, `${ratio(cycle.legacy.median, cycle.native.median)}`],
    ['uncontended p99 ≥ 1.5× faster than 0.0.1', cycle.legacy.p99 / cycle.native.p99 >= 1.5, `${ratio(cycle.legacy.p99, cycle.native.p99)}`],
    ['in-process handoff within one round trip of the release', afterRelease.native.median <= releaseRt.native.median,
      `the waiter holds the lock ${ms(afterRelease.native.median)} after the release returns (median), against ${ms(releaseRt.native.median)} for the release itself, one round trip after the same idle pause`],
    ...[[500, h500], [5000, h5000]].map(([interval, h]) => [
      `cross-process handoff median ≤ 25 ms at pollInterval ${interval.toLocaleString('en-US')}`, h.native.median <= 25,
      `${ms(h.native.median)} (p99 ${ms(h.native.p99)}) with wake-ups, against ${ms(h['native-polling'].median)} polling (\`wakeUps: false\`) and ${ms(h.legacy.median)} for 0.0.1`
    ]),
    ...[['pollInterval 50', fair.fair], ['pollInterval 5,000', fair.fair5000]].map(([what, f]) => [
      `fair handoff median ≤ 25 ms (4 processes, ${what})`, median(f.gaps) <= 25,
      `${ms(median(f.gaps))}, against ${ms(median(fair.fairPolling.gaps))} polling (\`wakeUps: false\`, pollInterval 50)`
    ]),
    ...(idle.wakeUps === null
      ? [[`${idle.processes} idle waiters: server CPU ≤ 0.75% of a core`, false, 'not measured (the server\'s process is not known)']]
      : [[`${idle.processes} idle waiters at pollInterval ${idle.pollInterval}: server CPU ≤ 0.75% of a core and ≤ a tenth of polling's`, idle.wakeUps <= 0.75 && idle.wakeUps <= idle.polling / 10,
          `${pct(idle.wakeUps)} with wake-ups, against ${pct(idle.polling)} with \`wakeUps: false\` (${ratio(idle.wakeUps, idle.polling)}); ${pct(idle.idleServer)} with nobody waiting`]]),
    ['contended release: at most one extra server command, no extra round trip for the caller', extraCommands <= 1 && rcTime.contended.median <= rcTime.uncontended.median + cycle.native.median / 2,
      `${+extraCommands.toFixed(2)} extra commands; the call takes ${ms(rcTime.contended.median)} against ${ms(rcTime.uncontended.median)} (median of ${rcTime.contended.n} each; half an uncontended cycle, ${ms(cycle.native.median / 2)}, would be one round trip)`],
    ['10,000 idle locks: heap ≤ 0.0.1\'s', r.memory.native.heapMB <= r.memory.legacy.heapMB, `${r.memory.native.heapMB.toFixed(2)} MB against ${r.memory.legacy.heapMB.toFixed(2)} MB`],
    ['10,000 idle locks: RSS above baseline < 2 MB', r.memory.native.deltaMB < 2, `${r.memory.native.deltaMB.toFixed(2)} MB`],
    ['client CPU per uncontended cycle ≤ 0.3 ms and ≤ ¼ of 0.0.1\'s', r.cpu.native.perCycleMs <= 0.3 && r.cpu.native.perCycleMs <= r.cpu.legacy.perCycleMs / 4,
      `${ms(r.cpu.native.perCycleMs)} against ${ms(r.cpu.legacy.perCycleMs)} (${ratio(r.cpu.native.perCycleMs, r.cpu.legacy.perCycleMs)})`],
    ['8 workers × 100 names ≥ 1.5× the throughput of 0.0.1', conc.native.median / conc.legacy.median >= 1.5, `${ratio(conc.native.median, conc.legacy.median)}`],
    ['extend in 1 round trip', ptotal('extend') === 1, rtText(r.pathRoundTrips.extend)],
    ['cold start no slower than 0.0.1', cold('native', 'processMs') <= cold('legacy', 'processMs'), `${ms(cold('native', 'processMs'))} against ${ms(cold('legacy', 'processMs'))}`],
    [`${SIZES_LABEL(r)} names: heap flat (< 1 MB growth) and RSS no higher than 0.0.1's`, growth('native').heap < 1 && growth('native').last.rssMB <= growth('legacy').last.rssMB,
      `${growth('native').heap.toFixed(2)} MB heap from ${growth('native').from} to ${growth('native').to} names; RSS ${growth('native').last.rssMB.toFixed(1)} MB against ${growth('legacy').last.rssMB.toFixed(1)} MB (RSS grows only in steps with V8's young generation, its reserved heap, not with the names)`]
  ]
  const noopUs = r.noop.median
  const boundary = r.rust.medianUs
    ? `one acquire + release through the addon: ${ms(cycle.native.median)} median; the same protocol code in pure Rust (examples/cycle.rs): ${ms(r.rust.medianUs / 1000)} median (p99 ${ms(r.rust.p99Us / 1000)}); difference ${ms(cycle.native.median - r.rust.medianUs / 1000)} per cycle (2 calls)`
    : `pure-Rust cycle not measured: ${r.rust.error}`

  const md = [
    `Measured ${r.machine.date} on ${r.machine.server}, ${r.machine.cpu} (${r.machine.cores} cores, ${r.machine.memoryGB} GB), ${r.machine.os}, Node ${r.machine.node}${r.machine.quick ? ' — QUICK RUN, small samples' : ''}. Systems alternate block by block; latencies are per call, in this process unless said.`,
    '',
    `| figure | ${present.map((s) => r.labels[s]).join(' | ')} | this vs 0.0.1 |`,
    `|---|${present.map(() => '---').join('|')}|---|`,
    ...rows,
    '',
    `Samples: ${cycle.native.n} cycles and ${held.native.n} failed acquires per system; ${h500.native.n} / ${h5000.native.n} cross-process handoffs per variant at pollInterval 500 / 5,000 (released at a random point of the waiter's poll interval); ${local.native.n} in-process handoffs; ${conc.native.n} blocks of ${SIZES.concurrentMs} ms of concurrent workers. mongodb-lock has no pollAcquire: the in-process handoff row runs 0.0.1's polling loop around its acquire; the handoffs across processes compare this package's wake-ups with polling (its own, \`wakeUps: false\`, and 0.0.1's), mongodb-lock's would be 0.0.1's loop again.`,
    '',
    `N-API boundary: an empty async call through the addon (a Promise settled from the Tokio runtime) takes ${noopUs.toFixed(1)} µs median (p99 ${r.noop.p99.toFixed(1)} µs); ${boundary}.`,
    '',
    'Targets:',
    '',
    ...targets.map(([what, ok, fig]) => `- ${ok ? 'met' : '**missed**'}: ${what}: ${fig}`),
    ...Object.entries(r.unavailable).map(([s, why]) => `- ${s} could not run: ${why}`),
    ''
  ].join('\n')

  const svg = renderSvg([
    { title: 'uncontended acquire + release', bySystem: r.cycle },
    { title: 'failed acquire on a held lock', bySystem: r.held },
    { title: 'handoff to another process, pollInterval 500', bySystem: r.handoff[500] }
  ], { ...r.labels, 'native-polling': POLLING_LABEL }, `${r.machine.server}; ${r.machine.cpu}, ${r.machine.cores} cores; ${r.machine.date}`)

  console.log(md)
  if (!r.machine.quick || process.argv.includes('--write')) {
    fs.mkdirSync(OUT_DIR, { recursive: true })
    fs.writeFileSync(path.join(OUT_DIR, 'results.md'), md)
    fs.writeFileSync(path.join(OUT_DIR, 'latency.svg'), svg + '\n')
    const summary = { ...r, stats: { cycle, held, handoff500: h500, handoff5000: h5000, localHandoff: local, concurrent: conc } }
    summary.stats.localAfterRelease = afterRelease
    summary.stats.localRelease = releaseRt
    for (const k of ['cycle', 'held', 'handoff', 'localHandoff', 'localAfterRelease', 'localReleases']) delete summary[k]
    fs.writeFileSync(path.join(OUT_DIR, 'results.json'), JSON.stringify(summary, null, 2) + '\n')
    updateGuide(md)
    log(`wrote docs/bench/results.md, results.json, latency.svg and the table of docs/performance.md (${r.seconds.toFixed(0)} s)`)
  }
}

/** Puts the table between the bench markers of the performance guide. */
function updateGuide (md) {
  const guide = path.join(__dirname, '..', 'docs', 'performance.md')
  const text = fs.readFileSync(guide, 'utf8')
  const start = '<!-- bench:start -->'
  const end = '<!-- bench:end -->'
  const i = text.indexOf(start)
  const j = text.indexOf(end)
  if (i < 0 || j < i) throw new Error(`${guide} has no ${start} … ${end} markers`)
  fs.writeFileSync(guide, `${text.slice(0, i + start.length)}\n${md}\n![latency distributions](bench/latency.svg)\n${text.slice(j)}`)
}

main().catch((err) => { console.error(err); process.exit(1) })
