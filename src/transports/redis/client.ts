/**
 * The Redis client this transport needs, and nothing more: the stream
 * commands it sends, a blocking reader on a connection of its own, status
 * changes, close. ioredis sits behind it (ioredis-client.ts); another client
 * (node-redis) is one more file implementing it. Nothing of a client library
 * reaches a user or the rest of the transport.
 */
import type { ConnectionOptions } from 'node:tls'

/**
 * One stream entry: its id and its fields as Redis sends them, names and
 * values alternating, all as bytes (nothing says a field is text). Kept flat,
 * as the reply holds it: a map per entry cost more than reading it once.
 */
export interface StreamEntry {
  readonly id: string
  readonly fields: readonly Buffer[]
}

/** What `XAUTOCLAIM` took over, and where the next scan starts. */
export interface Claimed {
  /** The cursor of the next scan; `0-0` when the whole pending list was scanned. */
  readonly next: string
  readonly entries: readonly StreamEntry[]
  /** Pending ids whose entries were deleted from the stream meanwhile (trimmed): nothing to deliver, only to acknowledge. */
  readonly deleted: readonly string[]
}

/**
 * Told when each append it was given settles: one object for all the
 * appends of a link, so that an append costs no promise or closure of its
 * own beyond the one it returns.
 */
export interface AppendWatcher {
  /** Called once an append settled, either way, before its promise does. */
  settled(): void
  /** The error an append's promise rejects with; `what` is the label the append was given. */
  failed(err: unknown, stream: string, what: string): Error
}

/** Commands sent on the shared connection; they wait while it reconnects. */
export interface RedisCommands {
  /**
   * `XADD` (with `MAXLEN`, approximate unless `exact`); resolves once Redis
   * added the entry. `watcher`, when given, is told when it settles and
   * names its error, `what` being the label passed on to it.
   */
  xadd(stream: string, fields: readonly (string | Buffer)[], trim?: { readonly maxLen: number; readonly exact: boolean }, watcher?: AppendWatcher, what?: string): Promise<void>
  /** `PEXPIRE`: the key vanishes `ms` after the last call. */
  pexpire(key: string, ms: number): Promise<void>
  xack(stream: string, group: string, ids: readonly string[]): Promise<void>
  xdel(stream: string, ids: readonly string[]): Promise<void>
  /** `XGROUP CREATE … MKSTREAM`; a group that exists already is left as it is. */
  createGroup(stream: string, group: string, startId: string): Promise<void>
  /** `XAUTOCLAIM`: entries pending for at least `minIdleMs` become `consumer`'s. */
  autoclaim(stream: string, group: string, consumer: string, minIdleMs: number, cursor: string, count: number): Promise<Claimed>
  /** Delivery counts of `consumer`'s pending entries with ids from `first` to `last` (`XPENDING` extended form). */
  deliveryCounts(stream: string, group: string, consumer: string, first: string, last: string, count: number): Promise<Map<string, number>>
  /** `XCLAIM … JUSTID` to `consumer` with no minimum idle time: resets the idle time of entries it is still handling. */
  touch(stream: string, group: string, consumer: string, ids: readonly string[]): Promise<void>
  del(key: string): Promise<void>
  /** `XGROUP DELCONSUMER`, only when `consumer` has nothing pending (deleting it would drop its pending entries). */
  deleteIdleConsumer(stream: string, group: string, consumer: string): Promise<void>
  /** `CLIENT UNBLOCK`: ends the blocking command of connection `clientId` as if it timed out. */
  unblock(clientId: number): Promise<void>
}

/** A connection of its own for blocking reads. */
export interface BlockingReader {
  /** This connection's `CLIENT ID` (changes when it reconnects). */
  clientId(): Promise<number>
  /**
   * `XREADGROUP GROUP g c COUNT n BLOCK ms STREAMS s <from>`: with `>`, new
   * entries (empty when nothing came within `blockMs`); with an id, this
   * consumer's own pending entries after it, without blocking.
   */
  readGroup(stream: string, group: string, consumer: string, count: number, blockMs: number, from: string): Promise<StreamEntry[]>
  /** `XREAD COUNT n BLOCK ms STREAMS s after`: entries after id `after`. */
  read(stream: string, after: string, count: number, blockMs: number): Promise<StreamEntry[]>
  /** Drops the connection at once; a read in flight rejects. Idempotent. */
  close(): void
}

/** What a client tells its user. */
export interface ClientEvents {
  /** The connection dropped (`down`, reconnecting with backoff) or is ready again (`up`). */
  status(state: 'down' | 'up', cause?: Error): void
}

export interface RedisClient {
  readonly commands: RedisCommands
  /** Opens a connection for blocking reads; resolves once it is ready. */
  reader(events: ClientEvents): Promise<BlockingReader>
  /** Waits up to `timeoutMs` for commands in flight, then drops every connection. Idempotent. */
  close(timeoutMs: number): Promise<void>
}

/** Settings a client is built with. */
export interface ClientSettings {
  readonly host: string
  readonly port: number
  readonly username: string | undefined
  readonly password: string | undefined
  readonly db: number
  readonly connectTimeoutMs: number
  readonly reconnect: { readonly initialDelayMs: number; readonly maxDelayMs: number }
  /** `rediss://`: TLS on every connection, with these `node:tls` settings (certificates, verification); undefined for plain TCP. */
  readonly tls: Readonly<ConnectionOptions> | undefined
  /** The user's own client settings, passed as they are over the ones made from the rest (e.g. ioredis's `tls`, which then replaces `tls`). */
  readonly extra: Readonly<Record<string, unknown>>
  /** Where, for messages (no password). */
  readonly where: string
}

/** Builds a client and connects its command connection; loads its library on first use. */
export type ClientFactory = (settings: ClientSettings, events: ClientEvents) => Promise<RedisClient>
