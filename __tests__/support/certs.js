'use strict'
// Throwaway X.509 certificates for the TLS tests, made at test time with the
// openssl command line (OpenSSL 3): a CA, a server certificate for 127.0.0.1
// and localhost, one for the wrong name, client certificates for mutual TLS
// (one with an encrypted key) and an unrelated CA. RSA 2048, SHA-256, X.509
// v3 with subjectAltName (rustls ignores the CN), valid for two days.
const { execFileSync } = require('child_process')
const crypto = require('crypto')
const fs = require('fs')
const os = require('os')
const path = require('path')

/** The passphrase of `clientEncPem`'s key. */
const CLIENT_KEY_PASSPHRASE = 's3cret'
const DAYS = '2'

const made = new Map() // absolute dir -> paths, once per process

function openssl (args, cwd) {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  } catch (err) {
    if (err.code === 'ENOENT') throw new Error('openssl is not installed (apt-get install -y openssl)')
    throw new Error(`openssl ${args.join(' ')} failed: ${String(err.stderr || err.message).trim()}`)
  }
}

// A minimal config, so that the host's openssl.cnf does not matter.
const REQ_CONFIG = `[req]
distinguished_name = dn
prompt = no
[dn]
`

const EXTENSIONS = {
  ca: `basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash`,
  server: (san) => `basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = ${san}
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer`,
  client: `basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer`,
  intermediate: `basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer`
}

function newKey (dir, name) {
  const file = path.join(dir, `${name}-key.pem`)
  // PKCS#8, unencrypted.
  openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', file], dir)
  return file
}

function serial () {
  return '0x' + crypto.randomBytes(8).toString('hex')
}

/** A self-signed CA: { cert, key }. */
function makeCa (dir, name, cn) {
  const key = newKey(dir, name)
  const cert = path.join(dir, `${name}.pem`)
  const conf = path.join(dir, `${name}.cnf`)
  fs.writeFileSync(conf, `${REQ_CONFIG}CN = ${cn}\n[ext]\n${EXTENSIONS.ca}\n`)
  openssl(['req', '-x509', '-new', '-config', conf, '-extensions', 'ext', '-key', key, '-out', cert,
    '-days', DAYS, '-sha256', '-set_serial', serial()], dir)
  return { cert, key }
}

/** A certificate signed by `ca`, with the extensions `ext`: { cert, key }. */
function makeLeaf (dir, name, cn, ext, ca) {
  const key = newKey(dir, name)
  const cert = path.join(dir, `${name}.pem`)
  const csr = path.join(dir, `${name}.csr`)
  const conf = path.join(dir, `${name}.cnf`)
  fs.writeFileSync(conf, `${REQ_CONFIG}CN = ${cn}\n[ext]\n${ext}\n`)
  openssl(['req', '-new', '-config', conf, '-key', key, '-out', csr], dir)
  openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-set_serial', serial(),
    '-days', DAYS, '-sha256', '-extfile', conf, '-extensions', 'ext', '-out', cert], dir)
  fs.rmSync(csr)
  return { cert, key }
}

/**
 * A certificate made as many guides say, with no extensions file:
 * `openssl req -new -newkey rsa:2048 -nodes -keyout client.key -out client.csr`
 * then `openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -out client.crt`,
 * so an X.509 v1 certificate (no extension at all, no subjectAltName: a
 * hostname check falls back to the CN). { cert, key }.
 */
function makeV1 (dir, name, cn, ca) {
  const key = path.join(dir, `${name}-key.pem`)
  const cert = path.join(dir, `${name}.pem`)
  const csr = path.join(dir, `${name}.csr`)
  const conf = path.join(dir, `${name}.cnf`)
  fs.writeFileSync(conf, `${REQ_CONFIG}CN = ${cn}\n`)
  openssl(['req', '-new', '-config', conf, '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr], dir)
  openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-out', cert], dir)
  fs.rmSync(csr)
  return { cert, key }
}

/** Removes the default directories of processes that are gone. */
function removeStale () {
  for (const name of fs.readdirSync(os.tmpdir())) {
    const m = /^mdl-certs-(\d+)-/.exec(name)
    if (!m || isAlive(Number(m[1]))) continue
    fs.rmSync(path.join(os.tmpdir(), name), { recursive: true, force: true })
  }
}

function isAlive (pid) {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return err.code === 'EPERM'
  }
}

/**
 * Makes (once per directory and process) the test certificates in `dir`
 * (default: a fresh temporary directory, removed when the process is gone) and
 * returns their absolute paths:
 * - ca, caKey: the test CA, which signed everything below;
 * - serverCert, serverKey: SAN IP:127.0.0.1 and DNS:localhost, EKU serverAuth;
 * - wrongCert, wrongKey: a server certificate for DNS:wrong.example only;
 * - clientCert, clientKey, clientPem: EKU clientAuth; clientPem holds the
 *   certificate and its unencrypted key (what tlsCertificateKeyFile expects);
 * - clientEncPem: the same certificate with its key as encrypted PKCS#8,
 *   passphrase `passphrase` ('s3cret');
 * - otherCa, otherCaKey: an unrelated CA;
 * - clientV1Pem: an X.509 v1 client certificate (the common one-liner, no
 *   extensions file) signed by the CA, then its unencrypted key;
 * - chainCert, chainKey: a server certificate (SAN IP:127.0.0.1,
 *   DNS:localhost) signed by an intermediate CA that the CA signed; chainCert
 *   holds the leaf then the intermediate (what a server presents), so a
 *   client that trusts only the CA must build the chain;
 * - chainV1Cert, chainV1Key: the same, but the server certificate is an X.509
 *   v1 one for CN=localhost made by the one-liner (no subjectAltName).
 */
function makeCerts (dir) {
  const key = dir ? path.resolve(dir) : ''
  if (made.has(key)) return made.get(key)
  let out = key
  if (!out) {
    removeStale()
    out = fs.mkdtempSync(path.join(os.tmpdir(), `mdl-certs-${process.pid}-`))
    // Not under Jest, whose sandboxed `process` never emits 'exit' (there,
    // the next makeCerts() of a later run clears the directory).
    process.once('exit', () => fs.rmSync(out, { recursive: true, force: true }))
  }
  fs.mkdirSync(out, { recursive: true })

  const ca = makeCa(out, 'ca', 'mongoose-distributed-lock test CA')
  const server = makeLeaf(out, 'server', 'localhost', EXTENSIONS.server('IP:127.0.0.1, DNS:localhost'), ca)
  const wrong = makeLeaf(out, 'wrong', 'wrong.example', EXTENSIONS.server('DNS:wrong.example'), ca)
  const client = makeLeaf(out, 'client', 'mongoose-distributed-lock test client', EXTENSIONS.client, ca)
  const other = makeCa(out, 'other-ca', 'unrelated test CA')
  const v1 = makeV1(out, 'client-v1', 'mongoose-distributed-lock v1 client', ca)
  const intermediate = makeLeaf(out, 'intermediate', 'mongoose-distributed-lock test intermediate CA', EXTENSIONS.intermediate, ca)
  const leaf = makeLeaf(out, 'chain-leaf', 'localhost', EXTENSIONS.server('IP:127.0.0.1, DNS:localhost'), intermediate)
  const v1Leaf = makeV1(out, 'chain-v1-leaf', 'localhost', intermediate)

  const clientPem = path.join(out, 'client-combined.pem')
  fs.writeFileSync(clientPem, fs.readFileSync(client.cert, 'utf8') + fs.readFileSync(client.key, 'utf8'))
  const encKey = path.join(out, 'client-key-enc.pem')
  openssl(['pkcs8', '-topk8', '-in', client.key, '-out', encKey, '-v2', 'aes-256-cbc', '-v2prf', 'hmacWithSHA256',
    '-passout', `pass:${CLIENT_KEY_PASSPHRASE}`], out)
  const clientEncPem = path.join(out, 'client-combined-enc.pem')
  fs.writeFileSync(clientEncPem, fs.readFileSync(client.cert, 'utf8') + fs.readFileSync(encKey, 'utf8'))

  const clientV1Pem = path.join(out, 'client-v1-combined.pem')
  fs.writeFileSync(clientV1Pem, fs.readFileSync(v1.cert, 'utf8') + fs.readFileSync(v1.key, 'utf8'))
  const chainCert = path.join(out, 'chain.pem')
  fs.writeFileSync(chainCert, fs.readFileSync(leaf.cert, 'utf8') + fs.readFileSync(intermediate.cert, 'utf8'))
  const chainV1Cert = path.join(out, 'chain-v1.pem')
  fs.writeFileSync(chainV1Cert, fs.readFileSync(v1Leaf.cert, 'utf8') + fs.readFileSync(intermediate.cert, 'utf8'))

  const paths = {
    dir: out,
    ca: ca.cert,
    caKey: ca.key,
    serverCert: server.cert,
    serverKey: server.key,
    wrongCert: wrong.cert,
    wrongKey: wrong.key,
    clientCert: client.cert,
    clientKey: client.key,
    clientPem,
    clientEncPem,
    passphrase: CLIENT_KEY_PASSPHRASE,
    otherCa: other.cert,
    otherCaKey: other.key,
    clientV1Pem,
    chainCert,
    chainKey: leaf.key,
    chainV1Cert,
    chainV1Key: v1Leaf.key
  }
  made.set(key, paths)
  return paths
}

module.exports = { makeCerts, CLIENT_KEY_PASSPHRASE }
