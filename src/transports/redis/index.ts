/**
 * The Redis Streams transport (ioredis behind a client interface of its own):
 * `redis://127.0.0.1:6379/orders?group=billing`, and `rediss://` over TLS
 * with the `tls` option of the TLS transport (`ca`, `cert`, `key`,
 * `servername`, …).
 *
 * `listen` reads a stream in a consumer group (created if missing;
 * listeners sharing a group are competing consumers), acknowledges each
 * entry (`XACK`) once its handler or policy ran, claims entries a dead or
 * hung consumer left pending for `claimIdleMs` (`XAUTOCLAIM`), and sends
 * entries delivered more than `maxDeliveries` times, or rejected, to
 * `<stream>.dlq`. `connect` appends (`XADD`, optionally trimmed) and
 * receives the replies to its requests on a reply stream of its own,
 * deleted on close. ioredis is loaded only when a `redis:`/`rediss:` URL is used.
 * @module
 */
import { randomBytes } from 'node:crypto'
import type { ConnectionOptions } from 'node:tls'
import { readConcurrency } from '../../channel/concurrency.js'
import { SeamError } from '../../channel/errors.js'
import { HeldSink } from '../../channel/held-sink.js'
import { singleLinkListener } from '../../channel/single-link.js'
import type { TransportProvider } from '../../channel/transport.js'
import type { TlsOptions } from '../tls/options.js'
import type { ClientFactory } from './client.js'
import { ioredisClient } from './ioredis-client.js'
import { RedisLink } from './link.js'
import { readRedisOptions, type RedisOptions, type ResolvedRedisOptions } from './options.js'
import { checkTls, hintTlsOnly, tlsSettings } from './tls.js'

export type { RedisOptions } from './options.js'

interface ProviderOptions {
  redis?: RedisOptions
  /** `rediss://` only: certificates and verification, as for `tls://`. */
  tls?: TlsOptions
  connectTimeoutMs?: number
  concurrency?: number
}

// One client library today; another (node-redis) is one more factory behind the same interface.
const factory: ClientFactory = ioredisClient

async function client(o: ResolvedRedisOptions, out: HeldSink, where: string): ReturnType<ClientFactory> {
  let tls: ConnectionOptions | undefined
  // ioredis retries a failed handshake like a refused connection, until connectTimeoutMs: checked first, a certificate problem is reported at once.
  if (o.tls !== undefined) {
    tls = tlsSettings(o.tls, o.host, where)
    // A `tls` of the user's own in redis.client replaces ours when connecting, so it is what is checked.
    const own = o.client.tls
    if (typeof own === 'object' && own !== null) {
      const raw = own as ConnectionOptions
      await checkTls(o.host, o.port, raw, raw.cert !== undefined || raw.pfx !== undefined, o.where, o.connectTimeoutMs)
    } else {
      await checkTls(o.host, o.port, tls, o.tls.presentsCert, o.where, o.connectTimeoutMs)
    }
  }
  try {
    return await factory(
      { host: o.host, port: o.port, username: o.username, password: o.password, db: o.db, connectTimeoutMs: o.connectTimeoutMs, reconnect: o.reconnect, tls, extra: o.client, where: o.where },
      { status: (state, cause) => out.status(state, cause === undefined ? undefined : new SeamError('ERR_TRANSPORT', `Redis at ${o.where}: ${cause.message}`, { cause })) },
    )
  } catch (err) {
    throw tls === undefined ? hintTlsOnly(err) : err
  }
}

/** The `redis:` and `rediss:` schemes. */
export const provider: TransportProvider<ProviderOptions> = {
  scheme: 'redis',
  async connect(url, options) {
    const where = `connect(${url.protocol.slice(0, -1)})`
    const o = readRedisOptions(url, options, where)
    const out = new HeldSink()
    return RedisLink.open(await client(o, out, where), o, { kind: 'connect' }, out)
  },
  async listen(url, options) {
    const where = `listen(${url.protocol.slice(0, -1)})`
    const o = readRedisOptions(url, options, where)
    if (o.stream === undefined) throw new SeamError('ERR_BAD_URL', `${o.where}: listen needs a stream to read (redis://host:6379/stream, or the redis.stream option)`)
    if (o.group === undefined) throw new SeamError('ERR_BAD_URL', `${o.where}: listen needs a consumer group (?group=name, or the redis.group option)`)
    const concurrency = readConcurrency(options.concurrency, where)
    const consumer = o.consumer ?? `seam-${randomBytes(6).toString('hex')}`
    const out = new HeldSink()
    const link = await RedisLink.open(await client(o, out, where), o, { kind: 'listen', group: o.group, consumer, concurrency }, out)
    // The URL as given, so that listen(server.url) joins the same group as a competing consumer; a password is not shown.
    const shown = new URL(url.href)
    if (shown.password !== '') shown.password = '***'
    return singleLinkListener(shown.href, link)
  },
}
