/**
 * The AMQP 0-9-1 transport (RabbitMQ, through amqplib):
 * `amqp://user:pass@host:5672/vhost?queue=billing&exchange=orders&bind=order.*`,
 * and `amqps://` over TLS with the `tls` option of the TLS transport.
 *
 * `listen` consumes a queue (several listeners on one queue compete for its
 * messages); `connect` publishes, and receives the replies to its requests
 * through RabbitMQ's direct reply-to. Publishes are confirmed, deliveries are
 * acknowledged only after their handler or policy ran, the topology is
 * declared when missing, and everything comes back after a reconnect.
 * amqplib is loaded only when an `amqp:` URL is used.
 * @module
 */
import { isIP } from 'node:net'
import { checkServerIdentity, type PeerCertificate } from 'node:tls'
import { SeamError } from '../../channel/errors.js'
import { readConcurrency } from '../../channel/concurrency.js'
import { singleLinkListener } from '../../channel/single-link.js'
import type { TransportProvider } from '../../channel/transport.js'
import { readTlsClient, type TlsOptions } from '../tls/options.js'
import { loadAmqplib } from './client.js'
import { AmqpLink } from './link.js'
import { readAmqpOptions, type AmqpOptions, type ResolvedAmqpOptions } from './options.js'

export type { AmqpOptions } from './options.js'

/** What the provider reads of `connect`/`listen` options. */
interface ProviderOptions {
  amqp?: AmqpOptions
  tls?: TlsOptions
  connectTimeoutMs?: number
  concurrency?: number
}

/** amqps: the same certificate handling as the TLS transport. */
function socketOptions(o: ResolvedAmqpOptions, options: ProviderOptions, where: string): Record<string, unknown> {
  if (o.target.protocol !== 'amqps') return {}
  const tls = readTlsClient(options.tls, where)
  if (tls.insecure) process.emitWarning(`${where}: tls.insecureSkipVerify is set: the RabbitMQ server's certificate is NOT verified`, 'SeamInsecureWarning')
  const servername = tls.servername ?? o.target.hostname
  return {
    secureContext: tls.secureContext,
    // SNI takes names only (Node warns about an IP address); an IP address is still checked against the certificate's IP SANs.
    servername: isIP(servername) === 0 ? servername : undefined,
    rejectUnauthorized: !tls.insecure,
    checkServerIdentity: tls.insecure ? () => undefined : (_host: string, cert: PeerCertificate) => checkServerIdentity(servername, cert),
  }
}

/** The `amqp:` scheme. */
export const provider: TransportProvider<ProviderOptions> = {
  scheme: 'amqp',
  async connect(url, options) {
    const o = readAmqpOptions(url, options, 'connect(amqp)')
    const sockets = socketOptions(o, options, 'connect(amqp)')
    return AmqpLink.open(await loadAmqplib(), o, { replies: true }, sockets)
  },
  async listen(url, options) {
    const o = readAmqpOptions(url, options, 'listen(amqp)')
    const queue = o.topology.queue
    if (queue === undefined) {
      throw new SeamError('ERR_BAD_URL', `${o.target.safeUrl}: listen needs a queue to consume (?queue=name, or the amqp.queue option)`)
    }
    const sockets = socketOptions(o, options, 'listen(amqp)')
    const prefetch = o.prefetch ?? readConcurrency(options.concurrency, 'listen(amqp)')
    const link = await AmqpLink.open(await loadAmqplib(), o, { replies: false, consume: { queue, prefetch } }, sockets)
    return singleLinkListener(o.target.safeUrl, link)
  },
}
