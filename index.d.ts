// Type definitions for mongoose-distributed-lock 1.x
//
// Units: every duration is in milliseconds (ms); every point in time (lease
// ends, `timeAquired`, 'extended', `Lock.holder()`'s `acquired`/`expires`) is
// ms since the epoch on the SERVER's clock, not this process's. "0.0.x" marks what comes unchanged from the
// JavaScript package this one replaces; "MongoDB" marks what comes from the
// server or its driver.

/// <reference types="node" />
import { EventEmitter } from 'events'

declare namespace Lock {
  /**
   * What the lock reads a connection from: a mongoose `Connection`
   * (`mongoose.connection`, `mongoose.createConnection(…)`), mongoose 4.2.9
   * or later. Only its shape matters, so this package does not depend on
   * mongoose's own types.
   */
  interface MongooseConnectionLike {
    /** mongoose's connection state (0 disconnected, 1 connected, 2 connecting, 3 disconnecting). */
    readyState: number
  }

  /** Where a lock's documents live. */
  interface CollectionOptions {
    /**
     * A MongoDB connection string for the lock alone, instead of the
     * application's mongoose connection (see docs/connection.md in the
     * package's repository). Parsed by the Rust driver; `socketTimeoutMS`/`timeoutMS`
     * bound each lock call.
     */
    uri?: string
    /**
     * A mongoose `Connection` to use: the lock connects exactly as it does
     * (same servers, database, TLS, credentials, …) and closes with it.
     */
    connection?: MongooseConnectionLike
    /**
     * The collection of the lock documents. Default `'distributedlocks'`
     * (0.0.x's). Locks in different collections never interact, even with
     * the same name.
     */
    collection?: string
    /**
     * Keep a TTL index on `expire` (`expireAfterSeconds: 0`) so the documents
     * of holders that died disappear by themselves (MongoDB's TTL monitor,
     * about once a minute). Default `true`. A server that refuses it
     * (FerretDB 1.x) is detected and logged once under
     * `DEBUG=mongoose-distributed-lock`; no call ever fails for it. Takeover
     * of an expired lock never waits for the TTL monitor.
     */
    ttl?: boolean
  }

  /** Options of `Lock(name, options)`. */
  interface LockOptions extends CollectionOptions {
    /**
     * Longest time (ms) a lock is held before others may take it over: the
     * lease. Default 60000; a falsy value takes the default (0.0.x).
     */
    timeout?: number
    /**
     * Pause (ms) between the tries of `pollAcquire` where no wake-up can
     * come (see {@link LockOptions.wakeUps}), and the unit of its bound
     * (`maxAttempts`). Default 500; a falsy value takes the default
     * (0.0.x). At most 2³¹−1.
     */
    pollInterval?: number
    /**
     * Record every holding in a history collection: `true` for
     * `'distributedlocks_history'`, or a collection name. One
     * {@link HistoryRecord} per holding, with server times. Its writes never
     * delay or fail a lock call (failures are only logged). Default off.
     */
    history?: boolean | string
    /**
     * Renew the lease while the lock is held: `true` renews every
     * `timeout / 3` ms, a number is the period in ms (1 to 2³¹−1). Runs on the
     * JS event loop on purpose: a process whose event loop is frozen longer
     * than its lease loses the lock ('lost') instead of keeping it. A refused
     * renewal emits 'lost' and stops; a failed one (no answer) is retried
     * until the lease would be over, then 'lost' with `'expired'`. Its timers
     * never keep Node alive. Default off.
     */
    keepAlive?: boolean | number
    /**
     * The application's label for whoever holds the lock (a job id, a
     * worker name): a string of at most 256 characters (UTF-16 code units),
     * without NUL. Recorded with the host name and pid in the lock
     * document's `holder: { host, pid, owner }` (and in history records), so
     * that {@link LockFactory.holder | Lock.holder()} can tell who holds a
     * name. 0.0.x ignores the field. Default: none (`owner` is then absent,
     * and `Lock.holder()` answers `owner: null`). Otherwise
     * `ERR_INVALID_OPTION` (TypeError).
     */
    owner?: string
    /**
     * The write concern of the lock's own writes (its insert, delete and
     * update of lock documents; with `fencing` and `fair`, the claims of
     * tokens and the queue's writes too), instead of the connection's. Default
     * `{ w: 'majority' }`, so that a lock survives a primary failover; a
     * standalone server and FerretDB accept and ignore it. `w: 0` is refused
     * (`ERR_INVALID_OPTION`): a lock must know that its writes landed.
     * History writes keep the connection's write concern.
     */
    writeConcern?: WriteConcern
    /**
     * Longest time (ms, > 0) the keep-alive renews one holding, counted from
     * its acquire on this process's monotonic clock. Past it nothing is
     * renewed: the lease runs out (at most `timeout` ms later) and 'lost'
     * (`'expired'`) is emitted, so a holder stuck in a loop cannot keep a
     * lock forever. Only acts with `keepAlive` (without it the lease ends
     * after `timeout` anyway). Your own `extend()` calls are not capped: one
     * made after `maxHoldTime` moves the lease's end, and 'lost' comes when
     * the lease as last extended runs out. Default: no limit. 0, `Infinity`
     * or a non-number is `ERR_INVALID_OPTION`.
     */
    maxHoldTime?: number
    /**
     * Shortest time (whole ms) a holding keeps the name, counted from its
     * acquire, even when released sooner: for a job that must run once per
     * schedule across processes whose timers fire a little apart (like
     * ShedLock's `lockAtLeastFor`). A `release()` before the bound does not
     * delete the lock document: it ends its lease at the bound (an update of
     * our own document, by its exact `_id`), and answers as any release does
     * (`false` in time, `true` when the lock was no longer ours). Past the
     * bound, `release()` deletes as usual. Pick it longer than the spread of
     * the processes' timers and shorter than the schedule's period, and try
     * with `acquire()`: a process that waits takes the name at the bound and
     * runs the job again. Default 0 (off); a negative or fractional number,
     * or one longer than `timeout`, is `ERR_INVALID_OPTION`.
     */
    holdAtLeast?: number
    /**
     * Fencing tokens. `true`: every holding gets a token,
     * {@link Lock.fencingToken | lock.fencingToken} (and a `hold()` handle's
     * `fencingToken`): a whole number, 1 for the first holding of a name,
     * that is higher than the token of every earlier holding of the same
     * name in the same collection, across releases, expiries, takeovers,
     * forced acquires, processes and lock documents deleted by hand. Give it
     * to the resource the lock protects, which refuses a token lower than
     * the highest it has seen (`if (token < highest) reject`): so a holder
     * paused past its lease cannot write after its successor.
     *
     * Tokens are claimed by an insert into a unique index on
     * `{ name, token }` in `<collection>_fencing`, right after the lock
     * insert; the highest token is read at the same time as that insert
     * (another command, on a second pooled connection), so a successful
     * acquire costs one more round trip (the claim). Old claims are pruned,
     * never the highest: do not drop that collection (tokens would start
     * again at 1). A claim that cannot be made fails the acquire (the lock is
     * given back): `ERR_MONGODB` when others kept claiming first, or the
     * server's error. Default `false`; not a boolean: `ERR_INVALID_OPTION`.
     */
    fencing?: boolean
    /**
     * Fair waiting. `true`: `pollAcquire`, `hold()` and `Lock.withLock` wait
     * in a queue shared by every process and are served in arrival order.
     * A waiter takes a ticket by an insert into a unique index on
     * `{ name, ticket }` in `<collection>_queue` (2 round trips; then
     * 'queued' with the ticket), and tries only while it is at the head of
     * the queue (1 `find` per try); the others wait for the waiter just
     * ahead of them to leave (a wake-up; else every `pollInterval` ms). Its
     * registration lasts max(2000 ms, 4 × `pollInterval`) and is renewed
     * while it waits, so a waiter that dies leaves the queue when it
     * expires; a wait that ends (lock taken, aborted, timed out, failed)
     * leaves at once (1 `delete`). Plain `acquire()` and `forceAcquire()` are not queued
     * (0.0.1's behaviour), nor are Locks without `fair`; exclusion never
     * depends on the queue. Default `false` (0.0.1's unfair polling); not a
     * boolean: `ERR_INVALID_OPTION`.
     */
    fair?: boolean
    /**
     * Wake-ups across processes. `true` (default): a waiter whose holder is
     * a process of this package on the same host is woken within a round
     * trip of the release, and does not ask the server again until then (or
     * until the holder's lease ends); waiters elsewhere, and waiters on a
     * 0.0.x or 1.1 holder, poll every `pollInterval` ms. Every process
     * listens on one loopback TCP port per collection (see
     * docs/waiting.md); with the environment variable
     * `MONGOOSE_DISTRIBUTED_LOCK_WAKE_UP_ADDRESS` (an IP address of this
     * host) it listens there instead, and waiters on other hosts that can
     * reach it are woken too. `false`: this Lock neither listens nor watches; it
     * polls as 1.1 did. Not a boolean: `ERR_INVALID_OPTION`.
     */
    wakeUps?: boolean
  }

  /**
   * The `writeConcern` option, spelled as the Node driver spells it. A
   * write whose concern is not met within `wtimeout` fails with the
   * server's error (`code` 64, `codeName` `'WriteConcernFailed'`).
   */
  interface WriteConcern {
    /**
     * `'majority'` (the default), a replica-set tag name, or a number of
     * members from 1 to 50. Never 0.
     */
    w?: 'majority' | (string & {}) | number
    /** Wait for the journal (MongoDB's `j`). */
    j?: boolean
    /** Same as `j` (wins over it when both are given). */
    journal?: boolean
    /** How long the server waits for `w`, in ms (a whole number, 0 = no limit). */
    wtimeout?: number
    /** Same as `wtimeout` (wins over it when both are given). */
    wtimeoutMS?: number
  }

  /**
   * Options of `Lock.ensureIndexes([options])`: where, and which indexes:
   * the TTL index (`ttl`), and with `fencing: true` / `fair: true` also the
   * unique index of `<collection>_fencing` / `<collection>_queue`.
   */
  interface EnsureIndexesOptions extends CollectionOptions {
    /** Also ensure the unique index on `{ name, token }` of `<collection>_fencing` (see {@link LockOptions.fencing}). */
    fencing?: LockOptions['fencing']
    /** Also ensure the unique index on `{ name, ticket }` of `<collection>_queue` (see {@link LockOptions.fair}). */
    fair?: LockOptions['fair']
  }

  /** Options of `Lock.holder(name, [options])`: where to look, as for a Lock. */
  interface HolderOptions {
    /** As a Lock's {@link CollectionOptions.uri}. */
    uri?: CollectionOptions['uri']
    /** As a Lock's {@link CollectionOptions.connection}. */
    connection?: CollectionOptions['connection']
    /** As a Lock's {@link CollectionOptions.collection}. */
    collection?: CollectionOptions['collection']
  }

  /**
   * What `Lock.holder(name)` resolves with while someone holds `name` (a
   * live lease, server clock).
   */
  interface Holder {
    /** Hex string of the holder's lock document ObjectId (its `lockId`). */
    lockId: string
    /** Host name of the holder's process; `null` for holders that did not record it (0.0.x). */
    host: string | null
    /** Pid of the holder's process; `null` for holders that did not record it (0.0.x). */
    pid: number | null
    /** The holder's `owner` option; `null` when it gave none, or is 0.0.x. */
    owner: string | null
    /** When the current holding began: ms since the epoch, server clock (`null` if unknown). */
    acquired: number | null
    /** When its lease ends: ms since the epoch, server clock. */
    expires: number
  }

  /** What `Lock.ensureIndexes()` resolves with. */
  interface EnsureIndexesResult {
    /** The namespace, `'<database>.<collection>'`. */
    collection: string
    /** Whether the TTL index on `expire` is in place (false when `ttl: false` or the server refuses it). */
    ttl: boolean
  }

  /** Options of `pollAcquire([options])`. */
  interface PollAcquireOptions {
    /**
     * Bounds the wait (≥ 1): it gives up once (`maxAttempts` − 1) ×
     * `pollInterval` ms have passed and a try then fails, so `1` tries once;
     * as many tries, `pollInterval` ms apart, as 0.0.x made in that time
     * when polling. `Infinity` waits until the lock is taken. Default: the
     * instance's `probeMaxAttempts` (0.0.x's bound).
     */
    maxAttempts?: number
    /**
     * Ends the wait: the call rejects with an {@link AbortError} (at once if
     * already aborted), leaving no lock document, timer or native work behind.
     */
    signal?: AbortSignal
  }

  /**
   * Options of `lock.hold([options])`: the wait's. Unlike `pollAcquire`,
   * `maxAttempts` defaults to `Infinity`.
   */
  interface HoldOptions extends PollAcquireOptions {}

  /**
   * Options of `Lock.withLock(name, options, fn)`: the Lock's, and the
   * wait's. `keepAlive` defaults to `true` here (`false` turns it off);
   * `maxAttempts` to `Infinity`; `signal` cancels the wait only (not `fn`).
   */
  interface WithLockOptions extends LockOptions, PollAcquireOptions {}

  /**
   * A held lock, from `lock.hold()`. `await using held = await lock.hold()`
   * releases it at the end of the block where the runtime (Node 24+) or
   * TypeScript (5.2+, which compiles `await using` for older targets)
   * supports it; otherwise call `release()` or `[Symbol.asyncDispose]()`.
   */
  interface HeldLock extends AsyncDisposable {
    /** The lock document's id (hex), as `lock.lockId` when it was taken. */
    readonly lockId: string
    /**
     * The holding's fencing token when the Lock was made with
     * `fencing: true` (a whole number, higher than every earlier holding's
     * of the name: see {@link LockOptions.fencing}), else `null`.
     */
    readonly fencingToken: number | null
    /**
     * Aborts when the lock is lost ('lost' on the Lock; only found by the
     * keep-alive or a call, so turn `keepAlive` on). Its `reason` is then a
     * {@link LockLostError} (`code` `'ERR_LOCK_LOST'`, `reason` the {@link LostReason}).
     */
    readonly signal: AbortSignal
    /**
     * Releases the lock, as `lock.release()`: `false` when released in
     * time, `true` when it had been lost. Idempotent: while a release is
     * under way or after one succeeded, every call returns the same Promise;
     * after a failed one (a network error, say), the next call tries again.
     */
    release(): Promise<boolean>
    /** `release()`, resolving `undefined`; it rejects when the release fails. */
    [Symbol.asyncDispose](): Promise<void>
  }

  /**
   * Why this instance's holding ended without a release in time (the reason
   * of 'lost', and of a release that answers `lockTimeouted = true`):
   * - `'expired'`: its lease ran out (and nobody has taken it over yet, or no more is known);
   * - `'taken'`: another holder took it over after the lease ran out;
   * - `'forced'`: another instance's `forceAcquire()` removed it while the lease ran;
   * - `'deleted'`: its document vanished while the lease ran (deleted by hand,
   *   collection dropped, or a 0.0.x-style removal that leaves no mark).
   */
  type LostReason = 'expired' | 'taken' | 'forced' | 'deleted'

  /** How a holding ended, in a {@link HistoryRecord}. */
  type HistoryEnd = 'released' | LostReason

  /**
   * One document of the history collection (`history` option), one per
   * holding, keyed by the lock id. `Id` is your driver's ObjectId type.
   */
  interface HistoryRecord<Id = unknown> {
    /** The holding's lock id (the lock document's `_id`). */
    _id: Id
    /** The lock's name. */
    name: string
    /** The holding's lock id, again (the same value as `_id`). */
    lockId: Id
    /** The process that held it, and its `owner` option if any. */
    holder?: HolderRecord
    /** Server time the holding began. */
    acquired?: Date
    /** Server time it ended (absent while held). */
    ended?: Date
    /** How the holding ended (absent while held, or when no process with history on learned it). */
    how?: HistoryEnd
  }

  /** Who holds (or held) a lock, as stored: `owner` only when the option was given. */
  interface HolderRecord {
    /** Host name of the holder's process. */
    host: string
    /** Pid of the holder's process. */
    pid: number
    /** The holder's `owner` option, when it gave one. */
    owner?: string
  }

  /**
   * A lock document, as 0.0.x writes it too. `forcedFrom` is the `_id` of the
   * holding a `forceAcquire()` removed; `holder` is who took it (1.x). 0.0.x
   * ignores both fields and writes neither.
   */
  interface LockDocument<Id = unknown> {
    /** The holding's id: a fresh ObjectId for every holding (its `lockId` in hex). */
    _id: Id
    /** The lock's name (unique in the collection). */
    name: string
    /** End of the lease (server clock). */
    expire: Date
    /** When it was taken (server clock). */
    inserted: Date
    /** The `_id` of the holding a `forceAcquire()` removed to insert this one (1.x). */
    forcedFrom?: Id
    /** Who holds it (1.x). */
    holder?: HolderRecord
  }

  /**
   * The stable `code` of every Error this package makes: exactly the core's
   * list (src/error.rs `ERROR_CODES`), also `Lock.codes`. Server errors
   * carry the server's numeric code instead (see {@link LockError}).
   *
   * - `ERR_MISSING_NAME`          `missing_name` (0.0.x): the name is falsy.
   * - `ERR_INVALID_NAME`          TypeError: not a string or finite number (`{ $gt: '' }` never reaches a
   *                               query), a lone surrogate or NUL; RangeError past 1000 UTF-8 bytes.
   * - `ERR_INVALID_OPTION`        TypeError/RangeError: an option, property or argument is not usable.
   * - `ERR_INVALID_CALLBACK`      TypeError, thrown at once: the callback is not a function.
   * - `ERR_INVALID_LOCK_ID`       TypeError: `lockId` was set to something that is not an ObjectId's hex.
   * - `ERR_LOCK_ALREADY_ACQUIRED` `lock_already_aquired` (0.0.x): this instance holds the lock (or lost
   *                               it and has not called release() yet).
   * - `ERR_LOCK_NOT_ACQUIRED`     `releasing_not_aquired_lock` (0.0.x) / `extending_not_aquired_lock`.
   * - `ERR_LOCK_LOST`             `lock_lost: …`: the lock was lost while a scoped lock's work ran
   *                               (`Lock.withLock`; the `reason` of a `hold()` handle's aborted signal).
   * - `ERR_POLL_TIMEOUT`          `timeout in pollAquire for lock name<name>` (0.0.x's text, no space).
   * - `ERR_NO_CONNECTION`         `no_connection: …`: no mongoose connection, option or MONGODB_URI.
   * - `ERR_CONNECTION_CLOSED`     `connection_closed: …`: the lock's connection was closed
   *                               (`mongoose.disconnect()`, `connection.close()`, `Lock.close()`).
   * - `ERR_INVALID_URI`           the connection string or settings cannot be used.
   * - `ERR_UNSUPPORTED_CONNECTION_OPTION` `unsupported_connection_option: …`: a connection setting the
   *                               lock cannot reproduce; `err.options` names them. Give the lock a `uri`.
   * - `ERR_TLS_CONFIG`            the TLS settings cannot be used (a CA or key file that cannot be read).
   * - `ERR_SERVER_VERSION`        the server is older than MongoDB 4.4 (the Rust driver's minimum).
   * - `ERR_INDEX`                 the unique index on `name` is missing and cannot be built, or an
   *                               existing `name_1` is non-unique or partial (unsafe); nothing is acquired.
   * - `ERR_MONGODB_SERVER`        a server error without a numeric code.
   * - `ERR_MONGODB_NETWORK`       the server cannot be reached, or the connection broke.
   * - `ERR_MONGODB_TIMEOUT`       the call took longer than `socketTimeoutMS` (60 s when unset).
   * - `ERR_MONGODB`               another driver error.
   * - `ERR_INTERNAL`              a bug in the native core (a caught panic); the process lives on.
   * - `ABORT_ERR`                 the call was aborted by its AbortSignal (`name` is `'AbortError'`, as Node's).
   */
  type ErrorCode =
    | 'ERR_MISSING_NAME'
    | 'ERR_INVALID_NAME'
    | 'ERR_INVALID_OPTION'
    | 'ERR_INVALID_CALLBACK'
    | 'ERR_INVALID_LOCK_ID'
    | 'ERR_LOCK_ALREADY_ACQUIRED'
    | 'ERR_LOCK_NOT_ACQUIRED'
    | 'ERR_LOCK_LOST'
    | 'ERR_POLL_TIMEOUT'
    | 'ERR_NO_CONNECTION'
    | 'ERR_CONNECTION_CLOSED'
    | 'ERR_INVALID_URI'
    | 'ERR_UNSUPPORTED_CONNECTION_OPTION'
    | 'ERR_TLS_CONFIG'
    | 'ERR_SERVER_VERSION'
    | 'ERR_INDEX'
    | 'ERR_MONGODB_SERVER'
    | 'ERR_MONGODB_NETWORK'
    | 'ERR_MONGODB_TIMEOUT'
    | 'ERR_MONGODB'
    | 'ERR_INTERNAL'
    | 'ABORT_ERR'

  /**
   * `Lock.codes`: each code by its name without `ERR_` / `_ERR`
   * (`codes.MISSING_NAME === 'ERR_MISSING_NAME'`, `codes.ABORT === 'ABORT_ERR'`).
   */
  type Codes = {
    readonly [C in ErrorCode as C extends `ERR_${infer N}` ? N : C extends `${infer N}_ERR` ? N : never]: C
  }

  /**
   * Every Error this package makes: a stable `code` (an {@link ErrorCode},
   * or the server's number), and the fields below when they apply.
   */
  interface LockError extends Error {
    /**
     * One of {@link ErrorCode}; for a server error, the server's numeric code
     * (`11000`, `13`, …) as the Node driver's `MongoServerError` has it
     * (`name` is then `'MongoServerError'`).
     */
    code: ErrorCode | number
    /** The server's name for its code (`'Unauthorized'`, …), for server errors. */
    codeName?: string
    /** The driver's error labels, when there are any. */
    errorLabels?: string[]
    /** `ERR_UNSUPPORTED_CONNECTION_OPTION` from a mongoose connection: the settings refused, by name. */
    options?: string[]
    /** The underlying error (the connection's own, or the AbortSignal's `reason`). */
    cause?: unknown
    /**
     * From `Lock.withLock`: what `fn` resolved with, when the lock was lost
     * meanwhile (`ERR_LOCK_LOST`) or when `fn` resolved and the release
     * failed (the release's error: the work is done, only the release needs
     * another try).
     */
    result?: unknown
  }

  /** What `Lock.withLock` passes to `fn` besides its signal. */
  interface HeldInfo {
    /** Hex string of the lock document's ObjectId. */
    readonly lockId: string
    /** The holding's fencing token with `fencing: true`, else `null`. */
    readonly fencingToken: number | null
  }

  /** How an aborted `pollAcquire` (or `hold`/`withLock` wait) rejects (as Node's own APIs do). */
  interface AbortError extends LockError {
    /** `'AbortError'`, as Node's own APIs name it. */
    name: 'AbortError'
    code: 'ABORT_ERR'
  }

  /**
   * The lock was lost while a scoped lock's work ran. `Lock.withLock`
   * rejects with it when `fn` resolved anyway (`result` is `fn`'s value:
   * the work may not have been exclusive); a `hold()` handle's `signal`
   * (and the one `withLock` passes to `fn`) aborts with it as its `reason`
   * (without `result`). `message` starts with `lock_lost:`.
   */
  interface LockLostError<T = unknown> extends LockError {
    code: 'ERR_LOCK_LOST'
    /** Why the holding ended (see {@link LostReason}); `null` if unknown. */
    reason: LostReason | null
    /** What `fn` resolved with (only from `Lock.withLock`). */
    result?: T
  }

  /**
   * Node-style callback: called asynchronously, exactly once. `value` is
   * `undefined` on error, except `pollAcquire`'s timeout, which comes with
   * `false` (0.0.x).
   */
  type Callback<T> = (err: LockError | null, value?: T) => void

  /** The events of a Lock, with their listeners' arguments. */
  interface LockEvents {
    /** The lock was taken (`acquire`, `pollAcquire`, `forceAcquire`): the lock document's id (hex). */
    acquired: [lockId: string]
    /** `release()` ended the holding: 0.0.x's `lockTimeouted` (true when it was no longer ours). */
    released: [lockTimeouted: boolean]
    /** The lease was renewed (`extend()` or the keep-alive): its new end, ms since the epoch, server clock. */
    extended: [expire: number]
    /** A `pollAcquire` gave up (emitted just before it fails with `ERR_POLL_TIMEOUT`). */
    timeout: []
    /**
     * `fair: true` only: a wait (`pollAcquire`, `hold()`, `Lock.withLock`)
     * joined the queue of fair waiters, before its first try; once per wait.
     * `ticket` is its place in arrival order (per name and collection;
     * higher is later).
     */
    queued: [ticket: number]
    /**
     * The holding is no longer ours, found by a call (`extend`, `release`)
     * or the keep-alive (also `'expired'` once `maxHoldTime` stopped it).
     * Once per lost holding.
     */
    lost: [reason: LostReason]
  }

  /**
   * A distributed lock on one name. An EventEmitter of {@link LockEvents};
   * it never emits 'error', and listeners never keep Node alive.
   *
   * Every method but `hold` takes an optional callback; without one it
   * returns a Promise of the same value, rejected with the same Error.
   */
  interface Lock extends EventEmitter {
    /** The lock's name (a number names the same lock as its decimal string, 0.0.x). */
    name: string | number
    /**
     * Hex string of the lock document's ObjectId while this instance holds
     * the lock (and after a loss, until `release()`), else `null` (0.0.x).
     */
    lockId: string | null
    /** When the lock was acquired: ms since the epoch, server clock; else `null` (0.0.x spelling). */
    timeAquired: number | null
    /** The lease, ms (0.0.x). A change applies from the next call. */
    timeout: number
    /** Pause between `pollAcquire` tries where no wake-up can come, and the unit of its bound, ms (0.0.x). */
    pollInterval: number
    /** `pollAcquire`'s default bound, in tries `pollInterval` apart: `timeout / pollInterval + 2`, computed at construction (0.0.x). */
    probeMaxAttempts: number
    /**
     * With `fencing: true`: the current holding's fencing token, a whole
     * number higher than every earlier holding's of this name (see
     * {@link LockOptions.fencing}), from the acquire until `release()` (it
     * stays through a loss until then, like `lockId`); else `null`. For
     * reading: the lock never reads it back.
     */
    readonly fencingToken: number | null

    /**
     * One try: `true` when taken, `false` when someone else holds it
     * (0.0.x). Rejects with `lock_already_aquired` when this instance holds it.
     */
    acquire(): Promise<boolean>
    /** Callback form of {@link acquire}. */
    acquire(callback: Callback<boolean>): void

    /**
     * Waits until taken (`true`) or the bound of `maxAttempts` passes: then
     * 'timeout' and `ERR_POLL_TIMEOUT` (a callback gets `(err, false)`).
     * Between tries it pauses until a wake-up (the holder, a process of this
     * package on this host, released it: see {@link LockOptions.wakeUps}),
     * a release of the same name in this process (by a Lock with the same
     * connection settings, database and collection, whatever its other
     * options), or the holder's expiry (server clock, read by the failed
     * try: a crashed holder's lock is taken right at its expiry), whichever
     * comes first; where no wake-up can come, it also tries every
     * `pollInterval` ms, plus a jitter of at most 25 ms or a tenth of
     * `pollInterval`.
     * With `fair: true`, waiters of every process queue and only the head of
     * the queue tries ('queued' gives the ticket; see {@link LockOptions.fair}).
     */
    pollAcquire(options?: PollAcquireOptions): Promise<boolean>
    /** Callback form of {@link pollAcquire}, with the default options. */
    pollAcquire(callback: Callback<boolean>): void
    /** Callback form of {@link pollAcquire}. */
    pollAcquire(options: PollAcquireOptions | undefined, callback: Callback<boolean>): void
    /** 0.0.x's spelling of {@link pollAcquire}. */
    pollAquire(options?: PollAcquireOptions): Promise<boolean>
    /** Callback form of {@link pollAquire}, with the default options. */
    pollAquire(callback: Callback<boolean>): void
    /** Callback form of {@link pollAquire}. */
    pollAquire(options: PollAcquireOptions | undefined, callback: Callback<boolean>): void

    /**
     * Takes the lock whoever holds it: the holder's document is removed by
     * its exact `_id`, then a new one inserted (with `forcedFrom`). Resolves
     * `true` (`false` only if other acquirers kept winning the name for 8
     * rounds in a row). The previous holder gets 'lost' (`'forced'`) and its
     * `release()` answers `lockTimeouted = true`. Rejects with
     * `lock_already_aquired` when this instance holds it.
     */
    forceAcquire(): Promise<boolean>
    /** Callback form of {@link forceAcquire}. */
    forceAcquire(callback: Callback<boolean>): void

    /**
     * Renews the lease to `ms` (default `timeout`) from now, on the server's
     * clock, in one round trip: `true` (and 'extended'), or `false` when the
     * lock is no longer ours (and 'lost'; also when less than
     * min(500 ms, ms / 4) of the lease was left). Rejects with
     * `extending_not_aquired_lock` (`ERR_LOCK_NOT_ACQUIRED`) when not held.
     */
    extend(ms?: number): Promise<boolean>
    /** Callback form of {@link extend}, renewing to the lock's `timeout`. */
    extend(callback: Callback<boolean>): void
    /** Callback form of {@link extend}. */
    extend(ms: number | undefined, callback: Callback<boolean>): void

    /**
     * Releases the lock (stopping the keep-alive first): `false` when
     * released in time, `true` when it was no longer ours (0.0.x's
     * `lockTimeouted`). Either way `lockId` and `timeAquired` become `null`.
     * Rejects with `releasing_not_aquired_lock` when not held.
     */
    release(): Promise<boolean>
    /** Callback form of {@link release}. */
    release(callback: Callback<boolean>): void

    /**
     * Whether anyone holds this lock's name now (a live lease on the
     * server's clock; a document past its lease counts as free), this
     * instance or another. One round trip (a `find`).
     */
    isLocked(): Promise<boolean>
    /** Callback form of {@link isLocked}. */
    isLocked(callback: Callback<boolean>): void

    /**
     * Ms left on the current holding of this lock's name, whoever holds it
     * (this instance or another), on the server's clock; `null` when nobody
     * holds it. One round trip (a `find`).
     */
    expiresIn(): Promise<number | null>
    /** Callback form of {@link expiresIn}. */
    expiresIn(callback: Callback<number | null>): void

    /**
     * Promise only. Waits for the lock as `pollAcquire` does (but with
     * `maxAttempts` `Infinity` unless given; `signal` cancels the wait) and
     * resolves a {@link HeldLock}: `await using held = await lock.hold()`.
     * Keep-alive stays as this Lock was made: turn it on for the handle's
     * `signal` to abort when the lock is lost during the work. Rejects (never
     * throws) with the errors of `pollAcquire`.
     */
    hold(options?: HoldOptions): Promise<HeldLock>

    on(event: 'acquired', listener: (lockId: string) => void): this
    on(event: 'released', listener: (lockTimeouted: boolean) => void): this
    on(event: 'extended', listener: (expire: number) => void): this
    on(event: 'timeout', listener: () => void): this
    on(event: 'queued', listener: (ticket: number) => void): this
    on(event: 'lost', listener: (reason: LostReason) => void): this

    once(event: 'acquired', listener: (lockId: string) => void): this
    once(event: 'released', listener: (lockTimeouted: boolean) => void): this
    once(event: 'extended', listener: (expire: number) => void): this
    once(event: 'timeout', listener: () => void): this
    once(event: 'queued', listener: (ticket: number) => void): this
    once(event: 'lost', listener: (reason: LostReason) => void): this

    addListener(event: 'acquired', listener: (lockId: string) => void): this
    addListener(event: 'released', listener: (lockTimeouted: boolean) => void): this
    addListener(event: 'extended', listener: (expire: number) => void): this
    addListener(event: 'timeout', listener: () => void): this
    addListener(event: 'queued', listener: (ticket: number) => void): this
    addListener(event: 'lost', listener: (reason: LostReason) => void): this

    prependListener(event: 'acquired', listener: (lockId: string) => void): this
    prependListener(event: 'released', listener: (lockTimeouted: boolean) => void): this
    prependListener(event: 'extended', listener: (expire: number) => void): this
    prependListener(event: 'timeout', listener: () => void): this
    prependListener(event: 'queued', listener: (ticket: number) => void): this
    prependListener(event: 'lost', listener: (reason: LostReason) => void): this

    prependOnceListener(event: 'acquired', listener: (lockId: string) => void): this
    prependOnceListener(event: 'released', listener: (lockTimeouted: boolean) => void): this
    prependOnceListener(event: 'extended', listener: (expire: number) => void): this
    prependOnceListener(event: 'timeout', listener: () => void): this
    prependOnceListener(event: 'queued', listener: (ticket: number) => void): this
    prependOnceListener(event: 'lost', listener: (reason: LostReason) => void): this

    off(event: 'acquired', listener: (lockId: string) => void): this
    off(event: 'released', listener: (lockTimeouted: boolean) => void): this
    off(event: 'extended', listener: (expire: number) => void): this
    off(event: 'timeout', listener: () => void): this
    off(event: 'queued', listener: (ticket: number) => void): this
    off(event: 'lost', listener: (reason: LostReason) => void): this

    removeListener(event: 'acquired', listener: (lockId: string) => void): this
    removeListener(event: 'released', listener: (lockTimeouted: boolean) => void): this
    removeListener(event: 'extended', listener: (expire: number) => void): this
    removeListener(event: 'timeout', listener: () => void): this
    removeListener(event: 'queued', listener: (ticket: number) => void): this
    removeListener(event: 'lost', listener: (reason: LostReason) => void): this
  }

  /**
   * The package's export, `Lock`: `Lock(name, options)` (with or without
   * `new`) makes a {@link Lock}; the static functions work on names and
   * collections.
   */
  interface LockFactory {
    /** Creates a lock, with or without `new` (0.0.x). Throws on a bad name or option. */
    (name: string | number, options?: LockOptions): Lock
    new (name: string | number, options?: LockOptions): Lock
    /** The prototype of every Lock. */
    readonly prototype: Lock
    /** The same factory, for `const { Lock } = require(…)` and `import { Lock } from …`. */
    readonly Lock: LockFactory
    /** The same factory, for ES module interop (`import Lock from …`). */
    readonly default: LockFactory
    /** Every error code, by name. */
    readonly codes: Codes

    /**
     * Ensures a lock collection's indexes now (a deploy step; otherwise they
     * are ensured before the first acquire): the unique index on `name` and,
     * unless `ttl: false`, the TTL index on `expire`; with `fencing: true` /
     * `fair: true`, the unique index of `<collection>_fencing` /
     * `<collection>_queue` too. Rejects with
     * `ERR_INDEX` when an existing `name_1` index is non-unique or partial.
     */
    ensureIndexes(options?: EnsureIndexesOptions): Promise<EnsureIndexesResult>
    /** Callback form of {@link LockFactory.ensureIndexes | ensureIndexes}, with the default options. */
    ensureIndexes(callback: Callback<EnsureIndexesResult>): void
    /** Callback form of {@link LockFactory.ensureIndexes | ensureIndexes}. */
    ensureIndexes(options: EnsureIndexesOptions | undefined, callback: Callback<EnsureIndexesResult>): void

    /**
     * Who holds `name` now (a live lease, server clock): a {@link Holder},
     * or `null` when nobody does. One round trip (a `find`). `options`:
     * `uri`, `connection`, `collection`, as for a Lock. Bad options throw at
     * once (`ERR_INVALID_OPTION`); a bad name rejects (`ERR_INVALID_NAME`).
     */
    holder(name: string | number, options?: HolderOptions): Promise<Holder | null>
    /** Callback form of {@link LockFactory.holder | holder}, with the default options. */
    holder(name: string | number, callback: Callback<Holder | null>): void
    /** Callback form of {@link LockFactory.holder | holder}. */
    holder(name: string | number, options: HolderOptions | undefined, callback: Callback<Holder | null>): void

    /**
     * Promise only. Runs `fn(signal)` while holding the lock `name`:
     * waits for it as `pollAcquire` does (`maxAttempts` `Infinity` unless
     * given; `options.signal` cancels the wait), keeps it alive (`keepAlive`
     * on unless `false`), aborts `signal` when the lock is lost (its
     * `reason` a {@link LockLostError}), always releases, and resolves with
     * what `fn` resolves.
     *
     * Rejections (never a synchronous throw): the wait's errors
     * (`ABORT_ERR`, `ERR_POLL_TIMEOUT` with a finite `maxAttempts`, …);
     * `ERR_INVALID_CALLBACK` when `fn` is not a function; `fn`'s own error
     * (a failed release is attached to it as a non-enumerable
     * `releaseError`, never replacing it); {@link LockLostError}
     * (`ERR_LOCK_LOST`, with `result`) when the lock was lost while `fn` ran
     * and `fn` resolved; the release's error, with `fn`'s value as its
     * `result`, when `fn` resolved but the release failed. `options.fair`
     * makes the wait fair, `options.fencing` gives the holding a token: `fn`
     * gets it as its second argument, `{ lockId, fencingToken }`.
     */
    withLock<T>(name: string | number, options: WithLockOptions | undefined, fn: (signal: AbortSignal, held: HeldInfo) => T | Promise<T>): Promise<T>
    /** {@link LockFactory.withLock | withLock} with the default options. */
    withLock<T>(name: string | number, fn: (signal: AbortSignal, held: HeldInfo) => T | Promise<T>): Promise<T>

    /**
     * Closes every pooled connection; waits in progress end with
     * `ERR_CONNECTION_CLOSED`. Locks used afterwards connect again.
     */
    close(): Promise<void>
    /** Callback form of {@link LockFactory.close | close}. */
    close(callback: (err: LockError | null) => void): void
  }
}

/**
 * The package: `const Lock = require('mongoose-distributed-lock')`, then
 * `Lock(name, options)`. See {@link Lock.LockFactory}.
 */
declare const Lock: Lock.LockFactory
export = Lock
