import { HEADER, type Envelope } from '../../channel/envelope.js'
import { SeamError } from '../../channel/errors.js'
import { HeldSink } from '../../channel/held-sink.js'
import type { LinkSink, RouteOptions, TransportFeatures, TransportLink } from '../../channel/transport.js'
import type { Attribute, IncomingMessage, SqsClient } from './client.js'
import { MAX_ATTRIBUTES, messageSize, toMessage } from './message.js'
import type { ResolvedSqsOptions } from './options.js'
import { Queues, type QueueInfo } from './queues.js'
import { ReceiptCalls } from './receipts.js'
import { Receiver } from './receiver.js'
import { BatchingSender } from './sender.js'

const STANDARD: TransportFeatures = Object.freeze({ reply: true, connected: false, persistent: true, orderingByKey: false, orderedWithoutKey: false, redelivery: true })
const FIFO: TransportFeatures = Object.freeze({ ...STANDARD, orderingByKey: true })

// SendMessageBatch calls in flight at once: enough to keep SQS busy, few enough that each batch fills up under load.
const SENDS_IN_FLIGHT = 8
// Receives in flight on a requester's reply queue.
const REPLY_POLLERS = 2
// Replies never wait in the channel's window; this only bounds what is received and not yet settled.
const REPLY_CAPACITY = 256

/** What a link consumes: its queue, with the channel's `concurrency` (listen), or its reply queue, if any (connect). */
export type SqsRole = { readonly kind: 'listen'; readonly concurrency: number } | { readonly kind: 'connect' }

/**
 * One channel's link to SQS: a batching sender for everything it sends
 * (messages, replies, dead letters), batched deletes and visibility changes,
 * and a receiver of its queue (listen) or of its reply queue (connect).
 */
export class SqsLink implements TransportLink {
  readonly name = 'sqs'
  readonly peer = undefined
  readonly features: TransportFeatures
  readonly replyAddress: string | undefined
  readonly #out = new HeldSink()
  readonly #queues: Queues
  /** Queues already looked up, by the name or URL a send used: the usual send needs no promise for it. */
  readonly #known = new Map<string, QueueInfo>()
  readonly #sender: BatchingSender
  readonly #receipts: ReceiptCalls
  #receiver: Receiver | undefined
  #replies: Receiver | undefined
  #deadLetter: QueueInfo | undefined
  #closing: Promise<void> | undefined

  private constructor(
    private readonly client: SqsClient,
    private readonly o: ResolvedSqsOptions,
    main: QueueInfo | undefined,
    reply: QueueInfo | undefined,
  ) {
    this.features = main?.fifo === true ? FIFO : STANDARD
    this.replyAddress = reply?.url
    const endpoint = o.endpoint ?? `SQS (${o.region ?? 'the default region'})`
    this.#queues = new Queues(client, endpoint)
    this.#receipts = new ReceiptCalls(client, endpoint, o.reconnect)
    this.#sender = new BatchingSender(client, {
      maxBatch: o.maxBatch,
      maxOutboxMessages: o.maxOutboxMessages,
      maxInFlight: SENDS_IN_FLIGHT,
      reconnect: o.reconnect,
      endpoint,
      status: (state, cause) => this.#out.status(state, cause),
    })
  }

  /**
   * Looks up the queue (and the reply and dead-letter queues) and, when
   * listening, starts polling; resolves once polling started.
   * @throws SeamError `ERR_TRANSPORT` naming a queue that does not exist, or when SQS does not answer within `connectTimeoutMs`.
   */
  static async open(client: SqsClient, o: ResolvedSqsOptions, role: SqsRole): Promise<SqsLink> {
    const endpoint = o.endpoint ?? `SQS (${o.region ?? 'the default region'})`
    const lookup = new Queues(client, endpoint)
    let link: SqsLink | undefined
    try {
      const [main, reply, deadLetter] = await Promise.all([
        o.queue === undefined ? undefined : lookup.get(o.queue, o.connectTimeoutMs),
        role.kind === 'connect' && o.replyQueue !== undefined ? lookup.get(o.replyQueue, o.connectTimeoutMs) : undefined,
        o.deadLetterQueue === undefined ? undefined : lookup.get(o.deadLetterQueue, o.connectTimeoutMs),
      ])
      link = new SqsLink(client, o, main, reply)
      link.#deadLetter = deadLetter
      if (main !== undefined) link.#known.set('', main)
      const settings = { waitTimeSeconds: o.waitTimeSeconds, visibilityTimeout: o.visibilityTimeout, reconnect: o.reconnect, endpoint }
      if (role.kind === 'listen' && main !== undefined) {
        const pollers = o.pollers ?? Math.min(10, Math.max(1, Math.ceil(role.concurrency / 10)))
        link.#receiver = link.#receive(main, { ...settings, pollers, capacity: role.concurrency })
      }
      if (reply !== undefined) link.#replies = link.#receive(reply, { ...settings, pollers: o.pollers ?? REPLY_POLLERS, capacity: REPLY_CAPACITY })
    } catch (err) {
      if (link !== undefined) await link.close(0)
      else client.close()
      throw err
    }
    return link
  }

  #receive(queue: QueueInfo, settings: ConstructorParameters<typeof Receiver>[3]): Receiver {
    const receiver = new Receiver(this.client, queue, this.#receipts, settings, {
      deliver: (d) => this.#out.deliver(d),
      error: (err) => this.#out.error(err),
      rejectedWithoutRedrive: (m, reason) => this.#rejected(queue, m, reason),
    })
    receiver.start()
    return receiver
  }

  start(sink: LinkSink): void {
    this.#out.attach(sink)
  }

  pause(): void {
    this.#receiver?.pause()
  }

  resume(): void {
    this.#receiver?.resume()
  }

  stopReceiving(): void {
    this.#receiver?.stop()
  }

  send(envelope: Envelope, route?: RouteOptions): Promise<void> {
    const to = route?.to ?? ''
    const known = this.#known.get(to)
    if (known !== undefined) return this.#send(known, envelope)
    if (to === '') {
      return Promise.reject(new SeamError('ERR_BAD_ARGUMENT', `cannot send "${envelope.tag}": no queue; pass { to: queue } or name one in the URL (${this.o.where})`, { tag: envelope.tag, id: envelope.id }))
    }
    return this.#queues.get(to).then((queue) => {
      this.#known.set(to, queue)
      return this.#send(queue, envelope)
    })
  }

  #send(queue: QueueInfo, envelope: Envelope): Promise<void> {
    let message
    try {
      message = toMessage(envelope, queue.fifo)
    } catch (err) {
      return Promise.reject(err)
    }
    const size = messageSize(message)
    if (size > queue.maxBytes) {
      return Promise.reject(
        new SeamError('ERR_FRAME_TOO_LARGE', `cannot send "${envelope.tag}": as an SQS message it is ${size} bytes (body and attributes), and queue "${queue.name}" takes at most ${queue.maxBytes} (its MaximumMessageSize)`, { tag: envelope.tag, id: envelope.id }),
      )
    }
    return this.#sender.send(queue, message, size, envelope.tag, envelope.id)
  }

  close(timeoutMs: number): Promise<void> {
    this.#closing ??= (async () => {
      const deadline = Date.now() + timeoutMs
      const left = (): number => Math.max(0, deadline - Date.now())
      this.#receiver?.stop()
      this.#replies?.stop()
      // Sends first: a dead letter is sent before the message it replaces is deleted.
      await this.#sender.close(left())
      await this.#receipts.close(left())
      await Promise.all([this.#receiver?.close(), this.#replies?.close()])
      this.client.close()
    })()
    return this.#closing
  }

  /**
   * A message rejected on a queue without a redrive policy would come back for
   * ever: it goes to `sqs.deadLetterQueue` with why when there is one, and is
   * deleted either way. The rejection itself was reported by the channel.
   */
  async #rejected(queue: QueueInfo, m: IncomingMessage, reason: SeamError | undefined): Promise<void> {
    const dlq = this.#deadLetter
    if (dlq !== undefined) {
      const attributes: Record<string, Attribute> = { ...m.attributes }
      if (reason !== undefined && Object.keys(attributes).length < MAX_ATTRIBUTES) attributes[HEADER.reason] = { DataType: 'String', StringValue: `${reason.code}: ${reason.message}`.slice(0, 4096) }
      const message = dlq.fifo ? { body: m.body, attributes, groupId: m.system.MessageGroupId ?? m.messageId, deduplicationId: m.system.MessageDeduplicationId ?? m.messageId } : { body: m.body, attributes }
      const tag = m.attributes['seam-tag']?.StringValue ?? '(no tag)'
      await this.#sender.send(dlq, message, messageSize(message), tag, m.messageId)
    }
    await this.#receipts.delete(queue.url, m.receiptHandle)
  }
}
