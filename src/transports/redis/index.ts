/**
 * The Redis Streams transport (ioredis behind a client interface of its own):
 * `redis://127.0.0.1:6379/orders?group=billing`.
 *
 * `listen` reads a stream in a consumer group (created if missing;
 * listeners sharing a group are competing consumers), acknowledges each
 * entry (`XACK`) once its handler or policy ran, claims entries a dead or
 * hung consumer left pending for `claimIdleMs` (`XAUTOCLAIM`), and sends
 * entries delivered more than `maxDeliveries` times, or rejected, to
 * `<stream>.dlq`. `connect` appends (`XADD`, optionally trimmed) and
 * receives the replies to its requests on a reply stream of its own,
 * deleted on close. ioredis is loaded only when a `redis:` URL is used.
 * @module
 */
import { randomBytes } from 'node:crypto'
import { readConcurrency } from '../../channel/concurrency.js'
import { SeamError } from '../../channel/errors.js'
import { HeldSink } from '../../channel/held-sink.js'
import { singleLinkListener } from '../../channel/single-link.js'
import type { TransportProvider } from '../../channel/transport.js'
import type { ClientFactory } from './client.js'
import { ioredisClient } from './ioredis-client.js'
import { RedisLink } from './link.js'
import { readRedisOptions, type RedisOptions, type ResolvedRedisOptions } from './options.js'

export type { RedisOptions } from './options.js'

interface ProviderOptions {
  redis?: RedisOptions
  connectTimeoutMs?: number
  concurrency?: number
}

// One client library today; another (node-redis) is one more factory behind the same interface.
const factory: ClientFactory = ioredisClient

function client(o: ResolvedRedisOptions, status: HeldSink): ReturnType<ClientFactory> {
  return factory(
    { host: o.host, port: o.port, username: o.username, password: o.password, db: o.db, connectTimeoutMs: o.connectTimeoutMs, reconnect: o.reconnect, extra: o.client, where: o.where },
    { status: (state, cause) => status.status(state, cause === undefined ? undefined : new SeamError('ERR_TRANSPORT', `Redis at ${o.where}: ${cause.message}`, { cause })) },
  )
}

/** The `redis:` scheme. */
export const provider: TransportProvider<ProviderOptions> = {
  scheme: 'redis',
  async connect(url, options) {
    const o = readRedisOptions(url, options, 'connect(redis)')
    const status = new HeldSink()
    return RedisLink.open(await client(o, status), o, { kind: 'connect' }, status)
  },
  async listen(url, options) {
    const o = readRedisOptions(url, options, 'listen(redis)')
    if (o.stream === undefined) throw new SeamError('ERR_BAD_URL', `${o.where}: listen needs a stream to read (redis://host:6379/stream, or the redis.stream option)`)
    if (o.group === undefined) throw new SeamError('ERR_BAD_URL', `${o.where}: listen needs a consumer group (?group=name, or the redis.group option)`)
    const concurrency = readConcurrency(options.concurrency, 'listen(redis)')
    const consumer = o.consumer ?? `seam-${randomBytes(6).toString('hex')}`
    const status = new HeldSink()
    const link = await RedisLink.open(await client(o, status), o, { kind: 'listen', group: o.group, consumer, concurrency }, status)
    // The URL as given, so that listen(server.url) joins the same group as a competing consumer; a password is not shown.
    const shown = new URL(url.href)
    if (shown.password !== '') shown.password = '***'
    return singleLinkListener(shown.href, link)
  },
}
