'use strict'
// `npm run bench` keeps working: a quick run over the test server compares
// all three systems and prints the table (nothing is written in quick mode).
const { execFile } = require('child_process')
const path = require('path')
const { napiBuild } = require('../scripts/ensure-build')

test('a quick benchmark run prints the comparison table', async () => {
  // The benchmark measures the release build, as users get it, built from
  // the current sources (incremental: quick when nothing changed).
  napiBuild('release')
  const env = { ...process.env, MONGODB_URI: process.env.TEST_MONGODB_URI, MONGOOSE_DISTRIBUTED_LOCK_NATIVE: '' }
  const { stdout } = await new Promise((resolve, reject) => execFile(process.execPath,
    [path.join(__dirname, '..', 'bench', 'run.js'), '--quick', '--no-rust'],
    { env, maxBuffer: 16 * 1024 * 1024 },
    (err, stdout, stderr) => err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve({ stdout })))
  expect(stdout).toContain('| figure | this package (Rust) | mongoose-distributed-lock 0.0.1 (mongoose 6) | mongodb-lock 1.0.1 (mongodb 3.7 driver) |')
  expect(stdout).toMatch(/\| round trips per free acquire \| 1 \(insert\) \| 2 \(findAndModify, insert\) \|/)
  expect(stdout).toMatch(/\| round trips per release \| 1 \(delete\) \|/)
  expect(stdout).toContain('Targets:')
}, 600000)
