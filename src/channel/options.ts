import type { Envelope } from './envelope.js'
import type { SeamError } from './errors.js'
import type { PeerInfo } from './peer.js'
import type { Registry, DeadLetterTarget } from '../registry/registry.js'
import type { Policies } from '../registry/policies.js'
import type { Serde } from '../serde/serde.js'

/**
 * Options each transport adds to `connect`/`listen`. Transport folders extend
 * this interface by declaration merging, so `connect(url, options)` is typed
 * with every transport's options without the channel knowing any transport.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface -- filled by transports
export interface TransportOptions {}

/** Options of a channel, whichever side it is on. Policies override the registry's. */
export interface ChannelOptions extends Partial<Policies> {
  /** The registry whose handlers serve this channel (default: a new empty one). */
  registry?: Registry
  /** Serde for what this channel sends (default: the registry's). */
  serde?: Serde
  /** Dead-letter destination for this channel (default: the registry's). */
  deadLetter?: DeadLetterTarget
  /** Receives errors nobody awaits (default: the registry's `onError`). */
  onError?: (err: SeamError) => void
  /** Bound on how long `close()` waits for handlers and unflushed sends (default 5000 ms). */
  closeTimeoutMs?: number
  /** Default `timeoutMs` of `request` (default 30000 ms). */
  requestTimeoutMs?: number
  /**
   * Most messages handled at once on this channel (default 256; `1`: one at
   * a time, in order). Messages with the same ordering key are always
   * handled one at a time, in order. At the limit the channel stops taking
   * in messages (a socket stops being read, a broker stops delivering), so a
   * slow consumer slows its producer instead of growing memory. Replies to
   * this channel's own requests never wait in this window.
   */
  concurrency?: number
}

/**
 * Decides whether `peer` may send messages of `tag`; a denied message is
 * answered with `ERR_FORBIDDEN` and never reaches a handler.
 */
export type Authorize = (peer: PeerInfo | undefined, tag: string, envelope: Envelope) => boolean | Promise<boolean>

/** Options of `connect(url, options)`. */
export interface ConnectOptions extends ChannelOptions, TransportOptions {
  /** How long the first connection may take before `connect` rejects with `ERR_TRANSPORT` (default 10000 ms). */
  connectTimeoutMs?: number
}

/** Options of `listen(url, options)`; they apply to every accepted peer channel. */
export interface ListenOptions extends ChannelOptions, TransportOptions {
  /** Per-message authorization of accepted peers (see {@link Authorize}). */
  authorize?: Authorize
  /** Brokers: how long the first connection to the broker may take before `listen` rejects with `ERR_TRANSPORT` (default 10000 ms). */
  connectTimeoutMs?: number
}

/** Per-message options of `send`. */
export interface SendOptions {
  /** Destination on brokers (queue, topic, routing key); default: the URL's. */
  to?: string
  /** Ordering key: messages with the same key keep their order. */
  key?: string
  /** String headers carried with the message; names starting with `x-seam-` are reserved and refused. */
  headers?: Record<string, string>
}

/** Options of `request`. */
export interface RequestOptions<R> extends SendOptions {
  /** The reply's message type; the reply is decoded and checked against it. */
  expect: R
  /** Rejects with `ERR_TIMEOUT` after this long (default: the channel's `requestTimeoutMs`). */
  timeoutMs?: number
  /** Aborting rejects the request with the signal's reason. */
  signal?: AbortSignal
}
