/**
 * Making a local CA and certificates with the system `openssl`: the example
 * uses it once and reads the files back; the tests and the benchmark build on
 * the same functions. Files live outside the project (default:
 * <tmp>/seam-channel-tls-example, or $SEAM_TLS_DIR), so no private key ever
 * lands in the repository. For production, see the README: use certificates
 * from your own CA or a public one, and pass their paths.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** One certificate with its key, as PEM text, plus where they are on disk. */
export interface Issued {
  readonly key: string
  readonly cert: string
  readonly keyPath: string
  readonly certPath: string
}

/** Runs openssl in `dir`; the error carries openssl's own explanation. */
export function openssl(dir: string, ...args: string[]): void {
  try {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? String(err)
    throw new Error(`openssl ${args[0]} failed (is openssl installed?): ${stderr}`, { cause: err })
  }
}

// A config of our own keeps the system openssl.cnf (and its default extensions) out of the certificates.
const REQ_CONFIG = '[req]\ndistinguished_name = dn\nprompt = no\n[dn]\n'

function newKey(dir: string, name: string): string {
  const path = join(dir, `${name}.key`)
  openssl(dir, 'genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path)
  return path
}

/** Reads a key and certificate back as PEM text. */
export function issued(keyPath: string, certPath: string): Issued {
  return { key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8'), keyPath, certPath }
}

function reqConfig(dir: string): string {
  const config = join(dir, 'req.cnf')
  writeFileSync(config, REQ_CONFIG)
  return config
}

/** A self-signed CA `<dir>/<name>.pem` with its key `<name>.key`, valid for `days`. */
export function makeCa(dir: string, name: string, days = 30): Issued {
  const keyPath = newKey(dir, name)
  const certPath = join(dir, `${name}.pem`)
  openssl(dir, 'req', '-x509', '-new', '-config', reqConfig(dir), '-key', keyPath, '-subj', `/CN=${name}`, '-days', String(days),
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', certPath)
  return issued(keyPath, certPath)
}

/** A new key `<name>.key` and a signing request `<name>.csr` for common name `cn`. */
export function csr(dir: string, name: string, cn: string): { keyPath: string; csrPath: string } {
  const keyPath = newKey(dir, name)
  const csrPath = join(dir, `${name}.csr`)
  openssl(dir, 'req', '-new', '-config', reqConfig(dir), '-key', keyPath, '-subj', `/CN=${cn}`, '-out', csrPath)
  return { keyPath, csrPath }
}

/**
 * A certificate `<name>.pem` for `cn`, signed by `ca`, for a server or a client,
 * with subjectAltName `san` (e.g. `DNS:localhost,IP:127.0.0.1` or `URI:spiffe://…`).
 */
export function sign(dir: string, ca: Issued, name: string, cn: string, san: string | undefined, usage: 'serverAuth' | 'clientAuth', days = 30): Issued {
  const { keyPath, csrPath } = csr(dir, name, cn)
  const certPath = join(dir, `${name}.pem`)
  const ext = join(dir, `${name}.ext`)
  writeFileSync(ext, `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=${usage}\n${san === undefined ? '' : `subjectAltName=${san}\n`}`)
  openssl(dir, 'x509', '-req', '-in', csrPath, '-CA', ca.certPath, '-CAkey', ca.keyPath, '-CAcreateserial', '-days', String(days), '-extfile', ext, '-out', certPath)
  return issued(keyPath, certPath)
}

/** Paths of the PEM files the example uses. */
export interface ExampleCerts {
  readonly dir: string
  readonly ca: string
  readonly serverKey: string
  readonly serverCert: string
  readonly clientKey: string
  readonly clientCert: string
}

/** The directory the example keeps its certificates in. */
export function certDir(): string {
  return process.env.SEAM_TLS_DIR ?? join(tmpdir(), 'seam-channel-tls-example')
}

/**
 * Returns the example's certificates, making them first when they are not
 * there: a CA, a server certificate for localhost/127.0.0.1 and a client
 * certificate whose common name is `clientName`.
 */
export function loadOrCreateCerts(clientName = 'demo-client', dir = certDir()): ExampleCerts {
  const certs: ExampleCerts = {
    dir,
    ca: join(dir, 'ca.pem'),
    serverKey: join(dir, 'server.key'),
    serverCert: join(dir, 'server.pem'),
    clientKey: join(dir, 'client.key'),
    clientCert: join(dir, 'client.pem'),
  }
  if ([certs.ca, certs.serverKey, certs.serverCert, certs.clientKey, certs.clientCert].every((p) => existsSync(p))) return certs
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const ca = makeCa(dir, 'ca')
  sign(dir, ca, 'server', 'localhost', 'DNS:localhost,IP:127.0.0.1', 'serverAuth')
  sign(dir, ca, 'client', clientName, `URI:spiffe://example/${clientName}`, 'clientAuth')
  process.stderr.write(`made a local CA and certificates in ${dir}\n`)
  return certs
}
