'use strict'
// The costs of what 0.0.1 does not have (extend, keep-alive, fencing, fair
// waiting, withLock) and of a process's life (cold start, CPU, connections,
// memory under churn): the figures of the issue "performance on every axis".
const { fork, execFileSync } = require('child_process')
const path = require('path')
const { performance } = require('perf_hooks')
const { withDb, sleep } = require('./systems')
const { processCpuMs } = require('./probes')

const now = () => performance.timeOrigin + performance.now()
const CHILD = path.join(__dirname, 'child.js')

function childJson (role, system, uri, options = {}, { nodeArgs = [], env = {} } = {}) {
  const out = execFileSync(process.execPath, [...nodeArgs, CHILD, role, system, uri, JSON.stringify(options)], {
    encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024
  })
  return JSON.parse(out.trim().split('\n').pop())
}

/** Latency of each native path, the variants alternating block by block. */
async function paths (uri, sizes) {
  const Lock = require('..')
  const dbUri = withDb(uri, 'bench_native')
  const run = `${process.pid}-${Date.now().toString(36)}`
  const opts = { uri: dbUri, timeout: 60000 }
  const bare = Lock(`feat-bare-${run}`, opts)
  const fenced = Lock(`feat-fenced-${run}`, { ...opts, fencing: true })
  const extended = Lock(`feat-extend-${run}`, opts)
  const variants = {
    bare: async () => { await bare.acquire(); await bare.release() },
    fencing: async () => { await fenced.acquire(); await fenced.release() },
    withLock: () => Lock.withLock(`feat-with-${run}`, opts, async () => {}),
    extend: () => extended.extend(60000)
  }
  await extended.acquire()
  for (const v of Object.values(variants)) for (let i = 0; i < 20; i++) await v()
  const samples = Object.fromEntries(Object.keys(variants).map((k) => [k, []]))
  const names = Object.keys(variants)
  for (let b = 0; b < sizes.blocks; b++) {
    for (const k of names.map((_, i) => names[(i + b) % names.length])) {
      for (let i = 0; i < sizes.perBlock; i++) {
        const t0 = now()
        await variants[k]()
        samples[k].push(now() - t0)
      }
    }
  }
  await extended.release()
  return samples
}

/** Round trips (commands) of each native path, counted by command monitoring. */
function pathRoundTrips (uri) {
  return childJson('featureRoundtrips', 'native', uri, {}, { env: { MONGOOSE_DISTRIBUTED_LOCK_MONITOR: '1' } })
}

/** Client CPU per uncontended cycle, less idling, for each system. */
function clientCpu (systems, uri, sizes) {
  const out = {}
  for (const s of systems) out[s] = childJson('cpu', s, uri, { cycles: s === 'mongodb-lock' ? Math.ceil(sizes.cpuCycles / 10) : sizes.cpuCycles })
  return out
}

/** Keep-alive: renewals and CPU of `locks` held with keepAlive for `ms`. */
function keepAliveCost (uri, sizes) {
  return childJson('keepalive', 'native', uri, { locks: 50, timeout: 3000, ms: sizes.keepAliveMs }, { env: { MONGOOSE_DISTRIBUTED_LOCK_MONITOR: '1' } })
}

/** Processes looping on one name with pollAcquire: holdings per second, handoff gaps, longest wait. */
async function loopers (uri, { fair, processes, ms, pollInterval = 50, wakeUps = true }) {
  const name = `bench-fair-${process.pid}-${Date.now().toString(36)}-${fair}-${pollInterval}-${wakeUps}`
  const children = Array.from({ length: processes }, () => fork(CHILD, ['loop', 'native', uri, JSON.stringify({ name, fair, pollInterval, wakeUps, ms })], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }))
  const message = (child, key) => new Promise((resolve, reject) => {
    const on = (m) => { if (key in m) { child.off('message', on); resolve(m) } }
    child.on('message', on)
    child.once('exit', (code) => code && reject(new Error(`a looping process exited with ${code}`)))
  })
  await Promise.all(children.map((c) => message(c, 'ready')))
  const results = children.map((c) => message(c, 'holdings'))
  for (const c of children) c.send({ go: true })
  const done = await Promise.all(results)
  const spans = done.flatMap((d) => d.spans).sort((a, b) => a[0] - b[0])
  const gaps = []
  for (let i = 1; i < spans.length; i++) gaps.push(spans[i][0] - spans[i - 1][1])
  return {
    perSecond: done.reduce((a, d) => a + d.holdings, 0) / (ms / 1000),
    longestWait: Math.max(...done.map((d) => d.longestWait)),
    gaps
  }
}

/**
 * The server's CPU while `processes` processes wait (pollAcquire) on one
 * lock held here, for `ms`, with wake-ups and without (`wakeUps: false`,
 * polling as 1.1 did), and with nobody waiting: % of one core, from the
 * server's /proc/<pid>/stat (null when the server's process is not known,
 * e.g. with MONGODB_URI). Also the waiters' own CPU, summed. `sys`: the
 * native system of systems.js (the holder's process is this one).
 */
async function idleWaiters (sys, uri, serverPid, { processes, ms, pollInterval = 500 }) {
  const run = `${process.pid}-${Date.now().toString(36)}`
  const share = (cpuMs) => cpuMs === null ? null : 100 * cpuMs / ms
  const serverCpu = () => serverPid ? processCpuMs(serverPid) : null
  const measure = async () => {
    const c0 = serverCpu()
    await sleep(ms)
    return c0 === null ? null : share(serverCpu() - c0)
  }
  const out = { processes, ms, pollInterval, idleServer: await measure() }
  for (const mode of ['wakeUps', 'polling']) {
    const lock = { wakeUps: mode === 'wakeUps' }
    const name = `bench-idle-${run}-${mode}`
    const holder = sys.make(name, { timeout: 600000, ...lock })
    if (!await holder.acquire()) throw new Error(`${name} was not free`)
    const children = Array.from({ length: processes }, () => fork(CHILD, ['waiter', 'native', uri], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }))
    const message = (child, key) => new Promise((resolve, reject) => {
      const on = (m) => {
        if ('failed' in m) reject(new Error(`an idle waiter failed: ${m.failed}`))
        if (key in m) { child.off('message', on); resolve(m) }
      }
      child.on('message', on)
      child.once('exit', (code) => code && reject(new Error(`an idle waiter exited with ${code}`)))
    })
    await Promise.all(children.map((c) => message(c, 'ready')))
    const polling = children.map((c) => message(c, 'polling'))
    const acquired = children.map((c) => message(c, 'acquiredAt'))
    for (const c of children) c.send({ cmd: 'wait', name, pollInterval, timeout: 600000, lock })
    await Promise.all(polling)
    await sleep(Math.min(2000, ms / 2)) // first tries done, watches set up
    const w0 = children.map((c) => processCpuMs(c.pid))
    out[mode] = await measure()
    out[`${mode}ClientCpu`] = share(children.reduce((a, c, i) => a + processCpuMs(c.pid) - w0[i], 0))
    // Then every waiter takes the lock once, one after another.
    await holder.release()
    await Promise.all(acquired)
    for (const c of children) c.send({ cmd: 'exit' })
    await Promise.all(children.map((c) => new Promise((resolve) => c.exitCode !== null ? resolve() : c.once('exit', resolve))))
  }
  return out
}

/** A release with a waiter watching against one without (see child.js releaseCost). */
function releaseCost (uri, sizes) {
  return childJson('releaseCost', 'native', uri, { samples: sizes.releaseCost }, { env: { MONGOOSE_DISTRIBUTED_LOCK_MONITOR: '1' } })
}

/** Cold starts: fresh processes that connect mongoose, acquire once, release, exit. */
function coldStarts (systems, uri, sizes) {
  const out = Object.fromEntries(systems.map((s) => [s, []]))
  for (let k = 0; k < sizes.coldStarts; k++) {
    for (const s of systems) {
      const t0 = now()
      const marks = JSON.parse(execFileSync(process.execPath, [path.join(__dirname, 'cold-start.js'), s, withDb(uri, `bench_${s === 'native' ? 'native' : 'legacy'}`), `cold-${process.pid}-${s}-${k}`], { encoding: 'utf8' }).trim().split('\n').pop())
      out[s].push({ ...marks, processMs: now() - t0, firstAcquireMs: marks.acquired - marks.connected })
    }
  }
  return out
}

module.exports = { childJson, paths, pathRoundTrips, clientCpu, keepAliveCost, loopers, idleWaiters, releaseCost, coldStarts }
