import type { Envelope } from '../../channel/envelope.js'
import { SeamError } from '../../channel/errors.js'
import { sleep } from '../../channel/timers.js'
import { HeldSink } from '../../channel/held-sink.js'
import type { Delivery, LinkSink, RouteOptions, TransportFeatures, TransportLink } from '../../channel/transport.js'
import type { AmqpChannel, AmqpConnection, Amqplib, Message } from './client.js'
import { WriteCoalescer } from './coalesce.js'
import { Consumer } from './consumer.js'
import { amqpError } from './errors.js'
import type { ResolvedAmqpOptions } from './options.js'
import { fromMessage, toProperties } from './properties.js'
import { Publisher } from './publisher.js'
import { AmqpSession } from './session.js'
import { declareTopology } from './topology.js'

/** RabbitMQ's direct reply-to: replies come straight to the requesting channel, no queue to declare or delete. */
export const DIRECT_REPLY_TO = 'amq.rabbitmq.reply-to'

const RESOLVED = Promise.resolve()

/** A reply arrives with no-ack (direct reply-to allows nothing else): there is nothing to settle. */
function replyDelivery(msg: Message): Delivery {
  let envelope: Envelope | undefined
  let key: string | undefined
  try {
    ;({ envelope, key } = fromMessage(msg))
  } catch (err) {
    return { envelope: undefined, broken: { bytes: msg.content, error: err as SeamError }, ack: () => RESOLVED, nack: () => RESOLVED }
  }
  return { envelope, key, source: DIRECT_REPLY_TO, ack: () => RESOLVED, nack: () => RESOLVED }
}

/** What a link does besides publishing. */
export interface AmqpRole {
  /** Consume this queue (listen), at most `prefetch` unacknowledged. */
  readonly consume?: { readonly queue: string; readonly prefetch: number }
  /** Receive replies to this side's requests through direct reply-to (connect). */
  readonly replies: boolean
}

/**
 * One channel's session with RabbitMQ: a confirm channel to publish on (and,
 * on the connecting side, to receive replies on), a channel consuming the
 * queue on the listening side, and the topology, all set up again after
 * every reconnect.
 */
export class AmqpLink implements TransportLink {
  readonly name = 'amqp'
  readonly peer = undefined
  readonly features: TransportFeatures
  readonly replyAddress: string | undefined
  readonly #publisher: Publisher
  readonly #coalescer = new WriteCoalescer()
  readonly #consumer: Consumer | undefined
  #session: AmqpSession | undefined
  readonly #out = new HeldSink()
  /** Dead-letter queues declared on the current connection. */
  #declared = new Set<string>()
  /** The current connection's channels, consuming one last. */
  #channels: AmqpChannel[] = []
  #closing: Promise<void> | undefined

  private constructor(
    private readonly o: ResolvedAmqpOptions,
    role: AmqpRole,
  ) {
    this.features = Object.freeze({ reply: true, connected: false, persistent: o.topology.durable && o.persistent, orderingByKey: false, orderedWithoutKey: true, redelivery: true })
    this.replyAddress = role.replies ? DIRECT_REPLY_TO : undefined
    const writing = (): void => this.#coalescer.hold()
    this.#publisher = new Publisher({ maxOutboxMessages: o.maxOutboxMessages, publishTimeoutMs: o.publishTimeoutMs, stalled: () => this.#session?.recycle(), writing })
    this.#consumer =
      role.consume === undefined
        ? undefined
        : new Consumer(role.consume.queue, role.consume.prefetch, (d) => this.#out.deliver(d), () => {
            this.#out.error(new SeamError('ERR_TRANSPORT', `RabbitMQ cancelled the consumer of queue "${role.consume?.queue}" (was the queue deleted?); reconnecting declares it again`))
            this.#session?.recycle()
          }, writing)
  }

  /**
   * Connects, declares the topology and starts consuming; resolves once all
   * of that is done, so a message published afterwards is received.
   * @throws SeamError `ERR_TRANSPORT`.
   */
  static async open(lib: Amqplib, o: ResolvedAmqpOptions, role: AmqpRole, socketOptions: Record<string, unknown>): Promise<AmqpLink> {
    const link = new AmqpLink(o, role)
    link.#session = await AmqpSession.open(lib, o, socketOptions, {
      setup: (conn) => link.#setup(conn, role),
      lost: (cause) => link.#lost(cause),
      up: () => link.#out.status('up'),
      error: (err) => link.#out.error(err),
      ended: (err) => link.#out.ended(err),
    })
    return link
  }

  start(sink: LinkSink): void {
    this.#out.attach(sink)
  }

  /** The broker stops at `prefetch` unacknowledged deliveries by itself, and prefetch ≥ the channel's window: nothing to do. */
  pause(): void {}

  resume(): void {}

  stopReceiving(): void {
    void this.#consumer?.stop()
  }

  send(envelope: Envelope, route?: RouteOptions): Promise<void> {
    const t = this.o.topology
    const to = route?.to
    if (route?.purpose === 'reply' || route?.purpose === 'dead-letter') {
      if (to === undefined || to === '') return Promise.reject(new SeamError('ERR_BAD_ARGUMENT', `cannot send "${envelope.tag}" as a ${route.purpose}: no queue named`, { tag: envelope.tag }))
      // Both go through the default exchange, straight to the queue named (a reply queue, the dead-letter queue).
      if (route.purpose === 'dead-letter' && !this.#declared.has(to)) return this.#declareThenSend(envelope, to)
      // RabbitMQ returns a mandatory publish to a direct reply-to address as unroutable even when it delivered it.
      const mandatory = this.o.mandatory && !to.startsWith(DIRECT_REPLY_TO)
      return this.#publisher.publish(envelope, '', to, toProperties(envelope, this.o.persistent, mandatory))
    }
    const exchange = t.exchange ?? ''
    const routingKey = to ?? this.o.routingKey ?? (t.exchange === undefined ? t.queue : '')
    if (routingKey === undefined) {
      return Promise.reject(new SeamError('ERR_BAD_ARGUMENT', `cannot send "${envelope.tag}": no destination; pass { to: queue } or give the channel a queue or an exchange (${this.o.target.safeUrl})`, { tag: envelope.tag }))
    }
    return this.#publisher.publish(envelope, exchange, routingKey, toProperties(envelope, this.o.persistent, this.o.mandatory))
  }

  close(timeoutMs: number): Promise<void> {
    this.#closing ??= this.#close(timeoutMs)
    return this.#closing
  }

  async #close(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    await this.#consumer?.stop()
    await this.#publisher.close(Math.max(0, deadline - Date.now()))
    // Channels first, each waiting for the broker's close-ok: amqplib writes a connection's close ahead of
    // what its channels still buffer, so closing the connection at once would lose the last acks.
    // A channel whose connection drops meanwhile only emits 'close' (amqplib never settles its close()); the timers are cleared after.
    const waited = new AbortController()
    for (const ch of this.#channels.splice(0).reverse()) {
      await Promise.race([ch.close().catch(() => undefined), new Promise<void>((resolve) => ch.on('close', () => resolve())), sleep(Math.max(0, deadline - Date.now()), waited.signal)])
    }
    waited.abort()
    await this.#session?.close(Math.max(0, deadline - Date.now()))
  }

  async #setup(conn: AmqpConnection, role: AmqpRole): Promise<void> {
    await declareTopology(conn, this.o.topology)
    this.#declared = new Set()
    this.#coalescer.attach(conn.connection?.stream)
    const pub = await conn.createConfirmChannel()
    this.#channels = [pub]
    this.#watch(pub, conn, 'publishing')
    if (role.replies) await pub.consume(DIRECT_REPLY_TO, (msg) => msg !== null && this.#out.deliver(replyDelivery(msg)), { noAck: true })
    if (this.#consumer !== undefined) {
      const sub = await conn.createChannel()
      this.#channels.push(sub)
      this.#watch(sub, conn, 'consuming')
      await this.#consumer.attach(sub)
    }
    this.#publisher.attach(pub)
  }

  /** A channel that dies while its connection lives (the broker closed it on an error) takes the connection with it: the session reconnects and sets everything up again. */
  #watch(ch: AmqpChannel, conn: AmqpConnection, what: string): void {
    ch.on('error', (err) => {
      if (this.#session?.connection === conn && this.#closing === undefined) {
        this.#out.error(amqpError(err, this.o.target, `RabbitMQ closed the ${what} channel; reconnecting`))
        this.#session.recycle()
      }
    })
  }

  #lost(cause: SeamError): void {
    this.#publisher.detach()
    this.#consumer?.detach()
    this.#out.status('down', cause)
  }

  /** A dead-letter queue is declared (when missing) before its first message on each connection. */
  async #declareThenSend(envelope: Envelope, queue: string): Promise<void> {
    const conn = this.#session?.connection
    if (conn !== undefined) {
      try {
        await declareDeadLetterQueue(conn, queue, this.o.topology.durable)
        this.#declared.add(queue)
      } catch (err) {
        throw amqpError(err, this.o.target, `cannot declare the dead-letter queue "${queue}"`)
      }
    }
    return this.#publisher.publish(envelope, '', queue, toProperties(envelope, this.o.persistent, this.o.mandatory))
  }
}

/** Uses the queue as it is when it exists (whatever its arguments); declares it otherwise. */
async function declareDeadLetterQueue(conn: AmqpConnection, queue: string, durable: boolean): Promise<void> {
  const ch = await conn.createChannel()
  ch.on('error', () => undefined)
  try {
    await ch.checkQueue(queue)
    await ch.close()
    return
  } catch {
    // A passive declare of a missing queue closed that channel (404); declare it on a new one.
  }
  await declareTopology(conn, { exchange: undefined, exchangeType: 'topic', queue: undefined, bindings: [], durable, queueType: 'classic', singleActiveConsumer: false, deadLetterExchange: undefined, deadLetterQueue: undefined, deliveryLimit: undefined }, [queue])
}
