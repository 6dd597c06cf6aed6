import type { Envelope } from '../channel/envelope.js'
import type { PeerInfo } from '../channel/peer.js'
import type { MessageType } from './message-type.js'

/**
 * What a channel tells the registry about where a message came from, and how
 * to answer it.
 */
export interface DispatchSource {
  /** The transport's name, e.g. `tcp`. */
  readonly transport: string
  /** The verified identity of the sender, where the transport has one. */
  readonly peer: PeerInfo | undefined
  /** True when `request` can be answered (the transport replies, and knows where to). */
  canReply(request: Envelope): boolean
  /** Sends a reply to `request`; rejects with `ERR_TRANSPORT` when it cannot be answered. */
  reply(request: Envelope, type: MessageType<string, unknown, unknown>, value: unknown): Promise<void>
}

/** Handed to every handler with the decoded value. */
export interface HandlerContext {
  /** The message's tag. */
  readonly tag: string
  /** The envelope id. */
  readonly id: string
  /** The envelope headers. */
  readonly headers: Readonly<Record<string, string>>
  /** The name of the transport it arrived on. */
  readonly transport: string
  /** The sender's verified identity (TLS with client certificates), else undefined. */
  readonly peer: PeerInfo | undefined
  /** The raw envelope, body still serialized. */
  readonly envelope: Envelope
  /** True when the sender waits for a reply (it used `request`). */
  readonly canReply: boolean
  /**
   * Answers the message with `value` of `type`; resolves once the reply is
   * handed to the transport. When the sender did not ask for a reply (it used
   * `send`), nothing is sent and it resolves at once.
   * @throws SeamError `ERR_TRANSPORT` when this transport carries no replies.
   */
  reply<A, O>(type: MessageType<string, A, O>, value: A): Promise<void>
}

/** @internal One per delivered message; methods on the prototype keep it cheap. */
export class Context implements HandlerContext {
  constructor(
    readonly envelope: Envelope,
    private readonly source: DispatchSource,
  ) {}

  get tag(): string {
    return this.envelope.tag
  }
  get id(): string {
    return this.envelope.id
  }
  get headers(): Readonly<Record<string, string>> {
    return this.envelope.headers
  }
  get transport(): string {
    return this.source.transport
  }
  get peer(): PeerInfo | undefined {
    return this.source.peer
  }
  get canReply(): boolean {
    return this.source.canReply(this.envelope)
  }

  reply<A, O>(type: MessageType<string, A, O>, value: A): Promise<void> {
    return this.source.reply(this.envelope, type as MessageType<string, unknown, unknown>, value)
  }
}
