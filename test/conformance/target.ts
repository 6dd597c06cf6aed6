import type { Channel, ConnectOptions, ListenOptions, Server, TransportFeatures } from '../../src/index.js'

/**
 * One transport as the conformance suite sees it. Each transport's
 * `*.test.ts` in this folder builds one and calls `runConformance(target)`.
 */
export interface ConformanceTarget {
  /** Transport name as the channel reports it (`channel.transport`). */
  readonly name: string
  /** Which setup of the transport, where a file runs the suite more than once (e.g. `FIFO queue`). */
  readonly variant?: string
  /** What the transport promises; the suite tests exactly these promises. */
  readonly features: Pick<TransportFeatures, 'reply' | 'connected' | 'persistent' | 'orderingByKey' | 'orderedWithoutKey' | 'redelivery'>
  /**
   * Starts a server (listen) with `serverOptions` and a client connected to
   * it with `clientOptions`. Extra transport options (hub, tls, …) are the
   * target's business. Everything it starts is closed by the suite.
   */
  pair(serverOptions: ListenOptions, clientOptions: ConnectOptions): Promise<{ server: Server; client: Channel }>
  /**
   * Another listener consuming what `server` consumes (a competing consumer
   * on the same queue), where the transport has such a thing. Closed by the suite.
   */
  competing?(server: Server, serverOptions: ListenOptions): Promise<Server>
  /** URLs of this scheme that must fail with ERR_BAD_URL. */
  readonly badUrls: readonly string[]
}
