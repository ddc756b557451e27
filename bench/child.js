'use strict'
// Benchmark helper process. argv: <role> <system> <uri>
//   waiter:     a second process for the handoff figure; on { cmd: 'wait', name,
//               pollInterval } it pollAcquires, reports { acquiredAt }, releases.
//   roundtrips: counts commands per operation and prints them as JSON.
//   memory:     RSS of 10,000 idle Lock objects over a baseline, as JSON.
const { open } = require('./systems')
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
    const lock = sys.make(m.name, { timeout: 60000, pollInterval: m.pollInterval })
    process.send({ polling: true })
    await lock.pollAcquire()
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
  for (let i = 0; i < 10000; i++) throwaway.push(sys.make(`mem-warm-${i}`, { timeout: 60000 }))
  throwaway = null
  await settle()
  const before = process.memoryUsage()
  const locks = []
  for (let i = 0; i < 10000; i++) locks.push(sys.make(`mem-${i}`, { timeout: 60000 }))
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

const roles = { waiter, roundtrips, memory }
roles[role]().catch((err) => { console.error(`${role}/${system}:`, err); process.exit(1) })
