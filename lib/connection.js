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
const targetsByConnection = new WeakMap() // mongoose Connection -> target

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
 * The mongoose instances this process has loaded. `require('mongoose')` from
 * here resolves to the application's copy (we ship none); the module cache
 * also finds copies loaded from elsewhere (a nested or aliased install).
 */
function loadedMongooses () {
  const found = []
  const add = (m) => { if (isMongoose(m) && !found.includes(m)) found.push(m) }
  try { add(require('mongoose')) } catch (_) { /* the app does not use mongoose */ }
  for (const mod of Object.values(require.cache)) {
    if (mod && mod.loaded && /[\\/]mongoose[^\\/]*[\\/](index|lib[\\/]index)\.js$/.test(mod.id)) add(mod.exports)
  }
  return found
}

/** The application's mongoose: a connected one first, then a connecting one. */
function appMongoose () {
  const all = loadedMongooses()
  return all.find((m) => m.connection.readyState === CONNECTED) ||
    all.find((m) => m.connection.readyState === CONNECTING) ||
    all[0]
}

/** The connection string, database and credentials behind a mongoose Connection. */
function targetOf (connection) {
  const cached = targetsByConnection.get(connection)
  if (cached && cached.client === connection.client) return cached.target
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
  targetsByConnection.set(connection, { client: connection.client, target })
  return target
}

function bufferTimeout (mongoose) {
  const value = mongoose && typeof mongoose.get === 'function' ? mongoose.get('bufferTimeoutMS') : undefined
  return typeof value === 'number' && value >= 0 ? value : DEFAULT_BUFFER_TIMEOUT_MS
}

/** Resolves once `connection` is open; rejects after `ms` or on its error. */
function whenOpen (connection, ms, what) {
  if (connection.readyState === CONNECTED) return Promise.resolve(connection)
  return new Promise((resolve, reject) => {
    const done = (fn, value) => {
      clearTimeout(timer)
      connection.removeListener('connected', onOpen)
      connection.removeListener('open', onOpen)
      connection.removeListener('error', onError)
      fn(value)
    }
    const onOpen = () => done(resolve, connection)
    const onError = (err) => done(reject, err)
    const timer = setTimeout(() => done(reject, errors.noConnection(
      `${what} did not connect within ${ms} ms; call mongoose.connect(), or pass the uri or connection option, or set MONGODB_URI`)), ms)
    connection.on('connected', onOpen)
    connection.on('open', onOpen)
    connection.on('error', onError)
  })
}

/** Where a lock with these (checked) options keeps its documents. */
async function resolveTarget (options) {
  if (options.connection) {
    const connection = await whenOpen(options.connection, bufferTimeout(options.connection.base), 'the connection option')
    return targetOf(connection)
  }
  if (options.uri) return { uri: options.uri }
  const mongoose = appMongoose()
  const state = mongoose && mongoose.connection.readyState
  if (state === CONNECTED) return targetOf(mongoose.connection)
  if (state !== CONNECTING && process.env.MONGODB_URI) return { uri: process.env.MONGODB_URI }
  if (!mongoose) {
    throw errors.noConnection('no connection: mongoose is not loaded, and neither the uri nor the connection option nor MONGODB_URI is set')
  }
  return targetOf(await whenOpen(mongoose.connection, bufferTimeout(mongoose), 'mongoose'))
}

async function resolveStore (options) {
  return storeFor(await resolveTarget(options))
}

module.exports = { resolveStore, resolveTarget, targetOf, appMongoose }
