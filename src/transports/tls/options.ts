import { readFileSync } from 'node:fs'
import { createSecureContext, type SecureContext } from 'node:tls'
import type { SeamError } from '../../channel/errors.js'
import { bad, optionChecks } from '../../channel/option-checks.js'

/** PEM text, as a string or bytes, or the path of a PEM file. */
export type Pem = string | Buffer

/**
 * The `tls` option of `connect('tls://…')` and `listen('tls://…')`.
 * Certificate verification is always on; see `insecureSkipVerify`.
 */
export interface TlsOptions {
  /** This side's private key (PEM). Required when listening; with `cert`, makes a client present a certificate (mutual TLS). */
  key?: Pem
  /** This side's certificate chain (PEM), leaf first. Required when listening. */
  cert?: Pem
  /** Passphrase of an encrypted `key`. */
  passphrase?: string
  /**
   * CA certificates to trust (PEM). A client verifies the server against them
   * (default: the system's public roots); a server with `requestCert` verifies
   * client certificates against them (required then).
   */
  ca?: Pem | readonly Pem[]
  /** Server: require a client certificate signed by `ca` (mutual TLS) and refuse clients without one. */
  requestCert?: boolean
  /** Client: the name the server's certificate must hold (and the SNI name); default: the URL's host. */
  servername?: string
  /**
   * Client: accept ANY server certificate, so anyone on the path can read and
   * change the traffic. For a throwaway test setup only; a warning is logged
   * each time it is used. Must be exactly `true` to take effect.
   */
  insecureSkipVerify?: boolean
}

declare module '../../channel/options.js' {
  interface TransportOptions {
    /** TLS: certificates and verification for `tls://` URLs (see {@link TlsOptions}). */
    tls?: TlsOptions
  }
}

/** Client-side TLS settings, read and checked. */
export interface ResolvedTlsClient {
  readonly secureContext: SecureContext
  readonly servername: string | undefined
  readonly insecure: boolean
  /** True when this client presents a certificate. */
  readonly presentsCert: boolean
}

/** Server-side TLS settings, read and checked. */
export interface ResolvedTlsServer {
  readonly key: Buffer
  readonly cert: Buffer
  readonly ca: Buffer[] | undefined
  readonly passphrase: string | undefined
  readonly requestCert: boolean
}

const CLIENT_KEYS = new Set(['key', 'cert', 'passphrase', 'ca', 'servername', 'insecureSkipVerify'])
const SERVER_KEYS = new Set(['key', 'cert', 'passphrase', 'ca', 'requestCert'])

const { flag } = optionChecks('tls')

/** PEM text is used as is; anything else is a path to read. */
function loadPem(value: unknown, name: string, where: string): Buffer {
  if (Buffer.isBuffer(value)) return value
  if (typeof value !== 'string' || value === '') {
    throw bad(where, `option "tls.${name}" must be PEM text (string or Buffer) or the path of a PEM file (got ${typeof value})`)
  }
  if (value.includes('-----BEGIN ')) return Buffer.from(value)
  try {
    return readFileSync(value)
  } catch (err) {
    throw bad(where, `option "tls.${name}": cannot read the file "${value}" (${(err as Error).message}); pass PEM text or a readable path`, err)
  }
}

function loadCa(value: unknown, where: string): Buffer[] | undefined {
  if (value === undefined) return undefined
  const list = Array.isArray(value) ? value : [value]
  if (list.length === 0) throw bad(where, 'option "tls.ca" is an empty list; give at least one CA certificate or leave it out')
  return list.map((v, i) => loadPem(v, Array.isArray(value) ? `ca[${i}]` : 'ca', where))
}

function checkKeys(o: Record<string, unknown>, allowed: Set<string>, side: 'client' | 'server', where: string): void {
  if (o.passphrase !== undefined && typeof o.passphrase !== 'string') throw bad(where, 'option "tls.passphrase" must be a string')
  for (const k of Object.keys(o)) {
    if (allowed.has(k)) continue
    const other = side === 'client' ? SERVER_KEYS : CLIENT_KEYS
    throw bad(where, other.has(k) ? `option "tls.${k}" is a ${side === 'client' ? 'server' : 'client'} option; it has no meaning here` : `unknown option "tls.${k}" (known: ${[...allowed].join(', ')})`)
  }
}

/** Turns Node's complaint about keys and certificates into a message naming the options. */
function contextError(err: unknown, where: string): SeamError {
  const why = err instanceof Error ? err.message : String(err)
  const hint = /mismatch/i.test(why)
    ? 'tls.key does not belong to tls.cert'
    : /bad decrypt|bad password|passphrase/i.test(why)
      ? 'tls.key is encrypted: give the right tls.passphrase'
      : 'check that tls.key, tls.cert and tls.ca are PEM (-----BEGIN …)'
  return bad(where, `the TLS certificates or key cannot be used (${why}): ${hint}`, err)
}

function object(value: unknown, where: string, required: boolean): Record<string, unknown> {
  if (value === undefined && !required) return {}
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw bad(where, required ? 'option "tls" is required: { key, cert } (PEM text or file paths), plus ca and requestCert for mutual TLS' : 'option "tls" must be an object')
  }
  return value as Record<string, unknown>
}

/** Reads the client's `tls` option; throws `ERR_BAD_ARGUMENT` naming the bad part. */
export function readTlsClient(value: unknown, where: string): ResolvedTlsClient {
  const o = object(value, where, false)
  checkKeys(o, CLIENT_KEYS, 'client', where)
  const insecure = flag(o.insecureSkipVerify, 'insecureSkipVerify', where) === true
  if (o.servername !== undefined && (typeof o.servername !== 'string' || o.servername === '')) {
    throw bad(where, 'option "tls.servername" must be a non-empty host name')
  }
  if ((o.key === undefined) !== (o.cert === undefined)) {
    throw bad(where, 'options "tls.key" and "tls.cert" go together: a client certificate needs its key')
  }
  const key = o.key === undefined ? undefined : loadPem(o.key, 'key', where)
  const cert = o.cert === undefined ? undefined : loadPem(o.cert, 'cert', where)
  const ca = loadCa(o.ca, where)
  let secureContext: SecureContext
  try {
    // Without `ca` the context trusts Node's bundled public roots, as a browser would.
    secureContext = createSecureContext({ key, cert, ca, passphrase: o.passphrase as string | undefined })
  } catch (err) {
    throw contextError(err, where)
  }
  return { secureContext, servername: o.servername as string | undefined, insecure, presentsCert: cert !== undefined }
}

/** Reads the server's `tls` option; throws `ERR_BAD_ARGUMENT` naming the bad part. */
export function readTlsServer(value: unknown, where: string): ResolvedTlsServer {
  const o = object(value, where, true)
  checkKeys(o, SERVER_KEYS, 'server', where)
  if (o.key === undefined || o.cert === undefined) {
    throw bad(where, 'options "tls.key" and "tls.cert" are required to listen on tls:// (PEM text or file paths)')
  }
  const requestCert = flag(o.requestCert, 'requestCert', where) === true
  const ca = loadCa(o.ca, where)
  if (requestCert && ca === undefined) {
    // Falling back to public roots would let any publicly issued certificate in.
    throw bad(where, 'option "tls.requestCert" needs "tls.ca": the CA that signs the client certificates you accept')
  }
  const resolved = { key: loadPem(o.key, 'key', where), cert: loadPem(o.cert, 'cert', where), ca, passphrase: o.passphrase as string | undefined, requestCert }
  try {
    createSecureContext({ key: resolved.key, cert: resolved.cert, ca: resolved.ca, passphrase: resolved.passphrase })
  } catch (err) {
    throw contextError(err, where)
  }
  return resolved
}
