'use strict'
// The three locks the benchmark compares, behind one small interface:
//   open(system, uri, { monitor }) -> { label, make(name, { timeout, pollInterval }), counts(), close() }
//   make(...) -> { acquire(), release(), pollAcquire() }, all Promise<boolean>
//   raw(name, { timeout }) -> the system's own lock object (for the memory figure)
// native: this package; legacy: mongoose-distributed-lock@0.0.1 on mongoose 6;
// mongodb-lock: mongodb-lock@1.0.1 (chilts) on the mongodb 3.x driver, the
// newest it runs on (it needs callbacks and insertOne's `ops`, gone in 4.x).
const path = require('path')

const SYSTEMS = ['native', 'legacy', 'mongodb-lock']
const LABELS = {
  native: 'this package (Rust)',
  legacy: 'mongoose-distributed-lock 0.0.1 (mongoose 6)',
  'mongodb-lock': 'mongodb-lock 1.0.1 (mongodb 3.7 driver)'
}

const promisify = (fn) => new Promise((resolve, reject) => fn((err, value) => err ? reject(err) : resolve(value)))
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

function withDb (uri, db) {
  const m = /^(mongodb(?:\+srv)?:\/\/[^/?]+)\/?[^?]*(\?.*)?$/.exec(uri)
  return `${m[1]}/${db}${m[2] || ''}`
}

/** Command counting through the Node driver's command monitoring. */
function countCommands (client) {
  const counts = {}
  client.on('commandStarted', (e) => { counts[e.commandName] = (counts[e.commandName] || 0) + 1 })
  return counts
}

async function openNative (uri) {
  const Lock = require('..')
  const native = require('../lib/native')
  const dbUri = withDb(uri, 'bench_native')
  return {
    make: (name, opts) => {
      const lock = Lock(name, { ...opts, uri: dbUri })
      return {
        acquire: () => lock.acquire(),
        release: () => lock.release(),
        pollAcquire: () => lock.pollAcquire()
      }
    },
    // As a drop-in application makes it: the same options as 0.0.x's (its
    // connection is found on first use; an idle Lock never looks).
    raw: (name, opts) => Lock(name, opts),
    counts: () => { const c = native.commandCounts(); delete c.hello; return c },
    resetCounts: () => native.resetCommandCounts(),
    close: () => Lock.close()
  }
}

async function openLegacy (uri, { monitor }) {
  const legacyDir = path.dirname(require.resolve('mongoose-distributed-lock-legacy/package.json'))
  const mongoose = require(require.resolve('mongoose', { paths: [legacyDir] }))
  mongoose.set('strictQuery', false)
  await mongoose.connect(withDb(uri, 'bench_legacy'), { monitorCommands: Boolean(monitor) })
  await require('mongoose-distributed-lock-legacy/model').init()
  const counts = monitor ? countCommands(mongoose.connection.getClient()) : {}
  const Lock = require('mongoose-distributed-lock-legacy')
  return {
    make: (name, opts) => {
      const lock = Lock(name, opts)
      return {
        acquire: () => promisify((cb) => lock.acquire(cb)),
        release: () => promisify((cb) => lock.release(cb)),
        pollAcquire: () => promisify((cb) => lock.pollAquire(cb))
      }
    },
    raw: (name, opts) => Lock(name, opts),
    counts: () => ({ ...counts }),
    resetCounts: () => { for (const k of Object.keys(counts)) delete counts[k] },
    close: () => mongoose.disconnect()
  }
}

async function openMongodbLock (uri, { monitor }) {
  const { MongoClient } = require('mongodb3')
  const mongodbLock = require('mongodb-lock')
  const client = await MongoClient.connect(withDb(uri, 'bench_mlock'), {
    useUnifiedTopology: true, monitorCommands: Boolean(monitor)
  })
  const counts = monitor ? countCommands(client) : {}
  const col = client.db('bench_mlock').collection('locks')
  await promisify((cb) => mongodbLock(col, 'index').ensureIndexes(cb))
  return {
    make: (name, { timeout, pollInterval } = {}) => {
      const lock = mongodbLock(col, name, { timeout })
      let code = null
      const acquire = async () => {
        code = await promisify((cb) => lock.acquire(cb))
        return Boolean(code)
      }
      return {
        acquire,
        release: async () => {
          const ok = await promisify((cb) => lock.release(code, cb))
          code = null
          return !ok // as 0.0.1: true when the lock had expired
        },
        // It has no polling of its own: the same loop 0.0.1 runs.
        pollAcquire: async () => {
          const attempts = (timeout || 30000) / (pollInterval || 500) + 2
          for (let i = 1; ; i++) {
            if (await acquire()) return true
            if (i >= attempts) throw new Error('timeout')
            await sleep(pollInterval || 500)
          }
        }
      }
    },
    raw: (name, { timeout } = {}) => mongodbLock(col, name, { timeout }),
    counts: () => ({ ...counts }),
    resetCounts: () => { for (const k of Object.keys(counts)) delete counts[k] },
    close: () => client.close()
  }
}

async function open (system, uri, options = {}) {
  const opened = system === 'native'
    ? await openNative(uri, options)
    : system === 'legacy'
      ? await openLegacy(uri, options)
      : await openMongodbLock(uri, options)
  return { system, label: LABELS[system], ...opened }
}

module.exports = { SYSTEMS, LABELS, open, withDb, sleep }
