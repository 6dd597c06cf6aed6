/**
 * The {@link KafkaClient} on kafkajs. Everything kafkajs-specific is here:
 * its options, its events, its retry loops (bounded: a connect that cannot
 * succeed must fail within `connectTimeoutMs`, not retry forever), and its
 * logger (silenced: what matters reaches the channel as SeamErrors).
 * kafkajs is imported on first use.
 */
import { SeamError } from '../../channel/errors.js'
import type { ClientFactory, ClientSettings, ConsumerClient, ConsumerHandlers, ConsumerSettings, IncomingRecord, KafkaClient, OutgoingRecord, ProducerClient } from './client.js'

/* The slice of kafkajs used here, typed locally: users never see a kafkajs type, and a kafkajs without types still works. */
interface KjsMessage {
  offset: string
  timestamp: string
  key: Buffer | null
  value: Buffer | null
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>
}
interface KjsBatch {
  topic: string
  partition: number
  messages: KjsMessage[]
  lastOffset(): string
}
interface KjsEachBatch {
  batch: KjsBatch
  resolveOffset(offset: string): void
  heartbeat(): Promise<void>
  isRunning(): boolean
  isStale(): boolean
}
interface KjsConsumer {
  connect(): Promise<void>
  subscribe(o: { topics: string[]; fromBeginning: boolean }): Promise<void>
  run(o: { autoCommit: boolean; eachBatchAutoResolve: boolean; eachBatch(p: KjsEachBatch): Promise<void> }): Promise<void>
  commitOffsets(o: { topic: string; partition: number; offset: string }[]): Promise<void>
  seek(o: { topic: string; partition: number; offset: string }): void
  disconnect(): Promise<void>
  on(event: string, listener: (e: { payload: Record<string, unknown> }) => void): () => void
  events: { GROUP_JOIN: string; CRASH: string; FETCH: string }
}
interface KjsProducer {
  connect(): Promise<void>
  sendBatch(o: { topicMessages: { topic: string; messages: KjsOutgoing[] }[]; acks: number; timeout: number }): Promise<unknown>
  disconnect(): Promise<void>
}
interface KjsAdmin {
  connect(): Promise<void>
  listTopics(): Promise<string[]>
  fetchTopicOffsets(topic: string): Promise<{ partition: number; high: string }[]>
  disconnect(): Promise<void>
}
interface Kjs {
  producer(o: Record<string, unknown>): KjsProducer
  consumer(o: Record<string, unknown>): KjsConsumer
  admin(): KjsAdmin
}
interface KafkajsModule {
  Kafka: new (o: Record<string, unknown>) => Kjs
  logLevel: { NOTHING: number }
}

let loaded: Promise<KafkajsModule> | undefined

function loadKafkajs(): Promise<KafkajsModule> {
  loaded ??= import('kafkajs').then(
    (mod: unknown) => ((mod as { default?: KafkajsModule }).default ?? mod) as KafkajsModule,
    (err: unknown) => {
      loaded = undefined
      throw new SeamError('ERR_TRANSPORT', 'kafka:// needs the kafkajs package, which is not installed: npm install kafkajs', { cause: err, retriable: false })
    },
  )
  return loaded
}

/** Rejects with `what` timed out after `ms`, and runs `cleanup` on whatever `p` yields late. */
async function within<T>(p: Promise<T>, ms: number, what: string, cleanup: (late: T) => unknown = () => undefined): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SeamError('ERR_TRANSPORT', `${what}: no answer within connectTimeoutMs (${ms} ms)`, { retriable: true })), ms)
  })
  try {
    return await Promise.race([p, timeout])
  } catch (err) {
    void p.then(cleanup, () => undefined)
    if (err instanceof SeamError) throw err
    // What the client failed with (a refused connection, a broker's answer) reaches the user as the transport's error.
    const e = withRetriable(err)
    throw new SeamError('ERR_TRANSPORT', `${what}: ${e.message}`, { cause: err, retriable: e.retriable })
  } finally {
    clearTimeout(timer)
  }
}

/** Broker answers that no retry changes. */
const PERMANENT = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD', 'CORRUPT_MESSAGE', 'INVALID_TOPIC_EXCEPTION', 'TOPIC_AUTHORIZATION_FAILED', 'CLUSTER_AUTHORIZATION_FAILED', 'SASL_AUTHENTICATION_FAILED', 'UNSUPPORTED_VERSION', 'INVALID_REQUIRED_ACKS'])

/**
 * The error with `retriable` as the transport means it: may a later attempt
 * succeed? kafkajs marks the error that ends its own retries (a broker that
 * is away) as not retriable, which for a transport with an outbox it is.
 */
function withRetriable(err: unknown): Error & { retriable: boolean } {
  let inner = err as { name?: string; type?: string; message?: string; originalError?: unknown } | undefined
  while (inner?.name === 'KafkaJSNumberOfRetriesExceeded' && inner.originalError !== undefined) inner = inner.originalError as typeof inner
  const e = new Error(inner?.message ?? String(err), { cause: err }) as Error & { retriable: boolean }
  e.retriable = !PERMANENT.has(inner?.type ?? '')
  return e
}

/** kafkajs gives header values as bytes, strings or lists of them; one value each, as bytes. */
const NO_HEADERS: Readonly<Record<string, Buffer | undefined>> = Object.freeze({})

function headerBytes(headers: KjsMessage['headers']): Readonly<Record<string, Buffer | undefined>> {
  if (headers === undefined) return NO_HEADERS
  // kafkajs decodes every fetched header to one Buffer: then its object is already the shape, and no copy is made per record.
  let plain = true
  for (const name in headers) {
    if (!Buffer.isBuffer(headers[name])) {
      plain = false
      break
    }
  }
  if (plain) return headers as Record<string, Buffer>
  const out: Record<string, Buffer | undefined> = {}
  for (const [name, value] of Object.entries(headers)) {
    const one = Array.isArray(value) ? value[value.length - 1] : value
    out[name] = one === undefined ? undefined : Buffer.isBuffer(one) ? one : Buffer.from(one)
  }
  return out
}

class KjsConsumerClient implements ConsumerClient {
  readonly #consumer: KjsConsumer
  #closed = false

  constructor(
    kafka: Kjs,
    private readonly s: ConsumerSettings,
    private readonly connectTimeoutMs: number,
  ) {
    this.#consumer = kafka.consumer({
      groupId: s.groupId,
      sessionTimeout: s.sessionTimeoutMs,
      heartbeatInterval: s.heartbeatIntervalMs,
      maxWaitTimeInMs: s.maxWaitTimeMs,
      allowAutoTopicCreation: false,
    })
  }

  async start(h: ConsumerHandlers): Promise<void> {
    const c = this.#consumer
    let joined!: () => void
    const assigned = new Promise<void>((resolve) => (joined = resolve))
    // kafkajs looks up where a partition without a committed offset starts ("latest") at its first fetch, not
    // at the join: a record sent between the two would be skipped. Started means fetched once.
    let fetchedOnce!: () => void
    const fetched = new Promise<void>((resolve) => (fetchedOnce = resolve))
    const stopListening = c.on(c.events.FETCH, () => {
      fetchedOnce()
      stopListening()
    })
    c.on(c.events.GROUP_JOIN, (e) => {
      const assignment = (e.payload.memberAssignment ?? {}) as Record<string, number[]>
      const partitions = Object.entries(assignment).flatMap(([topic, ps]) => ps.map((partition) => ({ topic, partition })))
      for (const p of partitions) {
        const offset = this.s.position?.(p)
        if (offset !== undefined) c.seek({ topic: p.topic, partition: p.partition, offset })
      }
      h.assigned(partitions)
      joined()
    })
    c.on(c.events.CRASH, (e) => {
      if (this.#closed) return
      h.crashed(e.payload.error instanceof Error ? e.payload.error : new Error(String(e.payload.error)), e.payload.restart === true)
    })
    const starting = (async () => {
      await c.connect()
      await c.subscribe({ topics: [...this.s.topics], fromBeginning: this.s.fromBeginning })
      await c.run({
        autoCommit: false,
        // The transport commits what is handled; kafkajs only needs to know what was fetched.
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
          const records: IncomingRecord[] = batch.messages.map((m) => ({
            topic: batch.topic,
            partition: batch.partition,
            offset: m.offset,
            key: m.key,
            value: m.value,
            timestamp: Number(m.timestamp),
            headers: headerBytes(m.headers),
          }))
          await h.batch(records, heartbeat, () => !isRunning() || isStale())
          if (isRunning() && !isStale()) resolveOffset(batch.lastOffset())
        },
      })
      await assigned
      await fetched
    })()
    await within(starting, this.connectTimeoutMs, `joining group "${this.s.groupId}"`, () => this.close())
  }

  commit(offsets: readonly { topic: string; partition: number; offset: string }[]): Promise<void> {
    return this.#consumer.commitOffsets(offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset })))
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#consumer.disconnect().catch(() => undefined)
  }
}

/** A record as kafkajs produces it. */
interface KjsOutgoing {
  key?: string | Buffer
  value: Buffer | null
  timestamp?: string
  headers: Readonly<Record<string, string | Buffer>>
}

function toMessage(r: OutgoingRecord): KjsOutgoing {
  const m: KjsOutgoing = { value: r.value, headers: r.headers }
  if (r.key !== undefined) m.key = r.key
  if (r.timestamp !== undefined) m.timestamp = String(r.timestamp)
  return m
}

class KjsProducerClient implements ProducerClient {
  constructor(
    private readonly producer: KjsProducer,
    private readonly timeoutMs: number,
  ) {}

  async send(batches: readonly { topic: string; records: readonly OutgoingRecord[] }[]): Promise<void> {
    try {
      await this.producer.sendBatch({
        topicMessages: batches.map((b) => ({ topic: b.topic, messages: b.records.map(toMessage) })),
        acks: -1,
        timeout: this.timeoutMs,
      })
    } catch (err) {
      throw withRetriable(err)
    }
  }

  close(): Promise<void> {
    return this.producer.disconnect().catch(() => undefined)
  }
}

class KjsClient implements KafkaClient {
  constructor(
    private readonly kafka: Kjs,
    /** The same cluster for topic lookups, whose requests time out within connectTimeoutMs. */
    private readonly lookups: Kjs,
    private readonly s: ClientSettings,
  ) {}

  async existingTopics(topics: readonly string[]): Promise<Set<string>> {
    const admin = this.lookups.admin()
    try {
      // A connect that outlives its timeout may still succeed (kafkajs retries a silent broker): close it then too.
      await within(admin.connect(), this.s.connectTimeoutMs, `connecting to ${this.s.brokers.join(',')}`, () => admin.disconnect())
      const all = new Set(await within(admin.listTopics(), this.s.connectTimeoutMs, 'listing topics'))
      return new Set(topics.filter((t) => all.has(t)))
    } finally {
      // Not awaited: kafkajs closes a connection only once its requests are answered or time out (requestTimeout, 30 s), and connectTimeoutMs bounds this call.
      void admin.disconnect().catch(() => undefined)
    }
  }

  async endOffsets(topic: string): Promise<{ topic: string; partition: number; offset: string }[]> {
    const admin = this.lookups.admin()
    try {
      await within(admin.connect(), this.s.connectTimeoutMs, `connecting to ${this.s.brokers.join(',')}`)
      const ends = await within(admin.fetchTopicOffsets(topic), this.s.connectTimeoutMs, `reading where topic "${topic}" ends`)
      return ends.map((e) => ({ topic, partition: e.partition, offset: e.high }))
    } finally {
      void admin.disconnect().catch(() => undefined)
    }
  }

  async producer(): Promise<ProducerClient> {
    const producer = this.kafka.producer({ allowAutoTopicCreation: false })
    await within(producer.connect(), this.s.connectTimeoutMs, `connecting to ${this.s.brokers.join(',')}`, () => producer.disconnect())
    return new KjsProducerClient(producer, Math.max(this.s.connectTimeoutMs, 30_000))
  }

  consumer(settings: ConsumerSettings): ConsumerClient {
    return new KjsConsumerClient(this.kafka, settings, this.s.connectTimeoutMs)
  }

  async close(): Promise<void> {}
}

/** Builds a kafkajs-backed client; its own retries are kept short, the transport does the long ones. */
export const kafkajsClient: ClientFactory = async (s) => {
  const { Kafka, logLevel } = await loadKafkajs()
  const options = {
    ...s.extra,
    clientId: s.clientId,
    brokers: [...s.brokers],
    connectionTimeout: Math.min(s.connectTimeoutMs, 3000),
    retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1000 },
    logLevel: logLevel.NOTHING,
  }
  // A broker that accepts connections and never answers (a TLS port without ssl) holds each kafkajs attempt for requestTimeout (30 s), and its retries go on after we gave up: minutes of reconnecting behind a rejected connect.
  return new KjsClient(new Kafka(options), new Kafka({ ...options, requestTimeout: s.connectTimeoutMs }), s)
}
