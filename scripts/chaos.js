'use strict'
// Chaos run: fenced locks under injected faults.
//   npm run chaos -- [--minutes N | --seconds S] [--processes 4] [--names 3]
//                    [--seed X] [--faults pause,network,server] [--verbose]
//
// Starts its own embedded FerretDB (own data directory, own port; MONGODB_URI
// is ignored: the server must be killed and restarted) behind a Toxiproxy
// proxy, and P worker processes (scripts/chaos-worker.js) that loop over K
// names: pollAcquire (fencing: true, keepAlive: true, timeout 1500 ms,
// pollInterval 500 ms: handoffs ride on wake-ups), a write at the start and at the end of a 10-100 ms
// holding, release. The shared resource those writes go to is this process
// (over IPC): it accepts a write only if its fencing token is at least the
// highest token it has accepted for the name, and refuses older ones (stale:
// expected after a holder was paused past its lease).
//
// Meanwhile it injects faults, one at a time, at random intervals, bounded
// in count and duration:
//   pause    a worker that has just acquired is stopped (SIGSTOP) for three
//            leases, then continued (SIGCONT)
//   network  through the proxy: connections reset (reset_peer), replies
//            slower than socketTimeoutMS (latency), data swallowed (timeout),
//            or the proxy disabled (connections cut, refused); then healed
//   server   FerretDB killed (SIGKILL), restarted on the same port and data
//
// What must hold (exit code 0 only then):
//   - overlaps == 0: no two holdings of a name whose accepted writes
//     interleave on the resource (their [first, last] accepted-write
//     intervals, in the resource's order, intersect);
//   - exclusion: no holding began (its pollAcquire resolved) while another
//     holding of the name was open whose release then said "released in
//     time" (that holder still had the lock: two holders at once);
//   - fencing: two holdings never share a token; a holding that began after
//     another was released in time has a higher token;
//   - every name is acquired again within the bound (lease + margin) of the
//     end of each fault (of a pause: of the SIGSTOP, since the others must
//     not wait for a frozen holder);
//   - no worker crashed or hung (each one stops when told, within 10 s).
// Errors the workers see during faults (network, timeout, ...) are expected;
// they are counted by code. The last line of the output is one JSON object.
//
// Everything stops by itself: workers exit when the IPC channel to this
// process closes, FerretDB and Toxiproxy when their stdin closes, and a
// paused worker is continued by a short-lived watchdog process if this one
// dies before it could do it.
const { fork, spawn } = require('child_process')
const fs = require('fs')
const os = require('os')
const path = require('path')
const { startFerretDB } = require('./ferretdb')
const { startToxiproxy, freePort } = require('./toxiproxy')

// The lock's settings in the workers, and the connection string's bounds.
const TIMEOUT_MS = 1500
// Long enough that handoffs ride on wake-ups (src/listener.rs), not polls:
// a poll comes only where no wake-up can (a holder killed or cut off).
const POLL_INTERVAL_MS = 500
const SOCKET_TIMEOUT_MS = 1000
const CONNECT_TIMEOUT_MS = 1000
const SELECTION_TIMEOUT_MS = 1500
const HEARTBEAT_MS = 500
const HOLD_MS = [10, 100]
// A paused holder stays stopped this long: well past its lease, and past the
// bound, so a lock that waited for it would break the bound.
const PAUSE_MS = 3 * TIMEOUT_MS
// Time for a name to be usable again after a fault, beyond the lease: the
// driver noticing the server is back (a heartbeat), a connection (connect
// timeout), a worker's pause after an error (<= 250 ms), a poll interval and
// its jitter, and scheduling on a busy machine.
const MARGIN_MS = HEARTBEAT_MS + CONNECT_TIMEOUT_MS + 250 + POLL_INTERVAL_MS + 200
const BOUND_MS = TIMEOUT_MS + MARGIN_MS
// How long workers get to stop once told to, before they count as hung.
const STOP_GRACE_MS = 10000

const now = () => Number(process.hrtime.bigint()) / 1e6
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

function parseArgs (argv) {
  const value = (flag) => {
    const i = argv.indexOf(flag)
    if (i < 0) return undefined
    const v = Number(argv[i + 1])
    if (!Number.isFinite(v) || v <= 0) throw new Error(`${flag} needs a positive number`)
    return v
  }
  const minutes = value('--minutes')
  const seconds = value('--seconds')
  const processes = Math.floor(value('--processes') || 4)
  const names = Math.floor(value('--names') || 3)
  if (processes < 2) throw new Error('--processes must be at least 2')
  const seed = argv.includes('--seed') ? Number(argv[argv.indexOf('--seed') + 1]) >>> 0 : (Date.now() ^ process.pid) >>> 0
  const kinds = argv.includes('--faults') ? String(argv[argv.indexOf('--faults') + 1]).split(',') : ['pause', 'network', 'server']
  if (!kinds.length || kinds.some((k) => !['pause', 'network', 'server'].includes(k))) throw new Error('--faults takes a list of pause, network, server')
  return {
    kinds,
    durationMs: Math.round(seconds !== undefined ? seconds * 1000 : (minutes !== undefined ? minutes : 1) * 60000),
    processes,
    names,
    seed,
    verbose: argv.includes('--verbose')
  }
}

/** A small seeded PRNG (mulberry32): the fault schedule of a seed repeats. */
function prng (seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * The fenced resource, and what it learns from the workers' reports.
 * Writes are judged in the order this process receives them: that is the
 * resource's own timeline.
 */
function createResource (names) {
  const perName = new Map(names.map((n) => [n, {
    highest: -Infinity,
    last: null, // the holding of the last accepted write
    superseded: new Set(), // holdings whose accepted writes another's followed
    open: new Map() // worker -> holding, between 'acquired' and 'releasing'
  }]))
  const r = {
    writesAccepted: 0,
    writesRefusedStale: 0,
    writesWithoutToken: 0,
    overlaps: [],
    tokenClashes: [],
    holdings: new Map(), // key -> holding
    perName,
    onStale: () => {}
  }
  r.write = (m) => {
    const state = perName.get(m.name)
    const key = `${m.worker}#${m.holding}`
    const holding = r.holdings.get(key)
    if (typeof m.token !== 'number' || !Number.isFinite(m.token)) {
      r.writesWithoutToken++
      return false
    }
    if (m.token < state.highest) {
      r.writesRefusedStale++
      if (holding) holding.refused++
      r.onStale(m, state.last)
      return false
    }
    r.writesAccepted++
    if (holding) holding.accepted++
    if (state.last && state.last.key !== key) {
      if (state.last.token === m.token) {
        r.tokenClashes.push({ name: m.name, token: m.token, holdings: [state.last.key, key] })
      }
      state.superseded.add(state.last.key)
    }
    if (state.superseded.has(key)) {
      // This holding wrote, another one wrote after it, and now this one again.
      r.overlaps.push({ name: m.name, holding: key, token: m.token, interleavedWith: state.last.key, lastToken: state.last.token, at: m.at })
    }
    state.highest = m.token
    state.last = { key, token: m.token }
    return true
  }
  return r
}

/** Exclusion and fencing order, from the holdings as reported (monotonic stamps). */
function checkHoldings (holdings) {
  const exclusion = []
  const regressions = []
  const takenOver = new Set() // holdings that others took over while open
  const byName = new Map()
  for (const h of holdings) {
    if (!byName.has(h.name)) byName.set(h.name, [])
    byName.get(h.name).push(h)
  }
  for (const [name, list] of byName) {
    list.sort((a, b) => a.acquiredAt - b.acquiredAt)
    // B acquired while A's holding was open (before A began its release).
    // Expected when A had lost its lease (paused, cut off): fencing is what
    // protects the resource then. But if A's release said "released in
    // time", A held the lock until its delete landed: two holders at once.
    for (let i = 0; i < list.length - 1; i++) {
      const a = list[i]
      if (a.releasingAt === undefined) continue // stopped mid-holding at the end
      const end = a.releasingAt
      for (let j = i + 1; j < list.length && list[j].acquiredAt < end; j++) {
        if (a.timedOut === false) {
          exclusion.push({ name, first: a.key, firstToken: a.token, second: list[j].key, secondToken: list[j].token, secondAcquiredBeforeFirstReleasedMs: +(end - list[j].acquiredAt).toFixed(1) })
        } else {
          takenOver.add(a)
        }
      }
    }
    // Any holding acquired after A's in-time release must carry a higher token.
    const released = list.filter((h) => h.timedOut === false && h.releasedAt !== undefined && typeof h.token === 'number')
      .sort((a, b) => a.releasedAt - b.releasedAt)
    let k = 0
    let best = null
    for (const h of list) {
      while (k < released.length && released[k].releasedAt < h.acquiredAt) {
        if (!best || released[k].token > best.token) best = released[k]
        k++
      }
      if (best && typeof h.token === 'number' && h.token <= best.token) {
        regressions.push({ name, holding: h.key, token: h.token, after: best.key, afterToken: best.token })
      }
    }
  }
  return { exclusion, regressions, takenOver: takenOver.size }
}

async function main () {
  const opts = parseArgs(process.argv.slice(2))
  const random = prng(opts.seed)
  const between = (min, max) => min + random() * (max - min)
  const pick = (list) => list[Math.floor(random() * list.length)]
  const t0 = now()
  const stamp = () => `[${((now() - t0) / 1000).toFixed(1).padStart(6)}s]`
  const say = (line) => console.log(`${stamp()} ${line}`)
  const names = Array.from({ length: opts.names }, (_, i) => `chaos-${i}`)

  // Cleanup state, also used by the exit handler (synchronous kills only).
  const workers = []
  const watchdogs = new Set()
  let server = null
  let toxiproxy = null
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mdl-chaos-'))
  const killEverything = () => {
    for (const w of workers) {
      if (w.exited) continue
      try { w.child.kill('SIGCONT') } catch {}
      try { w.child.kill('SIGKILL') } catch {}
    }
    for (const pid of watchdogs) { try { process.kill(-pid, 'SIGKILL') } catch {} }
    if (server) { try { server.child.kill('SIGKILL') } catch {} }
  }
  process.on('exit', () => {
    killEverything()
    try { fs.rmSync(dataDir, { recursive: true, force: true }) } catch {}
  })
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      console.error(`chaos: ${sig}, stopping everything`)
      killEverything()
      process.exit(130)
    })
  }

  if (process.env.MONGODB_URI) say('MONGODB_URI is ignored: the chaos run kills and restarts its own server')
  const port = await freePort()
  server = await startFerretDB({ dataDir, port })
  toxiproxy = await startToxiproxy()
  const proxy = await toxiproxy.createProxy(`chaos_${process.pid}`, `127.0.0.1:${port}`)
  const uri = `mongodb://127.0.0.1:${proxy.port}/chaos?serverSelectionTimeoutMS=${SELECTION_TIMEOUT_MS}` +
    `&connectTimeoutMS=${CONNECT_TIMEOUT_MS}&socketTimeoutMS=${SOCKET_TIMEOUT_MS}&heartbeatFrequencyMS=${HEARTBEAT_MS}`
  say(`chaos: ${opts.processes} workers x ${opts.names} names for ${opts.durationMs / 1000} s, seed ${opts.seed}`)
  say(`FerretDB on 127.0.0.1:${port} (data ${dataDir}), workers through Toxiproxy on 127.0.0.1:${proxy.port}`)
  const native = process.env.MONGOOSE_DISTRIBUTED_LOCK_NATIVE ? path.relative(process.cwd(), path.resolve(process.env.MONGOOSE_DISTRIBUTED_LOCK_NATIVE)) : 'the release build (binding.js)'
  say(`native core: ${native}`)
  say(`lease ${TIMEOUT_MS} ms, keep-alive every ${TIMEOUT_MS / 3} ms, socketTimeoutMS ${SOCKET_TIMEOUT_MS}; bound on unusable time ${BOUND_MS} ms (lease + ${MARGIN_MS} ms)`)

  // What the run learns.
  const resource = createResource(names)
  resource.onStale = (m, last) => {
    if (opts.verbose) say(`resource: refused ${m.phase} write of worker ${m.worker} on ${m.name}, token ${m.token} < ${last.token} (holding ${last.key})`)
  }
  const errorsByCode = {}
  const errorsByOp = {}
  const lostByReason = {}
  const faults = []
  const faultCounts = { pause: 0, network: 0, server: 0 }
  const networkCounts = {}
  const crashes = []
  let holdingsCount = 0
  let releasesTimedOut = 0
  let releasesAbandoned = 0
  let armedPause = null // resolve(worker) of a pause waiting for an acquire

  const onAcquired = (w, m) => {
    holdingsCount++
    const key = `${m.worker}#${m.holding}`
    const holding = { key, worker: m.worker, name: m.name, token: m.token, lockId: m.lockId, acquiredAt: m.at, timeAcquired: m.timeAcquired, accepted: 0, refused: 0 }
    resource.holdings.set(key, holding)
    resource.perName.get(m.name).open.set(m.worker, holding)
    w.open = holding
    for (const f of faults) {
      if (f.recoveryFrom === undefined || f.recovered.has(m.name) || m.at < f.recoveryFrom) continue
      f.recovered.set(m.name, m.at - f.recoveryFrom)
    }
    if (armedPause && !w.paused) {
      const resolve = armedPause
      armedPause = null
      resolve(w) // stops it right away: it is in its holding
    }
  }

  const onMessage = (w, m) => {
    w.lastMessageAt = now()
    switch (m.type) {
      case 'ready':
        w.ready = true
        break
      case 'acquired':
        onAcquired(w, m)
        break
      case 'write':
        resource.write(m)
        break
      case 'releasing': {
        const h = resource.holdings.get(`${m.worker}#${m.holding}`)
        if (h) Object.assign(h, { releasingAt: m.at, leaseEnd: m.leaseEnd, releasingWall: m.wall })
        resource.perName.get(m.name).open.delete(m.worker)
        w.open = null
        break
      }
      case 'released': {
        const h = resource.holdings.get(`${m.worker}#${m.holding}`)
        if (h) Object.assign(h, { releasedAt: m.at, timedOut: m.abandoned ? null : m.timedOut, abandoned: Boolean(m.abandoned) })
        if (m.abandoned) releasesAbandoned++
        else if (m.timedOut) releasesTimedOut++
        break
      }
      case 'lost':
        lostByReason[m.reason] = (lostByReason[m.reason] || 0) + 1
        if (opts.verbose) say(`worker ${m.worker}: lost ${m.name} (token ${m.token}): ${m.reason}`)
        break
      case 'error':
        errorsByCode[m.code] = (errorsByCode[m.code] || 0) + 1
        errorsByOp[m.op] = (errorsByOp[m.op] || 0) + 1
        if (opts.verbose) say(`worker ${m.worker}: ${m.op} ${m.name}: ${m.code} ${m.message}`)
        break
      case 'crash':
        crashes.push({ worker: m.worker, message: m.message })
        break
      case 'done':
        w.stats = m.stats
        break
    }
  }

  // The workers.
  let stopping = false
  for (let i = 0; i < opts.processes; i++) {
    const config = { worker: i, uri, names, timeout: TIMEOUT_MS, pollInterval: POLL_INTERVAL_MS, holdMinMs: HOLD_MS[0], holdMaxMs: HOLD_MS[1] }
    const child = fork(path.join(__dirname, 'chaos-worker.js'), [JSON.stringify(config)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc']
    })
    const w = { index: i, child, pid: child.pid, ready: false, open: null, paused: false, exited: false, stats: null, lastMessageAt: now() }
    w.exit = new Promise((resolve) => child.once('exit', (code, signal) => {
      w.exited = true
      w.exitCode = code
      w.exitSignal = signal
      if (!stopping) crashes.push({ worker: i, message: `exited with ${signal || code} during the run` })
      resolve()
    }))
    child.on('message', (m) => onMessage(w, m))
    workers.push(w)
  }

  const waitUntil = async (predicate, timeoutMs, everyMs = 10) => {
    const deadline = now() + timeoutMs
    while (!predicate()) {
      if (now() > deadline) return false
      await sleep(everyMs)
    }
    return true
  }

  const warm = await waitUntil(() => workers.every((w) => w.ready) &&
    names.every((n) => [...resource.holdings.values()].some((h) => h.name === n)), 30000)
  if (!warm) throw new Error('the workers did not start acquiring within 30 s')
  const runStart = now()
  const deadline = runStart + opts.durationMs
  say(`workers ready, every name acquired once: faults begin (run ends in ${opts.durationMs / 1000} s)`)

  // --- the faults -------------------------------------------------------

  async function pauseFault (fault) {
    const w = await new Promise((resolve) => {
      armedPause = resolve
      setTimeout(() => { if (armedPause === resolve) { armedPause = null; resolve(null) } }, 3000)
    })
    if (!w || w.exited) return false
    const holding = w.open
    Object.assign(fault, { worker: w.index, name: holding && holding.name, token: holding && holding.token })
    try {
      process.kill(w.pid, 'SIGSTOP')
    } catch {
      return false // it just exited: a crash, reported as such
    }
    fault.start = now()
    fault.recoveryFrom = fault.start
    w.paused = true
    // If this process dies meanwhile, the worker is continued anyway.
    const watchdog = spawn('/bin/sh', ['-c', `sleep ${(PAUSE_MS + 3000) / 1000}; kill -CONT ${w.pid} 2>/dev/null`], { detached: true, stdio: 'ignore' })
    watchdogs.add(watchdog.pid)
    watchdog.unref()
    say(`pause: worker ${w.index} stopped (SIGSTOP) holding ${fault.name} (token ${fault.token}) for ${PAUSE_MS} ms`)
    await sleep(PAUSE_MS)
    try { process.kill(w.pid, 'SIGCONT') } catch {}
    w.paused = false
    try { process.kill(-watchdog.pid, 'SIGKILL') } catch {}
    watchdogs.delete(watchdog.pid)
    fault.end = now()
    const taken = fault.name === undefined ? undefined : fault.recovered.get(fault.name)
    fault.takenOverWhileFrozen = taken !== undefined && taken <= PAUSE_MS
    say(`pause: worker ${w.index} continued (SIGCONT); ${fault.name} ${taken !== undefined ? `was taken over ${Math.round(taken)} ms after the stop` : 'was NOT taken over while it was frozen'}`)
    return true
  }

  const networkVariants = ['reset_peer', 'latency', 'timeout', 'cut']
  let networkTurn = Math.floor(random() * networkVariants.length)
  async function networkFault (fault) {
    const variant = networkVariants[networkTurn++ % networkVariants.length]
    fault.variant = variant
    let heal
    let ms
    if (variant === 'reset_peer') {
      ms = between(200, 800)
      await proxy.addToxic({ type: 'reset_peer', stream: 'upstream', attributes: { timeout: 0 }, name: 'chaos' })
      say(`network: connections reset (reset_peer) for ${Math.round(ms)} ms`)
      heal = () => proxy.removeToxic('chaos')
    } else if (variant === 'latency') {
      ms = between(1000, 2500)
      const latency = SOCKET_TIMEOUT_MS + 500
      await proxy.addToxic({ type: 'latency', stream: 'downstream', attributes: { latency, jitter: 0 }, name: 'chaos' })
      say(`network: replies delayed ${latency} ms (socketTimeoutMS ${SOCKET_TIMEOUT_MS}) for ${Math.round(ms)} ms`)
      heal = () => proxy.removeToxic('chaos')
    } else if (variant === 'timeout') {
      ms = between(500, 2000)
      const stream = random() < 0.5 ? 'upstream' : 'downstream'
      await proxy.addToxic({ type: 'timeout', stream, attributes: { timeout: 0 }, name: 'chaos' })
      say(`network: ${stream} data swallowed (timeout toxic) for ${Math.round(ms)} ms`)
      fault.variant = `timeout_${stream}`
      heal = () => proxy.removeToxic('chaos')
    } else {
      ms = between(300, 1500)
      await proxy.disable()
      say(`network: proxy disabled (connections cut, new ones refused) for ${Math.round(ms)} ms`)
      heal = () => proxy.enable()
    }
    fault.start = now()
    await sleep(ms)
    try {
      await heal()
    } catch (err) {
      say(`network: heal failed (${err.message}); resetting the proxy`)
      await toxiproxy.reset()
    }
    fault.end = now()
    fault.recoveryFrom = fault.end
    networkCounts[fault.variant] = (networkCounts[fault.variant] || 0) + 1
    say('network: healed')
    return true
  }

  async function serverFault (fault) {
    const down = between(300, 1500)
    fault.start = now()
    const old = server
    old.child.kill('SIGKILL')
    await old.stop()
    say(`server: FerretDB killed (SIGKILL), restarting in ${Math.round(down)} ms`)
    await sleep(down)
    for (let attempt = 1; ; attempt++) {
      try {
        server = await startFerretDB({ dataDir, port })
        break
      } catch (err) {
        if (attempt >= 10) throw err
        say(`server: restart failed (${err.message.split('\n')[0]}), again`)
        await sleep(200)
      }
    }
    fault.end = now()
    fault.recoveryFrom = fault.end
    fault.downMs = Math.round(fault.end - fault.start)
    say(`server: restarted on the same port and data after ${fault.downMs} ms`)
    return true
  }

  const inject = { pause: pauseFault, network: networkFault, server: serverFault }
  // Worst-case length of a fault, to leave room for its recovery before the end.
  const worstMs = { pause: PAUSE_MS + 3000, network: 2500, server: 1500 + 5000 }
  const cap = 1 + Math.floor(opts.durationMs / 10000)
  // Every kind once first (in random order), then at random.
  const firsts = [...opts.kinds].sort(() => random() - 0.5)
  const gapMax = Math.min(4000, Math.max(1200, opts.durationMs / 30))

  await sleep(between(300, 800))
  for (;;) {
    // Only faults that leave time for their recovery before the end.
    const fits = (k) => now() + worstMs[k] + BOUND_MS <= deadline
    if (firsts.length && !fits(firsts[0])) {
      say(`(no time left for a ${firsts.join(', ')} fault: give the run more time)`)
      break
    }
    const kinds = firsts.length ? [firsts.shift()] : opts.kinds.filter((k) => faultCounts[k] < cap && fits(k))
    if (!kinds.length) break
    const kind = pick(kinds)
    const fault = { kind, recovered: new Map() }
    faults.push(fault) // acquisitions count towards its recovery as soon as it sets recoveryFrom
    if (!await inject[kind](fault)) {
      faults.pop()
      say(`${kind}: no worker acquired within 3 s, skipped`)
      continue
    }
    faultCounts[kind]++
    // Wait for every name to be acquired again (or the bound to be broken).
    await waitUntil(() => fault.recovered.size === names.length, BOUND_MS + 5000)
    for (const n of names) {
      const ms = fault.recovered.has(n) ? fault.recovered.get(n) : now() - fault.recoveryFrom
      if (fault.worstMs === undefined || ms > fault.worstMs) Object.assign(fault, { worstMs: ms, worstName: n })
    }
    const worst = fault.worstMs
    say(`  every name acquired again within ${Math.round(worst)} ms of ${kind === 'pause' ? 'the stop' : 'the end'}` +
      `${worst > BOUND_MS ? ` BOUND BROKEN (> ${BOUND_MS} ms)` : ''}`)
    await sleep(between(300, gapMax))
  }
  await waitUntil(() => now() >= deadline, Math.max(0, deadline - now()) + 10, 50)

  // --- stop ----------------------------------------------------------------
  say('stopping the workers')
  stopping = true
  for (const w of workers) if (w.child.connected) w.child.send({ cmd: 'stop' })
  const stoppedInTime = await waitUntil(() => workers.every((w) => w.exited), STOP_GRACE_MS, 20)
  const hung = workers.filter((w) => !w.exited).map((w) => ({ worker: w.index, open: w.open && w.open.name }))
  killEverything()
  await Promise.all(workers.map((w) => w.exit))
  for (const w of workers) {
    if (!hung.some((h) => h.worker === w.index) && (w.exitCode !== 0 || !w.stats)) {
      crashes.push({ worker: w.index, message: `ended with ${w.exitSignal || w.exitCode}${w.stats ? '' : ' without reporting'}` })
    }
  }
  await toxiproxy.stop().catch(() => {})
  await server.stop().catch(() => {})
  server = null

  // --- report --------------------------------------------------------------
  const { exclusion, regressions, takenOver } = checkHoldings([...resource.holdings.values()])
  const worstByKind = {}
  let worst = { ms: 0 }
  for (const f of faults) {
    worstByKind[f.kind] = Math.max(worstByKind[f.kind] || 0, f.worstMs)
    if (f.worstMs > worst.ms) worst = { ms: f.worstMs, kind: f.variant ? `${f.kind}:${f.variant}` : f.kind, name: f.worstName }
  }
  const boundHeld = faults.every((f) => f.worstMs <= BOUND_MS)
  const pauses = faults.filter((f) => f.kind === 'pause')
  const workerErrors = Object.fromEntries(Object.entries(errorsByCode).sort((a, b) => b[1] - a[1]))
  const summary = {
    seconds: +((now() - runStart) / 1000).toFixed(1),
    processes: opts.processes,
    names: opts.names,
    seed: opts.seed,
    native,
    leaseMs: TIMEOUT_MS,
    holdings: holdingsCount,
    faults: faultCounts,
    networkFaults: networkCounts,
    writesAccepted: resource.writesAccepted,
    writesRefusedStale: resource.writesRefusedStale,
    writesWithoutToken: resource.writesWithoutToken,
    overlaps: resource.overlaps.length,
    exclusionViolations: exclusion.length,
    tokenClashes: resource.tokenClashes.length,
    tokenRegressions: regressions.length,
    holdingsTakenOverWhileOpen: takenOver,
    pausesTakenOverWhileFrozen: pauses.filter((f) => f.takenOverWhileFrozen).length,
    unusableMaxMs: Math.round(worst.ms),
    unusableMaxByKind: Object.fromEntries(Object.entries(worstByKind).map(([k, v]) => [k, Math.round(v)])),
    unusableWorst: worst.kind ? { fault: worst.kind, name: worst.name } : null,
    unusableBoundMs: BOUND_MS,
    boundHeld,
    releasesTimedOut,
    releasesAbandoned,
    lost: lostByReason,
    workerErrors,
    workerErrorsByOp: errorsByOp,
    workerCrashes: crashes.length,
    workersHung: hung.length,
    ok: false
  }
  summary.ok = summary.overlaps === 0 && exclusion.length === 0 && summary.tokenClashes === 0 &&
    regressions.length === 0 && summary.writesWithoutToken === 0 && boundHeld && crashes.length === 0 &&
    stoppedInTime && hung.length === 0

  const lines = [
    '',
    `chaos: ${summary.seconds} s, ${opts.processes} workers, ${opts.names} names, seed ${opts.seed}`,
    `  holdings:                     ${summary.holdings}`,
    `  faults injected:              pause ${faultCounts.pause}, network ${faultCounts.network} (${Object.entries(networkCounts).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}), server ${faultCounts.server}`,
    `  writes accepted:              ${summary.writesAccepted}`,
    `  writes refused as stale:      ${summary.writesRefusedStale}${faultCounts.pause && !summary.writesRefusedStale ? ' (none, although holders were paused)' : ''}`,
    `  overlapping holdings:         ${summary.overlaps} (must be 0)`,
    `  exclusion violations:         ${summary.exclusionViolations} (must be 0)`,
    `  fencing: clashes/regressions: ${summary.tokenClashes}/${summary.tokenRegressions} (must be 0/0)`,
    `  holdings taken over while open: ${takenOver} (past their lease before their holder knew; fencing refuses their late writes)`,
    `  paused holders taken over while frozen: ${summary.pausesTakenOverWhileFrozen} of ${pauses.length}`,
    `  longest unusable after fault: ${summary.unusableMaxMs} ms${worst.kind ? ` (${worst.kind}, ${worst.name})` : ''}; bound ${BOUND_MS} ms: ${boundHeld ? 'held' : 'BROKEN'}`,
    `  releases: lost before ${releasesTimedOut}, given up ${releasesAbandoned}; 'lost' events: ${JSON.stringify(lostByReason)}`,
    `  worker errors by code:        ${JSON.stringify(workerErrors)}`,
    `  worker crashes: ${crashes.length}, hung: ${hung.length}`
  ]
  for (const o of resource.overlaps.slice(0, 5)) lines.push(`  OVERLAP ${JSON.stringify(o)}`)
  for (const e of exclusion.slice(0, 5)) lines.push(`  EXCLUSION ${JSON.stringify(e)}`)
  for (const c of resource.tokenClashes.slice(0, 5)) lines.push(`  TOKEN CLASH ${JSON.stringify(c)}`)
  for (const g of regressions.slice(0, 5)) lines.push(`  TOKEN REGRESSION ${JSON.stringify(g)}`)
  for (const c of crashes.slice(0, 5)) lines.push(`  CRASH ${JSON.stringify(c)}`)
  for (const h of hung) lines.push(`  HUNG ${JSON.stringify(h)}`)
  lines.push(summary.ok ? 'OK' : 'FAILED')
  console.log(lines.join('\n'))
  console.log(JSON.stringify(summary))
  return summary.ok
}

main().then((ok) => {
  process.exitCode = ok ? 0 : 1
}, (err) => {
  console.error('chaos:', err && err.stack ? err.stack : err)
  process.exit(2)
})
