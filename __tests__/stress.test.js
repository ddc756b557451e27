'use strict'
// Mutual exclusion under contention: 8 processes loop on one name and check
// with O_EXCL marker files that no two hold it at once. Counts are modest
// here; `npm run stress` runs bigger ones.
const { startStress } = require('../scripts/stress')
const { uriFor, freshDb } = require('./support/helpers')

const ITERATIONS = 15

test('8 processes of the new package: 0 overlaps, every process finishes', async () => {
  const total = await startStress({ uri: uriFor(freshDb('stress')), processes: 8, iterations: ITERATIONS }).done
  expect(total.overlaps).toBe(0)
  expect(total.errors).toBe(0)
  expect(total.acquisitions + total.pollTimeouts).toBe(8 * ITERATIONS)
  expect(total.acquisitions).toBeGreaterThan(0)
  console.log(`stress (native): ${JSON.stringify(total)}`)
}, 180000)

test('mixed fleet, 4 on 0.0.1 and 4 on the new package: 0 overlaps, every process finishes', async () => {
  const total = await startStress({ uri: uriFor(freshDb('stress_mixed')), processes: 8, iterations: ITERATIONS, legacy: 4 }).done
  expect(total.overlaps).toBe(0)
  expect(total.errors).toBe(0)
  expect(total.acquisitions + total.pollTimeouts).toBe(8 * ITERATIONS)
  console.log(`stress (mixed): ${JSON.stringify(total)}`)
}, 180000)
