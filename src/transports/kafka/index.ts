/**
 * The Kafka transport (kafkajs behind a client interface of its own):
 * `kafka://b1:9092,b2:9092/orders?group=billing`.
 *
 * `listen` consumes topics in a consumer group: messages of one key are
 * handled one at a time and in order, different keys (even on one partition)
 * at the same time up to the channel's `concurrency`, and each partition's
 * offset is committed up to the first record not yet handled. `connect`
 * produces in batches (acks -1), and with a `replyTopic` receives the replies
 * to its requests. kafkajs is loaded only when a `kafka:` URL is used.
 * @module
 */
import { SeamError } from '../../channel/errors.js'
import { singleLinkListener } from '../../channel/single-link.js'
import type { TransportProvider } from '../../channel/transport.js'
import type { ClientFactory } from './client.js'
import { kafkajsClient } from './kafkajs-client.js'
import { KafkaLink } from './link.js'
import { readKafkaOptions, type KafkaOptions, type ResolvedKafkaOptions } from './options.js'

export type { KafkaOptions } from './options.js'

interface ProviderOptions {
  kafka?: KafkaOptions
  connectTimeoutMs?: number
}

// One client library today; another is one more factory behind the same interface.
const factory: ClientFactory = kafkajsClient

function client(o: ResolvedKafkaOptions): ReturnType<ClientFactory> {
  return factory({ brokers: o.brokers, clientId: o.clientId, connectTimeoutMs: o.connectTimeoutMs, extra: o.client })
}

/** The `kafka:` scheme. */
export const provider: TransportProvider<ProviderOptions> = {
  scheme: 'kafka',
  async connect(url, options) {
    const o = readKafkaOptions(url, options, 'connect(kafka)')
    return KafkaLink.open(await client(o), o, { kind: 'connect' })
  },
  async listen(url, options) {
    const o = readKafkaOptions(url, options, 'listen(kafka)')
    if (o.topics.length === 0) throw new SeamError('ERR_BAD_URL', `${o.where}: listen needs a topic to consume (kafka://host:9092/topic)`)
    if (o.groupId === undefined) throw new SeamError('ERR_BAD_URL', `${o.where}: listen needs a consumer group (?group=name, or the kafka.groupId option)`)
    const link = await KafkaLink.open(await client(o), o, { kind: 'listen', groupId: o.groupId })
    return singleLinkListener(`${o.where}?group=${encodeURIComponent(o.groupId)}`, link)
  },
}
