'use strict'
// Measures of one process the benchmark takes from the outside or the inside:
// its CPU time, its TCP connections to the server, its memory after a GC.
const fs = require('fs')

/** CPU time (user + system, all threads) of this process, in ms. */
function cpuMs () {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

/** CPU time of another process (Linux /proc), in ms; null where unknown. */
function processCpuMs (pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // utime and stime are fields 14 and 15 (from 1), in clock ticks (100 Hz on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10
  } catch (_) {
    return null
  }
}

/** TCP connections of process `pid` to `port` on this host (Linux /proc); null where unknown. */
function tcpConnections (pid, port) {
  try {
    const inodes = new Set()
    for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`))
        if (m) inodes.add(m[1])
      } catch (_) { /* closed meanwhile */ }
    }
    const hexPort = port.toString(16).toUpperCase().padStart(4, '0')
    return fs.readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1).filter((line) => {
      const f = line.trim().split(/\s+/)
      return f.length > 9 && f[2].endsWith(`:${hexPort}`) && f[3] === '01' && inodes.has(f[9])
    }).length
  } catch (_) {
    return null
  }
}

/** Heap used, heap reserved by V8 and RSS, in MB, after a few full GCs (needs --expose-gc). */
async function settledMemory () {
  for (let i = 0; i < 4; i++) {
    global.gc()
    await new Promise((resolve) => setImmediate(resolve))
  }
  const m = process.memoryUsage()
  return { heapMB: m.heapUsed / 2 ** 20, heapTotalMB: m.heapTotal / 2 ** 20, rssMB: m.rss / 2 ** 20 }
}

module.exports = { cpuMs, processCpuMs, tcpConnections, settledMemory }
