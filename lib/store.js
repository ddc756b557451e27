'use strict'
// Finds where a lock's documents live and hands out the native store for it.
//
// In order: the `connection` option (a mongoose Connection), the `uri`
// option, the mongoose the application uses (when it is connected or
// connecting), the MONGODB_URI environment variable, and last the
// application's mongoose once it connects (waiting as mongoose itself buffers
// commands, up to its `bufferTimeoutMS`).
const { LockStore } = require('./native')
const errors = require('./errors')

const DEFAULT_BUFFER_TIMEOUT_MS = 10000
const CONNECTED = 1
const CONNECTING = 2

const stores = new Map() // target key -> LockStore
const targetsByConnection = new WeakMap() // mongoose Connection -> { client, store }

function storeFor (target) {
  const key = JSON.stringify(target)
  let store = stores.get(key)
  if (!store) {
    store = new LockStore(target)
    stores.set(key, store)
  }
  return store
}

function isMongoose (value) {
  return Boolean(value && typeof value === 'object' && typeof value.connect === 'function' &&
    typeof value.Schema === 'function' && value.connection && typeof value.connection.readyState === 'number')
}

/**
 * The mongoose instances this process has loaded: those in the module cache
 * (the application's copy, wherever it lives), or else what
 * `require('mongoose')` resolves to from here, the application's copy when
 * mongoose is installed next to us (we ship none).
 */
let lastFound = []
function loadedMongooses () {
  // Scanning the module cache costs; a connected copy found before is kept.
  if (lastFound.some((m) => m.connection.readyState === CONNECTED)) return lastFound
  const found = []
  const add = (m) => { if (isMongoose(m) && !found.includes(m)) found.push(m) }
  for (const mod of Object.values(require.cache)) {
    if (mod && mod.loaded && /[\\/]mongoose[^\\/]*[\\/](index|lib[\\/]index)\.js$/.test(mod.id)) add(mod.exports)
  }
  if (found.length === 0) {
    try { add(require('mongoose')) } catch (_) { /* the app does not use mongoose */ }
  }
  lastFound = found
  return found
}

/** The store for a mongoose Connection's server, database and credentials. */
function storeOf (connection) {
  const cached = targetsByConnection.get(connection)
  if (cached && cached.client === connection.client) return cached.store
  const store = storeFor(targetOf(connection))
  targetsByConnection.set(connection, { client: connection.client, store })
  return store
}

/** The connection string, database and credentials behind a mongoose Connection. */
function targetOf (connection) {
  const client = connection.client || (typeof connection.getClient === 'function' ? connection.getClient() : undefined)
  const uri = connection._connectionString || (client && client.s && client.s.url) ||
    (connection.host ? `mongodb://${connection.host}:${connection.port || 27017}/` : undefined)
  if (!uri) throw errors.noConnection('the mongoose connection has no connection string')
  const target = { uri }
  const dbName = connection.name || (connection.db && connection.db.databaseName)
  if (dbName) target.dbName = dbName
  const credentials = client && client.options && client.options.credentials
  if (credentials && credentials.username && !/^[^:]+:\/\/[^/@]*@/.test(uri)) {
    // mongoose.connect(uri, { user, pass }): credentials apart from the string.
    target.username = credentials.username
    if (credentials.password) target.password = credentials.password
    if (credentials.source) target.authSource = credentials.source
  }
  return target
}

function bufferTimeout (mongoose) {
  const value = mongoose && typeof mongoose.get === 'function' ? mongoose.get('bufferTimeoutMS') : undefined
  return typeof value === 'number' && value >= 0 ? value : DEFAULT_BUFFER_TIMEOUT_MS
}

/**
 * Resolves with the first of `connections` to be open; rejects after `ms`,
 * or with the error of the connection attempt.
 */
function whenOpen (connections, ms, what) {
  const open = connections.find((c) => c.readyState === CONNECTED)
  if (open) return Promise.resolve(open)
  return new Promise((resolve, reject) => {
    const listeners = connections.map((connection) => {
      const onOpen = () => done(resolve, connection)
      const onError = (err) => done(reject, err)
      connection.on('connected', onOpen)
      connection.on('open', onOpen)
      connection.on('error', onError)
      return () => {
        connection.removeListener('connected', onOpen)
        connection.removeListener('open', onOpen)
        connection.removeListener('error', onError)
      }
    })
    const timer = setTimeout(() => done(reject, errors.noConnection(
      `${what} did not connect within ${ms} ms; call mongoose.connect(), or pass the uri or connection option, or set MONGODB_URI`)), ms)
    function done (settle, value) {
      clearTimeout(timer)
      listeners.forEach((remove) => remove())
      settle(value)
    }
  })
}

/** The store where a lock with these (checked) options keeps its documents. */
async function resolveStore (options) {
  if (options.connection) {
    const connection = options.connection
    return storeOf(await whenOpen([connection], bufferTimeout(connection.base), 'the connection option'))
  }
  if (options.uri) return storeFor({ uri: options.uri })
  const mongooses = loadedMongooses()
  const connected = mongooses.find((m) => m.connection.readyState === CONNECTED)
  if (connected) return storeOf(connected.connection)
  const connecting = mongooses.filter((m) => m.connection.readyState === CONNECTING)
  if (connecting.length === 0 && process.env.MONGODB_URI) return storeFor({ uri: process.env.MONGODB_URI })
  if (mongooses.length === 0) {
    throw errors.noConnection('mongoose is not loaded, and neither the uri nor the connection option nor MONGODB_URI is set')
  }
  // Wait as mongoose buffers its own commands, for whichever copy connects.
  const waitOn = connecting.length ? connecting : mongooses
  const timeout = Math.max(...waitOn.map(bufferTimeout))
  return storeOf(await whenOpen(waitOn.map((m) => m.connection), timeout, 'mongoose'))
}

module.exports = { resolveStore }
