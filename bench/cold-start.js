'use strict'
// One cold start, as an application has it: a fresh process loads mongoose
// and the lock, connects, acquires once, releases, disconnects and exits.
// argv: <system: native|legacy> <uri> <name>. Prints JSON: ms from the
// process's start to the end of each step (performance.now()).
const path = require('path')
const { performance } = require('perf_hooks')

const [system, uri, name] = process.argv.slice(2)
const at = {}
const mark = (step) => { at[step] = performance.now() }

async function main () {
  let mongoose, Lock
  if (system === 'native') {
    mongoose = require('mongoose')
    Lock = require('..')
  } else {
    const legacyDir = path.dirname(require.resolve('mongoose-distributed-lock-legacy/package.json'))
    mongoose = require(require.resolve('mongoose', { paths: [legacyDir] }))
    mongoose.set('strictQuery', false)
    Lock = require('mongoose-distributed-lock-legacy')
  }
  mark('loaded')
  await mongoose.connect(uri)
  mark('connected')
  const lock = Lock(name, { timeout: 60000 })
  const ok = await new Promise((resolve, reject) => lock.acquire((err, got) => err ? reject(err) : resolve(got)))
  if (!ok) throw new Error(`${name} was not free`)
  mark('acquired')
  await new Promise((resolve, reject) => lock.release((err) => err ? reject(err) : resolve()))
  mark('released')
  await mongoose.disconnect()
  mark('disconnected')
  console.log(JSON.stringify(at))
}

main().catch((err) => { console.error(err); process.exit(1) })
