'use strict'
// The one place that knows how the native core is built: `npm run build`,
// `build:debug`, the tests, demo, stress, chaos, bench, CI's build matrix
// (.github/workflows/CI.yml) and `npm run test:platforms` all come here.
//
// It first makes sure the patched crates exist (scripts/patch-crates.js), then
// always runs `napi build` (@napi-rs/cli): Cargo rebuilds only what
// changed, so an up-to-date tree costs a few seconds, and a binary older than
// the sources is never picked up.
//
//   node scripts/ensure-build.js release
//       -> ./mongoose-distributed-lock.<platform>.node, binding.js, binding.d.ts
//          (the host's own toolchain: the local development build)
//   node scripts/ensure-build.js debug
//       -> build/debug/mongoose-distributed-lock.<platform>.node
//          (has the test-only panic trigger; used by the tests)
//   node scripts/ensure-build.js release --target <triple> [--output-dir DIR]
//       -> a release binary for one of package.json's napi.targets, built the
//          way it is published (see TARGET_RECIPES below)
//
// Any other argument is passed on to `napi build`.
const { execFileSync } = require('child_process')
const os = require('os')
const path = require('path')
const { ensurePatchedCrates } = require('./patch-crates')

const ROOT = path.join(__dirname, '..')
// @napi-rs/cli's own entry, run with this Node (no shell, on Windows too).
const NAPI_CLI = path.join(ROOT, 'node_modules', '@napi-rs', 'cli', 'dist', 'cli.js')
const DEBUG_DIR = path.join(ROOT, 'build', 'debug')
const BINARY_NAME = 'mongoose-distributed-lock'
// Cargo's build cache lives outside the clone (a fresh clone reuses it),
// unless CARGO_TARGET_DIR says otherwise.
const TARGET_DIR = process.env.CARGO_TARGET_DIR || path.join(os.homedir(), '.cache', 'mongoose-distributed-lock', 'target')

// The lowest glibc the Linux gnu binaries link against: zig (cargo-zigbuild)
// links them against the symbol versions of this release.
const GLIBC = '2.17'

/**
 * How each published target is built, on top of the mode's flags.
 *  - Linux: with zig (`-x`, cargo-zigbuild) from any Linux x64 host. gnu
 *    against glibc 2.17 (so even the x64 binary does not take the build
 *    host's glibc symbol versions); musl with its C runtime linked
 *    dynamically (@napi-rs/cli adds -C target-feature=-crt-static).
 *  - macOS: on a macOS host, for macOS 10.13 (x64) and 11 (arm64, its
 *    first) and later, unless MACOSX_DEPLOYMENT_TARGET says otherwise.
 *  - Windows: on a Windows host, with the C runtime linked statically (no
 *    Visual C++ redistributable needed).
 */
const TARGET_RECIPES = {
  'x86_64-unknown-linux-gnu': { args: ['-x'], glibc: GLIBC },
  'aarch64-unknown-linux-gnu': { args: ['-x'], glibc: GLIBC },
  'x86_64-unknown-linux-musl': { args: ['-x'] },
  'aarch64-unknown-linux-musl': { args: ['-x'] },
  'x86_64-apple-darwin': { env: { MACOSX_DEPLOYMENT_TARGET: '10.13' } },
  'aarch64-apple-darwin': { env: { MACOSX_DEPLOYMENT_TARGET: '11.0' } },
  'x86_64-pc-windows-msvc': { rustflags: '-C target-feature=+crt-static' }
}

const MODES = {
  release: ['--release', '--js', 'binding.js', '--dts', 'binding.d.ts'],
  debug: ['--no-js']
}

/** `linux-x64-gnu` and the like: the platform part of a `.node` file's name. */
function platformArchABI (triple) {
  if (triple) {
    const m = /^(x86_64|aarch64)-(?:unknown|apple|pc)-(linux|darwin|windows)(?:-(gnu|musl|msvc))?$/.exec(triple)
    if (!m) throw new Error(`ensure-build: ${triple} is not one of the targets in package.json (napi.targets)`)
    const arch = m[1] === 'x86_64' ? 'x64' : 'arm64'
    const platform = m[2] === 'windows' ? 'win32' : m[2]
    return [platform, arch, m[3]].filter(Boolean).join('-')
  }
  const { platform, arch } = process
  if (platform === 'linux') {
    const report = process.report && process.report.getReport()
    const glibc = report && report.header && report.header.glibcVersionRuntime
    return `linux-${arch}-${glibc ? 'gnu' : 'musl'}`
  }
  if (platform === 'win32') return `win32-${arch}-msvc`
  return `${platform}-${arch}`
}

/**
 * The `napi build` arguments and extra environment of a build.
 * @param {'release'|'debug'} mode
 * @param {{ target?: string, outputDir?: string, extra?: string[] }} [options]
 */
function napiArgs (mode, { target, outputDir, extra = [] } = {}) {
  if (!MODES[mode]) throw new Error(`ensure-build: unknown mode ${mode} (release or debug)`)
  const args = ['build', '--platform', ...MODES[mode]]
  const env = {}
  const out = outputDir || (mode === 'debug' ? DEBUG_DIR : null)
  if (out) args.push('--output-dir', out)
  if (target) {
    const recipe = TARGET_RECIPES[target]
    if (!recipe) throw new Error(`ensure-build: no recipe for ${target}; known targets: ${Object.keys(TARGET_RECIPES).join(', ')}`)
    // cargo-zigbuild reads the glibc version from the target's suffix.
    args.push('--target', recipe.glibc ? `${target}.${recipe.glibc}` : target, ...(recipe.args || []))
    for (const [k, v] of Object.entries(recipe.env || {})) env[k] = process.env[k] || v
    if (recipe.rustflags) env.RUSTFLAGS = [process.env.RUSTFLAGS, recipe.rustflags].filter(Boolean).join(' ')
  }
  args.push(...extra)
  return { args, env }
}

/**
 * Builds (incrementally: always runs, Cargo skips what is up to date) and
 * returns the path of the `.node` file.
 * @param {'release'|'debug'} [mode]
 * @param {{ target?: string, outputDir?: string, extra?: string[], env?: object, stdio?: any }} [options]
 */
function napiBuild (mode = 'release', options = {}) {
  const { args, env } = napiArgs(mode, options)
  // A C compiler, make and perl (OpenSSL is built from source): installed or named at once.
  require('./provision').provideBuildTools()
  // Cargo.toml's [patch] points at these (scripts/patch-crates.js).
  ensurePatchedCrates()
  execFileSync(process.execPath, [NAPI_CLI, ...args], {
    cwd: ROOT,
    stdio: options.stdio || 'inherit',
    env: { ...process.env, CARGO_TARGET_DIR: TARGET_DIR, ...env, ...options.env }
  })
  return binaryPath(mode, options)
}

/** Runs `cargo <args>` (test, clippy…) on the same build cache as the builds. */
function cargo (args, options = {}) {
  ensurePatchedCrates()
  execFileSync('cargo', args, { cwd: ROOT, stdio: 'inherit', env: { ...process.env, CARGO_TARGET_DIR: TARGET_DIR }, ...options })
}

/** Path of the `.node` file a build produces (the host's platform unless `target`). */
function binaryPath (mode = 'release', { target, outputDir } = {}) {
  const dir = outputDir ? path.resolve(ROOT, outputDir) : mode === 'debug' ? DEBUG_DIR : ROOT
  return path.join(dir, `${BINARY_NAME}.${platformArchABI(target)}.node`)
}

module.exports = { napiBuild, cargo, TARGET_DIR, ensureBuild: napiBuild, napiArgs, binaryPath, platformArchABI, TARGET_RECIPES, GLIBC }

/** `--target X`, `--target=X`, `-t X`, `--output-dir D`, `-o D` out of argv. */
function parseCli (argv) {
  const options = { extra: [] }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const eq = /^(--target|--output-dir)=(.*)$/.exec(a)
    if (eq) options[eq[1] === '--target' ? 'target' : 'outputDir'] = eq[2]
    else if (a === '--target' || a === '-t') options.target = argv[++i]
    else if (a === '--output-dir' || a === '-o') options.outputDir = argv[++i]
    else options.extra.push(a)
  }
  return options
}

if (require.main === module) {
  const [mode = 'release', ...rest] = process.argv.slice(2)
  if (!MODES[mode]) {
    console.error('usage: node scripts/ensure-build.js release|debug [--target <triple>] [--output-dir DIR] [napi build options]')
    process.exit(2)
  }
  try {
    napiBuild(mode, parseCli(rest))
  } catch (err) {
    if (err.status == null) console.error(err.message)
    process.exit(err.status || 1)
  }
}
