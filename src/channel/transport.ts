/**
 * The seam between channels and transports. A transport moves envelopes and
 * reports acknowledgements; it never imports io-ts, never decodes a body and
 * never imports another transport. Adding a transport is one new folder that
 * exports a {@link TransportProvider}, plus its line in `src/transports/index.ts`.
 */
import type { Envelope } from './envelope.js'
import type { SeamError } from './errors.js'
import type { Serde } from '../serde/serde.js'
import type { PeerInfo } from './peer.js'

/**
 * What a transport promises. The conformance suite reads it to decide which
 * promises to test.
 */
export interface TransportFeatures {
  /** A receiver can answer the sender (request/response and error replies). */
  readonly reply: boolean
  /** The receiver of a delivery is connected to its sender, so every message can be answered (TCP, TLS). Otherwise only messages with `replyTo` can. */
  readonly connected: boolean
  /** Messages survive a restart of the receiving process (brokers). */
  readonly persistent: boolean
  /** Messages with the same ordering key arrive in the order sent, even with several consumers. */
  readonly orderingByKey: boolean
  /**
   * Messages sent without a key arrive in the order sent (one queue, one
   * connection). Not on Kafka, where a record without a key may go to any
   * partition: there only a key keeps order.
   */
  readonly orderedWithoutKey: boolean
  /** `nack({ requeue: true })` delivers the message again. */
  readonly redelivery: boolean
}

/** Per-send routing, for transports that route (brokers). */
export interface RouteOptions {
  /** Destination: a queue, topic or routing key. Defaults to the URL's. */
  readonly to?: string | undefined
  /** Ordering key: same key, same order (Kafka key, SQS MessageGroupId, …). */
  readonly key?: string | undefined
  /**
   * What the channel sends, where a broker routes it differently from a
   * message: a `reply` goes to the request's `replyTo` (on AMQP, through the
   * default exchange), a `dead-letter` to a destination named by the
   * `deadLetter` option. Default: a message, routed by `to`.
   */
  readonly purpose?: 'reply' | 'dead-letter' | undefined
}

/** Bytes a transport received but could not turn into an envelope. */
export interface BrokenEnvelope {
  readonly bytes: Uint8Array
  /** Why, usually `ERR_PROTOCOL`. */
  readonly error: SeamError
}

/** How a delivery is settled as not done. */
export interface NackOptions {
  readonly requeue: boolean
  /** Why it was not done; absent when the channel hands it back unhandled (closing). */
  readonly reason?: SeamError | undefined
}

/**
 * One received message and the means to settle it. A channel calls exactly one
 * of `ack` or `nack`, after the handler resolved or a policy ran.
 */
export interface Delivery {
  /** The envelope, or undefined when the transport could not decode one (see `broken`). */
  readonly envelope: Envelope | undefined
  readonly broken?: BrokenEnvelope | undefined
  /** The ordering key it was sent with, when the transport keeps one. */
  readonly key?: string | undefined
  /** Where it was read from (queue or topic), when the transport routes. */
  readonly source?: string | undefined
  /** True when the transport delivered it before (after a nack with requeue). */
  readonly redelivered?: boolean | undefined
  /** Settles the message as done. */
  ack(): void | Promise<void>
  /**
   * Settles it as not done; with `requeue` it is delivered again where the
   * transport can. `reason` says why (the policy's error): a transport with
   * no negative acknowledgement of its own (Kafka) dead-letters the message
   * with it.
   */
  nack(options: NackOptions): void | Promise<void>
}

/** What a link reports to its channel. */
export interface LinkSink {
  /** A message arrived. Deliveries come in the order the transport received them. */
  deliver(delivery: Delivery): void
  /** The connection went down (reconnecting) or came back. */
  status(state: 'down' | 'up', cause?: SeamError): void
  /** The link ended for good; `error` when it ended on a failure rather than a close. */
  ended(error?: SeamError): void
  /** A problem worth reporting that ends nothing (e.g. a reconnect attempt failed). */
  error(error: SeamError): void
}

/**
 * One open link: a client connection, an accepted connection, or a broker
 * session. Sends are queued until delivered to the wire; `close` flushes them.
 */
export interface TransportLink {
  /** Transport name, e.g. `tcp`. */
  readonly name: string
  readonly features: TransportFeatures
  /** Who is on the other end, where the transport can tell. */
  readonly peer: PeerInfo | undefined
  /**
   * What this link's requests carry as `replyTo`: a queue or topic name on
   * brokers, `''` on connections (replies come back the same way), or
   * undefined when this side cannot receive replies.
   */
  readonly replyAddress: string | undefined
  /** Starts delivering to `sink`. Called once, right after the channel is built. */
  start(sink: LinkSink): void
  /**
   * Stops taking in messages because the channel's in-flight window is full
   * (its `concurrency`): a stream stops reading its socket, so TCP flow
   * control slows the sender; a broker stops fetching or delivering. What was
   * already read may still be delivered. Sends go on. Idempotent.
   */
  pause(): void
  /** Takes in messages again after {@link pause}. Idempotent. */
  resume(): void
  /**
   * The channel is closing: take in no more messages, for good (a broker
   * cancels its consumers, so what it would deliver goes to the other
   * consumers instead of being handed back again and again). A connection,
   * which cannot deliver again, may go on reading: the channel handles what
   * arrives until it stops. Sends, settlements and replies go on. Idempotent.
   */
  stopReceiving(): void
  /**
   * Queues an envelope. Resolves once it is queued for the socket (stream
   * transports) or confirmed by the broker; a request (it has `replyTo`) only
   * once it is on the wire, because its channel fails the requests written to
   * a connection that drops and keeps the others for the next one. Rejects
   * with a SeamError (`ERR_OUTBOX_FULL`, `ERR_CLOSED`, `ERR_FRAME_TOO_LARGE`,
   * `ERR_TRANSPORT`).
   */
  send(envelope: Envelope, route?: RouteOptions): Promise<void>
  /**
   * True when `send` is done with the envelope's body by the time it returns
   * (it copied or encoded it, and keeps no reference): the channel may then
   * hand it a body in a buffer the next send reuses (see
   * {@link Serde.encodeShared}), which saves a copy per message.
   */
  readonly copiesBody?: boolean
  /**
   * Stops reading, flushes queued sends (for at most `timeoutMs`), then
   * releases every socket and timer. Idempotent.
   */
  close(timeoutMs: number): Promise<void>
}

/** The server side: accepts links. */
export interface TransportListener {
  /** The URL it listens on, with the real port. */
  readonly url: string
  /** What the links it accepts promise. */
  readonly features: TransportFeatures
  /**
   * True when it hands over one link and never another (a broker's consumer,
   * standard input, a file): once that link's channel has closed there is
   * nothing left to serve, so the server closes itself and `closed()` says
   * how the link ended (a file read to its end, a consumer that failed).
   */
  readonly single?: boolean
  /** Starts accepting; `onLink` is called for each new link. */
  start(onLink: (link: TransportLink) => void, onError: (error: SeamError) => void): void
  /** Stops accepting; links already accepted are closed by their channels. */
  close(): Promise<void>
}

/** What a transport folder exports: how to connect and listen for its URL scheme. */
export interface TransportProvider<Options = object> {
  /** The URL scheme, without the colon. */
  readonly scheme: string
  /** Opens a link; rejects with `ERR_TRANSPORT` when the first connection cannot be made. */
  connect(url: URL, options: Options): Promise<TransportLink>
  /** Starts a listener. */
  listen(url: URL, options: Options): Promise<TransportListener>
}
