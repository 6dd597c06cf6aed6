/**
 * Test-only certificates, made with the system `openssl` at test time into a
 * fresh temp dir: nothing secret is committed. Keys are P-256 (fast to make).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll } from 'vitest'
import { csr, issued, makeCa, openssl, sign, type Issued } from '../../examples/tls-client/certs.js'

export type { Issued } from '../../examples/tls-client/certs.js'

const SERVER_SAN = 'DNS:localhost,IP:127.0.0.1'
// Test certificates need not outlive the test run.
const DAYS = 2

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
  openssl(dir, 'ca', '-batch', '-config', config, '-cert', ca.certPath, '-keyfile', ca.keyPath, '-in', csrPath, '-out', certPath,
    '-startdate', '20200101000000Z', '-enddate', '20200102000000Z', '-notext')
  return issued(keyPath, certPath)
}

/** Makes a fresh set of CAs and certificates; call `cleanup()` in afterAll. */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'seam-tls-'))
  try {
    const ca = makeCa(dir, 'seam-test-ca', DAYS)
    const otherCa = makeCa(dir, 'other-ca', DAYS)
    return {
      dir,
      ca,
      otherCa,
      server: sign(dir, ca, 'server', 'localhost', SERVER_SAN, 'serverAuth', DAYS),
      untrustedServer: sign(dir, otherCa, 'untrusted-server', 'localhost', SERVER_SAN, 'serverAuth', DAYS),
      wrongHostServer: sign(dir, ca, 'wrong-host-server', 'elsewhere.example', 'DNS:elsewhere.example', 'serverAuth', DAYS),
      expiredServer: signExpired(dir, ca, 'expired-server', 'localhost', SERVER_SAN),
      alice: sign(dir, ca, 'alice', 'alice', 'URI:spiffe://test/alice', 'clientAuth', DAYS),
      bob: sign(dir, ca, 'bob', 'bob', undefined, 'clientAuth', DAYS),
      mallory: sign(dir, otherCa, 'mallory', 'mallory', undefined, 'clientAuth', DAYS),
      cleanup: () => rmSync(dir, { recursive: true, force: true }),
    }
  } catch (err) {
    rmSync(dir, { recursive: true, force: true })
    throw new Error(`making test certificates failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
  }
}

/** A test PKI for the calling test file: made when the file loads, removed after its last test. */
export function testPkiForFile(): TestPki {
  const pki = makeTestPki()
  afterAll(() => pki.cleanup())
  return pki
}
