import type { Envelope } from '../../channel/envelope.js'
import { SeamError } from '../../channel/errors.js'
import { backoff, sleep } from '../../channel/timers.js'
import type { BrokenEnvelope, Delivery, NackOptions } from '../../channel/transport.js'
import type { ConsumerClient, ConsumerSettings, IncomingRecord, KafkaClient, TopicPartition } from './client.js'
import { PartitionOffsets } from './offsets.js'
import { fromRecord } from './record.js'

const RESOLVED = Promise.resolve()

/** What a consumer needs from its link. */
export interface ConsumerHooks {
  deliver(d: Delivery): void
  /** Kafka has no negative acknowledgement: a rejected record is published to the dead-letter topic with its reason. */
  deadLetter(record: IncomingRecord, reason: SeamError | undefined): Promise<void>
  /** Only records that pass are delivered (a requester's replies on a shared reply topic). */
  accept?(replyFor: string | undefined): boolean
  /** Every record fetched, passed or not (a reply consumer keeps its own position). */
  seen?(record: IncomingRecord): void
  error(err: SeamError): void
}

/**
 * One fetched record. Settling it marks its offset done; the partition's
 * commit moves up to the first record not done. A record of a partition this
 * member no longer owns (revoked, or assigned again in a new generation) is
 * not marked: its new owner fetches it again.
 */
class KafkaDelivery implements Delivery {
  readonly envelope: Envelope | undefined
  readonly broken: BrokenEnvelope | undefined
  readonly key: string | undefined
  readonly source: string
  #settled = false

  constructor(
    private readonly consumer: GroupConsumer,
    private readonly offsets: PartitionOffsets,
    private readonly record: IncomingRecord,
    envelope: Envelope | undefined,
    broken: BrokenEnvelope | undefined,
  ) {
    this.envelope = envelope
    this.broken = broken
    this.key = envelope?.key ?? (record.key === null ? undefined : record.key.toString('utf8'))
    this.source = record.topic
  }

  ack(): Promise<void> {
    if (this.#settled) return RESOLVED
    this.#settled = true
    this.consumer.done(this.offsets, Number(this.record.offset))
    return RESOLVED
  }

  async nack(options: NackOptions): Promise<void> {
    if (this.#settled) return
    this.#settled = true
    // Handed back while closing: left uncommitted, so the group fetches it again.
    if (options.requeue) return
    await this.consumer.deadLetter(this.record, options.reason)
    this.consumer.done(this.offsets, Number(this.record.offset))
  }
}

/**
 * A consumer group member with explicit commits: records go to the channel
 * as they are fetched, and offsets are committed once handled (see
 * {@link PartitionOffsets}). Fetching waits while the channel's window is
 * full, heartbeating meanwhile, so neither memory nor a long handler costs
 * the membership. A consumer the client gave up on is started again with
 * capped backoff, and reads each partition it gets back from where it was.
 */
export class GroupConsumer {
  #client: ConsumerClient | undefined
  /** This member's partitions in the current generation; a delivery of any other is not committed. */
  #owned = new Map<string, PartitionOffsets>()
  /**
   * The partitions of a consumer that crashed, until the one started again
   * joins: their fetched records are still being handled here, so a
   * partition this member gets back is read on from after them (not from
   * the last commit, which would hand them to the handlers twice) and their
   * offsets are committed once done.
   */
  #carried = new Map<string, PartitionOffsets>()
  #paused = false
  #resume: (() => void) | undefined
  #stopped = false
  #committing: Promise<void> | undefined
  #commitAgain = false
  readonly #dirty = new Set<PartitionOffsets>()
  readonly #stop = new AbortController()

  constructor(
    private readonly kafka: KafkaClient,
    private readonly settings: ConsumerSettings,
    private readonly hooks: ConsumerHooks,
    private readonly reconnect: { readonly initialDelayMs: number; readonly maxDelayMs: number },
  ) {}

  /** Joins the group; resolves once partitions are assigned. */
  async start(): Promise<void> {
    const own = this.settings.position
    const client = this.kafka.consumer({ ...this.settings, position: (p) => own?.(p) ?? this.#carried.get(key(p))?.next?.toString() })
    this.#client = client
    await client.start({
      batch: (records, heartbeat, stale) => this.#batch(records, heartbeat, stale),
      assigned: (partitions) => this.#assigned(partitions),
      crashed: (error, restarting) => this.#crashed(client, error, restarting),
    })
  }

  pause(): void {
    this.#paused = true
  }

  resume(): void {
    this.#paused = false
    this.#resume?.()
    this.#resume = undefined
  }

  /** Takes in no more records, for good; settling and committing go on. */
  stopFetching(): void {
    this.#stopped = true
    this.resume()
  }

  /** Commits what is done, then leaves the group; what settles later is not committed (the partition's next owner fetches it again). */
  async close(): Promise<void> {
    this.stopFetching()
    this.#stop.abort()
    // Every done offset is covered by the one commit loop (a second loop beside it would race it past the client's close).
    while (this.#committing !== undefined) await this.#committing
    // From here the partitions are no longer this member's to commit: a handler that ends after the close marks nothing.
    for (const o of this.#owned.values()) o.owned = false
    this.#owned = new Map()
    await this.#client?.close()
  }

  done(offsets: PartitionOffsets, offset: number): void {
    offsets.done(offset)
    if (!offsets.owned) return
    this.#dirty.add(offsets)
    this.#commitSoon()
  }

  #commitSoon(): void {
    if (this.#committing === undefined) this.#committing = Promise.resolve().then(() => this.#commit())
    else this.#commitAgain = true
  }

  deadLetter(record: IncomingRecord, reason: SeamError | undefined): Promise<void> {
    return this.hooks.deadLetter(record, reason)
  }

  async #batch(records: readonly IncomingRecord[], heartbeat: () => Promise<void>, stale: () => boolean): Promise<void> {
    // A batch is one partition's.
    const first = records[0]
    const offsets = first === undefined ? undefined : this.#owned.get(key(first))
    if (offsets === undefined) return
    for (const r of records) {
      if (this.#stopped || !offsets.owned || stale()) return
      this.hooks.seen?.(r)
      let envelope: Envelope | undefined
      let broken: BrokenEnvelope | undefined
      try {
        const read = fromRecord(r)
        if (this.hooks.accept !== undefined && !this.hooks.accept(read.replyFor)) continue
        envelope = read.envelope
      } catch (err) {
        broken = { bytes: r.value ?? Buffer.alloc(0), error: err as SeamError }
      }
      offsets.fetched(Number(r.offset))
      this.hooks.deliver(new KafkaDelivery(this, offsets, r, envelope, broken))
    }
    // A full window: fetch nothing more, but keep the membership.
    while (this.#paused && !this.#stopped && !stale()) {
      const resumed = new Promise<void>((resolve) => (this.#resume = resolve))
      await Promise.race([resumed, sleep(this.settings.heartbeatIntervalMs)])
      if (this.#paused) await heartbeat().catch(() => undefined)
    }
  }

  #assigned(partitions: readonly TopicPartition[]): void {
    // A new generation: offsets of the old one are never committed again, even for partitions kept (kafkajs fetches
    // their records again from the last commit). Only partitions carried over this member's own restart go on.
    for (const o of this.#owned.values()) o.owned = false
    const owned = new Map<string, PartitionOffsets>()
    this.#dirty.clear()
    for (const p of partitions) {
      const carried = this.#carried.get(key(p))
      if (carried !== undefined) {
        carried.owned = true
        this.#dirty.add(carried)
      }
      owned.set(key(p), carried ?? new PartitionOffsets(p.topic, p.partition))
    }
    this.#carried.clear()
    this.#owned = owned
    if (this.#dirty.size > 0) this.#commitSoon()
  }

  async #commit(): Promise<void> {
    try {
      do {
        this.#commitAgain = false
        const due = [...this.#dirty].filter((o) => o.advanced && o.owned)
        this.#dirty.clear()
        if (due.length === 0 || this.#client === undefined) continue
        const points = due.map((o) => ({ o, point: o.commitPoint as number }))
        try {
          await this.#client.commit(points.map(({ o, point }) => ({ topic: o.topic, partition: o.partition, offset: String(point) })))
          for (const { o, point } of points) o.committed = point
        } catch (err) {
          // The partitions may have moved to another member; what it commits is its own business. A requester's
          // reply consumer commits only so that a rejoin resumes where it was: the next acknowledgement tries again.
          if (this.hooks.accept === undefined) this.hooks.error(new SeamError('ERR_TRANSPORT', `committing offsets of ${points.map(({ o }) => `${o.topic}/${o.partition}`).join(', ')} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err }))
        }
      } while (this.#commitAgain)
    } finally {
      this.#committing = undefined
    }
  }

  #crashed(client: ConsumerClient, error: Error, restarting: boolean): void {
    this.hooks.error(new SeamError('ERR_TRANSPORT', `the Kafka consumer of group "${this.settings.groupId}" failed (${error.message}); ${restarting ? 'it restarts' : 'starting it again'}`, { cause: error }))
    if (restarting || this.#stopped) return
    // Not committed through the next client before it joined: the partitions may be another member's by then.
    for (const o of this.#owned.values()) o.owned = false
    this.#carried = this.#owned
    this.#owned = new Map()
    void (async () => {
      await client.close()
      for (let attempt = 0; !this.#stop.signal.aborted; attempt++) {
        if (!(await sleep(backoff(attempt, this.reconnect.initialDelayMs, this.reconnect.maxDelayMs), this.#stop.signal))) return
        try {
          await this.start()
          return
        } catch (err) {
          this.hooks.error(new SeamError('ERR_TRANSPORT', `starting the Kafka consumer of group "${this.settings.groupId}" again failed (attempt ${attempt + 1}): ${err instanceof Error ? err.message : String(err)}`, { cause: err }))
        }
      }
    })()
  }
}

function key(p: TopicPartition): string {
  return `${p.topic}\u0000${p.partition}`
}
