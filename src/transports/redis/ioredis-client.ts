/**
 * The {@link RedisClient} on ioredis. Everything ioredis-specific is here:
 * its options (reconnect with our backoff, commands waiting while it
 * reconnects, auto-pipelining so that the commands of one tick go in one
 * write, and a pipeline of its own for the appends of one turn), its events,
 * and its replies, turned into entries of bytes.
 * ioredis is imported on first use.
 */
import { asciiString } from '../../channel/ascii.js'
import { SeamError } from '../../channel/errors.js'
import { backoff, sleep } from '../../channel/timers.js'
import type { AppendWatcher, BlockingReader, Claimed, ClientEvents, ClientFactory, ClientSettings, RedisClient, RedisCommands, StreamEntry } from './client.js'

/* The slice of ioredis used here, typed locally: users never see an ioredis type. */
type Arg = string | number | Buffer
interface Io {
  // By name (`xadd`, `xautoclaimBuffer`), not through call(): ioredis drops the command name when call() is auto-pipelined.
  [command: string]: unknown
  on(event: 'ready' | 'close' | 'error', listener: (err?: Error) => void): void
  connect(): Promise<void>
  quit(): Promise<unknown>
  disconnect(reconnect?: boolean): void
  readonly status: string
}
type IoCtor = new (options: Record<string, unknown>) => Io

let loaded: Promise<IoCtor> | undefined

function loadIoredis(): Promise<IoCtor> {
  loaded ??= import('ioredis').then(
    (mod: unknown) => {
      const m = mod as { Redis?: IoCtor; default?: IoCtor | { Redis?: IoCtor } }
      return (m.Redis ?? (typeof m.default === 'function' ? m.default : m.default?.Redis)) as IoCtor
    },
    (err: unknown) => {
      loaded = undefined
      throw new SeamError('ERR_TRANSPORT', 'redis:// needs the ioredis package, which is not installed: npm install ioredis', { cause: err, retriable: false })
    },
  )
  return loaded
}

function run(io: Io, command: string, ...args: Arg[]): Promise<unknown> {
  return (io[command] as (...a: Arg[]) => Promise<unknown>).apply(io, args)
}

/** An entry id (or cursor) as text: short ASCII, built in JavaScript, cheaper than a native decode per entry. */
function text(b: unknown): string {
  return Buffer.isBuffer(b) ? (asciiString(b, 0, b.length) ?? b.toString('utf8')) : String(b)
}

/** `[id, [field, value, …]]` pairs as ioredis gives them with Buffer replies. */
function entries(raw: unknown): StreamEntry[] {
  if (!Array.isArray(raw)) return []
  const out: StreamEntry[] = []
  for (const item of raw as unknown[]) {
    // XAUTOCLAIM on Redis 6.2 gives nil for an entry deleted meanwhile.
    if (!Array.isArray(item)) continue
    const [id, flat] = item as [Buffer, Buffer[] | null]
    out.push({ id: text(id), fields: Array.isArray(flat) ? flat : [] })
  }
  return out
}

/** The entries of the one stream an `XREAD`/`XREADGROUP` asked for; nil (timed out) is none. */
function streamReply(raw: unknown): StreamEntry[] {
  if (!Array.isArray(raw) || raw.length === 0) return []
  return entries((raw[0] as [Buffer, unknown])[1])
}

function options(s: ClientSettings, pipelined: boolean): Record<string, unknown> {
  return {
    host: s.host,
    port: s.port,
    username: s.username,
    password: s.password,
    db: s.db,
    lazyConnect: true,
    connectTimeout: s.connectTimeoutMs,
    // Commands wait while the connection is down, for as long as it takes: the transport bounds what waits.
    maxRetriesPerRequest: null,
    enableAutoPipelining: pipelined,
    // Without it, a command in flight when the connection drops is neither answered nor failed: its promise hangs.
    autoResendUnfulfilledCommands: true,
    retryStrategy: (times: number) => backoff(times - 1, s.reconnect.initialDelayMs, s.reconnect.maxDelayMs),
    // ioredis hands `tls` to node:tls connect() as it is; the user's own `extra.tls` replaces it whole.
    ...(s.tls === undefined ? {} : { tls: s.tls }),
    ...s.extra,
  }
}

/** Connects `io`, waiting for it to be ready for at most `connectTimeoutMs`, while ioredis tries again on its own. */
async function ready(io: Io, s: ClientSettings, what: string): Promise<void> {
  let last: Error | undefined
  const onError = (err?: Error): void => void (last = err)
  io.on('error', onError)
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([
      new Promise<void>((resolve) => {
        io.on('ready', () => resolve())
        io.connect().catch((err: Error) => void (last = err))
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          io.disconnect()
          const why = last === undefined ? 'no answer' : last.message
          reject(new SeamError('ERR_TRANSPORT', `${what} at ${s.where}: not ready within connectTimeoutMs (${s.connectTimeoutMs} ms): ${why}; is redis-server running there?`, { cause: last }))
        }, s.connectTimeoutMs)
      }),
    ])
  } finally {
    clearTimeout(timer)
  }
}

/** Reports `down` once per drop and `up` once it is ready again; nothing once `closing()` (a close is no drop). */
function watch(io: Io, events: ClientEvents, closing: () => boolean): void {
  let up = true
  let last: Error | undefined
  io.on('error', (err) => void (last = err))
  io.on('close', () => {
    if (!up || closing()) return
    up = false
    events.status('down', last)
  })
  io.on('ready', () => {
    if (up) return
    up = true
    events.status('up')
  })
}

interface Pipeline {
  xadd(...args: Arg[]): unknown
  exec(): Promise<[Error | null, unknown][] | null>
}

type AppendArgs = (Arg | readonly (string | Buffer)[])[]

/** One append waiting for its pipeline, and how to settle its promise. */
class Append {
  resolve!: () => void
  reject!: (err: unknown) => void

  constructor(
    /** Stream, `MAXLEN` and `*`, then the fields as one array: ioredis flattens arguments, so they are not copied here. */
    readonly args: AppendArgs,
    readonly watcher: AppendWatcher | undefined,
    readonly stream: string,
    readonly what: string,
  ) {}

  /** Its promise: the executor closes over this append alone, the least a promise per send can cost. */
  promise(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.resolve = resolve
      this.reject = reject
    })
  }
}

/**
 * The appends of one turn in one pipeline: what auto-pipelining does, but
 * without its promise, closures and tick per command on top of the
 * pipeline's own, which cost more than the rest of a send. Commands go
 * through the same pipeline as auto-pipelining's, so they too wait while the
 * connection is down.
 */
class Appender {
  #queue: Append[] = []

  constructor(private readonly io: Io) {}

  add(args: AppendArgs, stream: string, watcher: AppendWatcher | undefined, what: string): Promise<void> {
    if (this.#queue.length === 0) setImmediate(this.#flush)
    const a = new Append(args, watcher, stream, what)
    this.#queue.push(a)
    return a.promise()
  }

  readonly #flush = (): void => {
    const batch = this.#queue
    this.#queue = []
    const pipeline = (this.io.pipeline as () => Pipeline).call(this.io)
    for (const a of batch) pipeline.xadd(...(a.args as Arg[]))
    pipeline.exec().then(
      (results) => {
        for (let i = 0; i < batch.length; i++) {
          const result = results?.[i]
          settle(batch[i] as Append, result === undefined ? new Error('no reply to XADD') : result[0])
        }
      },
      (err: unknown) => {
        for (const a of batch) settle(a, err)
      },
    )
  }
}

function settle(a: Append, err: unknown): void {
  a.watcher?.settled()
  if (err === null) a.resolve()
  else a.reject(a.watcher === undefined ? err : a.watcher.failed(err, a.stream, a.what))
}

class IoCommands implements RedisCommands {
  readonly #appender: Appender

  constructor(private readonly io: Io) {
    this.#appender = new Appender(io)
  }

  xadd(stream: string, fields: readonly (string | Buffer)[], trim?: { readonly maxLen: number; readonly exact: boolean }, watcher?: AppendWatcher, what = 'an entry'): Promise<void> {
    const args = trim === undefined ? [stream, '*', fields] : [stream, 'MAXLEN', trim.exact ? '=' : '~', trim.maxLen, '*', fields]
    return this.#appender.add(args, stream, watcher, what)
  }

  async pexpire(key: string, ms: number): Promise<void> {
    await run(this.io, 'pexpire', key, ms)
  }

  async xack(stream: string, group: string, ids: readonly string[]): Promise<void> {
    await run(this.io, 'xack', stream, group, ...ids)
  }

  async xdel(stream: string, ids: readonly string[]): Promise<void> {
    await run(this.io, 'xdel', stream, ...ids)
  }

  async createGroup(stream: string, group: string, startId: string): Promise<void> {
    try {
      await run(this.io, 'xgroup', 'CREATE', stream, group, startId, 'MKSTREAM')
    } catch (err) {
      if (!(err instanceof Error && err.message.startsWith('BUSYGROUP'))) throw err
    }
  }

  async autoclaim(stream: string, group: string, consumer: string, minIdleMs: number, cursor: string, count: number): Promise<Claimed> {
    const raw = (await run(this.io, 'xautoclaimBuffer', stream, group, consumer, minIdleMs, cursor, 'COUNT', count)) as [Buffer, unknown, Buffer[] | undefined]
    return { next: text(raw[0]), entries: entries(raw[1]), deleted: (raw[2] ?? []).map(text) }
  }

  async deliveryCounts(stream: string, group: string, consumer: string, first: string, last: string, count: number): Promise<Map<string, number>> {
    const raw = (await run(this.io, 'xpending', stream, group, first, last, count, consumer)) as [string, string, number, number][]
    return new Map(raw.map(([id, , , delivered]) => [id, Number(delivered)]))
  }

  async touch(stream: string, group: string, consumer: string, ids: readonly string[]): Promise<void> {
    await run(this.io, 'xclaim', stream, group, consumer, 0, ...ids, 'JUSTID')
  }

  async deleteIdleConsumer(stream: string, group: string, consumer: string): Promise<void> {
    const pending = (await run(this.io, 'xpending', stream, group, '-', '+', 1, consumer)) as unknown[]
    if (pending.length === 0) await run(this.io, 'xgroup', 'DELCONSUMER', stream, group, consumer)
  }

  async del(key: string): Promise<void> {
    await run(this.io, 'del', key)
  }

  async unblock(clientId: number): Promise<void> {
    await run(this.io, 'client', 'UNBLOCK', clientId)
  }
}

class IoReader implements BlockingReader {
  constructor(private readonly io: Io) {}

  async clientId(): Promise<number> {
    return Number(await run(this.io, 'client', 'ID'))
  }

  async readGroup(stream: string, group: string, consumer: string, count: number, blockMs: number, from: string): Promise<StreamEntry[]> {
    return streamReply(await run(this.io, 'xreadgroupBuffer', 'GROUP', group, consumer, 'COUNT', count, 'BLOCK', blockMs, 'STREAMS', stream, from))
  }

  async read(stream: string, after: string, count: number, blockMs: number): Promise<StreamEntry[]> {
    return streamReply(await run(this.io, 'xreadBuffer', 'COUNT', count, 'BLOCK', blockMs, 'STREAMS', stream, after))
  }

  close(): void {
    this.io.disconnect()
  }
}

/** ioredis behind {@link RedisClient}: one auto-pipelined connection for commands, one more per blocking reader. */
export const ioredisClient: ClientFactory = async (s, events) => {
  const Redis = await loadIoredis()
  const io = new Redis(options(s, true))
  await ready(io, s, 'connecting to Redis')
  let closed = false
  watch(io, events, () => closed)
  const readers = new Set<Io>()
  let closing: Promise<void> | undefined
  const client: RedisClient = {
    commands: new IoCommands(io),
    async reader(readerEvents) {
      const r = new Redis(options(s, false))
      readers.add(r)
      try {
        await ready(r, s, 'opening a reading connection to Redis')
      } catch (err) {
        readers.delete(r)
        throw err
      }
      watch(r, readerEvents, () => closed)
      return new IoReader(r)
    },
    close(timeoutMs) {
      closing ??= (async () => {
        closed = true
        for (const r of readers) r.disconnect()
        const waited = new AbortController()
        // QUIT waits for the replies of commands sent before it; a server that is away gets no longer than the timeout.
        await Promise.race([io.quit().catch(() => undefined), sleep(timeoutMs, waited.signal)])
        waited.abort()
        io.disconnect()
      })()
      return closing
    },
  }
  return client
}
