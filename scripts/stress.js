'use strict'
// Mutual exclusion under stress: N processes loop on one lock name and check
// with O_EXCL marker files that no two ever hold it at once.
//   npm run stress -- [--processes 8] [--iterations 200] [--mixed]
// --mixed runs half of the processes on the old 0.0.1 package.
const { fork } = require('child_process')
const fs = require('fs')
const os = require('os')
const path = require('path')

/**
 * Starts the workers. Resolves with { workers, done }: `done` resolves with
 * the summed stats once every worker has finished (or been stopped).
 */
function startStress ({
  uri, processes = 8, iterations = 25, legacy = 0, name = `stress-${process.pid}-${Date.now()}`,
  timeout = 10000, pollInterval = 20, criticalMs = 3, onMessage = () => {}
}) {
  const markerDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mdl-stress-'))
  const started = Date.now()
  const workers = Array.from({ length: processes }, (_, i) => {
    const impl = i < legacy ? 'legacy' : 'native'
    const config = { impl, uri, name, iterations, markerDir, timeout, pollInterval, criticalMs }
    const child = fork(path.join(__dirname, 'stress-worker.js'), [JSON.stringify(config)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc']
    })
    child.impl = impl
    child.finished = new Promise((resolve, reject) => {
      let stats = null
      child.on('message', (m) => {
        if (m.type === 'done') stats = m.stats
        onMessage(m, child, i)
      })
      child.on('exit', (code, signal) => stats
        ? resolve(stats)
        : reject(new Error(`stress worker ${i} (${impl}) exited with ${signal || code} before finishing`)))
    })
    return child
  })
  const done = Promise.all(workers.map((w) => w.finished)).then((all) => {
    fs.rmSync(markerDir, { recursive: true, force: true })
    const total = { processes, legacy, seconds: (Date.now() - started) / 1000 }
    for (const s of all) for (const [k, v] of Object.entries(s)) total[k] = (total[k] || 0) + v
    return total
  })
  return { workers, done, stop: () => workers.forEach((w) => w.connected && w.send({ cmd: 'stop' })) }
}

module.exports = { startStress }

if (require.main === module) {
  const arg = (flag, fallback) => {
    const i = process.argv.indexOf(flag)
    return i > 0 ? Number(process.argv[i + 1]) : fallback
  }
  const processes = arg('--processes', 8)
  const iterations = arg('--iterations', 200)
  const legacy = process.argv.includes('--mixed') ? Math.floor(processes / 2) : 0
  ;(async () => {
    const { startFerretDB } = require('./ferretdb')
    let server = null
    let uri = process.env.MONGODB_URI
    if (!uri) {
      server = await startFerretDB()
      uri = `${server.uri}stress`
    }
    console.log(`stress: ${processes} processes (${legacy} on 0.0.1) x ${iterations} rounds on ${server ? 'embedded FerretDB' : 'MONGODB_URI'}`)
    try {
      const total = await startStress({ uri, processes, iterations, legacy }).done
      console.log(JSON.stringify(total, null, 2))
      const ok = total.overlaps === 0 && total.acquisitions + total.pollTimeouts === processes * iterations
      console.log(ok ? 'OK: 0 overlaps, every process finished' : 'FAILED')
      process.exitCode = ok ? 0 : 1
    } finally {
      if (server) await server.stop()
    }
  })().catch((err) => { console.error(err); process.exit(1) })
}
