import { SeamError } from '../../channel/errors.js'
import { bad, optionChecks } from '../../channel/option-checks.js'
import { decodeUrlPart, type QueryKind, queryOptions } from '../../channel/url.js'

/**
 * The `amqp` option of `connect('amqp://…')` and `listen('amqp://…')`. Every
 * field can also be given in the URL's query (`?queue=billing&bind=order.*`);
 * a field given here wins over the URL's.
 */
export interface AmqpOptions {
  /** Queue to consume (listen) or, with no exchange, to publish to. Declared when missing. */
  queue?: string
  /** Exchange to publish to and to bind the queue to. Declared when missing. Default: none (the default exchange). */
  exchange?: string
  /** Type of `exchange` (default `topic`): `direct`, `topic`, `fanout`, `headers`, or a plugin's such as `x-consistent-hash`. */
  exchangeType?: string
  /** Routing-key patterns binding `queue` to `exchange` (URL: `bind=`, repeatable). */
  bindings?: readonly string[]
  /** Routing key of a `send` without `to` (default: `queue` on the default exchange, else `''`). */
  routingKey?: string
  /** Most unacknowledged deliveries the broker sends this consumer (default: the channel's `concurrency`, at least). */
  prefetch?: number
  /** Declare exchanges and queues durable, so they survive a broker restart (default true). */
  durable?: boolean
  /** Publish messages persistent, written to disk by a durable queue (default true). */
  persistent?: boolean
  /** Queue type when declaring it (default `classic`). */
  queueType?: 'classic' | 'quorum'
  /** One consumer of the queue at a time gets every message, in order; the next takes over when it leaves. */
  singleActiveConsumer?: boolean
  /** The queue's dead-letter exchange (`x-dead-letter-exchange`): where `reject` sends messages. Declared (fanout) when missing. */
  deadLetterExchange?: string
  /** A queue bound to `deadLetterExchange`, declared when missing, so rejected messages are kept. */
  deadLetterQueue?: string
  /** Quorum queues: deliveries of one message before the broker dead-letters it (`x-delivery-limit`). */
  deliveryLimit?: number
  /** Refuse a publish no queue receives, instead of the broker dropping it (default true). */
  mandatory?: boolean
  /** How long a publish may wait for the broker's confirm once written (default 15 000 ms); then `ERR_TIMEOUT` and the connection is reopened. */
  publishTimeoutMs?: number
  /** AMQP heartbeat in seconds, so a dead connection is noticed (default 10; 0: off with amqplib 2.x, the broker's suggestion with older ones). */
  heartbeatSeconds?: number
  /** Most publishes waiting for the connection or the broker's confirm (default 100 000); past it `ERR_OUTBOX_FULL`. */
  maxOutboxMessages?: number
  /** Reconnect backoff, doubling from `initialDelayMs` to `maxDelayMs`; `false` ends the channel on the first drop. */
  reconnect?: false | { initialDelayMs?: number; maxDelayMs?: number }
}

declare module '../../channel/options.js' {
  interface TransportOptions {
    /** AMQP: queue, exchange, bindings, publishing and reconnect settings (see {@link AmqpOptions}). */
    amqp?: AmqpOptions
  }
}

/** Where the broker is. */
export interface AmqpTarget {
  readonly protocol: 'amqp' | 'amqps'
  readonly hostname: string
  readonly port: number
  readonly username: string
  readonly password: string
  readonly vhost: string
  /** The URL without its password, for messages and `server.url`. */
  readonly safeUrl: string
}

/** The exchange, queue and bindings to declare. */
export interface Topology {
  readonly exchange: string | undefined
  readonly exchangeType: string
  readonly queue: string | undefined
  readonly bindings: readonly string[]
  readonly durable: boolean
  readonly queueType: 'classic' | 'quorum'
  readonly singleActiveConsumer: boolean
  readonly deadLetterExchange: string | undefined
  readonly deadLetterQueue: string | undefined
  readonly deliveryLimit: number | undefined
}

/** AMQP options with every default filled in. */
export interface ResolvedAmqpOptions {
  readonly target: AmqpTarget
  readonly topology: Topology
  readonly routingKey: string | undefined
  readonly prefetch: number | undefined
  readonly persistent: boolean
  readonly mandatory: boolean
  readonly publishTimeoutMs: number
  readonly heartbeatSeconds: number
  readonly maxOutboxMessages: number
  readonly connectTimeoutMs: number
  readonly reconnect: false | { readonly initialDelayMs: number; readonly maxDelayMs: number }
}

const KNOWN: Readonly<Record<string, QueryKind>> = {
  queue: 'string',
  exchange: 'string',
  exchangeType: 'string',
  bind: 'strings',
  routingKey: 'string',
  prefetch: 'number',
  durable: 'boolean',
  persistent: 'boolean',
  queueType: 'string',
  singleActiveConsumer: 'boolean',
  deadLetterExchange: 'string',
  deadLetterQueue: 'string',
  deliveryLimit: 'number',
  mandatory: 'boolean',
  publishTimeoutMs: 'number',
  heartbeatSeconds: 'number',
  maxOutboxMessages: 'number',
}

const { name, count, flag } = optionChecks('amqp')

/** The URL's query as AmqpOptions; throws ERR_BAD_URL naming an unknown or malformed parameter. */

/** Reads `amqp://user:pass@host:port/vhost`; throws ERR_BAD_URL naming the bad part. */
export function readTarget(url: URL): AmqpTarget {
  const protocol = url.protocol === 'amqps:' ? 'amqps' : 'amqp'
  const safe = new URL(url.href)
  if (safe.password !== '') safe.password = '***'
  const safeUrl = safe.href
  if (url.hostname === '') throw new SeamError('ERR_BAD_URL', `${safeUrl}: the host is missing (${protocol}://user:pass@host:port/vhost)`)
  if (url.hash !== '') throw new SeamError('ERR_BAD_URL', `${safeUrl}: an ${protocol} URL takes no fragment`)
  const path = url.pathname.replace(/^\//, '')
  if (path.includes('/')) throw new SeamError('ERR_BAD_URL', `${safeUrl}: the path is the vhost and has one segment; write a "/" inside a vhost name as %2F`)
  const vhost = path === '' ? '/' : decodeUrlPart(path, `the vhost "${path}"`, safeUrl)
  return {
    protocol,
    hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
    port: url.port === '' ? (protocol === 'amqps' ? 5671 : 5672) : Number(url.port),
    username: url.username === '' ? 'guest' : decodeUrlPart(url.username, 'the user name', safeUrl),
    password: url.password === '' ? 'guest' : decodeUrlPart(url.password, 'the password', safeUrl),
    vhost,
    safeUrl,
  }
}

function readReconnect(r: AmqpOptions['reconnect'], where: string): ResolvedAmqpOptions['reconnect'] {
  if (r === false) return false
  if (r !== undefined && (typeof r !== 'object' || r === null)) throw bad(where, `option "amqp.reconnect" must be false or { initialDelayMs, maxDelayMs } (got ${JSON.stringify(r)})`)
  const initialDelayMs = count(r?.initialDelayMs, 'reconnect.initialDelayMs', 100, where)
  const maxDelayMs = count(r?.maxDelayMs, 'reconnect.maxDelayMs', 5000, where)
  return { initialDelayMs, maxDelayMs }
}

/**
 * Reads the URL and the `amqp` option; throws `ERR_BAD_URL` or
 * `ERR_BAD_ARGUMENT` naming the bad part.
 */
export function readAmqpOptions(url: URL, given: { amqp?: AmqpOptions; connectTimeoutMs?: number } | undefined, where: string): ResolvedAmqpOptions {
  const target = readTarget(url)
  const raw = given?.amqp
  if (raw !== undefined && (typeof raw !== 'object' || raw === null)) throw bad(where, 'option "amqp" must be an object')
  const o: AmqpOptions = { ...(queryOptions(url, target.safeUrl, KNOWN, { bind: 'bindings' }) as AmqpOptions), ...raw }
  const bindings = o.bindings ?? []
  if (!Array.isArray(bindings) || bindings.some((b) => typeof b !== 'string')) throw bad(where, 'option "amqp.bindings" must be a list of routing-key patterns')
  const exchange = name(o.exchange, 'exchange', where)
  const queue = name(o.queue, 'queue', where)
  if (bindings.length > 0 && (exchange === undefined || queue === undefined)) throw bad(where, 'bindings need both an exchange and a queue: they bind the queue to the exchange')
  const queueType = o.queueType ?? 'classic'
  if (queueType !== 'classic' && queueType !== 'quorum') throw bad(where, `option "amqp.queueType" must be 'classic' or 'quorum' (got ${JSON.stringify(queueType)})`)
  const durable = flag(o.durable, 'durable', where) ?? true
  if (queueType === 'quorum' && !durable) throw bad(where, 'a quorum queue is always durable; leave "amqp.durable" at true')
  const deadLetterExchange = name(o.deadLetterExchange, 'deadLetterExchange', where)
  const deadLetterQueue = name(o.deadLetterQueue, 'deadLetterQueue', where)
  if (deadLetterQueue !== undefined && deadLetterExchange === undefined) throw bad(where, '"amqp.deadLetterQueue" is bound to "amqp.deadLetterExchange", which is not set')
  const deliveryLimit = o.deliveryLimit === undefined ? undefined : count(o.deliveryLimit, 'deliveryLimit', 0, where)
  if (deliveryLimit !== undefined && queueType !== 'quorum') throw bad(where, '"amqp.deliveryLimit" needs queueType \'quorum\' (classic queues do not count deliveries)')
  const prefetch = o.prefetch === undefined ? undefined : count(o.prefetch, 'prefetch', 0, where)
  if (prefetch !== undefined && prefetch > 65535) throw bad(where, `option "amqp.prefetch" is at most 65535, AMQP's limit (got ${prefetch})`)
  const connectTimeoutMs = given?.connectTimeoutMs ?? 10_000
  if (typeof connectTimeoutMs !== 'number' || !(connectTimeoutMs > 0)) throw bad(where, `option "connectTimeoutMs" must be a positive number (got ${JSON.stringify(connectTimeoutMs)})`)
  return {
    target,
    topology: {
      exchange,
      exchangeType: name(o.exchangeType, 'exchangeType', where) ?? 'topic',
      queue,
      bindings,
      durable,
      queueType,
      singleActiveConsumer: flag(o.singleActiveConsumer, 'singleActiveConsumer', where) ?? false,
      deadLetterExchange,
      deadLetterQueue,
      deliveryLimit,
    },
    // '' is a routing key like any other (the default when there is no queue), not a missing name.
    routingKey: o.routingKey === '' ? '' : name(o.routingKey, 'routingKey', where),
    prefetch,
    persistent: flag(o.persistent, 'persistent', where) ?? true,
    mandatory: flag(o.mandatory, 'mandatory', where) ?? true,
    publishTimeoutMs: count(o.publishTimeoutMs, 'publishTimeoutMs', 15_000, where),
    heartbeatSeconds: count(o.heartbeatSeconds, 'heartbeatSeconds', 10, where, 0),
    maxOutboxMessages: count(o.maxOutboxMessages, 'maxOutboxMessages', 100_000, where),
    connectTimeoutMs,
    reconnect: readReconnect(o.reconnect, where),
  }
}
