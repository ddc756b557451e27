#!/usr/bin/env node
'use strict'
/**
 * `npx mongoose-distributed-lock list | show NAME | release NAME --force`:
 * what an operator needs to look at the lock documents of a collection and to
 * free a lock whose holder is stuck or dead.
 *
 * It reads through lib/store.js (the same native store a Lock uses): `list`
 * lists the documents, `show` asks for one name's holder, and `release`
 * removes one document by its exact lock id (`_id`), so a holding that
 * replaced the one the operator saw is never touched. Lock names are data,
 * passed as given to the core (never part of a query's shape).
 *
 * Exit codes: 0 done; 1 the name is not locked; 2 usage error or refused
 * (nothing was changed); 3 the connection or the server failed. Nothing ever
 * prints the connection string (the library's messages redact passwords).
 */
const readline = require('readline')

const EXIT = { OK: 0, NOT_LOCKED: 1, USAGE: 2, FAILED: 3 }
const DEFAULT_LIST_LIMIT = 1000
// `show` and `release` of a name past its lease: how many documents (by
// name) are scanned to find it; the core's status() only reports live ones.
const FIND_SCAN_LIMIT = 10000
const MAX_LIMIT = 2 ** 32 - 1

const EXAMPLES = `
Examples:
  $ export MONGODB_URI='mongodb://ops:…@db-1.example.net/app'
  $ npx mongoose-distributed-lock list
  $ npx mongoose-distributed-lock list --json --collection billing_locks
  $ npx mongoose-distributed-lock show nightly-report
  $ npx mongoose-distributed-lock release nightly-report --force
  $ npx mongoose-distributed-lock release nightly-report --force --yes   # no question asked

The connection string comes from --uri, or else from MONGODB_URI; its path
names the database (test when there is none). Times are on the server's clock.

Exit codes:
  0  done
  1  the name is not locked (show, release)
  2  usage error, or refused: nothing was changed
  3  the connection or the server failed`

const RELEASE_HELP = `
Removing a lock document breaks mutual exclusion for its current holder: that
process keeps working as if it held the lock while another one takes it. Use it
only for a holder you know is dead or stuck (see \`show NAME\`).

The document is removed by its exact lock id, read first: if the lock changed
hands meanwhile, nothing is removed. A 1.x holder learns it lost the lock on its
next call ('lost' with 'deleted'; its release() answers true).

Without --yes it shows the holder and asks "Remove it? [y/N]" on the terminal;
when stdin is not a terminal it refuses instead (exit 2).`

/** A usage error or a refusal: its message is printed as is, exit 2. */
class Refusal extends Error {}

// ---------------------------------------------------------------- output

/** Passwords in anything that looks like a URI or an option (belt and braces). */
function redact (text) {
  return String(text)
    .replace(/([a-z][a-z0-9+.-]*:\/\/[^\s/@:'"]*):[^\s/@'"]*@/gi, '$1:****@')
    .replace(/((?:password|proxyPassword|tlsCertificateKeyFilePassword)=)[^&\s'"]*/gi, '$1****')
}

/** Stored text shown in a terminal: control characters escaped, never run. */
function printable (value) {
  if (value === undefined || value === null || value === '') return '-'
  // eslint-disable-next-line no-control-regex
  return String(value).replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g,
    (c) => c === '\n' ? '\\n' : c === '\t' ? '\\t' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/** 850ms, 12s, 3m4s, 2h5m, 3d4h. */
function human (ms) {
  if (!Number.isFinite(ms)) return '-'
  ms = Math.max(0, Math.floor(ms))
  if (ms < 1000) return `${ms}ms`
  const s = Math.floor(ms / 1000)
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m${s % 60 ? `${s % 60}s` : ''}`
  const h = Math.floor(m / 60)
  if (h < 24) return `${h}h${m % 60 ? `${m % 60}m` : ''}`
  const d = Math.floor(h / 24)
  return `${d}d${h % 24 ? `${h % 24}h` : ''}`
}

const isoDate = (ms) => Number.isFinite(ms) ? new Date(ms).toISOString() : '-'
const nullable = (value) => value === undefined ? null : value

/** A lock as --json prints it: the raw fields, ms numbers, null when unknown. */
function raw (info) {
  return {
    name: nullable(info.name),
    lockId: nullable(info.lockId),
    acquired: nullable(info.acquired),
    expire: nullable(info.expire),
    expiresIn: nullable(info.expiresIn),
    host: nullable(info.host),
    pid: nullable(info.pid),
    owner: nullable(info.owner)
  }
}

/** The columns of a lock, for people. */
function row (info) {
  // The server's clock now: the reply says when the lease ends and how far off that is.
  const now = info.expire - info.expiresIn
  const holder = info.host === undefined || info.host === null
    ? (info.pid === undefined || info.pid === null ? '-' : `?:${info.pid}`)
    : `${printable(info.host)}${info.pid === undefined || info.pid === null ? '' : `:${info.pid}`}`
  return {
    name: printable(info.name),
    lockId: printable(info.lockId),
    holder,
    owner: printable(info.owner),
    age: Number.isFinite(info.acquired) ? human(now - info.acquired) : '-',
    left: info.expiresIn > 0 ? human(info.expiresIn) : 'expired'
  }
}

const COLUMNS = [['NAME', 'name'], ['LOCK ID', 'lockId'], ['HOLDER', 'holder'], ['OWNER', 'owner'], ['AGE', 'age'], ['LEFT', 'left']]

function table (rows) {
  const widths = COLUMNS.map(([title, key]) => Math.max(title.length, ...rows.map((r) => r[key].length)))
  const line = (cells) => cells.map((c, i) => i === cells.length - 1 ? c : c.padEnd(widths[i])).join('  ')
  return [line(COLUMNS.map(([title]) => title)), ...rows.map((r) => line(COLUMNS.map(([, key]) => r[key])))].join('\n')
}

/** One lock, for people: the table's fields, one a line, and the dates. */
function details (info) {
  const r = row(info)
  const left = info.expiresIn > 0 ? `${r.left} (ends ${isoDate(info.expire)})` : `expired ${human(-info.expiresIn)} ago (${isoDate(info.expire)})`
  return [
    ['NAME', r.name],
    ['LOCK ID', r.lockId],
    ['HOLDER', r.holder],
    ['OWNER', r.owner],
    ['AGE', Number.isFinite(info.acquired) ? `${r.age} (acquired ${isoDate(info.acquired)})` : '-'],
    ['LEFT', left]
  ].map(([k, v]) => `${k.padEnd(9)}${v}`).join('\n')
}

// ---------------------------------------------------------------- the store

let lib = null
/** The library, loaded on first use (so that --help never needs the native module). */
function library () {
  if (!lib) {
    lib = {
      Lock: require('../lib/lock'),
      check: require('../lib/options'),
      errors: require('../lib/errors'),
      store: require('../lib/store')
    }
  }
  return lib
}

/** The connection settings: --uri, or else MONGODB_URI; --collection. */
function where (opts) {
  const uri = opts.uri || process.env.MONGODB_URI
  if (!uri) {
    throw new Refusal('no connection string: pass --uri mongodb://host/db or set the MONGODB_URI environment variable')
  }
  const { check } = library()
  return check.storeOptions(check.optionsObject({ uri: withQuickSelection(uri), collection: opts.collection }))
}

// An operator waits seconds, not the driver's 30 s, for an unreachable server
// (unless the connection string says otherwise).
const SERVER_SELECTION_TIMEOUT_MS = 5000

function withQuickSelection (uri) {
  if (/[?&]serverSelectionTimeoutMS=/i.test(uri)) return uri
  const [base, hash] = uri.split('#')
  const joined = `${base}${base.includes('?') ? '&' : base.replace(/^[^:]+:\/\/[^/]*$/, '') === '' ? '/?' : '?'}serverSelectionTimeoutMS=${SERVER_SELECTION_TIMEOUT_MS}`
  return hash === undefined ? joined : `${joined}#${hash}`
}

async function open (opts) {
  return library().store.resolveStore(where(opts))
}

/** The reply of a store call, or its failure thrown as the library's Error. */
function settled (reply) {
  if (reply.error) throw library().errors.fromFailure(reply.error)
  return reply
}

/**
 * The document of `name`, live or past its lease, or null: status() first
 * (one query by name); a name nobody holds is looked for among the listed
 * documents, to show a holder whose lease ended.
 */
async function find (store, name) {
  const { holder } = settled(await store.status(name))
  if (holder) return { ...holder, name }
  const { locks } = settled(await store.list(FIND_SCAN_LIMIT))
  return locks.find((l) => l.name === name) || null
}

function lockName (name) {
  return library().check.storedName(name)
}

// ---------------------------------------------------------------- commands

function out (text) { process.stdout.write(`${text}\n`) }
function err (text) { process.stderr.write(`${text}\n`) }
function json (value) { out(JSON.stringify(value, null, 2)) }

async function list (opts) {
  const store = await open(opts)
  const { locks } = settled(await store.list(opts.limit))
  if (opts.json) json(locks.map(raw))
  else if (locks.length === 0) out(`no locks in ${printable(opts.collection)}`)
  else out(table(locks.map(row)))
  if (locks.length === opts.limit) err(`(the first ${opts.limit} locks by name; use --limit for more)`)
  return EXIT.OK
}

async function show (name, opts) {
  name = lockName(name)
  const store = await open(opts)
  const info = await find(store, name)
  if (opts.json) json(info && raw(info))
  else if (info) out(details(info))
  if (!info) {
    if (!opts.json) out(`${printable(name)} is not locked`)
    return EXIT.NOT_LOCKED
  }
  if (info.expiresIn > 0) return EXIT.OK
  if (!opts.json) out(`${printable(name)} is not locked: its holder's lease ended; anyone may take it over`)
  return EXIT.NOT_LOCKED
}

/** Asks on the terminal; resolves true for y or yes only. */
function confirm (question) {
  return new Promise((resolve) => {
    const rl = readline.createInterface({ input: process.stdin, output: process.stderr })
    let answered = false
    const done = (yes) => {
      if (answered) return
      answered = true
      rl.close()
      resolve(yes)
    }
    rl.on('close', () => done(false)) // end of input: no
    rl.on('SIGINT', () => { process.stderr.write('\n'); done(false) })
    rl.question(question, (answer) => done(/^\s*(y|yes)\s*$/i.test(answer)))
  })
}

async function release (name, opts) {
  name = lockName(name)
  if (!opts.force) {
    throw new Refusal(`refusing to release ${printable(name)} without --force: removing the lock document of a ` +
      'process that still holds it breaks mutual exclusion (that process keeps working as if it held the lock ' +
      'while another one takes it). Check the holder with `show`; if it is dead or stuck, rerun with --force.')
  }
  const store = await open(opts)
  const seen = await find(store, name)
  if (!seen) return notLocked(name, opts)
  if (!seen.lockId) throw new Refusal(`the document of ${printable(name)} has no ObjectId _id: remove it by hand`)
  if (!opts.yes) {
    err(details(seen))
    if (seen.expiresIn > 0) {
      err(`Removing it breaks mutual exclusion: the holder (${row(seen).holder}) may keep working as if it held ${printable(name)}.`)
    }
    if (!process.stdin.isTTY) {
      throw new Refusal('stdin is not a terminal, so there is no one to ask: nothing removed; rerun with --yes to remove it without asking')
    }
    if (!await confirm('Remove it? [y/N] ')) throw new Refusal('not removed')
  }
  // By its exact _id: if the lock changed hands since it was read, nothing is removed.
  const { removed } = settled(await store.remove(name, seen.lockId))
  if (removed) {
    if (opts.json) json({ removed: true, lock: raw(seen) })
    else out(`released ${printable(name)}: removed lock ${seen.lockId} (holder ${row(seen).holder}); it learns it lost the lock on its next call`)
    return EXIT.OK
  }
  const now = await find(store, name)
  if (!now) return notLocked(name, opts, ' (it was released meanwhile)')
  if (opts.json) json({ removed: false, lock: raw(now) })
  else out(`${printable(name)} changed hands meanwhile: now lock ${printable(now.lockId)} (holder ${row(now).holder}); nothing removed`)
  return EXIT.NOT_LOCKED
}

function notLocked (name, opts, why = '') {
  if (opts.json) json({ removed: false, lock: null })
  else out(`${printable(name)} is not locked${why}`)
  return EXIT.NOT_LOCKED
}

// ---------------------------------------------------------------- arguments

function limit (value) {
  const n = Number(value)
  if (!/^\d+$/.test(value) || n < 1 || n > MAX_LIMIT) {
    throw new Commander.InvalidArgumentError(`a whole number from 1 to ${MAX_LIMIT}`)
  }
  return n
}

let Commander = null

function program () {
  const { Command } = Commander
  const cli = new Command('mongoose-distributed-lock')
    .description('Look at the locks of mongoose-distributed-lock in a MongoDB collection, and free a stuck one.')
    .option('--uri <uri>', 'MongoDB connection string (default: $MONGODB_URI)')
    .option('--collection <name>', 'the lock collection', 'distributedlocks')
    .option('--json', 'machine output: one JSON document on stdout')
    .configureHelp({ showGlobalOptions: true })
    .configureOutput({ outputError: (text, write) => write(redact(text)) })
    .showHelpAfterError('(see --help)')
    .exitOverride()
    .addHelpText('after', EXAMPLES)

  const run = (command) => (...args) => {
    const cmd = args[args.length - 1]
    return command(...args.slice(0, -2), cmd.optsWithGlobals())
      .then((code) => { process.exitCode = code })
  }

  cli.command('list')
    .description('every lock document of the collection, by name (live and past their lease)')
    .option('--limit <n>', 'at most this many', limit, DEFAULT_LIST_LIMIT)
    .action(run(list))

  cli.command('show')
    .description("one lock's holder (exit 1 when the name is not locked)")
    .argument('<name>', 'the lock name, as given to Lock(name)')
    .action(run(show))

  cli.command('release')
    .description('remove a lock document (needs --force; breaks mutual exclusion for its holder)')
    .argument('<name>', 'the lock name, as given to Lock(name)')
    .option('--force', 'yes, remove the lock of a holder that may still be running')
    .option('--yes', 'do not ask for confirmation')
    .addHelpText('after', RELEASE_HELP)
    .action(run(release))

  return cli
}

/** Prints an error and the exit code it calls for. */
function failure (error) {
  if (error instanceof Refusal) {
    err(`mongoose-distributed-lock: ${redact(error.message)}`)
    return EXIT.USAGE
  }
  const usage = lib && [lib.errors.codes.MISSING_NAME, lib.errors.codes.INVALID_NAME, lib.errors.codes.INVALID_OPTION]
  const code = error && error.code !== undefined ? ` (${error.code})` : ''
  err(`mongoose-distributed-lock: ${redact(error && error.message)}${code}`)
  return usage && usage.includes(error.code) ? EXIT.USAGE : EXIT.FAILED
}

async function main () {
  try {
    Commander = require('commander')
    await program().parseAsync(process.argv)
  } catch (error) {
    if (error && typeof error.code === 'string' && error.code.startsWith('commander.')) {
      // commander printed it already (help, version, usage error).
      process.exitCode = error.exitCode === 0 ? EXIT.OK : EXIT.USAGE
    } else {
      process.exitCode = failure(error)
    }
  } finally {
    // Closes the pooled clients, so that Node exits on its own.
    if (lib) await lib.Lock.close().catch(() => {})
  }
}

main()
