import type { Envelope } from '../../channel/envelope.js'
import { HEADER } from '../../channel/envelope.js'
import { SeamError } from '../../channel/errors.js'
import { newId } from '../../channel/id.js'
import { sleep } from '../../channel/timers.js'
import { HeldSink } from '../../channel/held-sink.js'
import type { LinkSink, RouteOptions, TransportFeatures, TransportLink } from '../../channel/transport.js'
import type { IncomingRecord, KafkaClient, TopicPartition } from './client.js'
import { GroupConsumer } from './consumer.js'
import type { ResolvedKafkaOptions } from './options.js'
import { BatchingProducer } from './producer.js'
import { H, parseReplyAddress, recordId, replyAddress, toRecord } from './record.js'

const FEATURES: TransportFeatures = Object.freeze({ reply: true, connected: false, persistent: true, orderingByKey: true, orderedWithoutKey: false, redelivery: true })

/** What a link consumes, if anything. */
export type KafkaRole = { readonly kind: 'listen'; readonly groupId: string } | { readonly kind: 'connect' }

/**
 * One channel's link to Kafka: a batching producer for everything it sends
 * (messages, replies, dead letters) and, when listening, a group consumer of
 * its topics; when connecting with a reply topic, a consumer of that topic in
 * a group of its own, which keeps only the replies addressed to it.
 */
export class KafkaLink implements TransportLink {
  readonly name = 'kafka'
  readonly peer = undefined
  readonly features = FEATURES
  readonly replyAddress: string | undefined
  readonly #out = new HeldSink()
  #consumer: GroupConsumer | undefined
  #producer!: BatchingProducer
  /** Topics known to exist; others are checked once before the first record goes to them. */
  readonly #topics = new Set<string>()
  #closing: Promise<void> | undefined
  readonly #requester = newId()

  private constructor(
    private readonly kafka: KafkaClient,
    private readonly o: ResolvedKafkaOptions,
  ) {
    this.replyAddress = o.replyTopic === undefined ? undefined : replyAddress(o.replyTopic, this.#requester)
  }

  /**
   * Checks the topics exist, connects the producer and, when listening, joins
   * the group; resolves once partitions are assigned.
   * @throws SeamError `ERR_TRANSPORT`.
   */
  static async open(kafka: KafkaClient, o: ResolvedKafkaOptions, role: KafkaRole): Promise<KafkaLink> {
    const link = new KafkaLink(kafka, o)
    const needed = [...o.topics, ...(o.replyTopic === undefined ? [] : [o.replyTopic])]
    await link.#checkTopics(needed)
    link.#producer = new BatchingProducer(await kafka.producer(), {
      maxBatchRecords: o.maxBatchRecords,
      maxOutboxMessages: o.maxOutboxMessages,
      reconnect: o.reconnect,
      status: (state, cause) => link.#out.status(state, cause),
    })
    try {
      const consume =
        role.kind === 'listen'
          ? { groupId: role.groupId, topics: o.topics, fromBeginning: o.fromBeginning, accept: undefined }
          : o.replyTopic === undefined
            ? undefined
            : // Replies: a group of its own, so this requester sees every partition; only replies addressed to it pass.
              { groupId: `${o.clientId}.replies.${link.#requester}`, topics: [o.replyTopic], fromBeginning: false, accept: (replyFor: string | undefined) => replyFor === link.#requester }
      if (consume !== undefined) {
        // A requester reads its reply topic from where it ended before connect resolved, and after a rejoin from where it
        // got to: its group has no commits worth trusting, and "latest" at a rejoin would skip the replies in between.
        const position = role.kind === 'connect' && o.replyTopic !== undefined ? replyPositions(await kafka.endOffsets(o.replyTopic), link) : undefined
        link.#consumer = new GroupConsumer(
          kafka,
          { groupId: consume.groupId, topics: consume.topics, fromBeginning: consume.fromBeginning, sessionTimeoutMs: o.sessionTimeoutMs, heartbeatIntervalMs: o.heartbeatIntervalMs, maxWaitTimeMs: o.maxWaitTimeMs, position },
          {
            deliver: (d) => link.#out.deliver(d),
            deadLetter: (record, reason) => link.#deadLetter(record, reason),
            error: (err) => link.#out.error(err),
            ...(consume.accept === undefined ? {} : { accept: consume.accept, seen: (r: IncomingRecord) => void link.replyRead.set(r.partition, Number(r.offset) + 1) }),
          },
          o.reconnect,
        )
        await link.#consumer.start()
      }
    } catch (err) {
      await link.close(0)
      throw err
    }
    return link
  }

  start(sink: LinkSink): void {
    this.#out.attach(sink)
  }

  pause(): void {
    this.#consumer?.pause()
  }

  resume(): void {
    this.#consumer?.resume()
  }

  stopReceiving(): void {
    this.#consumer?.stopFetching()
  }

  send(envelope: Envelope, route?: RouteOptions): Promise<void> {
    let topic: string | undefined
    let replyFor: string | undefined
    if (route?.purpose === 'reply' && route.to !== undefined) ({ topic, requester: replyFor } = parseReplyAddress(route.to))
    else topic = route?.to ?? this.o.topics[0]
    if (topic === undefined || topic === '') {
      return Promise.reject(new SeamError('ERR_BAD_ARGUMENT', `cannot send "${envelope.tag}": no topic; pass { to: topic } or name one in the URL (${this.o.where})`, { tag: envelope.tag }))
    }
    const record = toRecord(envelope, replyFor)
    if (this.#topics.has(topic)) return this.#producer.send(topic, record, envelope.tag, envelope.id)
    const checked = topic
    return this.#checkTopics([checked]).then(() => this.#producer.send(checked, record, envelope.tag, envelope.id))
  }

  close(timeoutMs: number): Promise<void> {
    this.#closing ??= (async () => {
      const deadline = Date.now() + timeoutMs
      // Leaving waits for the fetch in flight (up to maxWaitTimeMs); the close is bounded all the same.
      const waited = new AbortController()
      await Promise.race([this.#consumer?.close(), sleep(Math.max(0, deadline - Date.now()), waited.signal)])
      waited.abort()
      await this.#producer?.close(Math.max(0, deadline - Date.now()))
      await this.kafka.close()
    })()
    return this.#closing
  }

  /** Kafka has no negative acknowledgement: the untouched record, plus why, goes to the dead-letter topic. */
  async #deadLetter(r: IncomingRecord, reason: SeamError | undefined): Promise<void> {
    const topic = this.o.deadLetterTopic ?? `${r.topic}.dlq`
    const headers: Record<string, string | Buffer> = {}
    for (const [name, value] of Object.entries(r.headers)) if (value !== undefined) headers[name] = value
    if (reason !== undefined) headers[HEADER.reason] = `${reason.code}: ${reason.message}`
    // Key and value as bytes, a tombstone as one, and its timestamp too: it carries the envelope's `ts`.
    const record = { key: r.key ?? undefined, value: r.value, timestamp: r.timestamp, headers }
    await this.#checkTopics([topic])
    const tag = r.headers[H.tag]?.toString('utf8') ?? '(no tag)'
    await this.#producer.send(topic, record, tag, r.headers[H.id]?.toString('utf8') ?? recordId(r))
  }

  async #checkTopics(topics: readonly string[]): Promise<void> {
    const unknown = topics.filter((t) => !this.#topics.has(t))
    if (unknown.length === 0) return
    const existing = await this.kafka.existingTopics(unknown)
    for (const t of existing) this.#topics.add(t)
    const missing = unknown.filter((t) => !existing.has(t))
    if (missing.length > 0) {
      throw new SeamError('ERR_TRANSPORT', `Kafka at ${this.o.brokers.join(',')} has no topic ${missing.map((t) => `"${t}"`).join(', ')}; create it first (this transport never creates topics)`, { retriable: false })
    }
  }

  /** The offset after the last reply record read, per partition of the reply topic. */
  readonly replyRead = new Map<number, number>()
}

/** Where a requester's reply consumer reads each partition from: after what it read, else the end seen at connect. */
function replyPositions(ends: readonly { partition: number; offset: string }[], link: KafkaLink): (p: TopicPartition) => string | undefined {
  const start = new Map(ends.map((e) => [e.partition, e.offset]))
  return (p) => {
    const read = link.replyRead.get(p.partition)
    return read === undefined ? start.get(p.partition) : String(read)
  }
}
