'use strict'
// The "client spec": how the application's mongoose connection really reaches
// MongoDB, read from the settings its Node driver RESOLVED (URI and options
// object merged, defaults applied, files read), as one flat object the native
// core turns into its own client options; plus the settings the native client
// cannot reproduce ("refused"), by the name the user writes them with.
//
// Where each driver keeps what it resolved:
//   mongodb 4.x-7.x (mongoose 6-9): client.options (4.x/5.x: a frozen copy on
//     each read, TLS files already read into ca/cert/key; 6.x/7.x: the live
//     object, paths kept, ca/cert/key filled with Buffers at connect()).
//   mongodb 3.x (mongoose 5): client.s.options once connect() has parsed the
//     URI, turned into socket options as every 3.x topology does it (socketOptions
//     over top-level keys, sslCA -> ca, connectTimeoutMS -> connectionTimeout…);
//     the write concern in client.s.writeConcern.
//   mongodb 2.2 (mongoose 4): the topology's clonedOptions (connection.db.s.topology),
//     the credentials its pool authenticated with (authProviders[*].authStore),
//     connection.db.writeConcern; when the connection never opened, what mongoose
//     kept (connection.host/port/user/pass, connection.options or, with
//     useMongoClient, _connectionOptions: the URI's own options are lost then).
// What the driver does, not what the option names promise: mongodb 2.2 and the
// 3.x legacy topology check server certificates only with sslValidate: true;
// the 3.x legacy URL parser (mongoose 5's default) ignores tls and tlsCAFile,
// so such an application, and its lock, talk in plaintext.
//
// Ignored on purpose (they do not change whom the lock talks to, nor how
// securely; or the lock owns them):
//   - readPreference (tags, maxStalenessSeconds, hedge), readConcern: the lock
//     reads from the primary.
//   - family, hints, autoSelectFamily*, keepAlive*, noDelay.
//   - BSON and result options (promote*, bsonRegExp, raw, useBigInt64, checkKeys,
//     serializeFunctions, ignoreUndefined, fieldsAsRaw, enableUtf8Validation,
//     forceServerObjectId, pkFactory), monitorCommands, driverInfo, logger,
//     loggerLevel, mongodbLog*, promiseLibrary.
//   - localThresholdMS, minPoolSize, maxConnecting, waitQueueTimeoutMS,
//     minHeartbeatFrequencyMS, serverMonitoringMode, timeoutMS,
//     maxAdaptiveRetries, enableOverloadRetargeting, runtimeAdapters.
//   - autoEncryption: the lock's collection is not encrypted.
//   - TLS options that do not make a connection less secure, or that act on
//     the server side: ALPNProtocols, session, requestOCSP, enableTrace,
//     SNICallback, requestCert. (Cipher and protocol tuning, ciphers,
//     ecdhCurve, minDHSize and secureProtocol, is refused: the native client
//     cannot narrow its OpenSSL the same way.)
//   - the ALLOWED_HOSTS mechanism property (used only by an OIDC human
//     callback, which is refused).
//   - every TLS setting while TLS is off: the application does not use them either.
//   - compressors other than zlib, snappy and zstd; 'none'.
//   - a zero connectTimeoutMS, socketTimeoutMS, serverSelectionTimeoutMS,
//     heartbeatFrequencyMS, maxPoolSize, maxIdleTimeMS, srvMaxHosts or
//     wtimeout: Node's "no limit"; the native client's default applies. A zero
//     zlibCompressionLevel: zlib's default level, as in Node.
//   - mongodb 2.2: retryWrites/retryReads (the driver has no retries);
//     serverSelectionTimeoutMS, heartbeatFrequencyMS and maxIdleTimeMS of
//     mongodb 2.2 and of the 3.x legacy topology (they do not use them).
// Secrets (passwords, PEM texts, mechanism properties) are never logged here.
const crypto = require('crypto')
const fs = require('fs')
const errors = require('./errors')

const COMPRESSORS = ['zlib', 'snappy', 'zstd']
const REFUSED_MECHANISMS = ['GSSAPI', 'MONGODB-AWS', 'MONGODB-CR']
// The mechanism properties the native client takes for MONGODB-OIDC.
const OIDC_PROPERTIES = ['ENVIRONMENT', 'TOKEN_RESOURCE']
const SKIPPED_PROPERTIES = ['ALLOWED_HOSTS']
// mongodb 3.x names its mechanisms in lower case.
const MECHANISM_NAMES = {
  default: undefined,
  plain: 'PLAIN',
  gssapi: 'GSSAPI',
  sspi: 'GSSAPI',
  mongocr: 'MONGODB-CR',
  x509: 'MONGODB-X509',
  'mongodb-aws': 'MONGODB-AWS',
  'scram-sha-1': 'SCRAM-SHA-1',
  'scram-sha-256': 'SCRAM-SHA-256'
}

// mongodb 4.x-7.x: every key of client.options this module knows. A key not
// listed whose name looks security-related is refused (a newer driver's
// setting is never dropped silently); any other unknown key is ignored.
const MODERN_KNOWN = new Set([
  // mapped
  'hosts', 'srvHost', 'srvServiceName', 'srvMaxHosts', 'replicaSet', 'directConnection', 'loadBalanced',
  'credentials', 'tls', 'tlsCAFile', 'ca', 'tlsCertificateKeyFile', 'cert', 'key', 'passphrase',
  'rejectUnauthorized', 'tlsInsecure', 'checkServerIdentity', 'allowPartialTrustChain', 'appName', 'compressors', 'zlibCompressionLevel',
  'serverSelectionTimeoutMS', 'connectTimeoutMS', 'socketTimeoutMS', 'heartbeatFrequencyMS', 'maxPoolSize',
  'maxIdleTimeMS', 'retryWrites', 'retryReads', 'proxyHost', 'proxyPort', 'proxyUsername', 'proxyPassword',
  'serverApi', 'writeConcern', 'dbName',
  // refused when in effect
  'crl', 'tlsCRLFile', 'pfx', 'secureContext', 'servername', 'pskCallback', 'lookup', 'localAddress',
  'localPort', 'srvHostValidator', 'srvAllowedHostsSuffix', 'ciphers', 'ecdhCurve', 'minDHSize', 'secureProtocol',
  // stored under another name (target) or folded into credentials / writeConcern
  'ssl', 'sslCA', 'sslCRL', 'sslCert', 'sslKey', 'sslPass', 'sslValidate', 'tlsAllowInvalidCertificates',
  'tlsAllowInvalidHostnames', 'tlsCertificateFile', 'tlsCertificateKeyFilePassword', 'auth', 'authSource',
  'authMechanism', 'authMechanismProperties', 'w', 'wtimeout', 'wtimeoutMS', 'j', 'journal', 'fsync',
  'userSpecifiedAuthSource', 'userSpecifiedReplicaSet',
  // ignored (see the top of this file)
  'readPreference', 'readConcern', 'readConcernLevel', 'readPreferenceTags', 'maxStalenessSeconds', 'family',
  'hints', 'autoSelectFamily', 'autoSelectFamilyAttemptTimeout', 'keepAlive', 'keepAliveInitialDelay', 'noDelay',
  'bsonRegExp', 'checkKeys', 'enableUtf8Validation', 'fieldsAsRaw', 'forceServerObjectId', 'ignoreUndefined',
  'promoteBuffers', 'promoteLongs', 'promoteValues', 'raw', 'serializeFunctions', 'useBigInt64', 'pkFactory',
  'monitorCommands', 'driverInfo', 'logger', 'loggerLevel', 'mongodbLogPath', 'mongodbLogComponentSeverities',
  'mongodbLogMaxDocumentLength', 'mongoLoggerOptions', 'metadata', 'extendedMetadata', 'additionalDriverInfo',
  'runtime', 'runtimeAdapters', 'localThresholdMS', 'minPoolSize', 'maxConnecting', 'waitQueueTimeoutMS',
  'minHeartbeatFrequencyMS', 'serverMonitoringMode', 'timeoutMS', 'maxAdaptiveRetries',
  'enableOverloadRetargeting', 'autoEncryption', 'encrypter', 'autoEncrypter', 'promiseLibrary', 'index', 'name',
  'useNewUrlParser', 'useUnifiedTopology',
  'ALPNProtocols', 'session', 'requestOCSP', 'enableTrace', 'SNICallback',
  'requestCert', 'minInternalBufferSize', 'connectionType', 'srvPoller', '__skipPingOnConnect',
  '__enableMongoLogger', 'cancellationToken'
])
const SECURITY_RELATED = /tls|ssl|cert|crl|pfx|passphrase|secure|identity|proxy|auth|credential|sni|servername|lookup|local(address|port)|srv/i

/**
 * Describes how a mongoose Connection (mongoose 4.13 to 9) reaches MongoDB.
 *
 * @param {object} connection a mongoose Connection, normally open. (mongoose 5
 *   resolves its settings in connect(): before that this throws ERR_NO_CONNECTION.)
 * @returns {{ spec: ClientSpec, dbName: (string|undefined), refused: string[] }}
 *   `spec`: a flat plain object with only the defined keys of
 *   {
 *     hosts: string[] ('host:port', '[::1]:27017', or a unix socket path; absent with srvHost),
 *     srvHost, srvServiceName: string, srvMaxHosts: number,
 *     replicaSet: string, directConnection, loadBalanced: boolean,
 *     username, password, authSource, authMechanism: string (no mechanism: negotiated),
 *     authMechanismProperties: { [name]: string },
 *     tls: boolean (always set), tlsCaFile | tlsCaPem: string, tlsCertKeyFile | tlsCertKeyPem: string
 *       (the PEM: certificate chain then an unencrypted PKCS#8 key), tlsAllowInvalidCertificates,
 *       tlsAllowInvalidHostnames: boolean, tlsDefaultCaPem: string (Node's default CAs, used when
 *       no CA is named),
 *     appName: string, compressors: string[], zlibCompressionLevel: number,
 *     serverSelectionTimeoutMs, connectTimeoutMs, socketTimeoutMs, heartbeatFrequencyMs,
 *       maxPoolSize, maxIdleTimeMs: number,
 *     retryWrites, retryReads: boolean,
 *     proxyHost: string, proxyPort: number, proxyUsername, proxyPassword: string,
 *     serverApiVersion: string, serverApiStrict, serverApiDeprecationErrors: boolean,
 *     writeConcernW: string ('majority', a tag or a decimal number), writeConcernJournal: boolean,
 *     writeConcernTimeoutMs: number
 *   }
 *   `dbName`: the database mongoose uses.
 *   `refused`: the names of the settings in effect that the native client
 *   cannot reproduce (e.g. 'tlsCRLFile', 'authMechanism=GSSAPI',
 *   'authMechanismProperties.OIDC_CALLBACK'); empty when there is none.
 */
function describeConnection (connection) {
  if (!connection || typeof connection !== 'object') {
    throw errors.invalidOption(`connection must be a mongoose Connection, got ${errors.describe(connection)}`)
  }
  const client = clientOf(connection)
  const options = client && client.options // read once: 4.x/5.x copy it on each read
  let settings
  if (options && Array.isArray(options.hosts)) {
    settings = readModern(options)
  } else if (client && client.s && client.s.options) {
    settings = readDriver3(client)
  } else if (isMongoose4(connection)) {
    settings = readDriver22(connection)
  } else {
    throw errors.noConnection('the mongoose connection has no MongoDB client (call connect() or openUri() first)')
  }
  const { spec, refused } = toSpec(settings)
  return { spec, dbName: dbNameOf(connection, client), refused }
}

function clientOf (connection) {
  if (connection.client) return connection.client
  if (typeof connection.getClient === 'function') {
    try { return connection.getClient() } catch (_) { return undefined }
  }
  return undefined
}

/** mongoose 4 (mongodb 2.2): no MongoClient, only a Db and what mongoose parsed. */
function isMongoose4 (connection) {
  const version = connection.base && connection.base.version
  if (typeof version === 'string') return /^4\./.test(version)
  const db = connection.db
  const topology = db && ((db.s && db.s.topology) || db.serverConfig)
  return Boolean(topology && topology.s && topology.s.clonedOptions)
}

function dbNameOf (connection, client) {
  const name = connection.name || (connection.db && connection.db.databaseName) || connection.$dbName
  if (name) return name
  const options = client && (client.options || (client.s && client.s.options))
  return (options && options.dbName) || undefined
}

// ---------------------------------------------------------------------------
// Readers: each returns the same normalized "settings" object, in the modern
// drivers' vocabulary, holding only what the driver actually uses.

/** mongodb 4.x-7.x: client.options. */
function readModern (o) {
  const s = {
    hosts: o.srvHost ? undefined : o.hosts.map(hostOf),
    srvHost: o.srvHost,
    srvServiceName: o.srvHost ? o.srvServiceName : undefined,
    srvMaxHosts: o.srvHost ? o.srvMaxHosts : undefined,
    replicaSet: o.replicaSet,
    directConnection: o.directConnection,
    loadBalanced: o.loadBalanced,
    credentials: credentialsOf(o.credentials),
    tls: o.tls === true
  }
  for (const key of ['tlsCAFile', 'ca', 'tlsCertificateKeyFile', 'cert', 'key', 'passphrase', 'rejectUnauthorized',
    'tlsInsecure', 'checkServerIdentity', 'allowPartialTrustChain', 'crl', 'tlsCRLFile', 'pfx', 'secureContext',
    'servername', 'pskCallback', 'ciphers', 'ecdhCurve', 'minDHSize', 'secureProtocol',
    'lookup', 'localAddress', 'localPort', 'srvHostValidator', 'srvAllowedHostsSuffix', 'appName',
    'zlibCompressionLevel', 'serverSelectionTimeoutMS', 'connectTimeoutMS', 'socketTimeoutMS',
    'heartbeatFrequencyMS', 'maxPoolSize', 'maxIdleTimeMS', 'retryWrites', 'retryReads', 'proxyHost', 'proxyPort',
    'proxyUsername', 'proxyPassword', 'serverApi']) {
    s[key] = o[key]
  }
  s.compressors = o.compressors
  s.writeConcern = writeConcernOf(o.writeConcern)
  s.unknown = Object.keys(o).filter((k) => !MODERN_KNOWN.has(k) && o[k] != null && SECURITY_RELATED.test(k))
  return s
}

/** mongodb 3.x: client.s.options, as the topologies translate it. */
function readDriver3 (client) {
  const o = client.s.options
  if (!Array.isArray(o.servers)) {
    throw errors.noConnection('the mongoose 5 connection has not resolved its settings yet (its driver does that in connect())')
  }
  // Every 3.x topology (unified or not) does exactly this with its options.
  const socket = o.socketOptions && typeof o.socketOptions === 'object' && Object.keys(o.socketOptions).length
    ? o.socketOptions
    : o
  const e = translate(translate({}, o), socket)
  const unified = o.useUnifiedTopology === true
  const hosts = o.servers.map((server) => server.domain_socket
    ? { socketPath: server.domain_socket }
    : hostOf(server))
  const compression = e.compression || {}
  const s = {
    hosts: o.srvHost ? undefined : hosts,
    srvHost: o.srvHost,
    replicaSet: e.setName,
    // The legacy topology talks to a single seed directly; the unified one
    // does when the (new) URL parser says so.
    directConnection: unified ? o.directConnection === true : (hosts.length === 1 && !e.setName && !o.srvHost),
    credentials: credentialsOf(o.credentials),
    tls: e.ssl === true,
    ca: e.ca,
    cert: e.cert,
    key: e.key,
    passphrase: e.passphrase,
    // The legacy topology's pool checks certificates only when told to
    // (sslValidate: true; the new URL parser says so); the unified one unless told not to.
    rejectUnauthorized: unified ? e.rejectUnauthorized !== false : e.rejectUnauthorized === true,
    checkServerIdentity: e.checkServerIdentity,
    crl: e.crl,
    pfx: e.pfx,
    secureContext: e.secureContext,
    servername: e.servername,
    ciphers: e.ciphers,
    ecdhCurve: e.ecdhCurve,
    minDHSize: e.minDHSize,
    secureProtocol: e.secureProtocol,
    appName: e.appname,
    compressors: compression.compressors,
    zlibCompressionLevel: compression.zlibCompressionLevel,
    connectTimeoutMS: e.connectionTimeout,
    socketTimeoutMS: e.socketTimeout,
    retryWrites: o.retryWrites,
    retryReads: o.retryReads,
    serverApi: typeof o.serverApi === 'string' ? { version: o.serverApi } : o.serverApi,
    writeConcern: writeConcernOf(client.s.writeConcern || o.writeConcern)
  }
  if (unified) {
    s.serverSelectionTimeoutMS = e.serverSelectionTimeoutMS
    s.heartbeatFrequencyMS = e.heartbeatFrequencyMS
    s.maxPoolSize = typeof e.maxPoolSize === 'number' ? e.maxPoolSize : typeof e.poolSize === 'number' ? e.poolSize : 10
    s.maxIdleTimeMS = e.maxIdleTimeMS
  } else {
    s.maxPoolSize = typeof e.poolSize === 'number' ? e.poolSize : 5
  }
  return s
}

/** mongodb 2.2 (mongoose 4.x): the topology, or what mongoose kept. */
function readDriver22 (connection) {
  const db = connection.db
  const topology = db && ((db.s && db.s.topology) || db.serverConfig)
  let e
  let seeds
  let direct
  if (topology && topology.s && topology.s.clonedOptions) {
    e = topology.s.clonedOptions
    const core = topology.s.replset || topology.s.mongos
    seeds = core ? core.s.seedlist : [{ host: e.host, port: e.port }]
    direct = !core
  } else {
    // It never opened (mongoose 4 with useMongoClient sets connection.db only
    // on success): what mongoose kept. Options given in the URI are lost.
    if (!connection.host && !(connection.hosts && connection.hosts.length)) {
      throw errors.noConnection('the mongoose 4 connection has no server yet (call connect() or openUri() first)')
    }
    const legacy = connection.options || {}
    const flat = connection._connectionOptions ? flatten({}, connection._connectionOptions) : {}
    const server = connection.replica ? (legacy.replset || legacy.replSet || {}) : (legacy.server || {})
    const source = { ...flat, ...server }
    const socket = source.socketOptions && Object.keys(source.socketOptions).length ? source.socketOptions : source
    e = translate(translate({}, source), socket)
    if (legacy.replset && legacy.replset.rs_name) e.setName = legacy.replset.rs_name
    seeds = connection.hosts && connection.hosts.length
      ? connection.hosts.map((h) => ({ host: h.host || h.ipc, port: h.port }))
      : [{ host: connection.host, port: connection.port }]
    // useMongoClient: the URI's options (replicaSet among them) are unknown.
    direct = connection._connectionOptions ? undefined : !connection.replica && !e.setName && seeds.length === 1
  }
  const appName = (e.clientInfo && e.clientInfo.application && e.clientInfo.application.name) || e.appname
  return {
    hosts: seeds.filter((h) => h && h.host).map(hostOf),
    replicaSet: e.setName,
    directConnection: direct,
    credentials: credentials22(connection, db, topology),
    tls: e.ssl === true,
    ca: e.ca,
    cert: e.cert,
    key: e.key,
    passphrase: e.passphrase,
    // mongodb-core 2.x pools check certificates only with sslValidate: true.
    rejectUnauthorized: e.rejectUnauthorized === true,
    checkServerIdentity: e.checkServerIdentity,
    crl: e.crl,
    pfx: e.pfx,
    secureContext: e.secureContext,
    servername: e.servername,
    ciphers: e.ciphers,
    ecdhCurve: e.ecdhCurve,
    minDHSize: e.minDHSize,
    secureProtocol: e.secureProtocol,
    appName,
    connectTimeoutMS: e.connectionTimeout,
    socketTimeoutMS: e.socketTimeout,
    maxPoolSize: typeof e.size === 'number' ? e.size : typeof e.poolSize === 'number' ? e.poolSize : 5,
    writeConcern: writeConcernOf(db ? db.writeConcern : (connection.options && connection.options.db))
  }
}

/**
 * mongodb 2.2 keeps no credentials object: its pool records each successful
 * authentication (authProviders[mechanism].authStore); before that, what
 * mongoose was given.
 */
function credentials22 (connection, db, topology) {
  const core = topology && topology.s && (topology.s.server || topology.s.replset || topology.s.mongos)
  const providers = core && (core.authProviders || (core.s && core.s.pool && core.s.pool.authProviders))
  if (providers) {
    for (const [mechanism, provider] of Object.entries(providers)) {
      const session = provider && Array.isArray(provider.authStore) && provider.authStore[0]
      if (session) {
        return {
          username: session.username,
          password: session.password,
          source: session.db,
          mechanism: MECHANISM_NAMES[mechanism] || mechanism.toUpperCase()
        }
      }
    }
  }
  if (connection.user == null && connection.pass == null) return undefined
  const auth = { ...((connection.options && connection.options.auth) || {}) }
  if (connection._connectionOptions) Object.assign(auth, flatten({}, connection._connectionOptions))
  const mechanism = typeof auth.authMechanism === 'string' ? auth.authMechanism.toUpperCase() : undefined
  return {
    username: connection.user == null ? undefined : String(connection.user),
    password: connection.pass == null ? undefined : String(connection.pass),
    source: auth.authSource || auth.authdb || (db && db.s && db.s.authSource) || connection.name,
    mechanism: mechanism === 'DEFAULT' ? undefined : mechanism,
    mechanismProperties: auth.authMechanismProperties
  }
}

// mongodb 2.2/3.x utils.translateOptions: what the topologies hand to their connections.
const TRANSLATIONS = {
  sslCA: 'ca',
  sslCRL: 'crl',
  sslValidate: 'rejectUnauthorized',
  sslKey: 'key',
  sslCert: 'cert',
  sslPass: 'passphrase',
  socketTimeoutMS: 'socketTimeout',
  connectTimeoutMS: 'connectionTimeout',
  replicaSet: 'setName',
  rs_name: 'setName'
}
function translate (target, source) {
  for (const name in source) target[TRANSLATIONS[name] || name] = source[name]
  return target
}

// mongodb 2.2/3.x MongoClient's createUnifiedOptions, for the options object alone.
function flatten (target, source) {
  for (const name in source) {
    const value = source[name]
    if (value && typeof value === 'object' && !Buffer.isBuffer(value) && !Array.isArray(value) &&
      Object.getPrototypeOf(value) === Object.prototype) {
      flatten(target, value)
    } else {
      target[name] = value
    }
  }
  return target
}

function hostOf (address) {
  if (address.socketPath) return { socketPath: address.socketPath }
  const host = String(address.host)
  if (host.includes('/') || host.endsWith('.sock')) return { socketPath: host }
  return { host, port: address.port || 27017 }
}

function credentialsOf (credentials) {
  if (!credentials) return undefined
  const mechanism = typeof credentials.mechanism === 'string' ? credentials.mechanism : undefined
  const known = mechanism && mechanism.toLowerCase() in MECHANISM_NAMES
  return {
    username: credentials.username,
    password: credentials.password,
    source: credentials.source,
    mechanism: known ? MECHANISM_NAMES[mechanism.toLowerCase()] : (mechanism === 'DEFAULT' ? undefined : mechanism),
    mechanismProperties: credentials.mechanismProperties
  }
}

function writeConcernOf (wc) {
  if (!wc || typeof wc !== 'object') return undefined
  const journal = wc.journal != null ? wc.journal : wc.j != null ? wc.j : (wc.fsync === true || wc.fsync === 1 ? true : undefined)
  return {
    w: wc.w,
    journal: journal == null ? undefined : Boolean(journal),
    wtimeoutMS: wc.wtimeoutMS != null ? wc.wtimeoutMS : wc.wtimeout
  }
}

// ---------------------------------------------------------------------------
// settings -> { spec, refused }

function toSpec (s) {
  const spec = {}
  const refused = []
  const refuse = (name) => { if (!refused.includes(name)) refused.push(name) }
  const put = (key, value) => { if (value !== undefined && value !== null) spec[key] = value }
  const positive = (value) => typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined
  const bool = (value) => typeof value === 'boolean' ? value : undefined

  // Where
  if (s.srvHost) {
    put('srvHost', s.srvHost)
    put('srvServiceName', typeof s.srvServiceName === 'string' ? s.srvServiceName : undefined)
    put('srvMaxHosts', positive(s.srvMaxHosts))
    if (s.srvHostValidator != null) refuse('srvHostValidator')
    if (s.srvAllowedHostsSuffix != null) refuse('srvAllowedHostsSuffix')
  } else {
    spec.hosts = (s.hosts || []).map((h) => h.socketPath
      ? h.socketPath
      : h.host.includes(':') ? `[${h.host}]:${h.port}` : `${h.host}:${h.port}`)
  }
  put('replicaSet', typeof s.replicaSet === 'string' && s.replicaSet ? s.replicaSet : undefined)
  put('directConnection', bool(s.directConnection))
  put('loadBalanced', bool(s.loadBalanced))
  if (s.lookup != null) refuse('lookup')
  if (s.localAddress != null) refuse('localAddress')
  if (s.localPort != null) refuse('localPort')

  // Who
  const c = s.credentials
  // No user and no mechanism: the driver authenticates nothing.
  if (c && ((typeof c.username === 'string' && c.username) || c.mechanism)) {
    put('username', typeof c.username === 'string' && c.username ? c.username : undefined)
    put('password', typeof c.password === 'string' && c.password ? c.password : undefined)
    put('authSource', typeof c.source === 'string' && c.source ? c.source : undefined)
    put('authMechanism', c.mechanism)
    if (REFUSED_MECHANISMS.includes(c.mechanism)) refuse(`authMechanism=${c.mechanism}`)
    const properties = {}
    for (const [name, value] of Object.entries(c.mechanismProperties || {})) {
      if (value === undefined || SKIPPED_PROPERTIES.includes(name)) continue
      if (typeof value === 'function' || (c.mechanism === 'MONGODB-OIDC' && !OIDC_PROPERTIES.includes(name))) {
        refuse(`authMechanismProperties.${name}`)
      } else if (typeof value === 'string') {
        properties[name] = value
      } else if (typeof value === 'boolean' || typeof value === 'number') {
        properties[name] = String(value)
      } else {
        refuse(`authMechanismProperties.${name}`)
      }
    }
    if (Object.keys(properties).length) spec.authMechanismProperties = properties
  }

  // How
  spec.tls = s.tls === true
  if (spec.tls) tlsSpec(s, spec, refuse)
  for (const name of s.unknown || []) refuse(name)

  put('appName', typeof s.appName === 'string' && s.appName ? s.appName : undefined)
  const compressors = Array.isArray(s.compressors) ? s.compressors.filter((c) => COMPRESSORS.includes(c)) : []
  if (compressors.length) spec.compressors = [...new Set(compressors)]
  if (compressors.includes('zlib')) put('zlibCompressionLevel', positive(s.zlibCompressionLevel))
  put('serverSelectionTimeoutMs', positive(s.serverSelectionTimeoutMS))
  put('connectTimeoutMs', positive(s.connectTimeoutMS))
  put('socketTimeoutMs', positive(s.socketTimeoutMS))
  put('heartbeatFrequencyMs', positive(s.heartbeatFrequencyMS))
  put('maxPoolSize', positive(s.maxPoolSize))
  put('maxIdleTimeMs', positive(s.maxIdleTimeMS))
  put('retryWrites', bool(s.retryWrites))
  put('retryReads', bool(s.retryReads))
  if (s.proxyHost) {
    put('proxyHost', s.proxyHost)
    put('proxyPort', positive(s.proxyPort))
    put('proxyUsername', s.proxyUsername || undefined)
    put('proxyPassword', s.proxyPassword || undefined)
  }
  if (s.serverApi && s.serverApi.version != null) {
    spec.serverApiVersion = String(s.serverApi.version)
    put('serverApiStrict', bool(s.serverApi.strict))
    put('serverApiDeprecationErrors', bool(s.serverApi.deprecationErrors))
  }
  const wc = s.writeConcern
  if (wc) {
    if (wc.w !== undefined && wc.w !== null) spec.writeConcernW = String(wc.w)
    put('writeConcernJournal', bool(wc.journal))
    put('writeConcernTimeoutMs', positive(wc.wtimeoutMS))
  }
  return { spec, refused }
}

function tlsSpec (s, spec, refuse) {
  const allowInvalidCertificates = s.rejectUnauthorized === false || s.tlsInsecure === true
  spec.tlsAllowInvalidCertificates = allowInvalidCertificates
  const identity = s.checkServerIdentity
  // The driver's tlsAllowInvalidHostnames (and tlsInsecure): a check that
  // checks nothing. The native client (OpenSSL, as Node) then skips the
  // hostname check and still verifies the chain.
  const hostnamesOff = identity === false || (typeof identity === 'function' && isNoop(identity))
  if (hostnamesOff) spec.tlsAllowInvalidHostnames = true
  // A check of the application's own cannot run there. With invalid
  // certificates allowed, Node ignores its verdict, and so does OpenSSL.
  else if (typeof identity === 'function' && !allowInvalidCertificates) refuse('checkServerIdentity')
  // Node's X509_V_FLAG_PARTIAL_CHAIN: trusting a CA that is not a root. The
  // native client builds chains up to a root only (Node's default).
  if (s.allowPartialTrustChain === true && !allowInvalidCertificates) refuse('allowPartialTrustChain')
  if (s.pfx != null) refuse('pfx')
  if (s.secureContext != null) refuse('secureContext')
  if (s.pskCallback != null) refuse('pskCallback')
  if (s.tlsCRLFile != null) refuse('tlsCRLFile')
  else if (s.crl != null) refuse('crl')
  // Cipher and protocol tuning: a narrower TLS than OpenSSL's defaults, which
  // the native client cannot reproduce (a security setting is never dropped).
  for (const name of ['ciphers', 'ecdhCurve', 'minDHSize', 'secureProtocol']) if (s[name] != null) refuse(name)
  if (s.servername != null) {
    const hosts = s.hosts || []
    const same = hosts.length === 1 && hosts[0].host && hosts[0].host.toLowerCase() === String(s.servername).toLowerCase()
    if (!same || s.srvHost) refuse('servername')
  }

  // Trusted CAs: the path when it is what the driver uses, else the PEM.
  if (s.ca != null) {
    const pem = pemText(s.ca)
    if (s.tlsCAFile && readText(s.tlsCAFile) === pem) spec.tlsCaFile = s.tlsCAFile
    else spec.tlsCaPem = pem
  } else if (s.tlsCAFile) {
    spec.tlsCaFile = s.tlsCAFile
  } else {
    // No CA given: the application trusts Node's default CAs. So does the lock,
    // not whatever store its own OpenSSL finds (none on Windows).
    withDefaultCas(spec)
  }

  // Client certificate: as the 6.x/7.x drivers do at connect(), the file
  // fills whichever of cert and key is missing.
  let cert = s.cert
  let key = s.key
  const file = s.tlsCertificateKeyFile
  let fileText
  if (file && (cert == null || key == null)) {
    fileText = readText(file)
    if (fileText === undefined && s.passphrase == null) {
      spec.tlsCertKeyFile = file // unreadable here: the native client reports it as Node would
      return
    }
    if (fileText === undefined) throw badKey(`cannot read tlsCertificateKeyFile ${file}`)
    if (cert == null) cert = fileText
    if (key == null) key = fileText
  }
  if (cert == null && key == null) return
  const encrypted = s.passphrase != null || keyEntries(key).some((k) => k.passphrase != null)
  if (file && !encrypted) {
    if (fileText === undefined) fileText = readText(file)
    if (fileText !== undefined && pemText(cert) === fileText && pemText(key) === fileText) {
      spec.tlsCertKeyFile = file
      return
    }
  }
  const pem = certKeyPem(cert, key, s.passphrase)
  if (pem) spec.tlsCertKeyPem = pem
  else refuse(file ? 'tlsCertificateKeyFile' : key == null ? 'cert' : 'key')
}

let defaultCas // { key, pem }: computed once per NODE_EXTRA_CA_CERTS value

/**
 * Adds `tlsDefaultCaPem` (Node's default CAs) to a spec: the native client
 * trusts them when TLS is on and the settings name no CA. Returns the spec.
 */
function withDefaultCas (spec) {
  const pem = nodeDefaultCas()
  if (pem) spec.tlsDefaultCaPem = pem
  return spec
}

/**
 * The CAs Node's TLS trusts when given none, as one PEM text: Node 22.15+
 * says it (tls.getCACertificates('default'): bundled or system store, plus
 * NODE_EXTRA_CA_CERTS); before, the bundled Mozilla CAs (tls.rootCertificates)
 * plus the NODE_EXTRA_CA_CERTS file. Undefined when Node uses OpenSSL's own
 * store (--use-openssl-ca): the native client's OpenSSL reads the system's.
 */
function nodeDefaultCas () {
  const tls = require('tls')
  if (typeof tls.getCACertificates === 'function') {
    if (!defaultCas || defaultCas.key !== 'node') defaultCas = { key: 'node', pem: tls.getCACertificates('default').join('\n') }
    return defaultCas.pem
  }
  const flags = `${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS || ''}`
  if (/--use-openssl-ca\b/.test(flags)) return undefined
  const extraFile = process.env.NODE_EXTRA_CA_CERTS || ''
  if (!defaultCas || defaultCas.key !== extraFile) {
    const extra = extraFile ? readText(extraFile) : undefined
    defaultCas = { key: extraFile, pem: [...tls.rootCertificates, ...(extra ? [extra.trim()] : [])].join('\n') }
  }
  return defaultCas.pem
}

/** The driver's tlsAllowInvalidHostnames: a function that checks nothing. */
function isNoop (fn) {
  if (fn.length !== 0) return false
  const source = Function.prototype.toString.call(fn).trim()
  return /^\(\)\s*=>\s*(undefined|void 0|\{\s*(return(\s+(undefined|void 0))?\s*;?)?\s*\})$/.test(source) ||
    /^function\s*[\w$]*\s*\(\)\s*\{\s*(return(\s+(undefined|void 0))?\s*;?)?\s*\}$/.test(source)
}

function readText (path) {
  try { return fs.readFileSync(path, 'utf8') } catch (_) { return undefined }
}

/** string | Buffer | array of them -> one text. */
function pemText (value) {
  if (value == null) return undefined
  if (Array.isArray(value)) return value.map(pemText).filter((t) => t !== undefined).join('\n')
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return Buffer.from(value).toString('utf8')
  if (typeof value === 'object' && value.pem != null) return pemText(value.pem)
  return String(value)
}

/** Node's `key`: string | Buffer | Array<string | Buffer | { pem, passphrase }>. */
function keyEntries (key) {
  if (key == null) return []
  const list = Array.isArray(key) ? key : [key]
  return list.map((k) => k && typeof k === 'object' && !Buffer.isBuffer(k) && !(k instanceof Uint8Array)
    ? { text: pemText(k.pem), passphrase: k.passphrase }
    : { text: pemText(k) })
}

const CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g
const PRIVATE_KEY = /-----BEGIN ((?:RSA |EC |DSA |ENCRYPTED )?PRIVATE KEY)-----[\s\S]+?-----END \1-----/g

/**
 * One PEM with the certificate chain, then the private key as unencrypted
 * PKCS#8 (decrypted here with the passphrase); undefined without both.
 */
function certKeyPem (cert, key, passphrase) {
  const keys = []
  for (const entry of keyEntries(key)) {
    for (const block of (entry.text || '').match(PRIVATE_KEY) || []) {
      keys.push({ block, passphrase: entry.passphrase != null ? entry.passphrase : passphrase })
    }
  }
  const certText = pemText(cert) || ''
  let certs = certText.match(CERTIFICATE) || []
  if (!certs.length) certs = keyEntries(key).map((k) => k.text || '').join('\n').match(CERTIFICATE) || []
  if (!certs.length || keys.length !== 1) return undefined
  let pkcs8
  try {
    const options = { key: keys[0].block, format: 'pem' }
    if (keys[0].passphrase != null) options.passphrase = String(keys[0].passphrase)
    pkcs8 = crypto.createPrivateKey(options).export({ type: 'pkcs8', format: 'pem' })
  } catch (err) {
    throw badKey(`the TLS client key of the application's connection cannot be read (${err.code || 'invalid key'})`)
  }
  return `${certs.join('\n')}\n${pkcs8.trim()}\n`
}

function badKey (message) {
  return errors.invalidOption(message, Error)
}

// ---------------------------------------------------------------------------
// Cache key

// A connection string may carry a password, so it is hidden too.
const SECRET_KEYS = ['password', 'proxyPassword', 'tlsCaPem', 'tlsCertKeyPem', 'tlsDefaultCaPem', 'uri']

function digest (text) {
  return crypto.createHash('sha256').update(String(text), 'utf8').digest('hex')
}

/** sha256(sha256(secret)), in hex. */
function hidden (secret) {
  return `sha256:${digest(digest(secret))}`
}

function canonical (value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().filter((k) => value[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`
  }
  return JSON.stringify(value === undefined ? null : value)
}

/**
 * A stable key for a client spec and database: canonical JSON (keys sorted)
 * of `{ dbName, spec }` in which each secret (password, proxyPassword, the PEM
 * texts, every authMechanismProperties value) is replaced by the SHA-256 hex
 * digest of its SHA-256 hex digest. It holds no secret and no PEM.
 *
 * @param {object} spec a spec from describeConnection
 * @param {string} [dbName]
 * @returns {string}
 */
let defaultCasDigest = {}
function specKey (spec, dbName) {
  const safe = {}
  for (const [key, value] of Object.entries(spec || {})) {
    if (value === undefined) continue
    if (key === 'tlsDefaultCaPem') {
      // The same text for every spec of this process: digested once.
      if (defaultCasDigest.pem !== value) defaultCasDigest = { pem: value, digest: hidden(value) }
      safe[key] = defaultCasDigest.digest
    } else if (SECRET_KEYS.includes(key)) {
      safe[key] = hidden(value)
    } else if (key === 'authMechanismProperties' && value && typeof value === 'object') {
      safe[key] = Object.fromEntries(Object.entries(value).map(([name, v]) => [name, hidden(v)]))
    } else {
      safe[key] = value
    }
  }
  return canonical({ dbName: dbName == null ? null : dbName, spec: safe })
}

module.exports = { describeConnection, specKey, withDefaultCas }
