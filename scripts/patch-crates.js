'use strict'
// Writes the patched copies of crates that Cargo.toml's [patch.crates-io]
// points at: for each patches/<crate>+<version>.patch, the crate's published
// source with that patch applied (`git apply`, or GNU `patch` where git is
// missing), in patches/generated/<crate>-<version>/ (gitignored: it is
// generated, and it must sit at a fixed path inside the clone because Cargo
// reads [patch] paths relative to Cargo.toml).
//
// Runs on `npm install` / `npm ci` in a clone (package.json "prepare"; an
// application that installs the published package never runs it: it gets
// prebuilt binaries) and before every build (scripts/ensure-build.js), so
// `cargo fmt`, `cargo clippy`, `cargo test` and the cross builds all see the
// patched crate. Cheap when nothing changed: a stamp in the generated
// directory records the patch it was made from.
//
// The pristine source comes from Cargo itself (`cargo metadata` in a scratch
// project under ~/.cache/mongoose-distributed-lock that depends on exactly
// that version, with this repository's Cargo.lock), so Cargo downloads and
// verifies it the usual way, through the user's registry settings.
//
//   node scripts/patch-crates.js          write what is missing or stale
//   node scripts/patch-crates.js --force  write them all again
const { execFileSync } = require('child_process')
const crypto = require('crypto')
const fs = require('fs')
const os = require('os')
const path = require('path')

const ROOT = path.join(__dirname, '..')
const PATCHES = path.join(ROOT, 'patches')
const GENERATED = path.join(PATCHES, 'generated')
const STAMP = '.mdl-patched'
const CACHE = path.join(os.homedir(), '.cache', 'mongoose-distributed-lock', 'crate-sources')

/** The patches/<crate>+<version>.patch files, parsed. */
function listPatches () {
  if (!fs.existsSync(PATCHES)) return []
  return fs.readdirSync(PATCHES)
    .filter((f) => f.endsWith('.patch'))
    .sort()
    .map((file) => {
      const m = /^([A-Za-z0-9_-]+)\+(\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?)\.patch$/.exec(file)
      if (!m) throw new Error(`patch-crates: ${file} is not named <crate>+<version>.patch`)
      const patchPath = path.join(PATCHES, file)
      const digest = crypto.createHash('sha256').update(fs.readFileSync(patchPath)).digest('hex')
      return { crate: m[1], version: m[2], patchPath, digest, dest: path.join(GENERATED, `${m[1]}-${m[2]}`) }
    })
}

function isCurrent ({ dest, digest }) {
  try {
    return fs.readFileSync(path.join(dest, STAMP), 'utf8').trim() === digest &&
      fs.existsSync(path.join(dest, 'Cargo.toml'))
  } catch {
    return false
  }
}

function run (cmd, args, options) {
  try {
    return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20, ...options }).toString()
  } catch (err) {
    if (err.code === 'ENOENT') throw Object.assign(new Error(`${cmd} is not installed`), { missing: true })
    throw new Error(`${cmd} ${args.join(' ')}: ${String(err.stderr || err.message).trim()}`)
  }
}

/**
 * The directory of the published source of crate@version, downloaded by
 * Cargo if it is not in Cargo's cache yet.
 */
function pristineSource ({ crate, version }) {
  const dir = path.join(CACHE, `${crate}-${version}`)
  fs.mkdirSync(path.join(dir, 'src'), { recursive: true })
  fs.writeFileSync(path.join(dir, 'Cargo.toml'), [
    '# Written by scripts/patch-crates.js of mongoose-distributed-lock: a scratch',
    `# project whose only purpose is to make Cargo fetch ${crate} ${version}.`,
    '[package]',
    `name = "mdl-fetch-${crate}"`,
    'version = "0.0.0"',
    'edition = "2021"',
    'publish = false',
    '',
    '[dependencies]',
    `${crate} = "=${version}"`,
    '',
    '[workspace]',
    ''
  ].join('\n'))
  fs.writeFileSync(path.join(dir, 'src', 'lib.rs'), '')
  // The project's lock file: the fetch resolves to the versions the build uses.
  const lock = path.join(ROOT, 'Cargo.lock')
  if (fs.existsSync(lock)) fs.copyFileSync(lock, path.join(dir, 'Cargo.lock'))
  const env = { ...process.env }
  delete env.CARGO_TARGET_DIR // metadata builds nothing; keep the shared dir out of it
  const metadata = JSON.parse(run('cargo', ['metadata', '--format-version', '1', '--manifest-path', path.join(dir, 'Cargo.toml')], { cwd: dir, env }))
  const pkg = metadata.packages.find((p) => p.name === crate && p.version === version && p.source)
  if (!pkg) throw new Error(`patch-crates: cargo did not resolve ${crate} ${version} from a registry`)
  return path.dirname(pkg.manifest_path)
}

/** Applies one patch inside `dir` with git apply, or GNU patch without git. */
function applyPatch (dir, patchPath) {
  // dir is outside any repository; the ceiling keeps git from looking above it.
  const env = { ...process.env, GIT_CEILING_DIRECTORIES: path.dirname(dir) }
  try {
    run('git', ['apply', '--check', patchPath], { cwd: dir, env })
    run('git', ['apply', patchPath], { cwd: dir, env })
  } catch (err) {
    if (!err.missing) throw err
    run('patch', ['-p1', '--forward', '--batch', '--input', patchPath], { cwd: dir })
  }
}

/** Writes one patched crate into patches/generated/<crate>-<version>. */
function writePatched (entry, { log }) {
  const { crate, version, patchPath, digest, dest } = entry
  log(`patch-crates: ${crate} ${version} + ${path.relative(ROOT, patchPath)} -> ${path.relative(ROOT, dest)}`)
  const source = pristineSource(entry)
  const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'mdl-patch-crates-'))
  try {
    const work = path.join(staging, `${crate}-${version}`)
    fs.cpSync(source, work, { recursive: true })
    makeWritable(work)
    // Cargo's own markers of an unpacked registry crate mean nothing here.
    fs.rmSync(path.join(work, '.cargo-ok'), { force: true })
    try {
      applyPatch(work, patchPath)
    } catch (err) {
      throw new Error(`patch-crates: ${path.basename(patchPath)} does not apply to ${crate} ${version}: ${err.message}`)
    }
    fs.writeFileSync(path.join(work, STAMP), `${digest}\n`)
    fs.mkdirSync(GENERATED, { recursive: true })
    // Into place in one rename where possible; the old copy goes after.
    const incoming = `${dest}.incoming-${process.pid}`
    fs.cpSync(work, incoming, { recursive: true })
    const old = `${dest}.old-${process.pid}`
    if (fs.existsSync(dest)) fs.renameSync(dest, old)
    fs.renameSync(incoming, dest)
    fs.rmSync(old, { recursive: true, force: true })
  } finally {
    fs.rmSync(staging, { recursive: true, force: true })
  }
}

function makeWritable (dir) {
  fs.chmodSync(dir, 0o755)
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name)
    if (entry.isDirectory()) makeWritable(p)
    else fs.chmodSync(p, 0o644)
  }
}

/**
 * Makes sure every patched crate is in place and made from the current
 * patch; returns the list of { crate, version, dest }.
 */
function ensurePatchedCrates ({ force = false, log = console.error } = {}) {
  const entries = listPatches()
  for (const entry of entries) {
    if (force || !isCurrent(entry)) writePatched(entry, { log })
  }
  return entries.map(({ crate, version, dest }) => ({ crate, version, dest }))
}

module.exports = { ensurePatchedCrates, listPatches }

if (require.main === module) {
  try {
    ensurePatchedCrates({ force: process.argv.includes('--force') })
  } catch (err) {
    console.error(err.message)
    process.exit(1)
  }
}
