'use strict'
// The chaos run, short: 3 worker processes with fenced, kept-alive locks on a
// server of its own behind Toxiproxy, while holders are paused past their
// lease, connections are cut or slowed, and the server is killed and
// restarted (scripts/chaos.js). No two holdings overlap on the fenced
// resource, every name is usable again within the bound after each fault,
// and no worker crashes. `npm run chaos -- --minutes N` runs longer ones.
const { spawn } = require('child_process')
const path = require('path')

const SCRIPT = path.join(__dirname, '..', 'scripts', 'chaos.js')

/** Runs the chaos script; resolves with its exit code, output and last JSON line. */
function runChaos (args, timeoutMs) {
  return new Promise((resolve, reject) => {
    // The environment passes through: MONGOOSE_DISTRIBUTED_LOCK_NATIVE names
    // the debug build the tests use. The run starts its own server.
    const child = spawn(process.execPath, [SCRIPT, ...args], { env: process.env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => { stdout += d })
    child.stderr.on('data', (d) => { stderr += d })
    // SIGTERM lets the script stop its workers and servers.
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs)
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      const line = stdout.trim().split('\n').reverse().find((l) => l.startsWith('{'))
      let summary = null
      try { summary = line ? JSON.parse(line) : null } catch {}
      resolve({ code, signal, stdout, stderr, summary })
    })
  })
}

test('20 s of pauses, network faults and server restarts: no overlap, usable again within the bound, no crash', async () => {
  const started = Date.now()
  const run = await runChaos(['--seconds', '20', '--processes', '3'], 80000)
  const output = `${run.stdout}\n${run.stderr}`
  if (!run.summary) throw new Error(`no JSON summary from chaos.js (exit ${run.signal || run.code}):\n${output}`)
  const s = run.summary
  console.log(`chaos (${((Date.now() - started) / 1000).toFixed(1)} s wall): ${JSON.stringify(s)}`)
  try {
    expect(s.overlaps).toBe(0)
    expect(s.exclusionViolations).toBe(0)
    expect(s.tokenClashes).toBe(0)
    expect(s.tokenRegressions).toBe(0)
    expect(s.holdings).toBeGreaterThan(0)
    expect(s.writesAccepted).toBeGreaterThan(0)
    expect(s.faults.pause).toBeGreaterThanOrEqual(1)
    expect(s.faults.network).toBeGreaterThanOrEqual(1)
    expect(s.faults.server).toBeGreaterThanOrEqual(1)
    expect(s.unusableMaxMs).toBeLessThanOrEqual(s.unusableBoundMs)
    expect(s.boundHeld).toBe(true)
    expect(s.workerCrashes).toBe(0)
    expect(s.workersHung).toBe(0)
    expect(s.ok).toBe(true)
    expect(run.code).toBe(0)
  } catch (err) {
    err.message += `\n\nchaos.js output:\n${output}`
    throw err
  }
}, 90000)
