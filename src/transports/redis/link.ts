import { HEADER, type Envelope } from '../../channel/envelope.js'
import { SeamError, toSeamError } from '../../channel/errors.js'
import { HeldSink } from '../../channel/held-sink.js'
import { newId } from '../../channel/id.js'
import { sleep } from '../../channel/timers.js'
import type { LinkSink, RouteOptions, TransportFeatures, TransportLink } from '../../channel/transport.js'
import type { AppendWatcher, RedisClient, StreamEntry } from './client.js'
import { GroupConsumer } from './consumer.js'
import { copyFields, toFields } from './entry.js'
import type { ResolvedRedisOptions } from './options.js'
import { ReplyReader } from './replies.js'

/**
 * One stream read by one consumer is delivered in order; competing consumers
 * of a group share its entries with no regard for keys, so a key keeps its
 * order only within one consumer.
 */
const FEATURES: TransportFeatures = Object.freeze({ reply: true, connected: false, persistent: true, orderingByKey: false, orderedWithoutKey: true, redelivery: true })

/** What a link consumes: its stream in a group, with the channel's `concurrency` (listen), or its reply stream (connect). */
export type RedisRole = { readonly kind: 'listen'; readonly group: string; readonly consumer: string; readonly concurrency: number } | { readonly kind: 'connect' }

/**
 * One channel's link to Redis: appends (`XADD`, those of one turn in one
 * pipeline) for everything it sends, and either a group
 * consumer of its stream (listen) or, from its first request on, a reader
 * of its private reply stream (connect).
 */
export class RedisLink implements TransportLink {
  readonly name = 'redis'
  readonly peer = undefined
  readonly features = FEATURES
  readonly replyAddress: string | undefined
  /** Where everything is reported: the same sink its client reports status to from before the link existed. */
  readonly #out: HeldSink
  /** Appends waiting for Redis. */
  #inFlight = 0
  #idle: (() => void) | undefined
  #consumer: GroupConsumer | undefined
  #replies: Promise<ReplyReader> | undefined
  #closing: Promise<void> | undefined

  private constructor(
    private readonly client: RedisClient,
    private readonly o: ResolvedRedisOptions,
    role: RedisRole,
    out: HeldSink,
  ) {
    this.#out = out
    this.replyAddress = role.kind === 'connect' ? `${o.stream ?? 'seam'}.replies.${newId()}` : undefined
  }

  /**
   * Builds the link on a connected client, reporting to `out` (what the
   * client reported there so far included) and, when listening, creates the
   * group if missing and starts reading; resolves once reading started.
   * @throws SeamError `ERR_TRANSPORT`.
   */
  static async open(client: RedisClient, o: ResolvedRedisOptions, role: RedisRole, out: HeldSink): Promise<RedisLink> {
    const link = new RedisLink(client, o, role, out)
    if (role.kind === 'listen') {
      const stream = o.stream as string
      try {
        await client.commands.createGroup(stream, role.group, o.fromStart ? '0' : '$')
        link.#consumer = new GroupConsumer(
          client,
          { stream, group: role.group, consumer: role.consumer, capacity: role.concurrency, readCount: o.readCount, blockMs: o.blockMs, claimIdleMs: o.claimIdleMs, maxDeliveries: o.maxDeliveries, reconnect: o.reconnect },
          { deliver: (d) => link.#out.deliver(d), error: (e) => link.#out.error(e), deadLetter: (entry, reason) => link.#deadLetter(stream, entry, reason) },
        )
        await link.#consumer.start()
      } catch (err) {
        await link.close(0)
        throw toSeamError(err, 'ERR_TRANSPORT', `${o.where}: reading stream "${stream}" in group "${role.group}" could not start`)
      }
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
    this.#consumer?.stop()
  }

  send(envelope: Envelope, route?: RouteOptions): Promise<void> {
    const stream = route?.to ?? this.o.stream
    if (stream === undefined || stream === '') {
      return Promise.reject(new SeamError('ERR_BAD_ARGUMENT', `cannot send "${envelope.tag}": no stream; pass { to: stream } or name one in the URL (${this.o.where})`, { tag: envelope.tag }))
    }
    if (this.#inFlight >= this.o.maxOutboxMessages) {
      return Promise.reject(new SeamError('ERR_OUTBOX_FULL', `${this.o.maxOutboxMessages} messages are waiting for Redis at ${this.o.where} (maxOutboxMessages); "${envelope.tag}" was not sent`, { tag: envelope.tag, id: envelope.id }))
    }
    const purpose = route?.purpose
    // Only messages trim their stream: a reply or a dead letter must not push out what its stream keeps.
    const trim = purpose === undefined ? this.o.trim : undefined
    const commands = this.client.commands
    let appended: Promise<unknown>
    if (purpose === 'reply') {
      // A requester that dies without closing leaves its reply stream behind: it vanishes replyTtlMs after the last reply.
      appended = Promise.all([commands.xadd(stream, toFields(envelope)), commands.pexpire(stream, this.o.replyTtlMs)])
    } else if (envelope.replyTo !== undefined && envelope.replyTo === this.replyAddress) {
      appended = this.#readReplies().then(() => commands.xadd(stream, toFields(envelope), trim))
    } else {
      // The common case: the watcher counts it and names its error, so it costs no promise of its own here.
      this.#inFlight++
      return commands.xadd(stream, toFields(envelope), trim, this.#watcher, envelope.tag)
    }
    this.#inFlight++
    return appended.then(
      () => this.#sent(),
      (err: unknown) => {
        this.#sent()
        throw this.#watcher.failed(err, stream, envelope.tag)
      },
    )
  }

  readonly #watcher: AppendWatcher = {
    settled: () => this.#sent(),
    failed: (err, stream, tag) => toSeamError(err, 'ERR_TRANSPORT', `appending "${tag}" to Redis stream "${stream}" at ${this.o.where} failed`),
  }

  #sent(): void {
    if (--this.#inFlight === 0) this.#idle?.()
  }

  /** Resolves once no append is waiting for Redis. */
  #allSent(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve()
    return new Promise<void>((resolve) => (this.#idle = resolve))
  }

  close(timeoutMs: number): Promise<void> {
    this.#closing ??= (async () => {
      const deadline = Date.now() + timeoutMs
      const left = (): number => Math.max(0, deadline - Date.now())
      await this.#consumer?.close(left())
      // Aborted at the end, so that no timer outlives the close and keeps the process alive.
      const waited = new AbortController()
      await Promise.race([this.#allSent(), sleep(left(), waited.signal)])
      const replies = await this.#replies?.catch(() => undefined)
      await Promise.race([replies?.close(left()).catch((err: unknown) => this.#out.error(toSeamError(err, 'ERR_TRANSPORT', 'deleting the reply stream failed'))), sleep(left(), waited.signal)])
      waited.abort()
      await this.client.close(left())
    })()
    return this.#closing
  }

  #readReplies(): Promise<ReplyReader> {
    this.#replies ??= (async () => {
      const reader = new ReplyReader(this.client, this.replyAddress as string, this.o.blockMs, this.o.reconnect, { deliver: (d) => this.#out.deliver(d), error: (e) => this.#out.error(e) })
      await reader.start()
      return reader
    })()
    // A reader that could not open is opened again by the next request.
    this.#replies.catch(() => (this.#replies = undefined))
    return this.#replies
  }

  /** Redis has no negative acknowledgement: the untouched entry, plus why, goes to the dead-letter stream. */
  async #deadLetter(stream: string, entry: StreamEntry, reason: SeamError | undefined): Promise<void> {
    const extra: Record<string, string> = reason === undefined ? {} : { [HEADER.reason]: `${reason.code}: ${reason.message}` }
    await this.client.commands.xadd(this.o.deadLetterStream ?? `${stream}.dlq`, copyFields(entry, extra))
  }
}
