import { SeamError } from '../../channel/errors.js'
import { bad, optionChecks } from '../../channel/option-checks.js'
import { decodeUrlPart, hostList, type QueryKind, queryOptions } from '../../channel/url.js'

/**
 * The `kafka` option of `connect('kafka://…')` and `listen('kafka://…')`.
 * Most fields can also be given in the URL's query
 * (`kafka://b1:9092,b2:9092/orders?group=billing`); a field given here wins.
 */
export interface KafkaOptions {
  /** Bootstrap brokers, `host:port` each (default: the URL's hosts). */
  brokers?: readonly string[]
  /** Topics to consume (listen) or the topic to produce to (connect; the first). Default: the URL's path, comma-separated. */
  topics?: readonly string[]
  /** Consumer group of `listen` (URL: `group=`). Required to listen. */
  groupId?: string
  /** The client id brokers see (default `seam-channel`). */
  clientId?: string
  /** A new group starts at the earliest offset instead of the latest (default false). */
  fromBeginning?: boolean
  /** An existing topic replies come back on (`connect`: needed for `request`). Several requesters may share it. */
  replyTopic?: string
  /** Where `reject` sends records, since Kafka has no negative acknowledgement (default `<topic>.dlq`). */
  deadLetterTopic?: string
  /** Group session timeout (default 30 000 ms): a member silent this long is removed. */
  sessionTimeoutMs?: number
  /** How often a member heartbeats (default 3000 ms). */
  heartbeatIntervalMs?: number
  /** How long a fetch waits for records when there are none (default 1000 ms); also about how long leaving the group takes. */
  maxWaitTimeMs?: number
  /** Most records produced in one request (default 1000). */
  maxBatchRecords?: number
  /** Most records waiting for the broker (default 100 000); past it `ERR_OUTBOX_FULL`. */
  maxOutboxMessages?: number
  /** Backoff between reconnects and restarts, doubling from `initialDelayMs` to `maxDelayMs`. */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number }
  /** Passed to the client as they are, e.g. `{ ssl: true, sasl: { mechanism: 'plain', username, password } }` for kafkajs. */
  client?: Readonly<Record<string, unknown>>
}

declare module '../../channel/options.js' {
  interface TransportOptions {
    /** Kafka: brokers, topics, group, reply and dead-letter topics, batching and client settings (see {@link KafkaOptions}). */
    kafka?: KafkaOptions
  }
}

/** Kafka options with every default filled in. */
export interface ResolvedKafkaOptions {
  readonly brokers: readonly string[]
  readonly topics: readonly string[]
  readonly groupId: string | undefined
  readonly clientId: string
  readonly fromBeginning: boolean
  readonly replyTopic: string | undefined
  readonly deadLetterTopic: string | undefined
  readonly sessionTimeoutMs: number
  readonly heartbeatIntervalMs: number
  readonly maxWaitTimeMs: number
  readonly maxBatchRecords: number
  readonly maxOutboxMessages: number
  readonly connectTimeoutMs: number
  readonly reconnect: { readonly initialDelayMs: number; readonly maxDelayMs: number }
  readonly client: Readonly<Record<string, unknown>>
  /** The URL as given, for messages. */
  readonly where: string
}

const QUERY: Readonly<Record<string, QueryKind>> = {
  group: 'string',
  clientId: 'string',
  fromBeginning: 'boolean',
  replyTopic: 'string',
  deadLetterTopic: 'string',
  sessionTimeoutMs: 'number',
  heartbeatIntervalMs: 'number',
  maxWaitTimeMs: 'number',
  maxBatchRecords: 'number',
  maxOutboxMessages: 'number',
}

const { name, count, flag } = optionChecks('kafka')

/** Reads the URL and the `kafka` option; throws `ERR_BAD_URL` or `ERR_BAD_ARGUMENT` naming the bad part. */
export function readKafkaOptions(url: URL, given: { kafka?: KafkaOptions; connectTimeoutMs?: number } | undefined, where: string): ResolvedKafkaOptions {
  const shown = `kafka://${decodeUrlPart(url.host, 'the host list', `kafka://${url.host}`)}${url.pathname}`
  if (url.username !== '' || url.password !== '') throw new SeamError('ERR_BAD_URL', `${shown}: a kafka URL takes no user or password; give SASL settings through options (kafka.client.sasl)`)
  if (url.hash !== '') throw new SeamError('ERR_BAD_URL', `${shown}: a kafka URL takes no fragment`)
  const raw = given?.kafka
  if (raw !== undefined && (typeof raw !== 'object' || raw === null)) throw bad(where, 'option "kafka" must be an object')
  const o: KafkaOptions = { ...(queryOptions(url, shown, QUERY, { group: 'groupId' }) as KafkaOptions), ...raw }
  const brokers = o.brokers ?? hostList(url, 9092).map(({ host, port }) => `${host.includes(':') ? `[${host}]` : host}:${port}`)
  if (!Array.isArray(brokers) || brokers.length === 0 || brokers.some((b) => typeof b !== 'string' || b === '')) throw bad(where, 'option "kafka.brokers" must be a non-empty list of host:port')
  const path = decodeUrlPart(url.pathname.replace(/^\//, ''), 'the path', shown)
  const topics = o.topics ?? (path === '' ? [] : path.split(','))
  if (!Array.isArray(topics) || topics.some((t) => typeof t !== 'string' || t === '' || !/^[A-Za-z0-9._-]{1,249}$/.test(t))) {
    const message = `topic names are 1–249 characters of letters, digits, ".", "_" and "-" (got ${JSON.stringify(topics)})`
    throw o.topics === undefined ? new SeamError('ERR_BAD_URL', `${shown}: ${message}`) : bad(where, message)
  }
  const connectTimeoutMs = given?.connectTimeoutMs ?? 10_000
  if (typeof connectTimeoutMs !== 'number' || !(connectTimeoutMs > 0)) throw bad(where, `option "connectTimeoutMs" must be a positive number (got ${JSON.stringify(connectTimeoutMs)})`)
  const r = o.reconnect
  if (r !== undefined && (typeof r !== 'object' || r === null)) throw bad(where, 'option "kafka.reconnect" must be { initialDelayMs, maxDelayMs }')
  if (o.client !== undefined && (typeof o.client !== 'object' || o.client === null)) throw bad(where, 'option "kafka.client" must be an object of client settings')
  const fromBeginning = flag(o.fromBeginning, 'fromBeginning', where) ?? false
  const sessionTimeoutMs = count(o.sessionTimeoutMs, 'sessionTimeoutMs', 30_000, where)
  return {
    brokers,
    topics,
    groupId: name(o.groupId, 'groupId', where),
    clientId: name(o.clientId, 'clientId', where) ?? 'seam-channel',
    fromBeginning,
    replyTopic: name(o.replyTopic, 'replyTopic', where),
    deadLetterTopic: name(o.deadLetterTopic, 'deadLetterTopic', where),
    sessionTimeoutMs,
    heartbeatIntervalMs: count(o.heartbeatIntervalMs, 'heartbeatIntervalMs', Math.min(3000, Math.floor(sessionTimeoutMs / 3)), where),
    maxWaitTimeMs: count(o.maxWaitTimeMs, 'maxWaitTimeMs', 1000, where),
    maxBatchRecords: count(o.maxBatchRecords, 'maxBatchRecords', 1000, where),
    maxOutboxMessages: count(o.maxOutboxMessages, 'maxOutboxMessages', 100_000, where),
    connectTimeoutMs,
    reconnect: {
      initialDelayMs: count(r?.initialDelayMs, 'reconnect.initialDelayMs', 100, where),
      maxDelayMs: count(r?.maxDelayMs, 'reconnect.maxDelayMs', 5000, where),
    },
    client: o.client ?? {},
    where: shown,
  }
}
