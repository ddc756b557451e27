// Type definitions for mongoose-distributed-lock 1.x

declare namespace Lock {
  interface LockOptions {
    /** Longest time (ms) a lock is held before others may take it. Default 60000; falsy takes the default. */
    timeout?: number
    /** Pause (ms) between the tries of `pollAcquire`. Default 500; falsy takes the default. */
    pollInterval?: number
    /** A MongoDB connection string to use instead of the application's mongoose connection. */
    uri?: string
    /** A mongoose `Connection` (from `mongoose.createConnection()`) to use; its server and database. */
    connection?: { readyState: number }
  }

  /**
   * Stable `code` of every Error this package makes. Server errors instead
   * carry the server's numeric code (`err.code === 11000`, `err.codeName`),
   * as the Node driver's `MongoServerError` does.
   *
   * - `ERR_MISSING_NAME`          `missing_name`: the name is falsy.
   * - `ERR_INVALID_NAME`          TypeError: the name is not a string or finite number (an object such as
   *                               `{ $gt: '' }` is never sent to the server), or it has a lone surrogate,
   *                               a NUL character, or more than 1000 UTF-8 bytes (RangeError).
   * - `ERR_INVALID_OPTION`        TypeError/RangeError: `timeout`, `pollInterval`, `probeMaxAttempts`,
   *                               `uri` or `connection` is not usable (negative, NaN, not a number,
   *                               Infinity, beyond the largest Date or beyond setTimeout's limit).
   * - `ERR_INVALID_CALLBACK`      TypeError: the callback is not a function.
   * - `ERR_INVALID_LOCK_ID`       TypeError: `lockId` was set to something that is not an ObjectId's hex.
   * - `ERR_LOCK_ALREADY_ACQUIRED` `lock_already_aquired`: this instance already holds the lock.
   * - `ERR_LOCK_NOT_ACQUIRED`     `releasing_not_aquired_lock`: release without holding the lock.
   * - `ERR_POLL_TIMEOUT`          `timeout in pollAquire for lock name<name>` (0.0.1's text, no space).
   * - `ERR_NO_CONNECTION`         `no_connection: …`: no mongoose connection, option or MONGODB_URI.
   * - `ERR_INVALID_URI`           the connection string cannot be parsed.
   * - `ERR_INDEX`                 the unique index on `name` is missing and cannot be built.
   * - `ERR_MONGODB_NETWORK`       the server cannot be reached, or the connection broke.
   * - `ERR_MONGODB_TIMEOUT`       an acquire or release took longer than the connection string's
   *                               `socketTimeoutMS` (60 s when unset): the server stopped answering.
   * - `ERR_MONGODB`               another driver error.
   * - `ERR_INTERNAL`              a bug in the native core (a caught panic); the process lives on.
   */
  type ErrorCode =
    | 'ERR_MISSING_NAME'
    | 'ERR_INVALID_NAME'
    | 'ERR_INVALID_OPTION'
    | 'ERR_INVALID_CALLBACK'
    | 'ERR_INVALID_LOCK_ID'
    | 'ERR_LOCK_ALREADY_ACQUIRED'
    | 'ERR_LOCK_NOT_ACQUIRED'
    | 'ERR_POLL_TIMEOUT'
    | 'ERR_NO_CONNECTION'
    | 'ERR_INVALID_URI'
    | 'ERR_INDEX'
    | 'ERR_MONGODB_SERVER'
    | 'ERR_MONGODB_NETWORK'
    | 'ERR_MONGODB_TIMEOUT'
    | 'ERR_MONGODB'
    | 'ERR_INTERNAL'

  interface LockError extends Error {
    /** One of {@link ErrorCode}, or the server's numeric error code for server errors. */
    code: ErrorCode | number
    /** The server's name for its error code, for server errors. */
    codeName?: string
    /** The driver's error labels, when there are any. */
    errorLabels?: string[]
  }

  type Callback<T> = (err: LockError | null, value?: T) => void

  interface Lock {
    /** The lock's name, as given (a number names the same lock as its decimal string). */
    name: string | number
    /** Hex string of the lock document's ObjectId while this instance holds the lock, else `null`. */
    lockId: string | null
    /** Server time (ms since the epoch) at which the lock was acquired, else `null`. */
    timeAquired: number | null
    timeout: number
    pollInterval: number
    /** Tries `pollAcquire` makes: `timeout / pollInterval + 2`, computed at construction. */
    probeMaxAttempts: number

    /** One try: `true` when acquired, `false` when someone else holds the lock. */
    acquire(): Promise<boolean>
    acquire(callback: Callback<boolean>): void

    /** Tries every `pollInterval` ms, up to `probeMaxAttempts` times; then fails with `ERR_POLL_TIMEOUT` (and `false`). */
    pollAcquire(): Promise<boolean>
    pollAcquire(callback: Callback<boolean>): void
    /** 0.0.x spelling of {@link pollAcquire}. */
    pollAquire(): Promise<boolean>
    pollAquire(callback: Callback<boolean>): void

    /** `false` when released in time, `true` when the lock had already expired (`lockTimeouted`). */
    release(): Promise<boolean>
    release(callback: Callback<boolean>): void
  }

  interface LockFactory {
    (name: string | number, options?: LockOptions): Lock
    new (name: string | number, options?: LockOptions): Lock
    readonly Lock: LockFactory
    readonly default: LockFactory
    /** The error codes, by name. */
    readonly codes: Readonly<Record<string, ErrorCode>>
    /** Closes every pooled connection; locks used afterwards connect again. */
    close(): Promise<void>
    close(callback: (err: Error | null) => void): void
  }
}

declare const Lock: Lock.LockFactory
export = Lock
