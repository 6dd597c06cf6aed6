/**
 * The in-process transport: `memory://queue`, through a {@link MemoryHub}
 * passed as the `hub` option. Queue semantics (acks, redelivery, ordering by
 * key) without a broker: the embedded default for demos and fast tests.
 * @module
 */
import type { Envelope } from '../../channel/envelope.js'
import { newId } from '../../channel/id.js'
import { SeamError } from '../../channel/errors.js'
import type { LinkSink, RouteOptions, TransportFeatures, TransportLink, TransportListener, TransportProvider } from '../../channel/transport.js'
import { MemoryHub, type Subscription } from './hub.js'

export { MemoryHub, type MemoryQueueOptions } from './hub.js'

declare module '../../channel/options.js' {
  interface TransportOptions {
    /** memory: the hub the channel meets its peers through (required for memory:// URLs). */
    hub?: MemoryHub
    /** memory: most unacknowledged deliveries per consumer (default 1000). */
    prefetch?: number
  }
}

/** Options of the memory transport. */
export interface MemoryOptions {
  hub?: MemoryHub
  prefetch?: number
}

const FEATURES: TransportFeatures = Object.freeze({ reply: true, connected: false, persistent: false, orderingByKey: true, orderedWithoutKey: true, redelivery: true })
const RESOLVED = Promise.resolve()

class MemoryLink implements TransportLink {
  readonly name = 'memory'
  readonly features = FEATURES
  readonly peer = undefined
  #subscription: Subscription | undefined
  #paused = false
  #closed = false

  constructor(
    readonly hub: MemoryHub,
    readonly defaultTo: string,
    readonly consumeFrom: string,
    readonly replyAddress: string | undefined,
    readonly prefetch: number,
  ) {}

  start(sink: LinkSink): void {
    this.#subscription = this.hub.queue(this.consumeFrom).subscribe({ prefetch: this.prefetch, deliver: (d) => sink.deliver(d) })
    if (this.#paused) this.#subscription.pause()
  }

  pause(): void {
    this.#paused = true
    this.#subscription?.pause()
  }

  resume(): void {
    this.#paused = false
    this.#subscription?.resume()
  }

  stopReceiving(): void {
    // A private reply queue only ever holds replies, which a closing channel still awaits.
    if (this.consumeFrom !== this.replyAddress) this.#subscription?.cancel()
  }

  send(envelope: Envelope, route?: RouteOptions): Promise<void> {
    if (this.#closed) return Promise.reject(new SeamError('ERR_CLOSED', `the memory channel is closed; cannot send "${envelope.tag}"`))
    try {
      this.hub.queue(route?.to ?? this.defaultTo).publish(envelope, route?.key)
    } catch (err) {
      return Promise.reject(err)
    }
    return RESOLVED
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#subscription?.cancel()
    if (this.replyAddress !== undefined) this.hub.delete(this.replyAddress)
  }
}

function queueName(url: URL): string {
  const name = decodeURIComponent(url.hostname)
  if (name === '') throw new SeamError('ERR_BAD_URL', `${url.href}: the queue name is missing (memory://name)`)
  if (url.pathname !== '' && url.pathname !== '/') throw new SeamError('ERR_BAD_URL', `${url.href}: a memory URL has no path (memory://name)`)
  return name
}

function readHub(options: MemoryOptions, where: string): MemoryHub {
  if (!(options.hub instanceof MemoryHub)) {
    throw new SeamError('ERR_BAD_ARGUMENT', `${where}: option "hub" must be a MemoryHub; in-process channels meet only through a hub you create (new MemoryHub())`)
  }
  return options.hub
}

/** The `memory:` scheme. */
export const provider: TransportProvider<MemoryOptions> = {
  scheme: 'memory',
  async connect(url, options) {
    const queue = queueName(url)
    const hub = readHub(options, 'connect(memory)')
    const replies = `${queue}.reply.${newId()}`
    return new MemoryLink(hub, queue, replies, replies, options.prefetch ?? 1000)
  },
  async listen(url, options) {
    const queue = queueName(url)
    const hub = readHub(options, 'listen(memory)')
    const prefetch = options.prefetch ?? 1000
    const listener: TransportListener = {
      url: `memory://${queue}`,
      features: FEATURES,
      start: (onLink) => onLink(new MemoryLink(hub, queue, queue, undefined, prefetch)),
      close: async () => undefined,
    }
    return listener
  },
}
