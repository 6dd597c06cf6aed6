import { SeamError } from '../../channel/errors.js'
import { backoff, sleep } from '../../channel/timers.js'
import type { EntryFailure, OutgoingMessage, SqsClient } from './client.js'
import { isTransient, sqsError } from './errors.js'
import { SQS_MAX_MESSAGE_BYTES, type QueueInfo } from './queues.js'

interface Pending {
  readonly queue: QueueInfo
  readonly message: OutgoingMessage
  readonly size: number
  readonly tag: string
  readonly id: string
  readonly resolve: () => void
  readonly reject: (err: SeamError) => void
  /** Taken into a batch out of turn (a FIFO queue skips groups that are busy). */
  taken: boolean
}

/** One queue's messages waiting to be sent, oldest first: `list[head…]`, some already taken. */
interface Lane {
  list: Pending[]
  head: number
  /** FIFO: groups with a batch in flight; their later messages wait, so a group's messages go in order. */
  readonly busy: Set<string>
}

/** Settings of a {@link BatchingSender}. */
export interface SenderSettings {
  readonly maxBatch: number
  readonly maxOutboxMessages: number
  /** SendMessageBatch calls in flight at once. */
  readonly maxInFlight: number
  readonly reconnect: { readonly initialDelayMs: number; readonly maxDelayMs: number }
  readonly endpoint: string
  /** SQS stopped taking messages (`down`, with why) or took them again (`up`). */
  readonly status: (state: 'down' | 'up', cause?: SeamError) => void
}

// How far past the head a FIFO queue looks for messages of groups that are not busy.
const SCAN_LIMIT = 1000

/** An Error carrying SQS's code for one entry, as the `cause` of the SeamError its sender sees. */
function entryError(f: EntryFailure): Error {
  const err = new Error(`${f.code}: ${f.message}`)
  err.name = f.code
  Object.assign(err, { code: f.code, senderFault: f.senderFault })
  return err
}

/**
 * Sends messages in SendMessageBatch calls without the caller asking: what is
 * sent in the same turn, or while earlier batches are with SQS, goes in
 * batches of up to `maxBatch` entries and 1 MiB, several batches in flight at
 * once. On a FIFO queue a group's messages are never in two batches in flight
 * at once, so they arrive in the order sent. Each `send` settles with its own
 * entry's result; a failed request is retried with capped backoff while SQS
 * says trying again may help.
 */
export class BatchingSender {
  readonly #lanes = new Map<string, Lane>()
  #waiting = 0
  #inFlight = 0
  #scheduled = false
  #down = false
  #closed = false
  readonly #stop = new AbortController()
  #onIdle: (() => void) | undefined

  constructor(
    private readonly client: SqsClient,
    private readonly s: SenderSettings,
  ) {}

  /**
   * Queues one message; resolves once SQS took it.
   * @throws SeamError `ERR_OUTBOX_FULL`, `ERR_CLOSED`, `ERR_TRANSPORT` (with SQS's error in `cause`).
   */
  send(queue: QueueInfo, message: OutgoingMessage, size: number, tag: string, id: string): Promise<void> {
    if (this.#closed) return Promise.reject(new SeamError('ERR_CLOSED', `the sqs channel is closed; cannot send "${tag}"`, { tag, id }))
    if (this.#waiting >= this.s.maxOutboxMessages) {
      return Promise.reject(new SeamError('ERR_OUTBOX_FULL', `${this.#waiting} messages wait for SQS (maxOutboxMessages ${this.s.maxOutboxMessages}): SQS is away or slow; "${tag}" was not sent`, { tag, id }))
    }
    return new Promise((resolve, reject) => {
      let lane = this.#lanes.get(queue.url)
      if (lane === undefined) this.#lanes.set(queue.url, (lane = { list: [], head: 0, busy: new Set() }))
      lane.list.push({ queue, message, size, tag, id, resolve, reject, taken: false })
      this.#waiting++
      this.#schedule()
    })
  }

  /** Waits (at most `timeoutMs`) until every message is sent; what is left rejects with `ERR_CLOSED`. */
  async close(timeoutMs: number): Promise<void> {
    this.#closed = true
    if (this.#waiting + this.#inFlight > 0 && timeoutMs > 0) {
      const waited = new AbortController()
      await Promise.race([new Promise<void>((resolve) => (this.#onIdle = resolve)), sleep(timeoutMs, waited.signal)])
      waited.abort()
    }
    this.#stop.abort()
    for (const lane of this.#lanes.values()) {
      for (let i = lane.head; i < lane.list.length; i++) {
        const p = lane.list[i] as Pending
        if (!p.taken) p.reject(new SeamError('ERR_CLOSED', `the sqs channel closed before "${p.tag}" was sent (closeTimeoutMs)`, { tag: p.tag, id: p.id }))
      }
    }
    this.#lanes.clear()
    this.#waiting = 0
  }

  // Within the turn: every send of this turn can join the batch.
  #schedule(): void {
    if (this.#scheduled) return
    this.#scheduled = true
    setImmediate(() => {
      this.#scheduled = false
      this.#pump()
    })
  }

  #pump(): void {
    while (this.#inFlight < this.s.maxInFlight && this.#waiting > 0 && !this.#stop.signal.aborted) {
      let started = false
      for (const lane of this.#lanes.values()) {
        if (this.#inFlight >= this.s.maxInFlight) break
        const batch = this.#take(lane)
        if (batch.length === 0) continue
        started = true
        this.#inFlight++
        void this.#sendBatch(lane, batch)
      }
      // Every waiting message belongs to a busy FIFO group: the batch in flight starts the next when it ends.
      if (!started) break
    }
  }

  /** The next batch of `lane`: up to maxBatch entries and 1 MiB, skipping (on FIFO) every message of a busy group. */
  #take(lane: Lane): Pending[] {
    const batch: Pending[] = []
    let bytes = 0
    const fifo = lane.list[lane.head]?.queue.fifo === true
    const skipped = fifo ? new Set<string>() : undefined
    const end = Math.min(lane.list.length, lane.head + SCAN_LIMIT)
    for (let i = lane.head; i < end && batch.length < this.s.maxBatch; i++) {
      const p = lane.list[i] as Pending
      if (p.taken) continue
      const group = p.message.groupId
      if (skipped !== undefined && group !== undefined && (lane.busy.has(group) || skipped.has(group))) {
        skipped.add(group)
        continue
      }
      if (bytes + p.size > SQS_MAX_MESSAGE_BYTES) {
        // Order within a group: a message that does not fit holds back the rest of its group.
        if (skipped !== undefined && group !== undefined) skipped.add(group)
        if (!fifo) break
        continue
      }
      bytes += p.size
      p.taken = true
      batch.push(p)
    }
    if (fifo) for (const p of batch) lane.busy.add(p.message.groupId as string)
    while (lane.head < lane.list.length && (lane.list[lane.head] as Pending).taken) lane.head++
    if (lane.head === lane.list.length) {
      lane.list = []
      lane.head = 0
    } else if (lane.head > 1024 && lane.head * 2 > lane.list.length) {
      lane.list = lane.list.slice(lane.head)
      lane.head = 0
    }
    this.#waiting -= batch.length
    return batch
  }

  async #sendBatch(lane: Lane, batch: Pending[]): Promise<void> {
    const url = (batch[0] as Pending).queue.url
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          const result = await this.client.send(url, batch.map((p) => p.message))
          this.#up()
          const failed = new Map(result.failed.map((f) => [f.index, f]))
          batch.forEach((p, i) => {
            const f = failed.get(i)
            if (f === undefined) p.resolve()
            else p.reject(new SeamError('ERR_TRANSPORT', `SQS refused "${p.tag}" for queue "${p.queue.name}" (${f.code}: ${f.message})`, { tag: p.tag, id: p.id, cause: entryError(f), retriable: !f.senderFault }))
          })
          return
        } catch (err) {
          if (!isTransient(err) || this.#stop.signal.aborted) {
            const e = sqsError(err, `sending to SQS queue "${(batch[0] as Pending).queue.name}"`, this.s.endpoint)
            for (const p of batch) p.reject(new SeamError(e.code, e.message, { tag: p.tag, id: p.id, cause: err, retriable: e.retriable }))
            return
          }
          if (!this.#down) {
            this.#down = true
            this.s.status('down', sqsError(err, `sending to SQS failed; ${batch.length + this.#waiting} messages wait and are retried`, this.s.endpoint))
          }
          if (!(await sleep(backoff(attempt, this.s.reconnect.initialDelayMs, this.s.reconnect.maxDelayMs), this.#stop.signal))) {
            for (const p of batch) p.reject(new SeamError('ERR_CLOSED', `the sqs channel closed before "${p.tag}" was sent`, { tag: p.tag, id: p.id, cause: err }))
            return
          }
        }
      }
    } finally {
      for (const p of batch) if (p.message.groupId !== undefined) lane.busy.delete(p.message.groupId)
      this.#inFlight--
      if (this.#waiting > 0) this.#pump()
      else if (this.#inFlight === 0) this.#onIdle?.()
    }
  }

  #up(): void {
    if (!this.#down) return
    this.#down = false
    this.s.status('up')
  }
}
