import { Channel } from './channel.js'
import { toSeamError } from './errors.js'
import { Events } from './events.js'
import { checkFeatures, type ResolvedChannelOptions } from './resolve-options.js'
import type { ListenOptions } from './options.js'
import type { TransportLink, TransportListener } from './transport.js'

/** Events of {@link Server.events}. */
export type ServerEvents = {
  /** A peer connected; its channel is ready. */
  peer: (channel: Channel) => void
  /** A peer's channel closed. */
  peerClosed: (channel: Channel, error: void | Error) => void
}

/**
 * What `listen` returns: accepts peers and gives each one a {@link Channel}
 * served by the same registry. `close()` stops accepting, then closes every
 * peer channel (each flushing and waiting for its handlers).
 */
export class Server implements AsyncDisposable {
  /** Peer events. */
  readonly events = new Events<ServerEvents>()
  readonly #listener: TransportListener
  readonly #authorize: ListenOptions['authorize']
  readonly #resolved: ResolvedChannelOptions
  readonly #peers = new Set<Channel>()
  #closing: Promise<void> | undefined
  readonly #closed: Promise<void | Error>
  #resolveClosed!: (result: void | Error) => void

  /** @internal Servers come from `listen`. */
  constructor(listener: TransportListener, options: ListenOptions, resolved: ResolvedChannelOptions) {
    checkFeatures(resolved, listener.features, `listen(${listener.url})`)
    this.#listener = listener
    this.#authorize = options.authorize
    this.#resolved = resolved
    this.#closed = new Promise((resolve) => (this.#resolveClosed = resolve))
    listener.start(
      (link) => this.#accept(link),
      (err) => resolved.onError(err),
    )
  }

  /** The URL the server listens on, with the real port (`tcp://127.0.0.1:40123`). */
  get url(): string {
    return this.#listener.url
  }

  /** The channels of the peers connected now. */
  get peers(): ReadonlySet<Channel> {
    return this.#peers
  }

  /** Idempotent; concurrent callers share one promise. */
  close(): Promise<void> {
    return this.#close(undefined)
  }

  #close(result: void | Error): Promise<void> {
    this.#closing ??= (async () => {
      // Concurrently: a socket server's close waits until its peers' connections are gone.
      await Promise.all([this.#listener.close().catch(() => undefined), ...[...this.#peers].map((p) => p.close())])
      this.#resolveClosed(result)
    })()
    return this.#closing
  }

  /**
   * Resolves once the server is closed: by `close()`, or by itself when its
   * transport serves one link that ended (a file read to its end, standard
   * input at its end, a broker consumer that failed for good), with that
   * link's error if it ended on one. Never rejects.
   */
  closed(): Promise<void | Error> {
    return this.#closed
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  #accept(link: TransportLink): void {
    if (this.#closing !== undefined) {
      void link.close(0)
      return
    }
    let channel: Channel
    try {
      channel = new Channel(link, this.#resolved, { authorize: this.#authorize })
    } catch (err) {
      this.#resolved.onError(toSeamError(err, 'ERR_BAD_ARGUMENT', 'could not set up a peer channel'))
      void link.close(0)
      return
    }
    this.#peers.add(channel)
    void channel.closed().then((result) => {
      this.#peers.delete(channel)
      this.events.emit('peerClosed', channel, result)
      if (this.#listener.single === true) void this.#close(result)
    })
    this.events.emit('peer', channel)
  }
}
