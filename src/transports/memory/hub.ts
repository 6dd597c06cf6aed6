import type { Envelope } from '../../channel/envelope.js'
import { SeamError } from '../../channel/errors.js'
import type { Delivery } from '../../channel/transport.js'

interface Item {
  readonly envelope: Envelope
  readonly key: string | undefined
  redelivered: boolean
}

/** A consumer of a queue: gets deliveries, at most `prefetch` unsettled at once. */
export interface Consumer {
  readonly prefetch: number
  deliver(delivery: Delivery): void
}

interface ConsumerState {
  readonly consumer: Consumer
  unacked: number
  paused: boolean
}

/** A consumer's place on a queue. */
export interface Subscription {
  /** No more deliveries until `resume` (its channel's window is full). */
  pause(): void
  resume(): void
  /** Leaves the queue; unsettled deliveries stay unsettled until settled. */
  cancel(): void
}

/** Options of one queue of a {@link MemoryHub}. */
export interface MemoryQueueOptions {
  /** Where rejected messages (`nack` without requeue) go, like a broker's dead-letter exchange. */
  deadLetterTo?: string
  /** Most messages held before `publish` refuses (default 100 000). */
  maxDepth?: number
}

/**
 * A queue with broker semantics: FIFO, competing consumers, acknowledgements,
 * redelivery on `nack({ requeue: true })` at the head, and ordering by key
 * (a message waits while another of its key is unacknowledged).
 */
class MemoryQueue {
  // A deque: #items[#head…] is ready, in order. Items whose key is busy wait in #blocked, per key, in order.
  #items: Item[] = []
  #head = 0
  readonly #blocked = new Map<string, Item[]>()
  readonly #busyKeys = new Set<string>()
  readonly #consumers: ConsumerState[] = []
  #next = 0
  #scheduled = false
  discarded = 0

  constructor(
    readonly name: string,
    readonly options: MemoryQueueOptions,
    private readonly hub: MemoryHub,
  ) {}

  get depth(): number {
    let n = this.#items.length - this.#head
    for (const list of this.#blocked.values()) n += list.length
    return n
  }

  publish(envelope: Envelope, key: string | undefined): void {
    const max = this.options.maxDepth ?? 100_000
    if (this.#items.length - this.#head >= max) {
      throw new SeamError('ERR_OUTBOX_FULL', `memory queue "${this.name}" holds ${max} messages (maxDepth); nobody consumes it fast enough`, { tag: envelope.tag })
    }
    this.#items.push({ envelope, key, redelivered: false })
    this.#schedule()
  }

  subscribe(consumer: Consumer): Subscription {
    const state: ConsumerState = { consumer, unacked: 0, paused: false }
    this.#consumers.push(state)
    this.#schedule()
    return {
      pause: () => void (state.paused = true),
      resume: () => {
        state.paused = false
        this.#schedule()
      },
      cancel: () => {
        const i = this.#consumers.indexOf(state)
        if (i >= 0) this.#consumers.splice(i, 1)
      },
    }
  }

  // Deliveries go out on a microtask: a publisher never runs a handler inside its own call.
  #schedule(): void {
    if (this.#scheduled) return
    this.#scheduled = true
    queueMicrotask(() => {
      this.#scheduled = false
      this.#pump()
    })
  }

  #pump(): void {
    while (this.#head < this.#items.length) {
      const item = this.#items[this.#head] as Item
      if (item.key !== undefined && this.#busyKeys.has(item.key)) {
        this.#head++
        const list = this.#blocked.get(item.key)
        if (list === undefined) this.#blocked.set(item.key, [item])
        else list.push(item)
        continue
      }
      const state = this.#pick()
      if (state === undefined) break
      this.#head++
      this.#hand(state, item)
    }
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head)
      this.#head = 0
    }
  }

  #unshift(item: Item): void {
    if (this.#head > 0) this.#items[--this.#head] = item
    else this.#items.unshift(item)
  }

  #pick(): ConsumerState | undefined {
    const n = this.#consumers.length
    for (let k = 0; k < n; k++) {
      const state = this.#consumers[(this.#next + k) % n] as ConsumerState
      if (!state.paused && state.unacked < state.consumer.prefetch) {
        this.#next = (this.#next + k + 1) % n
        return state
      }
    }
    return undefined
  }

  /** Frees `key`; the next message of that key, if one waits, goes first. */
  #release(key: string): void {
    this.#busyKeys.delete(key)
    const list = this.#blocked.get(key)
    if (list === undefined) return
    const next = list.shift() as Item
    if (list.length === 0) this.#blocked.delete(key)
    this.#unshift(next)
  }

  #hand(state: ConsumerState, item: Item): void {
    state.unacked++
    if (item.key !== undefined) this.#busyKeys.add(item.key)
    let settled = false
    const settle = (requeue: boolean): boolean => {
      if (settled) return false
      settled = true
      state.unacked--
      if (requeue) {
        item.redelivered = true
        if (item.key !== undefined) this.#busyKeys.delete(item.key)
        this.#unshift(item)
      } else if (item.key !== undefined) this.#release(item.key)
      this.#schedule()
      return true
    }
    state.consumer.deliver({
      envelope: item.envelope,
      key: item.key,
      source: this.name,
      redelivered: item.redelivered,
      ack: () => void settle(false),
      nack: ({ requeue }) => {
        if (!settle(requeue) || requeue) return
        if (this.options.deadLetterTo !== undefined) this.hub.queue(this.options.deadLetterTo).publish(item.envelope, item.key)
        else this.discarded++
      },
    })
  }
}

/**
 * An in-process broker. Channels only meet through a hub you create and pass
 * as the `hub` option, so two hubs (or two tests) never see each other's
 * messages: there is no process-wide bus.
 */
export class MemoryHub {
  readonly #queues = new Map<string, MemoryQueue>()

  /** Declares a queue with options (e.g. a dead-letter queue) before it is used. */
  declare(name: string, options: MemoryQueueOptions = {}): this {
    if (this.#queues.has(name)) throw new SeamError('ERR_BAD_ARGUMENT', `memory queue "${name}" already exists`)
    this.#queues.set(name, new MemoryQueue(name, options, this))
    return this
  }

  /** @internal The queue `name`, created on first use. */
  queue(name: string): MemoryQueue {
    let q = this.#queues.get(name)
    if (q === undefined) this.#queues.set(name, (q = new MemoryQueue(name, {}, this)))
    return q
  }

  /** Messages waiting in queue `name` (not counting those delivered and unacknowledged). */
  depth(name: string): number {
    return this.#queues.get(name)?.depth ?? 0
  }

  /** Messages rejected from queue `name` with no dead-letter queue to go to. */
  discarded(name: string): number {
    return this.#queues.get(name)?.discarded ?? 0
  }

  /** @internal Forgets a private queue (a closed client's reply queue). */
  delete(name: string): void {
    this.#queues.delete(name)
  }
}
