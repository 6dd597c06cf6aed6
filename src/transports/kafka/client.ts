/**
 * The Kafka client this transport needs, and nothing more: connect, produce
 * a batch, consume in a group with explicit commits, close. kafkajs sits
 * behind it (kafkajs-client.ts); another client (e.g. @platformatic/kafka)
 * is one more file implementing it. Nothing of a client library reaches a
 * user or the rest of the transport.
 */

/** A record to produce. */
export interface OutgoingRecord {
  /** Text, or bytes passed on untouched (a dead-lettered record's). */
  readonly key: string | Buffer | undefined
  /** null: a tombstone, passed on as one when dead-lettered. */
  readonly value: Buffer | null
  /** Milliseconds since the epoch (the record's CreateTime); the broker's clock when absent. */
  readonly timestamp?: number | undefined
  /** Text, or bytes passed on untouched (a dead-lettered record's). */
  readonly headers: Readonly<Record<string, string | Buffer>>
}

/** A record as fetched. Header values are bytes: nothing says they are text. */
export interface IncomingRecord {
  readonly topic: string
  readonly partition: number
  /** Kafka's offset, as the decimal string clients carry it. */
  readonly offset: string
  readonly key: Buffer | null
  readonly value: Buffer | null
  /** The record's timestamp, milliseconds since the epoch. */
  readonly timestamp: number
  readonly headers: Readonly<Record<string, Buffer | undefined>>
}

/** One partition of one topic. */
export interface TopicPartition {
  readonly topic: string
  readonly partition: number
}

/** Where to go on from: the offset of the next record to read. */
export interface PartitionOffset extends TopicPartition {
  readonly offset: string
}

/** What a consumer tells its user. */
export interface ConsumerHandlers {
  /**
   * Records of one partition, in order. Resolve when the consumer may fetch
   * more. `stale()` turns true once the partition was revoked or the consumer
   * stops; `heartbeat()` keeps the membership while this waits.
   */
  batch(records: readonly IncomingRecord[], heartbeat: () => Promise<void>, stale: () => boolean): Promise<void>
  /** The group (re)assigned partitions: this member owns exactly these now. */
  assigned(partitions: readonly TopicPartition[]): void
  /** The client's consumer died on `error`; it restarts itself when `restarting`, else the caller must. */
  crashed(error: Error, restarting: boolean): void
}

export interface ConsumerClient {
  /** Joins the group and starts fetching; resolves once partitions are assigned. */
  start(handlers: ConsumerHandlers): Promise<void>
  /** Commits these offsets for the group (each the next offset to read). */
  commit(offsets: readonly PartitionOffset[]): Promise<void>
  /** Leaves the group and closes its connections. Idempotent. */
  close(): Promise<void>
}

export interface ProducerClient {
  /** Produces every record, acknowledged by all in-sync replicas (acks -1), or rejects. */
  send(batches: readonly { readonly topic: string; readonly records: readonly OutgoingRecord[] }[]): Promise<void>
  close(): Promise<void>
}

/** Settings a client is built with. */
export interface ClientSettings {
  readonly brokers: readonly string[]
  readonly clientId: string
  readonly connectTimeoutMs: number
  /** Passed to the client as they are: `ssl`, `sasl`, … */
  readonly extra: Readonly<Record<string, unknown>>
}

/** Settings of a group consumer. */
export interface ConsumerSettings {
  readonly groupId: string
  readonly topics: readonly string[]
  readonly fromBeginning: boolean
  readonly sessionTimeoutMs: number
  readonly heartbeatIntervalMs: number
  /** How long a fetch waits when there is nothing to read. */
  readonly maxWaitTimeMs: number
  /**
   * Where to read an assigned partition from, overriding the group's commit
   * and `fromBeginning`, on every (re)join; undefined: the group decides.
   */
  readonly position?: ((p: TopicPartition) => string | undefined) | undefined
}

export interface KafkaClient {
  /** Topics that exist of `topics`, asked of the cluster. */
  existingTopics(topics: readonly string[]): Promise<Set<string>>
  /** Each partition's end: the offset the next record will get. */
  endOffsets(topic: string): Promise<PartitionOffset[]>
  producer(): Promise<ProducerClient>
  consumer(settings: ConsumerSettings): ConsumerClient
  close(): Promise<void>
}

/** Builds a client; loads its library on first use. */
export type ClientFactory = (settings: ClientSettings) => Promise<KafkaClient>
