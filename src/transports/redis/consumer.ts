import type { Envelope } from '../../channel/envelope.js'
import { SeamError, toSeamError } from '../../channel/errors.js'
import { sleep } from '../../channel/timers.js'
import type { BrokenEnvelope, Delivery, NackOptions } from '../../channel/transport.js'
import { IdBatcher } from './batcher.js'
import { BlockingLoop } from './blocking-loop.js'
import type { BlockingReader, RedisClient, RedisCommands, StreamEntry } from './client.js'
import { brokenEntry, fromEntry } from './entry.js'

/** Settings of a {@link GroupConsumer}. */
export interface GroupSettings {
  readonly stream: string
  readonly group: string
  readonly consumer: string
  /** Most entries read and not yet settled (the channel's `concurrency`). */
  readonly capacity: number
  readonly readCount: number
  readonly blockMs: number
  readonly claimIdleMs: number
  readonly maxDeliveries: number
  readonly reconnect: { readonly initialDelayMs: number; readonly maxDelayMs: number }
}

/** What a consumer needs from its link. */
export interface GroupHooks {
  deliver(d: Delivery): void
  error(err: SeamError): void
  /** Appends the entry, untouched but for `x-seam-reason`, to the dead-letter stream. */
  deadLetter(entry: StreamEntry, reason: SeamError | undefined): Promise<void>
}

/** One entry read in the group, pending until settled. */
class RedisDelivery implements Delivery {
  readonly envelope: Envelope | undefined
  readonly broken: BrokenEnvelope | undefined
  readonly key: string | undefined
  readonly source: string
  readonly redelivered: boolean
  /** When it was read or last touched (ms since the epoch): its idle time in the pending list starts there. */
  touched: number
  #settled = false

  constructor(
    private readonly consumer: GroupConsumer,
    readonly entry: StreamEntry,
    deliveries: number,
    readAt: number,
  ) {
    this.touched = readAt
    const stream = consumer.s.stream
    try {
      this.envelope = fromEntry(entry, stream)
    } catch (err) {
      this.broken = brokenEntry(entry, err)
    }
    this.key = this.envelope?.key
    this.source = stream
    this.redelivered = deliveries > 1
  }

  ack(): Promise<void> {
    if (this.#settled) return Promise.resolve()
    this.#settled = true
    return this.consumer.settle(this, 'ack')
  }

  nack(options: NackOptions): Promise<void> {
    if (this.#settled) return Promise.resolve()
    this.#settled = true
    // Redis has no negative acknowledgement: an entry handed back stays pending and is claimed again after claimIdleMs.
    return this.consumer.settle(this, options.requeue ? 'release' : 'reject', options.reason)
  }
}

/**
 * Reads one stream in a consumer group: new entries (`XREADGROUP >`), and
 * entries another consumer left pending for `claimIdleMs` (`XAUTOCLAIM`),
 * which go to the dead-letter stream instead once delivered more than
 * `maxDeliveries` times. Reads stop while `capacity` entries are unsettled
 * or the channel paused. Entries still being handled are touched
 * (`XCLAIM … JUSTID`) so that no other consumer claims them meanwhile.
 * Acknowledgements of one turn go in one `XACK`.
 */
export class GroupConsumer {
  readonly #unsettled = new Map<string, RedisDelivery>()
  readonly #loop: BlockingLoop
  readonly #acks: IdBatcher
  readonly #settling = new Set<Promise<void>>()
  #paused = false
  #cursor = '0-0'
  /**
   * Where the next read of this consumer's own pending entries starts, while
   * there are some to read again: at start (a consumer name used before) and
   * after the connection dropped or a read failed, when Redis may have handed
   * over entries in an answer that was lost. Undefined: read new entries.
   */
  #own: string | undefined = '0'
  #nextClaim = 0
  #touchTimer: NodeJS.Timeout | undefined
  readonly #refill: number
  readonly #commands: RedisCommands

  constructor(
    client: RedisClient,
    readonly s: GroupSettings,
    private readonly hooks: GroupHooks,
  ) {
    this.#commands = client.commands
    this.#loop = new BlockingLoop(client, {
      reconnect: s.reconnect,
      what: `stream "${s.stream}" in group "${s.group}"`,
      error: (e) => hooks.error(e),
      // Redis may have handed entries to this consumer in an answer that never arrived: they are read again from its pending list.
      dropped: () => void (this.#own = '0'),
    })
    this.#refill = Math.max(1, Math.floor(Math.min(s.readCount, s.capacity) / 2))
    this.#acks = new IdBatcher((ids) =>
      client.commands.xack(s.stream, s.group, ids).catch((err: unknown) => {
        // They stay pending, so a live consumer claims them again after claimIdleMs: nothing is lost, they may come twice.
        throw toSeamError(err, 'ERR_TRANSPORT', `acknowledging ${ids.length} entries of "${s.stream}" failed; they stay pending and are claimed again after claimIdleMs`)
      }),
    )
  }

  /** Opens the reading connection and starts reading; pending entries idle long enough are claimed first. */
  async start(): Promise<void> {
    await this.#loop.start((reader) => this.#step(reader))
    const every = Math.max(50, Math.floor(this.s.claimIdleMs / 3))
    this.#touchTimer = setInterval(() => this.#touch(), every)
  }

  pause(): void {
    this.#paused = true
  }

  resume(): void {
    this.#paused = false
    this.#loop.wake()
  }

  /** Reads nothing more, for good; settling goes on. */
  stop(): void {
    this.#loop.stop()
  }

  /**
   * Stops reading, waits (at most `timeoutMs`) for the read in flight and for
   * the settlements, then stops touching. A consumer that leaves nothing
   * pending is removed from the group, so that listeners coming and going
   * (each a consumer of a fresh name) do not pile up in it.
   */
  async close(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    await this.#loop.close(timeoutMs)
    const settled = Promise.allSettled([...this.#settling])
      .then(() => this.#acks.drained())
      .then(() => (this.#unsettled.size === 0 ? this.#commands.deleteIdleConsumer(this.s.stream, this.s.group, this.s.consumer) : undefined))
      .catch(() => undefined)
    const waited = new AbortController()
    await Promise.race([settled, sleep(Math.max(0, deadline - Date.now()), waited.signal)])
    waited.abort()
    clearInterval(this.#touchTimer)
  }

  /** Settles `d`: acknowledges it, leaves it pending for another consumer, or dead-letters it and then acknowledges it. */
  settle(d: RedisDelivery, how: 'ack' | 'release' | 'reject', reason?: SeamError): Promise<void> {
    const id = d.entry.id
    if (how !== 'reject') {
      // Room in the window at once: an acknowledgement that fails leaves the entry pending, to be claimed again.
      this.#unsettled.delete(id)
      this.#loop.wake()
      return how === 'ack' ? this.#acks.add(id) : Promise.resolve()
    }
    const done = this.hooks
      .deadLetter(d.entry, reason)
      .then(() => this.#acks.add(id))
      .catch((err: unknown) => this.#settleFailed(id, err))
      .finally(() => {
        this.#unsettled.delete(id)
        this.#loop.wake()
      })
    this.#settling.add(done)
    const forget = (): void => void this.#settling.delete(done)
    done.then(forget, forget)
    return done
  }

  #settleFailed(id: string, err: unknown): never {
    // It stays pending, so a live consumer claims it again after claimIdleMs: nothing is lost, it may come twice.
    throw toSeamError(err, 'ERR_TRANSPORT', `settling entry ${this.s.stream}@${id} failed; it stays pending and is claimed again after claimIdleMs`)
  }

  async #step(reader: BlockingReader): Promise<void> {
    const room = this.s.capacity - this.#unsettled.size
    // A read waits for room for half a read: one settled entry at a time would otherwise cost a read each.
    if (this.#paused || room < this.#refill) return this.#loop.waitForWake()
    const count = Math.min(room, this.s.readCount)
    if (Date.now() >= this.#nextClaim) return this.#claim(count)
    const own = this.#own
    let entries: StreamEntry[]
    try {
      entries = await reader.readGroup(this.s.stream, this.s.group, this.s.consumer, count, this.s.blockMs, own ?? '>')
    } catch (err) {
      this.#own = '0'
      // The stream was deleted (or Redis restarted without its data): the group is made again, reading what comes next.
      // A read blocked at the time ends with UNBLOCKED (Redis 7), the next with NOGROUP.
      if (err instanceof Error && /^(NOGROUP|UNBLOCKED)/.test(err.message)) await this.#commands.createGroup(this.s.stream, this.s.group, '$')
      throw err
    }
    if (own === undefined) {
      const now = Date.now()
      for (const e of entries) this.#deliver(e, 1, now)
      return
    }
    // Own pending entries, page by page; those still in a handler here are not delivered twice.
    this.#own = entries.length === 0 ? undefined : (entries.at(-1) as StreamEntry).id
    const now = Date.now()
    for (const e of entries) if (!this.#unsettled.has(e.id)) this.#deliver(e, 2, now)
  }

  async #claim(count: number): Promise<void> {
    const claimed = await this.#commands.autoclaim(this.s.stream, this.s.group, this.s.consumer, this.s.claimIdleMs, this.#cursor, count)
    this.#cursor = claimed.next
    // A full scan of the pending list, then a pause: what becomes idle meanwhile waits at most this long beyond claimIdleMs.
    if (claimed.next === '0-0') this.#nextClaim = Date.now() + Math.max(50, Math.floor(this.s.claimIdleMs / 2))
    // Trimmed away while pending: nothing to deliver, and left there they would be scanned for ever.
    if (claimed.deleted.length > 0) await this.#commands.xack(this.s.stream, this.s.group, claimed.deleted)
    const fresh = claimed.entries.filter((e) => !this.#unsettled.has(e.id))
    if (fresh.length === 0) return
    const counts = await this.#commands.deliveryCounts(this.s.stream, this.s.group, this.s.consumer, fresh[0]!.id, fresh.at(-1)!.id, claimed.entries.length + this.#unsettled.size)
    const now = Date.now()
    for (const e of fresh) {
      // XAUTOCLAIM counted this delivery already.
      const deliveries = counts.get(e.id) ?? 2
      if (deliveries <= this.s.maxDeliveries) {
        this.#deliver(e, deliveries, now)
        continue
      }
      const d = new RedisDelivery(this, e, deliveries, now)
      this.#unsettled.set(e.id, d)
      const reason = new SeamError('ERR_HANDLER_FAILED', `entry ${this.s.stream}@${e.id} (${d.envelope?.tag ?? 'no tag'}) was delivered ${deliveries - 1} time${deliveries === 2 ? '' : 's'} (maxDeliveries ${this.s.maxDeliveries}) and never acknowledged: each consumer died or hung on it`, { tag: d.envelope?.tag, id: d.envelope?.id })
      this.hooks.error(reason)
      d.nack({ requeue: false, reason }).catch((err: unknown) => this.hooks.error(err as SeamError))
    }
  }

  #deliver(e: StreamEntry, deliveries: number, readAt: number): void {
    const d = new RedisDelivery(this, e, deliveries, readAt)
    this.#unsettled.set(e.id, d)
    this.hooks.deliver(d)
  }

  /** Resets the idle time of entries handled for a while, so that they are not claimed from under their handler. */
  #touch(): void {
    const before = Date.now() - this.s.claimIdleMs / 3
    const ids: string[] = []
    for (const d of this.#unsettled.values()) if (d.touched < before) ids.push(d.entry.id)
    if (ids.length === 0) return
    const now = Date.now()
    this.#commands.touch(this.s.stream, this.s.group, this.s.consumer, ids).then(
      () => {
        for (const id of ids) {
          const d = this.#unsettled.get(id)
          if (d !== undefined) d.touched = now
        }
      },
      (err: unknown) => this.hooks.error(toSeamError(err, 'ERR_TRANSPORT', `keeping ${ids.length} entries of "${this.s.stream}" claimed failed`)),
    )
  }
}
