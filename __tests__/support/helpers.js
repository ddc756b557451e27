'use strict'
// Shared by the test files: the test server's address, a raw driver client
// to look at documents, and child processes that run fixtures.
const { fork, spawn } = require('child_process')
const path = require('path')
const crypto = require('crypto')

const BASE_URI = process.env.TEST_MONGODB_URI
if (!BASE_URI) throw new Error('TEST_MONGODB_URI is not set: run the tests with `npm test`')

/** The test server's connection string with database `db`. */
function uriFor (db) {
  const m = /^(mongodb(?:\+srv)?:\/\/[^/?]+)\/?([^?]*)(\?.*)?$/.exec(BASE_URI)
  if (!m) throw new Error('cannot parse TEST_MONGODB_URI')
  return `${m[1]}/${db}${m[3] || ''}`
}

/** A database name of its own for one test file (or one test). */
function freshDb (prefix) {
  return `${prefix}_${crypto.randomBytes(4).toString('hex')}`
}

/** The Node driver that comes with mongoose 8, to inspect what is stored. */
async function rawDb (db) {
  const { MongoClient } = require('mongoose8').mongo
  const client = new MongoClient(uriFor(db))
  await client.connect()
  return { client, db: client.db(db), close: () => client.close() }
}

/**
 * A database of its own for one test file: `name` and `uri` at once, `raw`
 * (a driver handle) from beforeAll; dropped, and every lock client closed, in afterAll.
 */
function useTestDatabase (prefix) {
  const ctx = { name: freshDb(prefix) }
  ctx.uri = uriFor(ctx.name)
  beforeAll(async () => { ctx.raw = await rawDb(ctx.name) })
  afterAll(async () => {
    await ctx.raw.db.dropDatabase()
    await ctx.raw.close()
    await require('../..').close()
  })
  return ctx
}

/** Runs `fn({ uri, db, locks })` on a database of its own, dropped afterwards. */
async function withOwnDb (prefix, fn) {
  const name = freshDb(prefix)
  const own = await rawDb(name)
  try {
    return await fn({ uri: uriFor(name), db: own.db, locks: own.db.collection('distributedlocks') })
  } finally {
    await own.db.dropDatabase()
    await own.close()
  }
}

/** Runs a fixture in a child process; resolves with its messages and exit code. */
function runFixture (file, args = [], { env = {}, timeoutMs = 60000, onMessage } = {}) {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, '..', 'fixtures', file), args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc']
    })
    const messages = []
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => { stdout += d })
    child.stderr.on('data', (d) => { stderr += d })
    child.on('message', (m) => { messages.push(m); if (onMessage) onMessage(m, child) })
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${file} timed out; stderr: ${stderr}`)) }, timeoutMs)
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, messages, stdout, stderr })
    })
  })
}

/**
 * Starts a fixture and returns the child; messages arrive on child.on('message').
 * With `faketime` ('+10m', say) the child runs under libfaketime.
 */
function startFixture (file, args = [], { env = {}, faketime } = {}) {
  const script = path.join(__dirname, '..', 'fixtures', file)
  const options = { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }
  if (!faketime) return fork(script, args, options)
  return spawn('faketime', ['-f', faketime, process.execPath, script, ...args], options)
}

/** Resolves with the next message from `child` that satisfies `test`. */
function nextMessage (child, test = () => true, timeoutMs = 30000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.off('message', on); reject(new Error('no such message in time')) }, timeoutMs)
    const on = (m) => { if (test(m)) { clearTimeout(timer); child.off('message', on); resolve(m) } }
    child.on('message', on)
  })
}

/** Waits until `predicate()` (sync or async) is truthy, polling; no fixed sleeps. */
async function waitFor (predicate, { timeoutMs = 20000, everyMs = 20 } = {}) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await predicate()
    if (value) return value
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}

module.exports = { BASE_URI, uriFor, freshDb, rawDb, useTestDatabase, withOwnDb, runFixture, startFixture, nextMessage, waitFor }

/** A lock-worker process (see fixtures/lock-worker.js) with a call() helper. */
async function lockWorker (impl, uri, { faketime, env } = {}) {
  const child = startFixture('lock-worker.js', [impl, uri], { faketime, env })
  const ready = await nextMessage(child, (m) => 'ready' in m, 60000)
  if (!ready.ready) throw new Error(`${impl} worker failed: ${ready.message}`)
  let ids = 0
  const exited = new Promise((resolve) => child.once('exit', resolve))
  return {
    impl,
    indexError: ready.indexError,
    call (cmd, key, name = key, options) {
      const id = ++ids
      const reply = nextMessage(child, (m) => m.id === id, 60000)
      child.send({ id, cmd, key, name, options })
      return reply
    },
    async exit () {
      if (child.connected) child.send({ cmd: 'exit' })
      await exited
    },
    child
  }
}

module.exports.lockWorker = lockWorker
