'use strict'
// The operator CLI (bin/mongoose-distributed-lock.js), run as a child
// process against the test server: list, show and release of the locks this
// process holds, the confirmation on a terminal (a pseudo-terminal from
// util-linux `script`), the exit codes, and that no password is ever printed.
const { spawn, spawnSync } = require('child_process')
const os = require('os')
const path = require('path')
const { ObjectId } = require('mongoose8').mongo
const Lock = require('..')
const { useTestDatabase } = require('./support/helpers')

const BIN = path.join(__dirname, '..', 'bin', 'mongoose-distributed-lock.js')
const UNREACHABLE = 'mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=300'
const SECRET = 'Pa55-w0rd-s3cret'
const HOLDER = `${os.hostname()}:${process.pid}`
const COLUMNS = ['NAME', 'LOCK ID', 'HOLDER', 'OWNER', 'AGE', 'LEFT']
const FIELDS = ['name', 'lockId', 'acquired', 'expire', 'expiresIn', 'host', 'pid', 'owner']

const ctx = useTestDatabase('cli')
const locks = () => ctx.raw.db.collection('distributedlocks')

/** The environment of a run: ours (the native build too), MONGODB_URI as asked. */
function envFor ({ uri = ctx.uri } = {}) {
  const env = { ...process.env }
  delete env.MONGODB_URI
  if (uri) env.MONGODB_URI = uri
  return env
}

/** Runs the CLI; resolves { code, stdout, stderr, ms } once it exits on its own. */
function cli (args, { uri, input, timeoutMs = 30000 } = {}) {
  return new Promise((resolve, reject) => {
    const started = Date.now()
    const child = spawn(process.execPath, [BIN, ...args], {
      env: envFor({ uri }),
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe']
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => { stdout += d })
    child.stderr.on('data', (d) => { stderr += d })
    if (input !== undefined) child.stdin.end(input)
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`the CLI did not exit within ${timeoutMs} ms; stdout: ${stdout}; stderr: ${stderr}`))
    }, timeoutMs)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr, ms: Date.now() - started })
    })
  })
}

const quote = (arg) => `'${String(arg).replace(/'/g, "'\\''")}'`

/**
 * Runs the CLI on a pseudo-terminal (util-linux `script`) and types `answer`
 * once it asks "Remove it? [y/N]" (after `beforeAnswer()`). Resolves { code, output, asked }.
 */
function cliOnTerminal (args, answer, { beforeAnswer = async () => {}, timeoutMs = 30000 } = {}) {
  return new Promise((resolve, reject) => {
    const command = [process.execPath, BIN, ...args].map(quote).join(' ')
    const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], {
      env: { ...envFor(), SHELL: '/bin/sh' },
      stdio: ['pipe', 'pipe', 'pipe']
    })
    let output = ''
    let asked = false
    const onData = (d) => {
      output += d
      if (!asked && output.includes('Remove it? [y/N]')) {
        asked = true
        beforeAnswer().then(() => child.stdin.write(`${answer}\r`), (error) => {
          child.kill('SIGKILL')
          reject(error)
        })
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.stdin.on('error', () => { /* script may be gone first */ })
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`the CLI did not exit within ${timeoutMs} ms; output: ${output}`))
    }, timeoutMs)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      child.stdin.destroy()
      resolve({ code, output, asked })
    })
  })
}

/** A held Lock of this process, with an owner. */
async function held (name, owner = 'cli-test') {
  const lock = Lock(name, { uri: ctx.uri, owner })
  expect(await lock.acquire()).toBe(true)
  return lock
}

const documentOf = (lock) => locks().findOne({ _id: new ObjectId(lock.lockId) })

/** The table's row for `name`, as { NAME, LOCK ID, … }. */
function rowOf (table, name) {
  const lines = table.trimEnd().split('\n')
  expect(lines[0].split(/ {2,}/)).toEqual(COLUMNS)
  const line = lines.find((l) => l.split(/ {2,}/)[0] === name)
  if (!line) throw new Error(`no row for ${name} in:\n${table}`)
  return Object.fromEntries(line.split(/ {2,}/).map((cell, i) => [COLUMNS[i], cell]))
}

beforeAll(() => {
  expect(process.env.MONGOOSE_DISTRIBUTED_LOCK_NATIVE).toBeTruthy() // the tests' build, inherited by the CLI
})

describe('list', () => {
  test('a table of live, expired and 0.0.x locks with their holder and owner', async () => {
    const a = await held('cli-list-a', 'ops-a')
    const b = await held('cli-list-b', 'ops-b')
    // A 0.0.x holder (no holder field) and one past its lease (a numeric
    // expire, which a TTL monitor never removes).
    const now = Date.now()
    await locks().insertOne({ name: 'cli-list-legacy', expire: new Date(now + 60000), inserted: new Date(now) })
    await locks().insertOne({ name: 'cli-list-expired', expire: now - 5000, inserted: now - 65000 })
    try {
      const { code, stdout, stderr } = await cli(['list'])
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' })
      expect(rowOf(stdout, 'cli-list-a')).toEqual({
        NAME: 'cli-list-a', 'LOCK ID': a.lockId, HOLDER, OWNER: 'ops-a', AGE: expect.stringMatching(/^\d+(ms|s)$/), LEFT: expect.stringMatching(/^\d+s$/)
      })
      expect(rowOf(stdout, 'cli-list-b')).toMatchObject({ 'LOCK ID': b.lockId, HOLDER, OWNER: 'ops-b' })
      expect(rowOf(stdout, 'cli-list-legacy')).toMatchObject({ HOLDER: '-', OWNER: '-', LEFT: expect.stringMatching(/^\d+s$/) })
      expect(rowOf(stdout, 'cli-list-expired')).toMatchObject({ HOLDER: '-', AGE: expect.stringMatching(/^1m\d+s$/), LEFT: 'expired' })
    } finally {
      await a.release()
      await b.release()
      await locks().deleteMany({ name: { $in: ['cli-list-legacy', 'cli-list-expired'] } })
    }
  })

  test('--json: an array of the raw fields, in ms', async () => {
    const a = await held('cli-json-a', 'ops-json')
    try {
      const { code, stdout } = await cli(['list', '--json'])
      expect(code).toBe(0)
      const all = JSON.parse(stdout)
      expect(Array.isArray(all)).toBe(true)
      const mine = all.find((l) => l.name === 'cli-json-a')
      expect(Object.keys(mine).sort()).toEqual([...FIELDS].sort())
      expect(mine).toMatchObject({ lockId: a.lockId, host: os.hostname(), pid: process.pid, owner: 'ops-json', acquired: a.timeAquired })
      expect(mine.expire - mine.acquired).toBe(a.timeout)
      expect(mine.expiresIn).toBeGreaterThan(0)
      expect(mine.expiresIn).toBeLessThanOrEqual(a.timeout)
    } finally {
      await a.release()
    }
  })

  test('an empty collection: a friendly line, or []', async () => {
    const human = await cli(['list', '--collection', 'cli_empty_locks'])
    expect(human).toMatchObject({ code: 0, stdout: 'no locks in cli_empty_locks\n', stderr: '' })
    const json = await cli(['list', '--collection', 'cli_empty_locks', '--json'])
    expect(json.code).toBe(0)
    expect(JSON.parse(json.stdout)).toEqual([])
  })
})

describe('show', () => {
  test("a held name: its holder's details (exit 0), also as JSON", async () => {
    const a = await held('cli-show', 'ops-show')
    try {
      const human = await cli(['show', 'cli-show'])
      expect(human.code).toBe(0)
      expect(human.stdout).toMatch(new RegExp(`^LOCK ID +${a.lockId}$`, 'm'))
      expect(human.stdout).toMatch(new RegExp(`^HOLDER +${HOLDER.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'))
      expect(human.stdout).toMatch(/^OWNER +ops-show$/m)
      const json = await cli(['show', 'cli-show', '--json'])
      expect(json.code).toBe(0)
      expect(JSON.parse(json.stdout)).toMatchObject({ name: 'cli-show', lockId: a.lockId, owner: 'ops-show', pid: process.pid })
    } finally {
      await a.release()
    }
  })

  test('a free name: "NAME is not locked", exit 1 (JSON: null)', async () => {
    expect(await cli(['show', 'cli-free'])).toMatchObject({ code: 1, stdout: 'cli-free is not locked\n' })
    const json = await cli(['show', 'cli-free', '--json'])
    expect(json.code).toBe(1)
    expect(JSON.parse(json.stdout)).toBeNull()
  })

  test('a name is data, never a query', async () => {
    const a = await held('cli-data')
    try {
      const json = await cli(['show', '{"$ne":null}', '--json'])
      expect(json.code).toBe(1)
      expect(JSON.parse(json.stdout)).toBeNull()
      expect((await cli(['show', '.*'])).code).toBe(1)
    } finally {
      await a.release()
    }
  })

  test("bad names: the library's message and code, exit 2", async () => {
    const empty = await cli(['show', ''])
    expect(empty.code).toBe(2)
    expect(empty.stderr).toMatch(/missing_name \(ERR_MISSING_NAME\)/)
    const long = await cli(['release', 'n'.repeat(2000), '--force', '--yes'])
    expect(long.code).toBe(2)
    expect(long.stderr).toMatch(/lock name is 2000 bytes long.*\(ERR_INVALID_NAME\)/)
  })
})

describe('release', () => {
  test('without --force: refuses, says why, removes nothing (exit 2)', async () => {
    const a = await held('cli-noforce')
    try {
      const run = await cli(['release', 'cli-noforce', '--yes'])
      expect(run.code).toBe(2)
      expect(run.stdout).toBe('')
      expect(run.stderr).toMatch(/--force/)
      expect(run.stderr).toMatch(/mutual exclusion/)
      expect(await documentOf(a)).not.toBeNull()
    } finally {
      expect(await a.release()).toBe(false) // still ours
    }
  })

  test('--force --yes removes exactly that document; its holder then learns it lost it', async () => {
    const a = await held('cli-force')
    const other = await held('cli-force-other')
    try {
      const run = await cli(['release', 'cli-force', '--force', '--yes'])
      expect(run.code).toBe(0)
      expect(run.stdout).toContain(a.lockId)
      expect(await documentOf(a)).toBeNull()
      expect(await documentOf(other)).not.toBeNull()
      expect(await a.release()).toBe(true) // lockTimeouted: it was no longer ours

      // Gone already: not locked, exit 1.
      expect(await cli(['release', 'cli-force', '--force', '--yes'])).toMatchObject({ code: 1, stdout: 'cli-force is not locked\n' })
    } finally {
      expect(await other.release()).toBe(false)
    }
  })

  test('--force --yes --json: { removed, lock }', async () => {
    const a = await held('cli-force-json', 'ops-json')
    const run = await cli(['release', 'cli-force-json', '--force', '--yes', '--json'])
    expect(run.code).toBe(0)
    expect(JSON.parse(run.stdout)).toEqual({ removed: true, lock: expect.objectContaining({ lockId: a.lockId, owner: 'ops-json' }) })
    expect(await a.release()).toBe(true)
    const again = await cli(['release', 'cli-force-json', '--force', '--yes', '--json'])
    expect(again.code).toBe(1)
    expect(JSON.parse(again.stdout)).toEqual({ removed: false, lock: null })
  })

  test('--force on a terminal: answering n keeps the lock, y removes it', async () => {
    const a = await held('cli-ask', 'ops-ask')
    try {
      const no = await cliOnTerminal(['release', 'cli-ask', '--force'], 'n')
      expect(no.asked).toBe(true)
      expect(no.output).toContain(a.lockId)
      expect(no.output).toContain('ops-ask')
      expect(no.output).toMatch(/mutual exclusion/)
      expect(no.code).toBe(2)
      expect(await documentOf(a)).not.toBeNull()

      const yes = await cliOnTerminal(['release', 'cli-ask', '--force'], 'y')
      expect(yes.asked).toBe(true)
      expect(yes.code).toBe(0)
      expect(await documentOf(a)).toBeNull()
      expect(await a.release()).toBe(true)
    } finally {
      if (a.lockId) await a.release()
    }
  })

  test('the lock changed hands while the operator read it: nothing removed (exit 1)', async () => {
    const first = await held('cli-race', 'ops-first')
    const firstId = first.lockId
    let second = null
    try {
      const run = await cliOnTerminal(['release', 'cli-race', '--force'], 'y', {
        beforeAnswer: async () => {
          await first.release()
          second = await held('cli-race', 'ops-second')
        }
      })
      expect(run.asked).toBe(true)
      expect(run.output).toContain(firstId)
      expect(run.output).toMatch(new RegExp(`changed hands meanwhile: now lock ${second.lockId}.*nothing removed`))
      expect(run.code).toBe(1)
      expect(await documentOf(second)).not.toBeNull()
    } finally {
      if (first.lockId) await first.release()
      if (second) expect(await second.release()).toBe(false) // still ours
    }
  })

  test('the lock was released while the operator read it: "not locked" (exit 1)', async () => {
    const a = await held('cli-gone')
    const run = await cliOnTerminal(['release', 'cli-gone', '--force'], 'yes', {
      beforeAnswer: async () => { expect(await a.release()).toBe(false) }
    })
    expect(run.asked).toBe(true)
    expect(run.output).toMatch(/cli-gone is not locked \(it was released meanwhile\)/)
    expect(run.code).toBe(1)
  })

  test('a lock past its lease: shown as expired (exit 1, not locked), and removable', async () => {
    const now = Date.now()
    const { insertedId } = await locks().insertOne({ name: 'cli-stale', expire: now - 3000, inserted: now - 63000 })
    const shown = await cli(['show', 'cli-stale'])
    expect(shown.code).toBe(1)
    expect(shown.stdout).toMatch(new RegExp(`^LOCK ID +${insertedId.toHexString()}$`, 'm'))
    expect(shown.stdout).toMatch(/^LEFT +expired \d+s ago/m)
    expect(shown.stdout).toMatch(/cli-stale is not locked: its holder's lease ended/)
    const json = await cli(['show', 'cli-stale', '--json'])
    expect(json.code).toBe(1)
    expect(JSON.parse(json.stdout)).toMatchObject({ lockId: insertedId.toHexString(), expiresIn: expect.any(Number), host: null, pid: null, owner: null })
    expect(JSON.parse(json.stdout).expiresIn).toBeLessThanOrEqual(0)
    expect((await cli(['release', 'cli-stale', '--force', '--yes'])).code).toBe(0)
    expect(await locks().findOne({ _id: insertedId })).toBeNull()
  })

  test('--force without --yes and stdin not a terminal: refuses (exit 2) instead of waiting', async () => {
    const a = await held('cli-pipe')
    try {
      const run = await cli(['release', 'cli-pipe', '--force'], { input: 'y\n' })
      expect(run.code).toBe(2)
      expect(run.stderr).toMatch(/not a terminal.*--yes/)
      expect(await documentOf(a)).not.toBeNull()
    } finally {
      expect(await a.release()).toBe(false)
    }
  })
})

describe('connection', () => {
  test('neither --uri nor MONGODB_URI: a clear message, exit 2', async () => {
    const run = await cli(['list'], { uri: null })
    expect(run.code).toBe(2)
    expect(run.stdout).toBe('')
    expect(run.stderr).toMatch(/no connection string.*--uri.*MONGODB_URI/)
  })

  test('--uri wins over MONGODB_URI', async () => {
    const run = await cli(['list', '--uri', UNREACHABLE])
    expect(run.code).toBe(3)
  })

  test('an unreachable server: its message and code, exit 3, quickly', async () => {
    const run = await cli(['show', 'x', '--uri', UNREACHABLE])
    expect(run.code).toBe(3)
    expect(run.stdout).toBe('')
    expect(run.stderr).toMatch(/\((ERR_[A-Z_]+)\)\n$/)
    expect(run.ms).toBeLessThan(10000)
  })

  test('a password in the connection string is never printed', async () => {
    const uri = `mongodb://ops:${SECRET}@127.0.0.1:9/app?serverSelectionTimeoutMS=300`
    const runs = await Promise.all([
      cli(['list', '--uri', uri]),
      cli(['list', '--json', `--uri=${uri}`]),
      cli(['show', 'x', '--uri', uri]),
      cli(['release', 'x', '--force', '--yes', '--uri', uri]),
      cli(['release', 'x', '--uri', uri]),
      cli(['list'], { uri }), // from MONGODB_URI
      cli(['list', '--uri', `mongodb://ops:${SECRET}@[bad/app`]), // unparsable
      cli(['list', `--url=${uri}`]), // a misspelt option, echoed by the parser
      cli(['list', '--collection', 'a$b', '--uri', uri])
    ])
    for (const run of runs) {
      expect(run.code).not.toBe(0)
      expect(run.stdout + run.stderr).not.toContain(SECRET)
    }
  })
})

test('--help: the commands and examples, exit 0, no connection needed', async () => {
  const run = await cli(['--help'], { uri: null })
  expect(run.code).toBe(0)
  expect(run.stdout).toMatch(/list/)
  expect(run.stdout).toMatch(/release/)
  expect(run.stdout).toMatch(/Examples:/)
  expect(run.stdout).toMatch(/Exit codes:/)
  expect((await cli(['lst'], { uri: null })).code).toBe(2)
})

test('the script is executable and starts with a shebang', () => {
  const { status, stdout } = spawnSync(BIN, ['--help'], { env: envFor({ uri: null }), encoding: 'utf8' })
  expect(status).toBe(0)
  expect(stdout).toMatch(/^Usage: mongoose-distributed-lock/)
})
