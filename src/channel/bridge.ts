import { setMaxListeners } from 'node:events'
import { resolveBridgeOptions, type BridgeOptions, type ResolvedBridgeOptions } from './bridge-options.js'
import { BridgeSource, type BridgeShared, type BridgeStats } from './bridge-source.js'
import { providerFor } from './connect.js'
import { ERROR_TAG } from './envelope.js'
import { errorOfReply } from './error-reply.js'
import { SeamError, toSeamError } from './errors.js'
import { Events } from './events.js'
import { IdWindow } from './id-window.js'
import type { Delivery, LinkSink, TransportLink, TransportListener } from './transport.js'
import { checkFeatures } from './resolve-options.js'
import { parseUrl } from './url.js'

/** Events of {@link Bridge.events}. */
export type BridgeEvents = {
  /** The destination's connection went down (the bridge holds the source back) or came back. */
  status: (state: 'up' | 'down', cause?: SeamError) => void
}

/**
 * Moves every message that arrives on one transport to another, untouched
 * (same tag, id, timestamp, content type, headers, key and body), made by
 * {@link bridge}. A source message is acknowledged only once the destination
 * confirmed its copy, so a bridge that dies loses nothing: the source (where
 * it is persistent) delivers again what was not acknowledged.
 */
export class Bridge implements AsyncDisposable {
  /** Destination status events. */
  readonly events = new Events<BridgeEvents>()
  readonly #listener: TransportListener
  readonly #destination: TransportLink
  readonly #o: ResolvedBridgeOptions
  readonly #sources = new Set<BridgeSource>()
  readonly #abort = new AbortController()
  readonly #shared: BridgeShared
  readonly #stats: BridgeStats = { forwarded: 0, skipped: 0, duplicates: 0, refused: 0, retried: 0, returned: 0 }
  #outage = false
  #closing: Promise<void> | undefined
  #endedBy: SeamError | undefined
  readonly #closed: Promise<void | Error>
  #resolveClosed!: (result: void | Error) => void

  /** @internal Bridges come from {@link bridge}. */
  constructor(listener: TransportListener, destination: TransportLink, o: ResolvedBridgeOptions) {
    this.#listener = listener
    this.#destination = destination
    this.#o = o
    this.#closed = new Promise((resolve) => (this.#resolveClosed = resolve))
    // Each send waiting to retry listens on the signal: up to `concurrency` per source, and a tcp:// bridge has a source per peer (Node warns past 10).
    setMaxListeners(0, this.#abort.signal)
    this.#shared = {
      o,
      destination,
      stats: this.#stats,
      seen: o.dedupe > 0 ? new IdWindow(o.dedupe) : undefined,
      signal: this.#abort.signal,
      refused: (error) => this.#refused(error),
      confirmed: () => void (this.#outage = false),
      ended: (source, error) => this.#sourceEnded(source, error),
    }
    const sink: LinkSink = {
      deliver: (d) => this.#fromDestination(d),
      status: (state, cause) => this.events.emit('status', state, cause),
      ended: (error) => this.#fail(error),
      error: (error) => o.onError(error),
    }
    destination.start(sink)
    listener.start(
      (link) => this.#accept(link),
      (error) => o.onError(error),
    )
  }

  /** The source's URL, with the real port (`tcp://127.0.0.1:40123`) where it listens on one. */
  get url(): string {
    return this.#listener.url
  }

  /** A snapshot of the counters. */
  stats(): BridgeStats {
    return { ...this.#stats }
  }

  /**
   * Takes in no more messages, waits (bounded by `closeTimeoutMs`) for the
   * ones in flight to be confirmed by the destination and acknowledged at the
   * source, hands back to the source whatever is left, then closes both ends.
   * Idempotent; concurrent callers share one promise.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  /**
   * Resolves when the bridge is closed: undefined after `close()` or once a
   * source that ends (a file read to its end) was forwarded whole; the Error
   * when an end failed for good. Never rejects.
   */
  closed(): Promise<void | Error> {
    return this.#closed
  }

  /** `await using b = await bridge(…)` closes it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  async #close(): Promise<void> {
    const deadline = Date.now() + this.#o.closeTimeoutMs
    // A socket listener's close resolves only once its connections are gone, which happens below.
    const listenerClosed = this.#listener.close().catch((err: unknown) => this.#o.onError(toSeamError(err, 'ERR_TRANSPORT', 'closing the bridge source failed')))
    const sources = [...this.#sources]
    for (const s of sources) s.stopReceiving()
    await Promise.all(sources.map((s) => s.idle(deadline)))
    // Past here nothing new is forwarded; a send still waiting on the destination either lands while it closes or is handed back.
    this.#abort.abort()
    for (const s of sources) s.stop()
    await this.#destination.close(Math.max(0, deadline - Date.now())).catch((err: unknown) => this.#o.onError(toSeamError(err, 'ERR_TRANSPORT', 'closing the bridge destination failed')))
    // The destination's close settled every send; their acks and nacks reach the source before it closes.
    await Promise.all(sources.map((s) => s.idle(Math.max(deadline, Date.now() + 1000))))
    await Promise.all(sources.map((s) => s.link.close(Math.max(0, deadline - Date.now())).catch((err: unknown) => this.#o.onError(toSeamError(err, 'ERR_TRANSPORT', 'closing the bridge source failed')))))
    this.#sources.clear()
    await listenerClosed
    this.#resolveClosed(this.#endedBy)
  }

  #accept(link: TransportLink): void {
    if (this.#closing !== undefined) {
      void link.close(0)
      return
    }
    this.#sources.add(new BridgeSource(link, this.#shared))
  }

  /** Reports the first refusal of an outage: every message in flight is refused alike, and each is tried again. */
  #refused(error: SeamError): void {
    if (this.#outage) return
    this.#outage = true
    this.#o.onError(new SeamError(error.code, `the destination refused a message, so the bridge holds the source back and tries again: ${error.message}`, { cause: error }))
  }

  /**
   * A broker, file or pipe source is the bridge's one source: when it ends,
   * so does the bridge (after forwarding what it took in). An accepted
   * connection is one of many; only it is retired.
   */
  #sourceEnded(source: BridgeSource, error: SeamError | undefined): void {
    if (!source.link.features.connected) {
      // A source that ran out (a file read to its end, standard input closed) cannot take back what it handed over:
      // all of it is forwarded first, however long that takes. closeTimeoutMs bounds a close() the user asked for.
      if (error === undefined && this.#closing === undefined) void source.idle(Infinity).then(() => this.close())
      else this.#fail(error)
      return
    }
    if (error !== undefined) this.#o.onError(error)
    if (this.#closing !== undefined) return
    void (async () => {
      source.stopReceiving()
      await source.idle(Date.now() + this.#o.closeTimeoutMs)
      source.stop()
      await source.link.close(0).catch(() => undefined)
      this.#sources.delete(source)
    })()
  }

  #fail(error: SeamError | undefined): void {
    if (error !== undefined && this.#closing === undefined) {
      this.#endedBy = error
      this.#o.onError(error)
    }
    void this.close()
  }

  /** What the destination sends back: a receiver's rejection of a forwarded message, or a reply to a forwarded request. */
  #fromDestination(d: Delivery): void {
    const env = d.envelope
    let error: SeamError
    if (env === undefined) error = d.broken?.error ?? new SeamError('ERR_PROTOCOL', 'the destination sent bytes that are no envelope')
    else if (env.tag === ERROR_TAG) error = errorOfReply(env)
    else {
      error = new SeamError('ERR_UNREGISTERED_TAG', `the destination sent "${env.tag}" back to the bridge, which forwards one way only; it was dropped`, { tag: env.tag, id: env.id })
    }
    this.#o.onError(error)
    const settled = d.ack()
    if (settled instanceof Promise) settled.catch((err: unknown) => this.#o.onError(toSeamError(err, 'ERR_TRANSPORT', 'acknowledging at the destination failed')))
  }
}

/**
 * Forwards every message that arrives on `from` to `to`, untouched: same
 * tag, id, timestamp, content type, headers, key and body. The bridge opens
 * its source itself, as `listen(from)` would (a broker queue or topic is
 * consumed; a `tcp://` URL is listened on, every connecting peer a source),
 * so no message is delivered before the bridge is attached; and it opens
 * `to` as `connect(to)` would (its default destination).
 *
 * A source message is acknowledged only once the destination confirmed its
 * copy (a broker's confirm; a stream transport's outbox). A destination that
 * refuses or is down holds the source back: the message is tried again with
 * backoff, keeping its place in the `concurrency` window, and a full window
 * pauses the source. Nothing is dropped silently: every message ends counted
 * in {@link Bridge.stats}, and every error reaches `onError`.
 *
 * Resolves once both ends are open.
 * @throws SeamError `ERR_BAD_URL`, `ERR_BAD_ARGUMENT` (before anything is
 *   opened), `ERR_TRANSPORT` when an end cannot be opened.
 */
export async function bridge(from: string | URL, to: string | URL, options: BridgeOptions = {}): Promise<Bridge> {
  const source = parseUrl(from)
  const target = parseUrl(to)
  const o = resolveBridgeOptions(options)
  const [sourceProvider, targetProvider] = await Promise.all([providerFor(source), providerFor(target)])
  // The destination first: a source consumes once open, and its first messages need somewhere to go.
  const destination = await targetProvider.connect(target, { ...options.destination })
  let listener: TransportListener | undefined
  try {
    listener = await sourceProvider.listen(source, { ...options.source, concurrency: o.concurrency })
    checkFeatures(o, listener.features, `bridge(${listener.url})`)
    return new Bridge(listener, destination, o)
  } catch (err) {
    await Promise.all([destination.close(0), listener?.close()])
    throw err
  }
}
