'use strict'
// Runs the application fixture (fixtures/matrix-app.js) once per case, each
// in a process of its own that must exit on its own, a few at a time: the
// connection matrix (connection-matrix.test.js) and the SCRAM matrix
// (scram.test.js) use it.
const { spawn } = require('child_process')
const path = require('path')

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'matrix-app.js')

/**
 * Runs one case: resolves with { out, code, signal, ms, hung, stdout, stderr }.
 * A process that has not exited within `exitBoundMs` is killed (`hung`).
 * `env` is added to the child's environment.
 */
function runCase (m, spec, { exitBoundMs, env = {} }) {
  return new Promise((resolve) => {
    const begun = Date.now()
    const child = spawn(process.execPath, [FIXTURE, m, JSON.stringify(spec)], {
      // No MONGODB_URI: a lock that lost the app's connection must not find another.
      env: { ...process.env, MONGODB_URI: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stdout = ''
    let stderr = ''
    let hung = false
    child.stdout.on('data', (d) => { stdout += d })
    child.stderr.on('data', (d) => { stderr += d })
    const timer = setTimeout(() => { hung = true; child.kill('SIGKILL') }, exitBoundMs)
    const finish = (code, signal) => {
      clearTimeout(timer)
      let out
      const line = stdout.trim().split('\n').pop()
      try { out = line ? JSON.parse(line) : undefined } catch (_) { out = undefined }
      resolve({ out, code, signal, ms: Date.now() - begun, hung, stdout, stderr })
    }
    child.once('error', (err) => { stderr += String(err.stack); finish(null, null) })
    child.once('exit', finish)
  })
}

/** Runs `jobs` (functions returning promises), `limit` at once, in order; returns their promises. */
function pool (jobs, limit) {
  let next = 0
  const settlers = jobs.map(() => {
    let settle
    const promise = new Promise((resolve) => { settle = resolve })
    return { promise, settle }
  })
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++
      settlers[i].settle(await jobs[i]())
    }
  }
  for (let i = 0; i < Math.min(limit, jobs.length); i++) worker()
  return settlers.map((s) => s.promise)
}

/** A case's cell in a summary table: 'ok', or the lock's error code, or what went wrong. */
function outcome (r) {
  if (r.hung) return r.out ? 'no exit' : 'hang'
  if (!r.out) return `exit ${r.code}`
  if (r.out.crash) return `crash ${r.out.crash.code || ''}`.trim()
  const lock = r.out.lock
  if (lock.error) return String(lock.error.code || lock.error.name)
  if (lock.acquired === true) return 'ok'
  return String(lock.acquired)
}

/** Prints a table: rows of [label, ...cells] under `header`. */
function printTable (title, header, rows) {
  const all = [header, ...rows]
  const widths = header.map((_, i) => Math.max(...all.map((row) => row[i].length)))
  const line = (row) => `| ${row.map((cell, i) => cell.padEnd(widths[i])).join(' | ')} |`
  const text = [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)]
  console.log(`${title}\n${text.join('\n')}`)
}

/**
 * Checks a case's result: the process exited on its own (within
 * `exitBoundMs`), printed its result without a crash, exit 0, then
 * `check(out, r)`. A failure carries the case's output and last log lines.
 */
function verify (r, check, { exitBoundMs }) {
  try {
    if (r.hung) throw new Error(`the case process did not exit within ${exitBoundMs} ms${r.out ? ' (it had printed its result)' : ''}`)
    expect(r.out).toBeDefined()
    expect(r.out.crash).toBeUndefined()
    expect(r.code).toBe(0)
    check(r.out, r)
  } catch (err) {
    err.message += `\n\ncase output: ${JSON.stringify(r.out || null)}\nexit: ${r.code}${r.signal ? ` ${r.signal}` : ''}` +
      ` after ${r.ms} ms` +
      `${r.stderr ? `\nstderr (last lines): ${lastLines(r.stderr)}` : ''}`
    throw err
  }
}

function lastLines (text, n = 6) {
  return text.trim().split('\n').filter((l) => !/DeprecationWarning|--trace-(deprecation|warnings)/.test(l)).slice(-n).join('\n')
}

/**
 * The lock failed within `ms` with a message matching `message` and stored
 * nothing: with `code`, exactly that code; without, a stable one (an ERR_
 * code, or the server's number).
 */
const lockFails = ({ code, message, ms }) => (out) => {
  expect(out.lock.acquired).toBeUndefined()
  expect(out.lock.error).toBeDefined()
  if (code !== undefined) expect(out.lock.error.code).toEqual(code)
  else expect(out.lock.error.code).toEqual(typeof out.lock.error.code === 'number' ? expect.any(Number) : expect.stringMatching(/^ERR_/))
  expect(out.lock.error.message).toMatch(message)
  expect(out.lock.error.ms).toBeLessThan(ms)
  expect(out.lock.stored).toEqual([])
  expect(out.disconnected).toBe(true)
}

/** Every check. */
const both = (...checks) => (out) => checks.forEach((check) => check(out))

/** The app connected (and its query worked, when it made one). */
const appWorks = (out) => {
  expect(out.app.error).toBeUndefined()
  expect(out.app.connected).toBe(true)
  if (out.app.query !== undefined) expect(out.app.query).toBe('ok')
}

module.exports = { runCase, pool, outcome, printTable, verify, lockFails, both, appWorks, FIXTURE }
