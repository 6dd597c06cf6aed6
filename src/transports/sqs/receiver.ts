import type { Envelope } from '../../channel/envelope.js'
import type { SeamError } from '../../channel/errors.js'
import { backoff, sleep } from '../../channel/timers.js'
import type { BrokenEnvelope, Delivery, NackOptions } from '../../channel/transport.js'
import type { IncomingMessage, SqsClient } from './client.js'
import { sqsError } from './errors.js'
import { fromMessage } from './message.js'
import type { QueueInfo } from './queues.js'
import type { ReceiptCalls } from './receipts.js'

// How much longer than its wait a receive may take before it is given up and tried again.
const RECEIVE_MARGIN_MS = 10_000
// How long a short poll that found nothing waits before it asks again.
const EMPTY_SHORT_POLL_DELAY_MS = 100

/** Settings of a {@link Receiver}. */
export interface ReceiverSettings {
  /** Receives in flight at once. */
  readonly pollers: number
  /** Most messages received and not yet settled (the channel's `concurrency`). */
  readonly capacity: number
  readonly waitTimeSeconds: number
  /** Seconds a received message stays invisible; undefined: the queue's. */
  readonly visibilityTimeout: number | undefined
  readonly reconnect: { readonly initialDelayMs: number; readonly maxDelayMs: number }
  readonly endpoint: string
}

/** What a receiver needs from its link. */
export interface ReceiverHooks {
  deliver(d: Delivery): void
  error(err: SeamError): void
  /** A message rejected on a queue without a redrive policy: it must not come back for ever. */
  rejectedWithoutRedrive(m: IncomingMessage, reason: SeamError | undefined): Promise<void>
}

/** A received message, tracked until settled so its visibility is extended while it is handled. */
class SqsDelivery implements Delivery {
  readonly envelope: Envelope | undefined
  readonly broken: BrokenEnvelope | undefined
  readonly key: string | undefined
  readonly source: string
  readonly redelivered: boolean
  /** When SQS makes it visible again unless extended (ms since the epoch). */
  deadline: number
  extending = false
  #settled = false

  constructor(
    private readonly receiver: Receiver,
    readonly message: IncomingMessage,
    received: number,
  ) {
    try {
      this.envelope = fromMessage(message)
    } catch (err) {
      this.broken = { bytes: Buffer.from(message.body, 'utf8'), error: err as SeamError }
    }
    this.key = this.envelope?.key
    this.source = receiver.queue.name
    this.redelivered = Number(message.system.ApproximateReceiveCount) > 1
    this.deadline = received + receiver.visibilityMs
  }

  ack(): Promise<void> {
    if (this.#settled) return Promise.resolve()
    this.#settled = true
    return this.receiver.settle(this, 'delete')
  }

  nack(options: NackOptions): Promise<void> {
    if (this.#settled) return Promise.resolve()
    this.#settled = true
    // Handed back (closing), or rejected on a queue whose redrive policy counts receives: visible again at once.
    if (options.requeue || this.receiver.queue.redrive) return this.receiver.settle(this, 'release')
    return this.receiver.settle(this, 'reject', options.reason)
  }
}

/**
 * Consumes one queue with several long polls in flight at once, so a slow
 * message never holds up the next receive and more than ten messages can be
 * handled at once. Receives stop while `capacity` messages are unsettled (or
 * the channel paused); a message's visibility is extended while it waits or
 * is handled; a failed receive is reported and tried again with capped,
 * jittered backoff, for as long as the receiver runs.
 */
export class Receiver {
  readonly visibilityMs: number
  readonly #visibilitySeconds: number
  /** Received and not yet settled, by receipt handle. */
  readonly #unsettled = new Map<string, SqsDelivery>()
  #reserved = 0
  #paused = false
  readonly #stop = new AbortController()
  #wake: (() => void)[] = []
  #pollers: Promise<void>[] = []
  #timer: NodeJS.Timeout | undefined

  constructor(
    private readonly client: SqsClient,
    readonly queue: QueueInfo,
    private readonly receipts: ReceiptCalls,
    private readonly s: ReceiverSettings,
    private readonly hooks: ReceiverHooks,
  ) {
    this.#visibilitySeconds = Math.max(1, s.visibilityTimeout ?? queue.visibilitySeconds)
    this.visibilityMs = this.#visibilitySeconds * 1000
  }

  /** Starts the pollers and the visibility heartbeat. */
  start(): void {
    this.#pollers = Array.from({ length: this.s.pollers }, () => this.#poll())
    // Often enough that a message is extended while at least half its timeout is left.
    this.#timer = setInterval(() => this.#extend(), Math.max(100, this.visibilityMs / 4))
  }

  pause(): void {
    this.#paused = true
  }

  resume(): void {
    this.#paused = false
    this.#wakeAll()
  }

  /** Receives nothing more, for good; a long poll in flight is cancelled (what it would have returned stays in the queue or comes back after the visibility timeout). Settling goes on. */
  stop(): void {
    this.#stop.abort()
    this.#wakeAll()
  }

  /** Stops receiving and, once the pollers have ended, the heartbeat. Call after the settlements were flushed. */
  async close(): Promise<void> {
    this.stop()
    await Promise.all(this.#pollers)
    clearInterval(this.#timer)
  }

  /** Settles `d`: deletes it, makes it visible again, or hands it to the link's rejection; it stops being extended once that is done. */
  async settle(d: SqsDelivery, how: 'delete' | 'release' | 'reject', reason?: SeamError): Promise<void> {
    const receipt = d.message.receiptHandle
    try {
      if (how === 'delete') await this.receipts.delete(this.queue.url, receipt)
      else if (how === 'release') await this.receipts.changeVisibility(this.queue.url, receipt, 0)
      else await this.hooks.rejectedWithoutRedrive(d.message, reason)
    } finally {
      this.#unsettled.delete(receipt)
      this.#wakeAll()
    }
  }

  async #poll(): Promise<void> {
    const signal = this.#stop.signal
    for (let failures = 0; !signal.aborted; ) {
      const room = this.s.capacity - this.#unsettled.size - this.#reserved
      if (this.#paused || room <= 0) {
        await new Promise<void>((resolve) => this.#wake.push(resolve))
        continue
      }
      const max = Math.min(10, room)
      this.#reserved += max
      let messages: IncomingMessage[]
      // A long poll on a connection that went silent would wait for ever: it gets its wait and a margin.
      const receive = new AbortController()
      const cancel = (): void => receive.abort()
      const timer = setTimeout(cancel, this.s.waitTimeSeconds * 1000 + RECEIVE_MARGIN_MS)
      signal.addEventListener('abort', cancel, { once: true })
      try {
        messages = await this.client.receive(this.queue.url, { max, waitTimeSeconds: this.s.waitTimeSeconds, visibilityTimeout: this.s.visibilityTimeout }, receive.signal)
        failures = 0
      } catch (err) {
        if (signal.aborted) return
        this.hooks.error(sqsError(err, `receiving from SQS queue "${this.queue.name}" failed (attempt ${failures + 1}); trying again`, this.s.endpoint))
        await sleep(backoff(failures++, this.s.reconnect.initialDelayMs, this.s.reconnect.maxDelayMs), signal)
        continue
      } finally {
        clearTimeout(timer)
        signal.removeEventListener('abort', cancel)
        this.#reserved -= max
      }
      // Short polling (waitTimeSeconds 0) on an empty queue would otherwise ask again at once, in a tight loop.
      if (messages.length === 0 && this.s.waitTimeSeconds === 0) await sleep(EMPTY_SHORT_POLL_DELAY_MS, signal)
      const now = Date.now()
      for (const m of messages) {
        const d = new SqsDelivery(this, m, now)
        this.#unsettled.set(m.receiptHandle, d)
        this.hooks.deliver(d)
      }
    }
  }

  #wakeAll(): void {
    const waiting = this.#wake
    if (waiting.length === 0) return
    this.#wake = []
    for (const wake of waiting) wake()
  }

  /** Extends every unsettled message with less than half its timeout left. */
  #extend(): void {
    const now = Date.now()
    const seconds = this.#visibilitySeconds
    for (const d of this.#unsettled.values()) {
      if (d.extending || d.deadline - now > this.visibilityMs / 2) continue
      d.extending = true
      const asked = Date.now()
      this.receipts.changeVisibility(this.queue.url, d.message.receiptHandle, seconds).then(
        () => {
          d.extending = false
          d.deadline = asked + this.visibilityMs
        },
        (err: SeamError) => {
          // Its receipt is gone (it was settled meanwhile, or became visible and was received again): nothing left to extend.
          if (this.#unsettled.delete(d.message.receiptHandle)) this.hooks.error(err)
        },
      )
    }
  }
}
