import { SeamError } from '../../channel/errors.js'
import { backoff, sleep } from '../../channel/timers.js'
import type { OutgoingRecord, ProducerClient } from './client.js'

interface Pending {
  readonly topic: string
  readonly record: OutgoingRecord
  readonly tag: string
  readonly id: string
  readonly resolve: () => void
  readonly reject: (err: SeamError) => void
}

/** Settings of a {@link BatchingProducer}. */
export interface ProducerSettings {
  readonly maxBatchRecords: number
  readonly maxOutboxMessages: number
  readonly reconnect: { readonly initialDelayMs: number; readonly maxDelayMs: number }
  /** The broker stopped taking records (`down`, with why) or took them again (`up`). */
  readonly status: (state: 'down' | 'up', cause?: SeamError) => void
}

/** Whether retrying can help: a client error says so itself (kafkajs: `retriable`); anything else is taken as a lost connection. */
function retriable(err: unknown): boolean {
  const flag = (err as { retriable?: unknown } | undefined)?.retriable
  return typeof flag === 'boolean' ? flag : true
}

/**
 * Produces records in batches without the caller asking: records sent in
 * the same turn, or while the previous batch is with the broker, go in one
 * request (at most `maxBatchRecords`). One request at a time keeps each
 * key's records in the order sent. Each `send` resolves once its own record
 * is acknowledged (acks -1). While the broker is away records wait, bounded
 * by `maxOutboxMessages`, and the batch is retried with capped backoff.
 */
export class BatchingProducer {
  #queue: Pending[] = []
  #busy = false
  #scheduled = false
  #down = false
  #closed = false
  readonly #stop = new AbortController()
  #onIdle: (() => void) | undefined

  constructor(
    private readonly client: ProducerClient,
    private readonly s: ProducerSettings,
  ) {}

  /** Records waiting or with the broker. */
  get size(): number {
    return this.#queue.length + (this.#busy ? 1 : 0)
  }

  /**
   * Queues one record; resolves once the broker acknowledged it.
   * @throws SeamError `ERR_OUTBOX_FULL`, `ERR_CLOSED`, `ERR_TRANSPORT`.
   */
  send(topic: string, record: OutgoingRecord, tag: string, id: string): Promise<void> {
    if (this.#closed) return Promise.reject(new SeamError('ERR_CLOSED', `the kafka channel is closed; cannot send "${tag}"`, { tag, id }))
    if (this.#queue.length >= this.s.maxOutboxMessages) {
      return Promise.reject(new SeamError('ERR_OUTBOX_FULL', `${this.#queue.length} records wait for Kafka (maxOutboxMessages ${this.s.maxOutboxMessages}): the broker is away or slow; "${tag}" was not sent`, { tag, id }))
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ topic, record, tag, id, resolve, reject })
      this.#schedule()
    })
  }

  /** Waits (at most `timeoutMs`) until every record is acknowledged; what is left rejects with `ERR_CLOSED`. */
  async close(timeoutMs: number): Promise<void> {
    this.#closed = true
    if (this.size > 0 && timeoutMs > 0) {
      const waited = new AbortController()
      await Promise.race([new Promise<void>((resolve) => (this.#onIdle = resolve)), sleep(timeoutMs, waited.signal)])
      waited.abort()
    }
    this.#stop.abort()
    for (const p of this.#queue.splice(0)) p.reject(new SeamError('ERR_CLOSED', `the kafka channel closed before "${p.tag}" was acknowledged (closeTimeoutMs)`, { tag: p.tag, id: p.id }))
    await this.client.close()
  }

  // Within the turn: every send of this turn joins the batch.
  #schedule(): void {
    if (this.#scheduled || this.#busy) return
    this.#scheduled = true
    setImmediate(() => {
      this.#scheduled = false
      void this.#pump()
    })
  }

  async #pump(): Promise<void> {
    if (this.#busy) return
    this.#busy = true
    try {
      for (let attempt = 0; this.#queue.length > 0 && !this.#stop.signal.aborted; ) {
        const batch = this.#queue.slice(0, this.s.maxBatchRecords)
        try {
          await this.client.send(byTopic(batch))
        } catch (err) {
          if (!retriable(err)) {
            this.#queue.splice(0, batch.length)
            const why = err instanceof Error ? err.message : String(err)
            for (const p of batch) p.reject(new SeamError('ERR_TRANSPORT', `Kafka refused "${p.tag}" for topic "${p.topic}": ${why}`, { tag: p.tag, id: p.id, cause: err, retriable: false }))
            continue
          }
          if (!this.#down) {
            this.#down = true
            this.s.status('down', new SeamError('ERR_TRANSPORT', `producing to Kafka failed (${err instanceof Error ? err.message : String(err)}); ${this.#queue.length} records wait and are retried`, { cause: err }))
          }
          await sleep(backoff(attempt++, this.s.reconnect.initialDelayMs, this.s.reconnect.maxDelayMs), this.#stop.signal)
          continue
        }
        attempt = 0
        this.#queue.splice(0, batch.length)
        if (this.#down) {
          this.#down = false
          this.s.status('up')
        }
        for (const p of batch) p.resolve()
      }
    } finally {
      this.#busy = false
      if (this.#queue.length === 0) this.#onIdle?.()
    }
  }
}

function byTopic(batch: readonly Pending[]): { topic: string; records: OutgoingRecord[] }[] {
  const topics = new Map<string, OutgoingRecord[]>()
  for (const p of batch) {
    const list = topics.get(p.topic)
    if (list === undefined) topics.set(p.topic, [p.record])
    else list.push(p.record)
  }
  return [...topics].map(([topic, records]) => ({ topic, records }))
}
