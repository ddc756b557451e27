'use strict'
// `npm run demo`, what a new user sees first: four worker processes wait in
// line (fair: true) for one lock with pollInterval 5000, and each turn comes
// from the release before it (a wake-up), not from a poll.
const { execFile } = require('child_process')
const path = require('path')
const { uriFor, freshDb } = require('./support/helpers')

const WORKERS = 4
const ROUNDS = 3
const POLL_INTERVAL = 5000 // the demo's

test('the demo: every hold reported, no two at once, turns in arrival order, every handoff from a wake-up', async () => {
  const env = { ...process.env, MONGODB_URI: uriFor(freshDb('demo')), DEMO_WORKERS: String(WORKERS), DEMO_ROUNDS: String(ROUNDS) }
  const { code, stdout, stderr } = await new Promise((resolve) => execFile(process.execPath,
    [path.join(__dirname, '..', 'scripts', 'demo.js')], { env },
    (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stdout, stderr })))
  if (code !== 0) console.log(stdout, stderr)
  expect(code).toBe(0)
  expect(stdout).toContain(`pollInterval: ${POLL_INTERVAL}`)

  const holds = [...stdout.matchAll(/worker (\d+) holds the lock(?: {2}\((\d+) ms after worker (\d+) released it\))?/g)]
    .map((m) => ({ worker: m[1], handoff: m[2] === undefined ? null : Number(m[2]), after: m[3] }))
  // Every hold reported, each worker's rounds.
  expect(holds).toHaveLength(WORKERS * ROUNDS)
  for (let w = 1; w <= WORKERS; w++) expect(holds.filter((h) => h.worker === String(w))).toHaveLength(ROUNDS)
  // Each hold after the first follows the release of the one before it.
  for (let i = 1; i < holds.length; i++) {
    expect(holds[i].after).toBe(holds[i - 1].worker)
    // Woken by the release: polling would bring a waiter back at a random
    // point of its 5 s interval, past half of it as often as not.
    expect(holds[i].handoff).toBeLessThan(POLL_INTERVAL / 2)
  }
  // The demo's own checks: marker files, hold intervals, arrival order.
  expect(stdout).toContain('OK: no two workers held the lock at once, and every worker\'s turn came in arrival order')
  expect(stdout).toMatch(new RegExp(`${WORKERS * ROUNDS} holds by ${WORKERS} workers in [\\d.]+ s; handoffs: median \\d+ ms, longest \\d+ ms`))
}, 120000)
