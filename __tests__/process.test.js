'use strict'
// Process life: no stray handles keep Node alive, and a panic in the Rust
// core becomes an Error instead of killing the process.
const Lock = require('..')
const native = require('../lib/native')
const { uriFor, freshDb, runFixture } = require('./support/helpers')

const uri = uriFor(freshDb('process'))
afterAll(() => Lock.close())

test.each(['released', 'held', 'callbacks'])('the process exits on its own when done (%s)', async (scenario) => {
  const started = Date.now()
  const { code, signal, stdout } = await runFixture('exit.js', [uri, scenario], { timeoutMs: 20000 })
  expect({ code, signal }).toEqual({ code: 0, signal: null })
  expect(stdout).toContain('done true')
  // Not held up by the driver's monitors or pooled connections.
  expect(Date.now() - started).toBeLessThan(15000)
})

test('works in worker_threads; a worker exiting mid-call disturbs nothing', async () => {
  const { code, signal, stdout, stderr } = await runFixture('threads.js', [uri], { timeoutMs: 30000 })
  expect({ code, signal, stderr: stderr.replace(/\(node:\d+\) .*\n?/g, '') }).toEqual({ code: 0, signal: null, stderr: '' })
  const out = JSON.parse(stdout.trim())
  expect(out.mainBefore).toBe(true)
  expect(out.workers[0]).toEqual([{ id: 1, own: true }, { id: 1, done: true }])
  expect(out.workers[1]).toEqual([{ id: 2, own: true }, { id: 2, done: true }])
  expect(out.terminatedExit).toBe(1)
  expect(out.mainRelease).toBe(false)
  expect(out.mainAfter).toBe(true)
  expect(out.secondWave).toEqual(['busy', { id: 4, own: true }, { id: 4, done: true }])
})

const debugOnly = native.isDebugBuild() ? test : test.skip
debugOnly('a panic in the core rejects the Promise and reaches the callback; Node lives on', async () => {
  const error = await Lock('__mdl_debug_panic__', { uri }).acquire().catch((e) => e)
  expect(error).toBeInstanceOf(Error)
  expect(error.code).toBe('ERR_INTERNAL')
  expect(error.message).toContain('panic in the native core')
  const viaCallback = await new Promise((resolve) => Lock('__mdl_debug_panic__', { uri }).acquire((err, ok) => resolve({ err, ok })))
  expect(viaCallback.err.code).toBe('ERR_INTERNAL')
  expect(viaCallback.ok).toBeUndefined()
  // The runtime still works afterwards.
  const lock = Lock('after-panic', { uri })
  expect(await lock.acquire()).toBe(true)
  expect(await lock.release()).toBe(false)
})

test('Lock.close() closes the clients, and later calls connect again', async () => {
  const lock = Lock('close-reopen', { uri })
  expect(await lock.acquire()).toBe(true)
  await Lock.close()
  expect(await lock.release()).toBe(false)
  await new Promise((resolve, reject) => Lock.close((err) => err ? reject(err) : resolve()))
})
