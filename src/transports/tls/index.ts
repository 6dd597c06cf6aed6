/**
 * The TLS transport: `tls://host:port`. The TCP transport's framing, outbox
 * and reconnect (src/transports/stream) over `node:tls`; this folder holds
 * only what TLS adds: certificates, verification, peer identity and the
 * errors that say which certificate to fix.
 * @module
 */
import { isIP } from 'node:net'
import { checkServerIdentity, connect as tlsConnect, createServer, type Server as TlsServer, type TLSSocket } from 'node:tls'
import type { Channel } from '../../channel/channel.js'
import { connect, listen } from '../../channel/connect.js'
import type { SeamError } from '../../channel/errors.js'
import type { ConnectOptions, ListenOptions } from '../../channel/options.js'
import type { Server } from '../../channel/server.js'
import type { TransportLink, TransportProvider } from '../../channel/transport.js'
import { hostPort, hostUrl } from '../../channel/url.js'
import { whenReady } from '../stream/dial.js'
import { StreamLink, type StreamDialer } from '../stream/link.js'
import { StreamListener, bind } from '../stream/listener.js'
import { readStreamOptions, type ResolvedStreamOptions, type StreamOptions } from '../stream/options.js'
import { explainBeforeHello, explainClientError, explainServerError, type ClientFacts } from './errors.js'
import { readTlsClient, readTlsServer, type ResolvedTlsClient, type TlsOptions } from './options.js'
import { tlsPeer } from './peer.js'

export type { TlsOptions, Pem } from './options.js'
export { tlsPeer, splitAltNames } from './peer.js'

/** Options the TLS provider reads: the stream options plus `tls`. */
export type TlsTransportOptions = StreamOptions & { tls?: TlsOptions; connectTimeoutMs?: number }

/** Said on every connect with `insecureSkipVerify`, so it never goes unnoticed. */
function warnInsecure(target: string): void {
  process.emitWarning(
    `${target}: tls.insecureSkipVerify is set, so the server's certificate is NOT verified and anyone on the network path can read and change this traffic. Use it for throwaway tests only; set tls.ca instead.`,
    { type: 'SecurityWarning', code: 'SEAM_TLS_INSECURE' },
  )
}

/** Opens TLS sockets to `host:port` (`target` is its URL, for messages); each resolves once the handshake is done and the server verified. */
function tlsDialer(host: string, port: number, target: string, tls: ResolvedTlsClient): StreamDialer {
  const servername = tls.servername ?? host
  const facts: ClientFacts = { target, servername, presentsCert: tls.presentsCert }
  return {
    dial: (signal) =>
      whenReady(
        tlsConnect({
          host,
          port,
          secureContext: tls.secureContext,
          // SNI takes names only; an IP address is still checked against the certificate's IP SANs.
          servername: isIP(servername) === 0 ? servername : undefined,
          // Explicit, so neither a default nor NODE_TLS_REJECT_UNAUTHORIZED=0 can turn verification off.
          rejectUnauthorized: !tls.insecure,
          // Against `servername` even when it is an IP address, which SNI cannot carry.
          checkServerIdentity: tls.insecure ? () => undefined : (_host, cert) => checkServerIdentity(servername, cert),
        }),
        'secureConnect',
        signal,
        facts.target,
        (err) => explainClientError(err, facts),
      ),
    peer: tlsPeer,
    beforeHello: (err) => explainBeforeHello(err, facts),
  }
}

/** Reports handshakes that failed, which Node would otherwise drop without a word. */
class TlsListener extends StreamListener {
  readonly #tls: TlsServer

  constructor(server: TlsServer, url: string, options: ResolvedStreamOptions) {
    super(server, url, { name: 'tls', scheme: 'tls', acceptEvent: 'secureConnection', peer: tlsPeer }, options)
    this.#tls = server
  }

  override start(onLink: (link: TransportLink) => void, onError: (error: SeamError) => void): void {
    this.#tls.on('tlsClientError', (err, socket: TLSSocket) => {
      const address = socket.remoteAddress
      const client = address === undefined ? undefined : `${address}:${socket.remotePort}`
      onError(explainServerError(err, { url: this.url, client, authorizationError: socket.authorizationError?.toString() }))
    })
    super.start(onLink, onError)
  }
}

/** The `tls:` scheme for `connect` and `listen`. */
export const provider: TransportProvider<TlsTransportOptions> = {
  scheme: 'tls',
  async connect(url, options) {
    const { host, port } = hostPort(url)
    const where = 'connect(tls)'
    const resolved = readStreamOptions(options, where)
    const tls = readTlsClient(options.tls, where)
    const target = hostUrl('tls', host, port)
    if (tls.insecure) warnInsecure(target)
    return StreamLink.dial('tls', target, tlsDialer(host, port, target, tls), resolved)
  },
  async listen(url, options) {
    const { host, port } = hostPort(url)
    const where = 'listen(tls)'
    const resolved = readStreamOptions(options, where)
    const tls = readTlsServer(options.tls, where)
    const server = createServer({
      key: tls.key,
      cert: tls.cert,
      ca: tls.ca,
      passphrase: tls.passphrase,
      requestCert: tls.requestCert,
      // Only meaningful with requestCert: then a client without a valid certificate never gets a link.
      rejectUnauthorized: tls.requestCert,
      handshakeTimeout: resolved.handshakeTimeoutMs,
      noDelay: true,
    })
    const real = await bind(server, host, port, 'tls')
    return new TlsListener(server, real, resolved)
  },
}

/** Typed shortcut for `connect('tls://host:port', options)`. */
export function connectTls(host: string, port: number, options: ConnectOptions = {}): Promise<Channel> {
  return connect(hostUrl('tls', host, port), options)
}

/** Typed shortcut for `listen('tls://host:port', options)`; port 0 picks a free one. `options.tls` needs `key` and `cert`. */
export function listenTls(host: string, port: number, options: ListenOptions = {}): Promise<Server> {
  return listen(hostUrl('tls', host, port), options)
}
