/**
 * A local CA and certificates for the TLS example, made once with the system
 * `openssl` and then read back. They live in a directory outside the project
 * (default: <tmp>/seam-channel-tls-example, or $SEAM_TLS_DIR) so no private
 * key ever lands in the repository. For production, see the README: use
 * certificates from your own CA or a public one, and pass their paths.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

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

function openssl(dir: string, ...args: string[]): void {
  try {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? String(err)
    throw new Error(`openssl ${args[0]} failed (is openssl installed?): ${stderr}`, { cause: err })
  }
}

function key(dir: string, name: string): string {
  const path = join(dir, `${name}.key`)
  openssl(dir, 'genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path)
  return path
}

/** Signs a certificate for `cn` with the example CA; `ext` holds its extensions. */
function issue(dir: string, name: string, cn: string, ext: string): void {
  const config = join(dir, 'req.cnf')
  key(dir, name)
  openssl(dir, 'req', '-new', '-config', config, '-key', `${name}.key`, '-subj', `/CN=${cn}`, '-out', `${name}.csr`)
  writeFileSync(join(dir, `${name}.ext`), ext)
  openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '30', '-extfile', `${name}.ext`, '-out', `${name}.pem`)
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
  // Our own minimal config keeps the system openssl.cnf defaults out of the certificates.
  writeFileSync(join(dir, 'req.cnf'), '[req]\ndistinguished_name = dn\nprompt = no\n[dn]\n')
  key(dir, 'ca')
  openssl(dir, 'req', '-x509', '-new', '-config', 'req.cnf', '-key', 'ca.key', '-subj', '/CN=seam-channel example CA', '-days', '30',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', 'ca.pem')
  issue(dir, 'server', 'localhost', 'basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n')
  issue(dir, 'client', clientName, `basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\nsubjectAltName=URI:spiffe://example/${clientName}\n`)
  process.stderr.write(`made a local CA and certificates in ${dir}\n`)
  return certs
}
