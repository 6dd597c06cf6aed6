import type { Envelope } from '../../channel/envelope.js'
import { SeamError } from '../../channel/errors.js'
import type { AmqpChannel, Message, PublishOptions } from './client.js'
import { asBuffer } from '../../channel/bytes.js'

/** One publish, from `send` until the broker confirmed it. */
interface Publish {
  readonly env: Envelope
  readonly exchange: string
  readonly routingKey: string
  readonly properties: PublishOptions
  readonly resolve: () => void
  readonly reject: (err: SeamError) => void
  /** When the confirm is due; set when written. */
  deadline: number
  /** The channel it was written on; a confirm from an older one means nothing. */
  channel: AmqpChannel | undefined
}

/** Settings of a {@link Publisher}. */
export interface PublisherSettings {
  readonly maxOutboxMessages: number
  readonly publishTimeoutMs: number
  /** The broker did not confirm in time: the connection is presumed dead. */
  readonly stalled: () => void
  /** Called after each write, so the writes of one turn leave together (see WriteCoalescer). */
  readonly writing: () => void
}

/**
 * Confirmed publishing that survives reconnects. A publish waits in the
 * outbox while the connection is down (or amqplib's buffer is full), is
 * written, and resolves once the broker confirmed it. When the connection is
 * lost before the confirm, it is written again on the next one: duplicates
 * are possible (same envelope id), loss is not. A confirm that does not come
 * within `publishTimeoutMs` of the write rejects with `ERR_TIMEOUT`.
 */
export class Publisher {
  /** Not written yet, in order. */
  #outbox: Publish[] = []
  /** Written, waiting for the confirm, in write order (so the oldest deadline is first). */
  readonly #unconfirmed = new Set<Publish>()
  /** Ids the broker returned as unroutable; their confirm follows and fails them. */
  readonly #returned = new Set<string>()
  #channel: AmqpChannel | undefined
  #waitingDrain = false
  #timer: NodeJS.Timeout | undefined
  #closed = false
  #onIdle: (() => void) | undefined

  constructor(private readonly s: PublisherSettings) {}

  /** Publishes waiting or unconfirmed. */
  get size(): number {
    return this.#outbox.length + this.#unconfirmed.size
  }

  /**
   * Queues a publish; resolves once the broker confirmed it.
   * @throws SeamError `ERR_OUTBOX_FULL`, `ERR_CLOSED`, `ERR_TRANSPORT` (nacked or unroutable), `ERR_TIMEOUT`.
   */
  publish(env: Envelope, exchange: string, routingKey: string, properties: PublishOptions): Promise<void> {
    if (this.#closed) return Promise.reject(new SeamError('ERR_CLOSED', `the amqp channel is closed; cannot send "${env.tag}"`, { tag: env.tag, id: env.id }))
    if (this.size >= this.s.maxOutboxMessages) {
      return Promise.reject(
        new SeamError('ERR_OUTBOX_FULL', `${this.size} publishes wait for RabbitMQ (maxOutboxMessages ${this.s.maxOutboxMessages}): the connection is down or the broker is slow; "${env.tag}" was not sent`, { tag: env.tag, id: env.id }),
      )
    }
    return new Promise((resolve, reject) => {
      const p: Publish = { env, exchange, routingKey, properties, resolve, reject, deadline: 0, channel: undefined }
      if (this.#channel !== undefined && !this.#waitingDrain && this.#outbox.length === 0) this.#write(p, this.#channel)
      else this.#outbox.push(p)
    })
  }

  /** A new confirm channel is up: what the last one left unconfirmed is written again first, then the outbox. */
  attach(channel: AmqpChannel): void {
    this.#channel = channel
    this.#waitingDrain = false
    channel.on('return', (msg: Message) => {
      if (typeof msg.properties.messageId === 'string') this.#returned.add(msg.properties.messageId)
    })
    channel.on('drain', () => {
      if (this.#channel !== channel) return
      this.#waitingDrain = false
      this.#flush()
    })
    // Right after amqplib failed this channel's pending confirms ("channel closed"): they go back to the outbox, not to the caller.
    channel.on('close', () => {
      if (this.#channel === channel) this.detach()
    })
    this.#flush()
  }

  /** The channel is gone; unconfirmed publishes go back to the head of the outbox, in order. */
  detach(): void {
    this.#channel = undefined
    this.#returned.clear()
    if (this.#unconfirmed.size > 0) {
      this.#outbox = [...this.#unconfirmed, ...this.#outbox]
      this.#unconfirmed.clear()
    }
    this.#arm()
  }

  /**
   * Waits until every publish is confirmed, for at most `timeoutMs`; what is
   * left then rejects with `ERR_CLOSED`. Later publishes are refused.
   * @returns how many publishes were abandoned.
   */
  async close(timeoutMs: number): Promise<number> {
    this.#closed = true
    if (this.size > 0 && timeoutMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, timeoutMs)
        function done(): void {
          clearTimeout(timer)
          resolve()
        }
        this.#onIdle = done
      })
    }
    this.#onIdle = undefined
    const left = [...this.#unconfirmed, ...this.#outbox]
    this.#unconfirmed.clear()
    this.#outbox = []
    clearTimeout(this.#timer)
    for (const p of left) p.reject(new SeamError('ERR_CLOSED', `the amqp channel closed before RabbitMQ confirmed "${p.env.tag}" (closeTimeoutMs); it may or may not have been delivered`, { tag: p.env.tag, id: p.env.id }))
    return left.length
  }

  #flush(): void {
    const ch = this.#channel
    let i = 0
    while (ch !== undefined && this.#channel === ch && !this.#waitingDrain && i < this.#outbox.length) this.#write(this.#outbox[i++] as Publish, ch)
    this.#outbox.splice(0, i)
  }

  #write(p: Publish, ch: AmqpChannel): void {
    p.channel = ch
    p.deadline = Date.now() + this.s.publishTimeoutMs
    this.#unconfirmed.add(p)
    let ok: boolean
    try {
      ok = ch.publish(p.exchange, p.routingKey, asBuffer(p.env.body), p.properties, (err) => this.#confirmed(p, ch, err))
    } catch (err) {
      // amqplib throws for what it cannot encode (e.g. headers over 64 KiB): that publish fails, the channel goes on.
      this.#unconfirmed.delete(p)
      p.reject(new SeamError('ERR_TRANSPORT', `cannot publish "${p.env.tag}": ${(err as Error).message}`, { tag: p.env.tag, id: p.env.id, cause: err, retriable: false }))
      this.#idle()
      return
    }
    this.s.writing()
    if (!ok) this.#waitingDrain = true
    if (this.#timer === undefined) this.#arm()
  }

  #confirmed(p: Publish, ch: AmqpChannel, err: unknown, late = false): void {
    // A failure may be the channel closing rather than a nack: amqplib fails its pending confirms before it emits 'close', so decide after that.
    if (err !== null && err !== undefined && !late) return queueMicrotask(() => this.#confirmed(p, ch, err, true))
    // Confirms (or "channel closed" failures) of a channel that is gone: the publish was moved back to the outbox.
    if (p.channel !== ch || !this.#unconfirmed.delete(p)) return
    const returned = this.#returned.delete(p.env.id)
    if (err !== null && err !== undefined) {
      p.reject(new SeamError('ERR_TRANSPORT', `RabbitMQ refused "${p.env.tag}" (a negative confirm: the broker could not take it); it was not delivered`, { tag: p.env.tag, id: p.env.id, cause: err }))
    } else if (returned) {
      p.reject(
        new SeamError(
          'ERR_TRANSPORT',
          `no queue receives "${p.env.tag}": ${p.exchange === '' ? `there is no queue named "${p.routingKey}"` : `exchange "${p.exchange}" has no binding for routing key "${p.routingKey}"`}; declare the queue (or binding) first, or set amqp.mandatory to false to let the broker drop such messages`,
          { tag: p.env.tag, id: p.env.id, retriable: false },
        ),
      )
    } else p.resolve()
    this.#idle()
  }

  #idle(): void {
    if (this.size === 0) this.#onIdle?.()
  }

  /** One timer for every unconfirmed publish: it fires at the oldest deadline. */
  #arm(): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
    const oldest = this.#unconfirmed.values().next().value
    if (oldest === undefined) return
    this.#timer = setTimeout(() => this.#expire(), Math.max(1, oldest.deadline - Date.now()))
    this.#timer.unref()
  }

  #expire(): void {
    this.#timer = undefined
    const now = Date.now()
    let expired = 0
    for (const p of this.#unconfirmed) {
      if (p.deadline > now) break
      this.#unconfirmed.delete(p)
      expired++
      p.reject(
        new SeamError('ERR_TIMEOUT', `RabbitMQ did not confirm "${p.env.tag}" within publishTimeoutMs (${this.s.publishTimeoutMs} ms); it may or may not have been delivered, and the connection is being reopened`, { tag: p.env.tag, id: p.env.id }),
      )
    }
    this.#arm()
    if (expired > 0) {
      this.#idle()
      this.s.stalled()
    }
  }
}
