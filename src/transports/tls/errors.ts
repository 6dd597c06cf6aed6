/**
 * Node reports TLS failures as OpenSSL codes. These functions turn them into
 * SeamErrors whose message says what to fix. A certificate problem is not
 * retriable: dialing again gets the same certificate and the same answer.
 */
import { SeamError } from '../../channel/errors.js'

/** What a client knew when its connection failed. */
export interface ClientFacts {
  /** `tls://host:port`. */
  readonly target: string
  /** The name the server's certificate was checked against. */
  readonly servername: string
  /** True when this client presented a certificate. */
  readonly presentsCert: boolean
}

// The server's certificate does not chain to a CA this client trusts.
const UNTRUSTED = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_REJECTED',
  'INVALID_CA',
])

// Alerts a server sends when it refuses the client's certificate.
const CLIENT_CERT_REFUSED = new Set([
  'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
  'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED',
  'ERR_SSL_TLSV1_ALERT_ACCESS_DENIED',
])

// What OpenSSL says when the bytes on the wire are not TLS records.
const NOT_TLS = new Set(['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG', 'ERR_SSL_HTTP_REQUEST', 'ERR_SSL_HTTPS_PROXY_REQUEST', 'ERR_SSL_RECORD_LAYER_FAILURE'])

const MUTUAL_TLS_HINT = 'set tls.key and tls.cert to a client certificate signed by a CA the server trusts (its tls.ca)'

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | undefined)?.code
  return typeof code === 'string' ? code : undefined
}

/** OpenSSL messages carry a file and line; its `reason` is the readable part. */
function reasonOf(err: unknown): string {
  const reason = (err as { reason?: unknown } | undefined)?.reason
  if (typeof reason === 'string' && reason !== '') return reason
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] as string
}

function refused(message: string, err: unknown): SeamError {
  return new SeamError('ERR_TRANSPORT', message, { cause: err, retriable: false })
}

/**
 * Explains a failure a client saw during the TLS handshake. Undefined when it
 * is not about TLS (refused, unreachable): those are retried.
 */
export function explainClientError(err: unknown, facts: ClientFacts): SeamError | undefined {
  const code = codeOf(err)
  if (code === undefined) return undefined
  const why = `${code}: ${reasonOf(err)}`
  const at = facts.target
  if (UNTRUSTED.has(code)) {
    return refused(`${at}: the server's certificate is not signed by a CA this client trusts (${why}); set tls.ca to the CA that signed the server's certificate`, err)
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return refused(`${at}: the server's certificate is not valid for "${facts.servername}" (${why}); connect with a name the certificate lists, set tls.servername to one, or reissue the certificate with that name in its subjectAltName`, err)
  }
  if (code === 'CERT_HAS_EXPIRED') {
    return refused(`${at}: the server's certificate has expired (${why}); renew the server's certificate (or fix this machine's clock)`, err)
  }
  if (code === 'CERT_NOT_YET_VALID') {
    return refused(`${at}: the server's certificate is not valid yet (${why}); check the clocks of both machines`, err)
  }
  if (code === 'CERT_REVOKED') return refused(`${at}: the server's certificate was revoked (${why}); the server needs a new certificate`, err)
  if (code === 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' || (code === 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE' && !facts.presentsCert)) {
    return refused(`${at}: the server requires a client certificate (mutual TLS) and this client has none (${why}); ${MUTUAL_TLS_HINT}`, err)
  }
  if (CLIENT_CERT_REFUSED.has(code)) {
    return refused(`${at}: the server refused this client's certificate (${why}); ${MUTUAL_TLS_HINT}`, err)
  }
  if (NOT_TLS.has(code)) {
    return new SeamError('ERR_PROTOCOL', `${at}: the server did not answer with TLS (${why}); it may be a tcp:// server: use the URL scheme it listens with`, { cause: err })
  }
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) {
    return refused(`${at}: the TLS handshake failed (${why}); check that both sides have compatible TLS settings and certificates`, err)
  }
  return undefined
}

/**
 * Explains a client connection that ended after its TLS handshake but before
 * the server said hello. In TLS 1.3 a server checks the client certificate
 * after the client considers the handshake done, so this is where a refused
 * certificate shows up: as an alert, or as a bare close when Node's own check
 * rejected it.
 */
export function explainBeforeHello(err: Error | undefined, facts: ClientFacts): SeamError | undefined {
  const code = codeOf(err)
  if (code !== undefined && code !== 'ECONNRESET' && code !== 'EPIPE') return explainClientError(err, facts)
  const what = facts.presentsCert
    ? `it most likely refused this client's certificate (not signed by a CA in the server's tls.ca, or expired); ${MUTUAL_TLS_HINT}`
    : `it most likely requires a client certificate (mutual TLS); ${MUTUAL_TLS_HINT}`
  return refused(`${facts.target}: the server closed the connection right after the TLS handshake, before saying hello: ${what}`, err)
}

/** What a server knew about a client whose handshake failed. */
export interface ServerFacts {
  /** `tls://host:port` of the server. */
  readonly url: string
  /** `1.2.3.4:5678`, when still known. */
  readonly client: string | undefined
  /** Node's verdict on the client certificate (`socket.authorizationError`), when it checked one. */
  readonly authorizationError: string | undefined
}

/** Explains a TLS handshake failure seen by a server (`tlsClientError`). */
export function explainServerError(err: unknown, facts: ServerFacts): SeamError {
  const code = codeOf(err) ?? 'ERROR'
  const who = facts.client === undefined ? 'a client' : `the client at ${facts.client}`
  const at = facts.url
  const why = `${code}: ${reasonOf(err)}`
  const verdict = facts.authorizationError
  if (verdict === 'CERT_HAS_EXPIRED') {
    return refused(`${at}: refused ${who}: its certificate has expired (${verdict}); the client needs a renewed certificate`, err)
  }
  if (verdict !== undefined) {
    return refused(`${at}: refused ${who}: its certificate failed verification (${verdict}); it must present a certificate signed by a CA in this server's tls.ca`, err)
  }
  if (code === 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE') {
    return refused(`${at}: refused ${who} without a certificate: this server requires mutual TLS (tls.requestCert); the client must set tls.key and tls.cert`, err)
  }
  if (NOT_TLS.has(code)) {
    return new SeamError('ERR_PROTOCOL', `${at}: ${who} did not start a TLS handshake (${why}); it is likely a plaintext tcp:// client or another protocol: it must connect with a tls:// URL`, { cause: err })
  }
  if (code.startsWith('ERR_SSL_') && code.includes('ALERT')) {
    return refused(`${at}: ${who} refused this server's certificate (${why}); give the client the CA that signed tls.cert (its tls.ca), and check that the certificate lists the host name clients use`, err)
  }
  if (code === 'ECONNRESET' || code === 'ERR_SSL_UNEXPECTED_EOF_WHILE_READING') {
    return new SeamError('ERR_TRANSPORT', `${at}: ${who} closed the connection during the TLS handshake (${why}); if that client reported a certificate error, it does not trust this server's certificate or the host name in it`, { cause: err })
  }
  return new SeamError('ERR_TRANSPORT', `${at}: the TLS handshake with ${who} failed (${why})`, { cause: err })
}
