import { bad } from '../../channel/option-checks.js'

/** Options of the stream transports (TCP and TLS). */
export interface StreamOptions {
  /** Largest frame accepted or sent, in bytes (default 16 MiB). */
  maxFrameBytes?: number
  /** Most messages waiting while disconnected or backpressured (default 100 000). */
  maxOutboxMessages?: number
  /** Most bytes waiting while disconnected or backpressured (default 64 MiB). */
  maxOutboxBytes?: number
  /** How long a new connection may take to say hello before it is dropped (default 10 000 ms). */
  handshakeTimeoutMs?: number
  /**
   * How often this side pings a connection it has sent nothing on (default
   * 10 000 ms; 0 turns heartbeats off). A connection whose peer promised
   * pings and then sends nothing for three of its intervals is ended, and a
   * client reconnects.
   */
  heartbeatMs?: number
  /** Client reconnect backoff, doubling from `initialDelayMs` to `maxDelayMs`; `false` ends the channel on the first drop. */
  reconnect?: false | { initialDelayMs?: number; maxDelayMs?: number }
}

declare module '../../channel/options.js' {
  interface TransportOptions {
    /** TCP/TLS: largest frame accepted or sent, in bytes (default 16 MiB). */
    maxFrameBytes?: number
    /** TCP/TLS: most messages waiting while disconnected or backpressured (default 100 000). */
    maxOutboxMessages?: number
    /** TCP/TLS: most bytes waiting while disconnected or backpressured (default 64 MiB). */
    maxOutboxBytes?: number
    /** TCP/TLS: how long a new connection may take to say hello (default 10 000 ms). */
    handshakeTimeoutMs?: number
    /** TCP/TLS: ping an idle connection this often, and end one whose peer went silent (default 10 000 ms; 0: off). */
    heartbeatMs?: number
    /** TCP/TLS client: reconnect backoff, or `false` for none. */
    reconnect?: false | { initialDelayMs?: number; maxDelayMs?: number }
  }
}

/** Stream options with every default filled in. */
export interface ResolvedStreamOptions {
  readonly maxFrameBytes: number
  readonly maxOutboxMessages: number
  readonly maxOutboxBytes: number
  readonly handshakeTimeoutMs: number
  /** 0: no heartbeat. */
  readonly heartbeatMs: number
  readonly connectTimeoutMs: number
  readonly reconnect: false | { readonly initialDelayMs: number; readonly maxDelayMs: number }
}

function positive(value: unknown, name: string, fallback: number, where: string): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw bad(where, `option "${name}" must be a positive number (got ${JSON.stringify(value)})`)
  }
  return value
}

/** Reads and checks stream options; throws `ERR_BAD_ARGUMENT` naming the bad one. */
export function readStreamOptions(o: StreamOptions & { connectTimeoutMs?: number }, where: string): ResolvedStreamOptions {
  const maxFrameBytes = positive(o.maxFrameBytes, 'maxFrameBytes', 16 * 1024 * 1024, where)
  if (maxFrameBytes > 0xffffffff) throw bad(where, `option "maxFrameBytes" is at most 4 GiB - 1 (got ${maxFrameBytes})`)
  const r = o.reconnect
  if (r !== undefined && r !== false && (typeof r !== 'object' || r === null)) {
    throw bad(where, `option "reconnect" must be false or { initialDelayMs, maxDelayMs } (got ${JSON.stringify(r)})`)
  }
  return {
    maxFrameBytes,
    maxOutboxMessages: positive(o.maxOutboxMessages, 'maxOutboxMessages', 100_000, where),
    maxOutboxBytes: positive(o.maxOutboxBytes, 'maxOutboxBytes', 64 * 1024 * 1024, where),
    handshakeTimeoutMs: positive(o.handshakeTimeoutMs, 'handshakeTimeoutMs', 10_000, where),
    heartbeatMs: o.heartbeatMs === 0 ? 0 : positive(o.heartbeatMs, 'heartbeatMs', 10_000, where),
    connectTimeoutMs: positive(o.connectTimeoutMs, 'connectTimeoutMs', 10_000, where),
    reconnect:
      r === false
        ? false
        : {
            initialDelayMs: positive(r?.initialDelayMs, 'reconnect.initialDelayMs', 100, where),
            maxDelayMs: positive(r?.maxDelayMs, 'reconnect.maxDelayMs', 5000, where),
          },
  }
}
