/**
 * Test-only certificates, made with the system `openssl` at test time into a
 * fresh temp dir: nothing secret is committed. Keys are P-256 (fast to make).
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** One certificate with its key, as PEM text, plus where they are on disk. */
export interface Issued {
  readonly key: string
  readonly cert: string
  readonly keyPath: string
  readonly certPath: string
}

/** Everything the TLS tests need. */
export interface TestPki {
  readonly dir: string
  /** The CA the servers and good clients use. */
  readonly ca: Issued
  /** A second CA nobody trusts. */
  readonly otherCa: Issued
  /** Server certificate for `localhost` and `127.0.0.1`, signed by `ca`. */
  readonly server: Issued
  /** Same names, signed by `otherCa`. */
  readonly untrustedServer: Issued
  /** Signed by `ca`, but only for `elsewhere.example`. */
  readonly wrongHostServer: Issued
  /** Signed by `ca` for the right names, valid only in January 2020. */
  readonly expiredServer: Issued
  /** Client certificates signed by `ca`: CN alice (URI SAN spiffe://test/alice) and CN bob. */
  readonly alice: Issued
  readonly bob: Issued
  /** A client certificate signed by `otherCa` (CN mallory). */
  readonly mallory: Issued
  /** Removes the directory. */
  cleanup(): void
}

const SERVER_SAN = 'DNS:localhost,IP:127.0.0.1'

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] })
}

// A config of our own keeps the system openssl.cnf (and its default extensions) out of the way.
const REQ_CONFIG = '[req]\ndistinguished_name = dn\nprompt = no\n[dn]\n'

function newKey(dir: string, name: string): string {
  const path = join(dir, `${name}.key`)
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path], dir)
  return path
}

function issued(keyPath: string, certPath: string): Issued {
  return { key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8'), keyPath, certPath }
}

function makeCa(dir: string, name: string): Issued {
  const keyPath = newKey(dir, name)
  const certPath = join(dir, `${name}.pem`)
  const config = join(dir, 'req.cnf')
  writeFileSync(config, REQ_CONFIG)
  openssl(
    ['req', '-x509', '-new', '-config', config, '-key', keyPath, '-subj', `/CN=${name}`, '-days', '2',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', certPath],
    dir,
  )
  return issued(keyPath, certPath)
}

function csr(dir: string, name: string, cn: string): { keyPath: string; csrPath: string } {
  const keyPath = newKey(dir, name)
  const csrPath = join(dir, `${name}.csr`)
  const config = join(dir, 'req.cnf')
  writeFileSync(config, REQ_CONFIG)
  openssl(['req', '-new', '-config', config, '-key', keyPath, '-subj', `/CN=${cn}`, '-out', csrPath], dir)
  return { keyPath, csrPath }
}

function extFile(dir: string, name: string, san: string | undefined, usage: 'serverAuth' | 'clientAuth'): string {
  const path = join(dir, `${name}.ext`)
  writeFileSync(path, `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=${usage}\n${san === undefined ? '' : `subjectAltName=${san}\n`}`)
  return path
}

function sign(dir: string, ca: Issued, name: string, cn: string, san: string | undefined, usage: 'serverAuth' | 'clientAuth'): Issued {
  const { keyPath, csrPath } = csr(dir, name, cn)
  const certPath = join(dir, `${name}.pem`)
  openssl(
    ['x509', '-req', '-in', csrPath, '-CA', ca.certPath, '-CAkey', ca.keyPath, '-CAcreateserial', '-days', '2',
      '-extfile', extFile(dir, name, san, usage), '-out', certPath],
    dir,
  )
  return issued(keyPath, certPath)
}

/** `openssl x509` in 3.0 cannot backdate; `openssl ca` can, given a small database of its own. */
function signExpired(dir: string, ca: Issued, name: string, cn: string, san: string): Issued {
  const { keyPath, csrPath } = csr(dir, name, cn)
  const certPath = join(dir, `${name}.pem`)
  writeFileSync(join(dir, 'index.txt'), '')
  writeFileSync(join(dir, 'serial'), '1000\n')
  const config = join(dir, 'ca.cnf')
  writeFileSync(
    config,
    [
      '[ca]', 'default_ca = test_ca', '[test_ca]', `database = ${join(dir, 'index.txt')}`, `new_certs_dir = ${dir}`,
      `serial = ${join(dir, 'serial')}`, 'default_md = sha256', 'policy = any', 'unique_subject = no', 'x509_extensions = ext',
      '[any]', 'commonName = supplied', '[ext]', 'basicConstraints = CA:FALSE', 'extendedKeyUsage = serverAuth', `subjectAltName = ${san}`, '',
    ].join('\n'),
  )
  openssl(
    ['ca', '-batch', '-config', config, '-cert', ca.certPath, '-keyfile', ca.keyPath, '-in', csrPath, '-out', certPath,
      '-startdate', '20200101000000Z', '-enddate', '20200102000000Z', '-notext'],
    dir,
  )
  return issued(keyPath, certPath)
}

/** Makes a fresh set of CAs and certificates; call `cleanup()` in afterAll. */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'seam-tls-'))
  try {
    const ca = makeCa(dir, 'seam-test-ca')
    const otherCa = makeCa(dir, 'other-ca')
    return {
      dir,
      ca,
      otherCa,
      server: sign(dir, ca, 'server', 'localhost', SERVER_SAN, 'serverAuth'),
      untrustedServer: sign(dir, otherCa, 'untrusted-server', 'localhost', SERVER_SAN, 'serverAuth'),
      wrongHostServer: sign(dir, ca, 'wrong-host-server', 'elsewhere.example', 'DNS:elsewhere.example', 'serverAuth'),
      expiredServer: signExpired(dir, ca, 'expired-server', 'localhost', SERVER_SAN),
      alice: sign(dir, ca, 'alice', 'alice', 'URI:spiffe://test/alice', 'clientAuth'),
      bob: sign(dir, ca, 'bob', 'bob', undefined, 'clientAuth'),
      mallory: sign(dir, otherCa, 'mallory', 'mallory', undefined, 'clientAuth'),
      cleanup: () => rmSync(dir, { recursive: true, force: true }),
    }
  } catch (err) {
    rmSync(dir, { recursive: true, force: true })
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? ''
    throw new Error(`making test certificates with openssl failed (is /usr/bin/openssl installed?): ${stderr || String(err)}`, { cause: err })
  }
}
