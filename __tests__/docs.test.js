'use strict'
// The error codes are documented in three places that must agree with what
// the package really uses (Lock.codes, read from the core's ERROR_CODES):
// the ErrorCode union of index.d.ts and the error table of the README.
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
