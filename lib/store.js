'use strict'
// Resolves where a lock's documents live, and hands out the store for it: a
// native LockStore (one pooled client per set of connection settings) that
// follows the life of the connection it came from.
//
// Where, in order: the `connection` option (a mongoose Connection), the `uri`
// option, the mongoose the application uses (when it is connected or
// connecting), the MONGODB_URI environment variable, and last the
// application's mongoose once it connects (waiting as mongoose itself buffers
// commands, up to its `bufferTimeoutMS`).
//
// A store made from a mongoose connection connects exactly as that
// connection does (lib/client-spec.js reads the settings its driver
// resolved), and closes when the last connection using it closes
// (`mongoose.disconnect()`, `connection.close()`): waits on it then end with
// ERR_CONNECTION_CLOSED, and Node can exit. `Lock.close()` closes them all.
const { LockStore } = require('./native')
const errors = require('./errors')
const wait = require('./wait')
const { log, notes } = require('./log')
const { describeConnection, specKey, withDefaultCas } = require('./client-spec')

const HOST = require('os').hostname()
const net = require('net')
/**
 * The environment variable naming the IP address this process's wake-up
 * listeners listen on and give to waiters, so that waiters on other hosts
 * are woken too (see docs/waiting.md); unset: loopback, this host only.
 */
const WAKE_UP_ADDRESS_ENV = 'MONGOOSE_DISTRIBUTED_LOCK_WAKE_UP_ADDRESS'

/** Whether `ip` is an address of this host a listener can bind and others reach. */
function isLocalAddress (ip) {
  if (/^127\./.test(ip) || ip === '::1') return true
  const ours = Object.values(require('os').networkInterfaces()).flat().map((i) => i && i.address)
  return ours.includes(ip)
}

/**
 * The wake-up address from the environment, checked; undefined when unset.
 * Not an IP, an unspecified address (0.0.0.0, ::: waiters elsewhere could
 * not use it) or an address of another host: ERR_INVALID_OPTION on every
 * lock call, rather than wake-ups silently off.
 */
function wakeUpAddress () {
  const value = process.env[WAKE_UP_ADDRESS_ENV]
  if (value === undefined || value === '') return undefined
  const shown = JSON.stringify(value.slice(0, 60))
  if (!net.isIP(value)) throw errors.invalidOption(`${WAKE_UP_ADDRESS_ENV} must be an IP address of this host, not ${shown}`)
  if (/^(0\.0\.0\.0|::|0:0:0:0:0:0:0:0)$/.test(value)) throw errors.invalidOption(`${WAKE_UP_ADDRESS_ENV} must be one IP address of this host that others can reach, not ${shown} (every interface)`)
  if (!isLocalAddress(value)) throw errors.invalidOption(`${WAKE_UP_ADDRESS_ENV} must be an IP address of this host, and ${shown} is none of this host's addresses`)
  return value
}
const DEFAULT_BUFFER_TIMEOUT_MS = 10000
const CONNECTED = 1
const CONNECTING = 2

/** Hands the core's log notes over once a reply came. */
const noting = (reply) => { notes(); return reply }

/** One set of connection settings, a database and a collection. */
class Store {
  constructor (target, key, clientKey) {
    this.key = key
    this.clientKey = clientKey
    /** Stores of one collection share local handoff, whatever their other options. */
    this.handoffKey = [clientKey, target.dbName || '', target.collection].join('\u0000')
    /** The history collection, when history is on. */
    this.history = target.history
    this.native = new LockStore(JSON.stringify(target))
    this.closed = false
    /** The mongoose connections this store serves; it closes with the last. */
    this.connections = new Set()
  }

  acquire (name, timeout, own, abortSwitch) {
    return this.native.acquire(name, timeout, own, abortSwitch).then(noting)
  }

  forceAcquire (name, timeout) {
    return this.native.forceAcquire(name, timeout).then(noting)
  }

  release (lockId, name, expire, retry) {
    return this.native.release(lockId, name, expire, retry).then(noting)
  }

  /** `bound`: ms the call may take at most (below the operation timeout). */
  extend (lockId, name, expire, ms, bound) {
    return this.native.extend(lockId, name, expire, ms, bound === undefined ? undefined : Math.ceil(bound)).then(noting)
  }

  ensureIndexes () {
    return this.native.ensureIndexes().then(noting)
  }

  /** Fair waiting: join the queue of `name`, check the head, stay registered, leave. */
  enqueue (name, leaseMs) {
    return this.native.enqueue(name, leaseMs).then(noting)
  }

  isHead (name, ticket) {
    return this.native.isHead(name, ticket).then(noting)
  }

  refresh (ticket, leaseMs) {
    return this.native.refresh(ticket, leaseMs).then(noting)
  }

  leave (ticket) {
    return this.native.leave(ticket)
  }

  /**
   * Waits for the holding `at` (`{ id, host, wakeUp }`) to end in the
   * process holding it: `'gone'`, `'broken'`, `'unreachable'`, `'closed'`
   * or `'aborted'` (the abort switch `abortSwitch` was flipped).
   */
  watch (at, abortSwitch) {
    return this.native.watch(at, abortSwitch)
  }

  /** The holding `lockId` of this process ended outside a release: its watchers try now. */
  ended (lockId) {
    return this.native.ended(lockId)
  }

  /** Every lock document, by name, at most `limit` (operators). */
  list (limit) {
    return this.native.list(limit).then(noting)
  }

  /** Removes the lock document `lockId` of `name`, by its exact `_id` (operators). */
  remove (name, lockId) {
    return this.native.remove(name, lockId).then(noting)
  }

  /** Who holds `name` now (one round trip): `{ holder: { lockId, … } | undefined, error }`. */
  status (name) {
    return this.native.status(name).then(noting)
  }

  /** History writes: started, never awaited by a lock call; failures only logged. */
  recordStart (lockId, name, acquired) {
    return this.native.recordStart(lockId, name, acquired)
  }

  recordEnd (lockId, name, how, ended) {
    return this.native.recordEnd(lockId, name, how, ended)
  }

  /**
   * Closes this store: pending waits end with ERR_CONNECTION_CLOSED. The
   * native client closes with the last open store that uses it.
   */
  close () {
    if (this.closed) return Promise.resolve()
    this.closed = true
    if (stores.get(this.key) === this) stores.delete(this.key)
    wait.wakeAll(this)
    const sharing = storesByClient.get(this.clientKey)
    if (sharing) sharing.delete(this)
    if (sharing && sharing.size > 0) return Promise.resolve()
    storesByClient.delete(this.clientKey)
    return this.native.close()
  }
}

const stores = new Map() // settings key (no secret in it) -> Store
const storesByClient = new Map() // client settings key -> Set<Store> sharing one native client
const byConnection = new WeakMap() // mongoose Connection -> { client, store }
const watched = new WeakSet() // connections whose 'close' we listen to

/**
 * The connection settings a store uses, for the debug log: hosts, TLS,
 * mechanism and the like; secrets (passwords, keys, certificates, the
 * connection string itself) only as "(set)".
 */
function settingsForLog (target) {
  const spec = target.client
  // Every PEM (keys, the CAs named and Node's default CAs) and every password.
  const secret = (key) => /Pem$|password/i.test(key) || key === 'uri' || key === 'authMechanismProperties'
  const shown = Object.entries(spec)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${secret(key) ? '(set)' : Array.isArray(value) ? value.join(',') : value}`)
  return `${shown.join(' ')} db=${target.dbName || '(from the connection string)'}`
}

/** What tells stores of one connection apart: the lock's own store options. */
function optionsKey (options) {
  return JSON.stringify([options.collection, options.ttl, options.history || null, options.owner || null, options.writeConcern || null, Boolean(options.fencing), Boolean(options.fair), options.wakeUps !== false])
}

/** The store for `where` ({ client, dbName }) and the lock's collection options. */
function storeFor (where, options) {
  const target = {
    ...where,
    collection: options.collection,
    ttl: options.ttl,
    history: options.history,
    holder: { host: HOST, pid: process.pid, owner: options.owner },
    writeConcern: options.writeConcern,
    fencing: options.fencing,
    fair: options.fair,
    wakeUps: options.wakeUps !== false,
    wakeUpAddress: options.wakeUps !== false ? wakeUpAddress() : undefined
  }
  const clientKey = specKey(target.client)
  const key = [clientKey, target.dbName || '', optionsKey(options), target.wakeUpAddress || ''].join('\u0000')
  let store = stores.get(key)
  if (!store) {
    if (log.enabled) log('store for %s: %s', target.collection, settingsForLog(target))
    store = new Store(target, key, clientKey)
    stores.set(key, store)
    if (!storesByClient.has(clientKey)) storesByClient.set(clientKey, new Set())
    storesByClient.get(clientKey).add(store)
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

/**
 * The store for an open mongoose Connection, with the settings its driver
 * resolved, and the lock's collection options.
 */
function storeOf (connection, options) {
  let stores = byConnection.get(connection)
  if (stores && stores.client !== connection.client) {
    forget(connection)
    stores = undefined
  }
  if (!stores) byConnection.set(connection, (stores = { client: connection.client, where: null, byOptions: new Map() }))
  const cached = stores.byOptions.get(optionsKey(options))
  if (cached && !cached.closed) return cached
  if (!stores.where) {
    const { spec, dbName, refused } = describeConnection(connection)
    if (refused.length) throw errors.unsupportedConnectionOption(refused)
    stores.where = { client: spec, dbName }
  }
  const store = storeFor(stores.where, options)
  store.connections.add(connection)
  stores.byOptions.set(optionsKey(options), store)
  if (!watched.has(connection)) {
    watched.add(connection)
    connection.on('close', () => forget(connection))
  }
  return store
}

/** A connection closed: its stores close once no open connection uses them. */
function forget (connection) {
  const stores = byConnection.get(connection)
  if (!stores) return
  byConnection.delete(connection)
  for (const store of stores.byOptions.values()) {
    store.connections.delete(connection)
    if (store.connections.size === 0) store.close().catch(() => { /* closing never fails the app */ })
  }
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
      // The application's connection failed: say so with a stable code (its
      // own error, which may carry no code at all, is the cause).
      const onError = (err) => done(reject, errors.noConnection(
        `${what} failed to connect: ${err && err.message}`, err))
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
  const cached = cachedStore(options)
  if (cached) return cached
  if (options.connection) {
    const connection = options.connection
    return remember(options, storeOf(await whenOpen([connection], bufferTimeout(connection.base), 'the connection option'), options), connection)
  }
  if (options.uri) return remember(options, storeFor({ client: withDefaultCas({ uri: options.uri }) }, options), null)
  const mongooses = loadedMongooses()
  const connected = mongooses.find((m) => m.connection.readyState === CONNECTED)
  if (connected) return remember(options, storeOf(connected.connection, options), connected.connection)
  const connecting = mongooses.filter((m) => m.connection.readyState === CONNECTING)
  // Not remembered: once mongoose connects, its connection is the one to use.
  if (connecting.length === 0 && process.env.MONGODB_URI) return storeFor({ client: withDefaultCas({ uri: process.env.MONGODB_URI }) }, options)
  if (mongooses.length === 0) {
    throw errors.noConnection('mongoose is not loaded, and neither the uri nor the connection option nor MONGODB_URI is set')
  }
  // Wait as mongoose buffers its own commands, for whichever copy connects.
  const waitOn = connecting.length ? connecting : mongooses
  const timeout = Math.max(...waitOn.map(bufferTimeout))
  const connection = await whenOpen(waitOn.map((m) => m.connection), timeout, 'mongoose')
  return remember(options, storeOf(connection, options), connection)
}

/**
 * The store for `options` now, through a mongoose connection the
 * application has open, without waiting or opening a client of the lock's
 * own: null otherwise. For a keep-alive whose connection closed and came
 * back (mongoose reconnected).
 */
function storeNow (options) {
  const cached = cachedStore(options)
  if (cached) return cached
  try {
    if (options.connection) {
      const connection = options.connection
      return connection.readyState === CONNECTED ? remember(options, storeOf(connection, options), connection) : null
    }
    // A uri's store is not opened again here: after Lock.close(), a
    // keep-alive opens no client (the application is shutting down).
    if (options.uri) return null
    const connected = loadedMongooses().find((m) => m.connection.readyState === CONNECTED)
    return connected ? remember(options, storeOf(connected.connection, options), connected.connection) : null
  } catch (_) {
    return null // the next wait or call says why
  }
}

// The store each Lock settings object (lib/settings.js: shared, frozen)
// resolved to last, and through which connection: every acquire asks, and
// most find the answer here, without the lookup's keys and hashing.
const resolved = new WeakMap()

function remember (options, store, connection) {
  resolved.set(options, { store, connection, client: connection && connection.client })
  return store
}

/**
 * The store `options` resolved to last, while it is still the answer: not
 * closed, and its mongoose connection still open on the same client (a
 * reconnect replaces the client). Else null: resolve it again.
 */
function cachedStore (options) {
  const entry = resolved.get(options)
  if (!entry || entry.store.closed) return null
  const { connection } = entry
  if (connection && (connection.readyState !== CONNECTED || connection.client !== entry.client)) return null
  return entry.store
}

/** Closes every store (and the native clients behind them). */
async function closeAll () {
  await Promise.all([...stores.values()].map((store) => store.close()))
}

module.exports = { resolveStore, cachedStore, storeNow, closeAll }
