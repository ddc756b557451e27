'use strict'
// The docs must not drift from the package. The error codes are documented
// in three places that must agree with what the package really uses
// (Lock.codes, read from the core's ERROR_CODES): the ErrorCode union of
// index.d.ts and the error table of the README. Every code sample in the
// README and docs/ compiles (TypeScript ones type-check against index.d.ts;
// the Lock functions and methods JS ones call exist, and the options they
// pass are declared),
// and those marked `<!-- docs-test: run -->` run against the test server;
// relative links lead to a file and heading; every test the docs name
// exists, and every statement of the guarantees guide names one.
const fs = require('fs')
const path = require('path')
const Lock = require('..')

const ROOT = path.join(__dirname, '..')

/** The string literals of `type ErrorCode = | '…' | '…'` in index.d.ts. */
function typedCodes () {
  const dts = fs.readFileSync(path.join(ROOT, 'index.d.ts'), 'utf8')
  const start = dts.search(/\btype ErrorCode\s*=/)
  if (start < 0) throw new Error('index.d.ts has no `type ErrorCode =`')
  const lines = dts.slice(start).split('\n')
  const codes = []
  for (const line of lines.slice(1)) {
    const m = /^\s*\|\s*'([^']+)'\s*$/.exec(line)
    if (!m) break
    codes.push(m[1])
  }
  const inline = /=\s*'([^']+)'/.exec(lines[0]) // a first member on the same line
  if (inline) codes.unshift(inline[1])
  return codes
}

/** The backticked codes in the first column of the README's "## Errors" table. */
function tableCodes () {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')
  const section = /^## Errors\s*$([\s\S]*?)(?=^## )/m.exec(readme)
  if (!section) throw new Error('README.md has no "## Errors" section')
  const rows = section[1].split('\n').filter((l) => /^\|/.test(l) && !/^\|\s*-+\s*\|/.test(l))
  if (rows.length < 2) throw new Error('the "## Errors" section has no table')
  const codes = []
  for (const row of rows.slice(1)) { // the first row is the header
    const first = row.split('|')[1]
    for (const m of first.matchAll(/`([^`]+)`/g)) codes.push(m[1])
  }
  return codes
}

/** What is in `a` and not in `b`, sorted. */
const missingFrom = (a, b) => [...new Set(a)].filter((x) => !b.includes(x)).sort()
const duplicates = (list) => list.filter((x, i) => list.indexOf(x) !== i)

test('Lock.codes, the ErrorCode union of index.d.ts and the README error table list the same codes', () => {
  const runtime = Object.values(Lock.codes)
  const typed = typedCodes()
  const documented = tableCodes()
  expect(runtime.length).toBeGreaterThan(0)
  // Each list against the runtime one, both ways, and none twice.
  expect({
    'in Lock.codes, not in index.d.ts': missingFrom(runtime, typed),
    'in index.d.ts, not in Lock.codes': missingFrom(typed, runtime),
    'in Lock.codes, not in the README table': missingFrom(runtime, documented),
    'in the README table, not in Lock.codes': missingFrom(documented, runtime),
    'twice in index.d.ts': duplicates(typed),
    'twice in the README table': duplicates(documented)
  }).toEqual({
    'in Lock.codes, not in index.d.ts': [],
    'in index.d.ts, not in Lock.codes': [],
    'in Lock.codes, not in the README table': [],
    'in the README table, not in Lock.codes': [],
    'twice in index.d.ts': [],
    'twice in the README table': []
  })
  // Lock.codes keys are the codes without ERR_ / _ERR, as index.d.ts's Codes type says.
  for (const [key, code] of Object.entries(Lock.codes)) {
    expect(code.replace(/^ERR_/, '').replace(/_ERR$/, '')).toBe(key)
  }
})

// ---------------------------------------------------------------------------
// The guides in docs/ and the README: their code samples compile (and the
// marked ones run against the test server), their links lead somewhere, and
// the tests the guarantees guide names exist.

const vm = require('vm')
const { execFileSync, spawnSync } = require('child_process')

/** The Markdown files a user reads: the README and every guide in docs/. */
const MARKDOWN = ['README.md', ...fs.readdirSync(path.join(ROOT, 'docs'))
  .filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)]

const SAMPLE_LANGS = { js: 'js', javascript: 'js', mjs: 'mjs', ts: 'ts', typescript: 'ts' }
/** `<!-- docs-test: run -->` on the line before a js block: the test also runs it. */
const RUN_MARKER = /^<!--\s*docs-test:\s*run\s*-->$/
/** The address the samples connect to; a run replaces it with the test server's. */
const SAMPLE_URI = 'mongodb://localhost:27017/app'

/** Every fenced code block of `file`: { file, line, lang, code, run }. */
function codeBlocks (file) {
  const lines = fs.readFileSync(path.join(ROOT, file), 'utf8').split('\n')
  const blocks = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i])
    if (!open) continue
    const start = i
    const body = []
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]); i++) body.push(lines[i])
    if (i >= lines.length) throw new Error(`${file}:${start + 1}: a code block is never closed`)
    let before = start - 1
    while (before >= 0 && lines[before].trim() === '') before--
    blocks.push({
      file,
      line: start + 1,
      lang: open[1].toLowerCase(),
      code: body.join('\n'),
      run: before >= 0 && RUN_MARKER.test(lines[before].trim())
    })
  }
  return blocks
}

const samples = MARKDOWN.flatMap(codeBlocks).filter((b) => SAMPLE_LANGS[b.lang])
const where = (b) => `${b.file}:${b.line}`
const isModule = (code) => /^\s*(import\s[^(]|export\s)/m.test(code)
const SAMPLES_DIR = path.join(ROOT, 'build', 'docs-samples') // build/ is git-ignored

describe('code samples in the README and docs/', () => {
  test('there are samples, in the languages this test knows', () => {
    expect(samples.length).toBeGreaterThan(20)
    expect(samples.filter((b) => b.run).length).toBeGreaterThan(0)
  })

  test.each(samples.filter((b) => SAMPLE_LANGS[b.lang] !== 'ts').map((b) => [where(b), b]))('%s compiles', (_where, b) => {
    if (SAMPLE_LANGS[b.lang] === 'mjs' || isModule(b.code)) {
      // An ES module: node --check parses it as one (top-level await included).
      fs.mkdirSync(SAMPLES_DIR, { recursive: true })
      const file = path.join(SAMPLES_DIR, `check-${b.file.replace(/\W/g, '_')}-${b.line}.mjs`)
      fs.writeFileSync(file, b.code + '\n')
      const r = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8' })
      expect(r.stderr).toBe('')
      expect(r.status).toBe(0)
    } else {
      // A CommonJS fragment: its statements as the body of an async function,
      // as the text around it says (`await` and `return` are then legal).
      expect(() => new vm.Script(`(async function () {\n${b.code}\n})`, { filename: where(b) })).not.toThrow()
    }
  })

  test('every Lock.<name> and lock method a sample calls exists in the package', () => {
    const missing = []
    const proto = new Set(Object.getOwnPropertyNames(Lock.prototype))
    for (const b of samples) {
      for (const m of b.code.matchAll(/\bLock\.(\w+)/g)) {
        if (!(m[1] in Lock)) missing.push(`${where(b)}: Lock.${m[1]}`)
      }
      // Calls on a Lock instance, by the names the samples give them.
      for (const m of b.code.matchAll(/\b(?:lock|leader|job|worker)\.(\w+)\s*\(/g)) {
        if (!proto.has(m[1]) && !(m[1] in require('events').prototype)) missing.push(`${where(b)}: lock.${m[1]}()`)
      }
    }
    expect(missing).toEqual([])
  })

  test('every option a sample passes is one index.d.ts declares', () => {
    const known = new Set([...declaredProperties('CollectionOptions'), ...declaredProperties('LockOptions'),
      ...declaredProperties('PollAcquireOptions')])
    const unknown = []
    const call = /\b(?:Lock(?:\.withLock|\.holder|\.ensureIndexes)?\(\s*(?:[^,(){}]+,\s*)?|\.(?:pollAcquire|pollAquire|hold)\(\s*)\{/g
    for (const b of samples) {
      for (const m of b.code.matchAll(call)) {
        for (const key of topLevelKeys(b.code, m.index + m[0].length)) {
          if (!known.has(key)) unknown.push(`${where(b)}: ${key}`)
        }
      }
    }
    expect(unknown).toEqual([])
  })

  const tsSamples = samples.filter((b) => SAMPLE_LANGS[b.lang] === 'ts')
  test('the TypeScript samples type-check against index.d.ts (tsc --strict)', () => {
    expect(tsSamples.length).toBeGreaterThan(0)
    const dir = path.join(SAMPLES_DIR, 'ts')
    fs.rmSync(dir, { recursive: true, force: true })
    fs.mkdirSync(dir, { recursive: true })
    const files = tsSamples.map((b) => {
      const file = `${b.file.replace(/\W/g, '_')}-${b.line}.ts`
      fs.writeFileSync(path.join(dir, file), b.code + '\n')
      return file
    })
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        target: 'es2022',
        lib: ['es2022', 'esnext.disposable', 'dom'],
        module: 'commonjs',
        esModuleInterop: true,
        moduleDetection: 'force',
        types: ['node'],
        typeRoots: [path.join(ROOT, 'node_modules', '@types')],
        baseUrl: '.',
        paths: { 'mongoose-distributed-lock': [path.join(ROOT, 'index.d.ts')] }
      },
      files
    }))
    const tsc = require.resolve('typescript/bin/tsc')
    let output = ''
    try {
      execFileSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8' })
    } catch (err) {
      output = `${err.stdout}${err.stderr}`
    }
    expect(output).toBe('')
  }, 60000)

  const runnable = samples.filter((b) => b.run)
  test.each(runnable.map((b) => [where(b), b]))('%s runs against the test server', (_where, b) => {
    expect(SAMPLE_LANGS[b.lang]).toBe('js')
    expect(b.code).toContain(SAMPLE_URI)
    const { uriFor, freshDb } = require('./support/helpers')
    const db = freshDb('docs_sample')
    // Inside the package's directory, so require('mongoose-distributed-lock')
    // is the package itself (its "exports"), as an installed one would be.
    fs.mkdirSync(SAMPLES_DIR, { recursive: true })
    const file = path.join(SAMPLES_DIR, `run-${b.file.replace(/\W/g, '_')}-${b.line}.js`)
    fs.writeFileSync(file, b.code.split(SAMPLE_URI).join(uriFor(db)) + '\n')
    const r = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 30000 })
    expect({ status: r.status, signal: r.signal, stderr: r.stderr }).toEqual({ status: 0, signal: null, stderr: '' })
  }, 40000)
})

/** The property names of `interface <name> … { … }` in index.d.ts. */
function declaredProperties (name) {
  const dts = fs.readFileSync(path.join(ROOT, 'index.d.ts'), 'utf8')
  const start = dts.search(new RegExp(`^ {2}interface ${name}\\b[^{]*\\{`, 'm'))
  if (start < 0) throw new Error(`index.d.ts has no interface ${name}`)
  const body = dts.slice(start).split(/^ {2}\}/m)[0] // members are indented 4, the closing brace 2
  return [...body.matchAll(/^ {4}(\w+)\??:/gm)].map((m) => m[1])
}

/** Index of the `}` closing the object or block that starts at `from` (just after its `{`). */
function closingBrace (text, from) {
  let depth = 0
  let quote = null
  for (let i = from; i < text.length; i++) {
    const c = text[i]
    if (quote) {
      if (c === '\\') i++
      else if (c === quote) quote = null
    } else if (c === '\'' || c === '"' || c === '`') quote = c
    else if ('{[('.includes(c)) depth++
    else if ('}])'.includes(c)) {
      if (depth === 0) return i
      depth--
    }
  }
  return text.length
}

/** The keys of the object literal whose body starts at `from` (just after its `{`): top level only. */
function topLevelKeys (code, from) {
  const body = code.slice(from, closingBrace(code, from))
  const keys = []
  let depth = 0
  let quote = null
  let part = ''
  const flush = () => {
    const m = /^\s*(?:\/\/[^\n]*\n\s*)*(\w+)\s*(?::|,|$)/.exec(part)
    if (m) keys.push(m[1])
    part = ''
  }
  for (let i = 0; i < body.length; i++) {
    const c = body[i]
    if (quote) {
      if (c === '\\') part += body[i++]
      else if (c === quote) quote = null
    } else if (c === '\'' || c === '"' || c === '`') quote = c
    else if ('{[('.includes(c)) depth++
    else if ('}])'.includes(c)) depth--
    else if (c === ',' && depth === 0) { flush(); continue }
    part += c
  }
  flush()
  return keys
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to '-'. */
function slug (heading) {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-')
}

/** The anchors of a Markdown file (headings outside code blocks; repeats get -1, -2, …). */
function anchors (file) {
  const seen = new Map()
  const out = new Set()
  let fence = false
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (/^```/.test(line)) fence = !fence
    const m = !fence && /^#{1,6}\s+(.*)$/.exec(line)
    if (!m) continue
    const base = slug(m[1])
    const n = seen.get(base) || 0
    seen.set(base, n + 1)
    out.add(n ? `${base}-${n}` : base)
  }
  return out
}

test('every relative link in the README and docs/ leads to a file, and to a heading in it', () => {
  const broken = []
  for (const file of MARKDOWN) {
    const text = fs.readFileSync(path.join(ROOT, file), 'utf8').replace(/^```[\s\S]*?^```/gm, '')
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1]
      if (/^[a-z]+:/i.test(target)) continue // https:, mailto:
      const [rel, anchor] = target.split('#')
      const dest = rel ? path.resolve(ROOT, path.dirname(file), rel) : path.join(ROOT, file)
      if (!fs.existsSync(dest)) { broken.push(`${file}: ${target} (no such file)`); continue }
      if (anchor && dest.endsWith('.md') && !anchors(dest).has(anchor)) broken.push(`${file}: ${target} (no such heading)`)
    }
  }
  expect(broken).toEqual([])
})

test('every test the docs name exists, with the title they quote', () => {
  const problems = []
  for (const file of MARKDOWN) {
    const text = fs.readFileSync(path.join(ROOT, file), 'utf8')
    for (const m of text.matchAll(/`(__tests__\/[\w.-]+\.test\.js)`(?:\s*›\s*"((?:[^"\n]|"(?=[^›\n]*"(?:;|\.|$)))+)")?/gm)) {
      const [, testFile, title] = m
      const full = path.join(ROOT, testFile)
      if (!fs.existsSync(full)) {
        problems.push(`${file}: ${testFile} does not exist`)
        continue
      }
      if (!title) continue
      const source = fs.readFileSync(full, 'utf8')
      if (!source.includes(title) && !source.includes(title.replace(/'/g, "\\'"))) {
        problems.push(`${file}: ${testFile} has no test "${title}"`)
      }
    }
    // The core's own tests: `src/<file>.rs` › `test_a`, `test_b`.
    for (const m of text.matchAll(/`(src\/[\w/]+\.rs)` › ((?:`\w+`(?:, )?)+)/g)) {
      const source = fs.readFileSync(path.join(ROOT, m[1]), 'utf8')
      for (const [, fn] of m[2].matchAll(/`(\w+)`/g)) {
        if (!new RegExp(`#\\[tokio::test\\]\\s*async fn ${fn}\\b|#\\[test\\]\\s*fn ${fn}\\b`).test(source)) problems.push(`${file}: ${m[1]} has no test ${fn}`)
      }
    }
  }
  expect(problems).toEqual([])
})

test('every statement in the guarantees guide names the test that shows it (or says it is not tested)', () => {
  const text = fs.readFileSync(path.join(ROOT, 'docs', 'guarantees.md'), 'utf8')
  const bullets = text.split(/\n(?=- )/).filter((b) => b.startsWith('- '))
  expect(bullets.length).toBeGreaterThan(10)
  const unproven = bullets
    .filter((b) => !/__tests__\/[\w.-]+\.test\.js/.test(b) && !/\(Not\s+tested\b/.test(b))
    .map((b) => b.split('\n')[0])
  expect(unproven).toEqual([])
})
