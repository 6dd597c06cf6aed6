import type { Envelope } from '../../channel/envelope.js'
import type { SeamError } from '../../channel/errors.js'
import type { BrokenEnvelope, Delivery } from '../../channel/transport.js'
import type { AmqpChannel, Message } from './client.js'
import { fromMessage } from './properties.js'

const RESOLVED = Promise.resolve()

/**
 * One delivery from a queue. Settled on the channel it came on, and only
 * while that channel lives: a delivery tag means nothing on another channel
 * (RabbitMQ closes a channel that acks an unknown tag), and the broker
 * redelivers whatever a dead channel left unsettled.
 */
class AmqpDelivery implements Delivery {
  readonly envelope: Envelope | undefined
  readonly broken: BrokenEnvelope | undefined
  readonly key: string | undefined
  readonly redelivered: boolean
  #settled = false

  constructor(
    private readonly consumer: Consumer,
    private readonly channel: AmqpChannel,
    private readonly msg: Message,
    readonly source: string,
  ) {
    this.redelivered = msg.fields.redelivered
    let envelope: Envelope | undefined
    let broken: BrokenEnvelope | undefined
    let key: string | undefined
    try {
      ;({ envelope, key } = fromMessage(msg))
    } catch (err) {
      broken = { bytes: msg.content, error: err as SeamError }
    }
    this.envelope = envelope
    this.broken = broken
    this.key = key
  }

  ack(): Promise<void> {
    return this.#settle((ch) => ch.ack(this.msg))
  }

  nack(options: { requeue: boolean }): Promise<void> {
    return this.#settle((ch) => ch.nack(this.msg, false, options.requeue))
  }

  #settle(op: (ch: AmqpChannel) => void): Promise<void> {
    if (this.#settled) return RESOLVED
    this.#settled = true
    if (!this.consumer.owns(this.channel)) {
      this.consumer.stale++
      return RESOLVED
    }
    this.consumer.unsettled--
    try {
      op(this.channel)
      this.consumer.writing()
    } catch {
      // The channel closed between the check and the call: the broker redelivers it.
      this.consumer.stale++
    }
    return RESOLVED
  }
}

/** What a consumer hands its deliveries to. */
export type DeliverTo = (d: Delivery) => void

/**
 * Consumes one queue with manual acknowledgements, at most `prefetch`
 * unacknowledged at once, registered again on every new channel.
 */
export class Consumer {
  #channel: AmqpChannel | undefined
  #tag: string | undefined
  #stopped = false
  /** Deliveries of the current channel not yet settled. */
  unsettled = 0
  /** Settlements skipped because their channel was gone (the broker redelivers those messages). */
  stale = 0

  constructor(
    readonly queue: string,
    private readonly prefetch: number,
    private readonly deliver: DeliverTo,
    /** The broker cancelled this consumer (its queue was deleted). */
    private readonly cancelled: () => void,
    /** Called after each ack or nack, so the writes of one turn leave together (see WriteCoalescer). */
    readonly writing: () => void,
  ) {}

  /** True while `channel` is the one consuming. */
  owns(channel: AmqpChannel): boolean {
    return this.#channel === channel
  }

  /** Starts consuming on a new channel (after a connect or a reconnect). */
  async attach(channel: AmqpChannel): Promise<void> {
    this.#channel = channel
    this.unsettled = 0
    if (this.#stopped) return
    await channel.prefetch(this.prefetch)
    const { consumerTag } = await channel.consume(
      this.queue,
      (msg) => {
        if (msg === null) return this.cancelled()
        this.unsettled++
        this.deliver(new AmqpDelivery(this, channel, msg, this.queue))
      },
      { noAck: false },
    )
    this.#tag = consumerTag
  }

  /** The channel is gone; its deliveries can no longer be settled. */
  detach(): void {
    this.#channel = undefined
    this.#tag = undefined
  }

  /** Stops taking deliveries for good (basic.cancel); unsettled ones can still be settled. */
  async stop(): Promise<void> {
    this.#stopped = true
    const ch = this.#channel
    const tag = this.#tag
    this.#tag = undefined
    if (ch !== undefined && tag !== undefined) await ch.cancel(tag).catch(() => undefined)
  }
}
