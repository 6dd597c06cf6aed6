import type { Server as NetServer, Socket } from 'node:net'
import { SeamError, toSeamError } from '../../channel/errors.js'
import { hostUrl } from '../../channel/url.js'
import type { PeerInfo } from '../../channel/peer.js'
import type { TransportLink, TransportListener } from '../../channel/transport.js'
import { STREAM_FEATURES, StreamLink } from './link.js'
import type { ResolvedStreamOptions } from './options.js'

/** How a stream server is told apart: TCP accepts on 'connection', TLS on 'secureConnection'. */
export interface StreamServerKind {
  readonly name: string
  readonly scheme: string
  /** The event that hands over a socket ready for the protocol. */
  readonly acceptEvent: 'connection' | 'secureConnection'
  peer(socket: Socket): PeerInfo
}

/** Binds `server` to host:port; rejects with `ERR_TRANSPORT` (port taken, bad address). */
export function bind(server: NetServer, host: string, port: number, scheme: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(toSeamError(err, 'ERR_TRANSPORT', `cannot listen on ${scheme}://${host}:${port}`))
    server.once('error', onError)
    server.listen(port, host, () => {
      server.off('error', onError)
      const address = server.address()
      const real = typeof address === 'object' && address !== null ? address.port : port
      resolve(hostUrl(scheme, host, real))
    })
  })
}

/** Accepts sockets and turns each into a {@link StreamLink}. */
export class StreamListener implements TransportListener {
  readonly features = STREAM_FEATURES
  readonly #server: NetServer
  readonly #kind: StreamServerKind
  readonly #options: ResolvedStreamOptions
  readonly #sockets = new Set<Socket>()

  constructor(
    server: NetServer,
    readonly url: string,
    kind: StreamServerKind,
    options: ResolvedStreamOptions,
  ) {
    this.#server = server
    this.#kind = kind
    this.#options = options
  }

  start(onLink: (link: TransportLink) => void, onError: (error: SeamError) => void): void {
    this.#server.on(this.#kind.acceptEvent, (socket: Socket) => {
      this.#sockets.add(socket)
      socket.once('close', () => this.#sockets.delete(socket))
      onLink(StreamLink.accept(this.#kind.name, socket, this.#kind.peer(socket), this.#options))
    })
    this.#server.on('error', (err) => onError(toSeamError(err, 'ERR_TRANSPORT', `${this.url} failed`)))
  }

  /** Stops accepting and resolves once every accepted socket has closed (their channels close them). */
  close(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()))
  }
}
