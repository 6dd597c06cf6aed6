import { SeamError } from '../../channel/errors.js'
import { bad, optionChecks } from '../../channel/option-checks.js'
import { decodeUrlPart, type QueryKind, queryOptions } from '../../channel/url.js'
import { readTlsClient, type ResolvedTlsClient, type TlsOptions } from '../tls/options.js'

/**
 * The `redis` option of `connect('redis://…')` and `listen('redis://…')`
 * (and of `rediss://…`, the same over TLS, whose certificates come from the
 * `tls` option: see {@link TlsOptions}).
 * Most fields can also be given in the URL's query
 * (`redis://127.0.0.1:6379/orders?group=billing&claimIdleMs=10000`); a field given here wins.
 */
export interface RedisOptions {
  /** The stream to read (listen) or to append to (connect). Default: the URL's path. */
  stream?: string
  /** Consumer group of `listen` (URL: `group=`), created if missing. Required to listen. */
  group?: string
  /** This consumer's name in the group (default: a fresh random one per listener). */
  consumer?: string
  /** A new group starts at the stream's first entry instead of its end (default false: only entries added after it was created). */
  fromStart?: boolean
  /** Trim the stream to about this many entries on every append (`XADD MAXLEN ~`); default: no trimming. */
  maxLen?: number
  /** Trim to exactly `maxLen` (`MAXLEN =`, slower) instead of about it (default false). */
  exactTrim?: boolean
  /** An entry pending this long (its consumer died or hangs) is claimed by a live consumer (`XAUTOCLAIM`; default 30 000 ms). */
  claimIdleMs?: number
  /** An entry delivered more often than this (its pending delivery count) goes to the dead-letter stream instead (default 5). */
  maxDeliveries?: number
  /** Where rejected and over-delivered entries go (default `<stream>.dlq`). */
  deadLetterStream?: string
  /** Most entries asked for per read (default 500; never more than the channel's free `concurrency`). */
  readCount?: number
  /** How long a blocking read waits for entries (default 1000 ms); also about how long stopping a listener may wait. */
  blockMs?: number
  /** A requester's reply stream vanishes this long after its last reply when it was never closed (default 3 600 000 ms). */
  replyTtlMs?: number
  /** Most appends waiting for Redis (default 100 000); past it `ERR_OUTBOX_FULL`. */
  maxOutboxMessages?: number
  /** Database number (`SELECT`; default 0). */
  db?: number
  /** Backoff between reconnects, doubling from `initialDelayMs` to `maxDelayMs`. */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number }
  /**
   * Passed to the client library (ioredis) as they are, over the settings
   * this transport makes; a setting given here wins. For TLS use a
   * `rediss://` URL and the `tls` option; a `tls` given here replaces that
   * option's settings as a whole (they are not merged).
   */
  client?: Readonly<Record<string, unknown>>
}

declare module '../../channel/options.js' {
  interface TransportOptions {
    /** Redis Streams: stream, group, claiming, dead letters, trimming and client settings (see {@link RedisOptions}). */
    redis?: RedisOptions
  }
}

/** Redis options with every default filled in. */
export interface ResolvedRedisOptions {
  readonly host: string
  readonly port: number
  readonly username: string | undefined
  readonly password: string | undefined
  readonly stream: string | undefined
  readonly group: string | undefined
  readonly consumer: string | undefined
  readonly fromStart: boolean
  readonly trim: { readonly maxLen: number; readonly exact: boolean } | undefined
  readonly claimIdleMs: number
  readonly maxDeliveries: number
  readonly deadLetterStream: string | undefined
  readonly readCount: number
  readonly blockMs: number
  readonly replyTtlMs: number
  readonly maxOutboxMessages: number
  readonly db: number
  readonly connectTimeoutMs: number
  readonly reconnect: { readonly initialDelayMs: number; readonly maxDelayMs: number }
  readonly client: Readonly<Record<string, unknown>>
  /** `rediss://`: the `tls` option, read and checked; undefined for `redis://`. */
  readonly tls: ResolvedTlsClient | undefined
  /** The URL without user and password, for messages. */
  readonly where: string
}

const QUERY: Readonly<Record<string, QueryKind>> = {
  group: 'string',
  consumer: 'string',
  fromStart: 'boolean',
  maxLen: 'number',
  exactTrim: 'boolean',
  claimIdleMs: 'number',
  maxDeliveries: 'number',
  deadLetterStream: 'string',
  readCount: 'number',
  blockMs: 'number',
  replyTtlMs: 'number',
  maxOutboxMessages: 'number',
  db: 'number',
}

const { name, count, flag } = optionChecks('redis')

/**
 * Reads the URL (`redis://` or `rediss://`), the `redis` option and, for
 * `rediss://`, the `tls` option; throws `ERR_BAD_URL` or `ERR_BAD_ARGUMENT`
 * naming the bad part.
 */
export function readRedisOptions(url: URL, given: { redis?: RedisOptions; tls?: TlsOptions; connectTimeoutMs?: number } | undefined, where: string): ResolvedRedisOptions {
  const scheme = url.protocol === 'rediss:' ? 'rediss' : 'redis'
  const shown = `${scheme}://${url.host}${url.pathname}`
  if (url.hostname === '') throw new SeamError('ERR_BAD_URL', `${shown}: the host is missing (${scheme}://host:6379/stream)`)
  if (url.hash !== '') throw new SeamError('ERR_BAD_URL', `${shown}: a ${scheme} URL takes no fragment`)
  const path = decodeUrlPart(url.pathname.replace(/^\//, ''), 'the path', shown)
  // Redis allows any key name; a path of several segments is more likely a mistake (a database number is `?db=`).
  if (path.includes('/')) throw new SeamError('ERR_BAD_URL', `${shown}: the path names one stream (${scheme}://host:6379/stream); got "${path}" (the database number is ?db=N)`)
  const raw = given?.redis
  if (raw !== undefined && (typeof raw !== 'object' || raw === null)) throw bad(where, 'option "redis" must be an object')
  const o: RedisOptions = { ...(queryOptions(url, shown, QUERY) as RedisOptions), ...raw }
  const connectTimeoutMs = given?.connectTimeoutMs ?? 10_000
  if (typeof connectTimeoutMs !== 'number' || !(connectTimeoutMs > 0)) throw bad(where, `option "connectTimeoutMs" must be a positive number (got ${JSON.stringify(connectTimeoutMs)})`)
  const r = o.reconnect
  if (r !== undefined && (typeof r !== 'object' || r === null)) throw bad(where, 'option "redis.reconnect" must be { initialDelayMs, maxDelayMs }')
  if (o.client !== undefined && (typeof o.client !== 'object' || o.client === null)) throw bad(where, 'option "redis.client" must be an object of client settings')
  const maxLen = o.maxLen === undefined ? undefined : count(o.maxLen, 'maxLen', 0, where)
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname
  return {
    host,
    port: url.port === '' ? 6379 : Number(url.port),
    username: url.username === '' ? undefined : decodeUrlPart(url.username, 'the user name', shown),
    password: url.password === '' ? undefined : decodeUrlPart(url.password, 'the password', shown),
    stream: name(o.stream, 'stream', where) ?? (path === '' ? undefined : path),
    group: name(o.group, 'group', where),
    consumer: name(o.consumer, 'consumer', where),
    fromStart: flag(o.fromStart, 'fromStart', where) ?? false,
    trim: maxLen === undefined ? undefined : { maxLen, exact: flag(o.exactTrim, 'exactTrim', where) ?? false },
    claimIdleMs: count(o.claimIdleMs, 'claimIdleMs', 30_000, where),
    maxDeliveries: count(o.maxDeliveries, 'maxDeliveries', 5, where),
    deadLetterStream: name(o.deadLetterStream, 'deadLetterStream', where),
    readCount: count(o.readCount, 'readCount', 500, where),
    blockMs: count(o.blockMs, 'blockMs', 1000, where),
    replyTtlMs: count(o.replyTtlMs, 'replyTtlMs', 3_600_000, where),
    maxOutboxMessages: count(o.maxOutboxMessages, 'maxOutboxMessages', 100_000, where),
    db: count(o.db, 'db', 0, where, 0),
    connectTimeoutMs,
    reconnect: {
      initialDelayMs: count(r?.initialDelayMs, 'reconnect.initialDelayMs', 100, where),
      maxDelayMs: count(r?.maxDelayMs, 'reconnect.maxDelayMs', 5000, where),
    },
    client: o.client ?? {},
    // Read only for rediss://, as amqps:// does: the same certificates, checks and messages as tls://.
    tls: scheme === 'rediss' ? readTlsClient(given?.tls, where) : undefined,
    where: shown,
  }
}
