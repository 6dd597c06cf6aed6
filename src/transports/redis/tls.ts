/**
 * `rediss://`: the TLS transport's `tls` option made into `node:tls`
 * settings for the client library, and a first contact that reports a
 * certificate problem at once. The client library retries a failed
 * handshake like a refused connection, so without it a certificate nobody
 * trusts would only show as "not ready within connectTimeoutMs".
 */
import { isIP } from 'node:net'
import { checkServerIdentity, connect as tlsConnect, type ConnectionOptions, type PeerCertificate } from 'node:tls'
import { SeamError } from '../../channel/errors.js'
import { explainClientError, type ClientFacts } from '../tls/errors.js'
import type { ResolvedTlsClient } from '../tls/options.js'

/** The `node:tls` settings of every connection to `host`: verification always on unless `insecureSkipVerify`. */
export function tlsSettings(tls: ResolvedTlsClient, host: string, where: string): ConnectionOptions {
  if (tls.insecure) {
    process.emitWarning(
      `${where}: tls.insecureSkipVerify is set, so the Redis server's certificate is NOT verified and anyone on the network path can read and change this traffic. Use it for throwaway tests only; set tls.ca instead.`,
      { type: 'SecurityWarning', code: 'SEAM_TLS_INSECURE' },
    )
  }
  const servername = tls.servername ?? host
  return {
    secureContext: tls.secureContext,
    // SNI takes names only; an IP address is still checked against the certificate's IP SANs.
    servername: isIP(servername) === 0 ? servername : undefined,
    // Explicit, so neither a default nor NODE_TLS_REJECT_UNAUTHORIZED=0 can turn verification off.
    rejectUnauthorized: !tls.insecure,
    checkServerIdentity: tls.insecure ? () => undefined : (_host: string, cert: PeerCertificate) => checkServerIdentity(servername, cert),
  }
}

const NOT_TLS = /^ERR_SSL_(WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|HTTP_REQUEST|RECORD_LAYER_FAILURE)$/

function plainPort(where: string, why: string, retriable: boolean, cause?: unknown): SeamError {
  return new SeamError('ERR_TRANSPORT', `${where}: the server does not speak TLS there (${why}); it is likely a plain Redis port: use redis:// for it, or the port redis-server serves TLS on (its tls-port)`, { cause, retriable })
}

/**
 * Opens one TLS connection with `options` to `host:port`, sends `PING` and
 * waits for any answer: the handshake then passed on both sides (in TLS 1.3
 * a server refuses a client certificate only after the client finished it).
 * Rejects with a SeamError naming what to fix when the server's certificate
 * is refused, the server refuses this client, or it does not speak TLS;
 * resolves when it answered, and also when the connection failed for a
 * reason retrying may cure (refused, unreachable), which the client
 * library's own connect then reports. Takes at most `timeoutMs`.
 */
export function checkTls(host: string, port: number, options: ConnectionOptions, presentsCert: boolean, where: string, timeoutMs: number): Promise<void> {
  const servername = typeof options.servername === 'string' ? options.servername : host
  const facts: ClientFacts = { target: where, servername, presentsCert }
  return new Promise((resolve, reject) => {
    let connected = false
    let secure = false
    let settled = false
    const socket = tlsConnect({ ...options, host, port })
    const done = (err?: SeamError): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.on('error', () => undefined)
      socket.destroy()
      if (err === undefined) resolve()
      else reject(err)
    }
    const timer = setTimeout(() => {
      const why = `no answer to the TLS handshake within connectTimeoutMs (${timeoutMs} ms)`
      // A plain Redis port takes the connection and waits for a command it never gets; a slow server is possible too, hence retriable.
      if (connected && !secure) done(plainPort(where, why, true))
      else done(new SeamError('ERR_TRANSPORT', `${where}: ${connected ? 'no answer to PING after the TLS handshake' : 'no connection'} within connectTimeoutMs (${timeoutMs} ms); is redis-server running there?`))
    }, timeoutMs)
    socket.once('connect', () => void (connected = true))
    socket.once('secureConnect', () => {
      secure = true
      socket.write('PING\r\n')
    })
    // Any answer (+PONG, or -NOAUTH before AUTH) means the server took this client.
    socket.once('data', () => done())
    socket.once('error', (err: Error & { code?: unknown }) => {
      const code = typeof err.code === 'string' ? err.code : ''
      if (NOT_TLS.test(code)) return done(plainPort(where, `${code}: ${err.message.split('\n')[0]}`, false, err))
      const explained = explainClientError(err, facts)
      if (explained !== undefined) return done(explained)
      if (secure) return done(closedAfterHandshake(where, facts, err))
      done()
    })
    socket.once('close', () => {
      if (secure) done(closedAfterHandshake(where, facts))
      else done()
    })
  })
}

/** The server hung up between the handshake and an answer: the way Redis refuses a client certificate it does not accept. */
function closedAfterHandshake(where: string, facts: ClientFacts, cause?: unknown): SeamError {
  const why = facts.presentsCert
    ? "it most likely refused this client's certificate (not signed by a CA in its tls-ca-cert-file, or expired)"
    : 'it most likely requires a client certificate (tls-auth-clients yes)'
  return new SeamError('ERR_TRANSPORT', `${where}: the server closed the connection right after the TLS handshake, before answering: ${why}; set tls.key and tls.cert to a client certificate signed by a CA the server trusts`, { cause, retriable: false })
}

/**
 * A plain connection the server reset before it was ready: what a server
 * serving TLS only does to a `redis://` client. Says so in the error, as a
 * possibility: the client library only knows the connection was reset.
 */
export function hintTlsOnly(err: unknown): unknown {
  if (!(err instanceof SeamError) || (err.cause as { code?: unknown } | undefined)?.code !== 'ECONNRESET') return err
  return new SeamError(err.code, `${err.message} (a server serving TLS only resets plain connections: if this one does, use rediss:// and the tls option)`, { cause: err.cause, retriable: err.retriable })
}
