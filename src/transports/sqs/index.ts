/**
 * The Amazon SQS transport (the AWS SDK v3 behind a client interface of its
 * own): `sqs://127.0.0.1:4566/000000000000/orders?region=us-east-1` for a
 * local endpoint, `sqs://sqs.eu-west-1.amazonaws.com/123456789012/orders`
 * or `sqs:///orders?region=eu-west-1` for AWS.
 *
 * `listen` consumes a queue with several long polls in flight, deletes each
 * message in batches once its handler or policy ran, and extends its
 * visibility while it is handled; on a FIFO queue a message group is handled
 * one message at a time, in order, and other groups at the same time.
 * `connect` sends in SendMessageBatch calls, and with a `replyQueue`
 * receives the replies to its requests. The SDK is loaded only when an `sqs:`
 * URL is used.
 * @module
 */
import { readConcurrency } from '../../channel/concurrency.js'
import { SeamError } from '../../channel/errors.js'
import { singleLinkListener } from '../../channel/single-link.js'
import type { TransportProvider } from '../../channel/transport.js'
import { awsClient } from './aws-client.js'
import type { ClientFactory } from './client.js'
import { SqsLink } from './link.js'
import { readSqsOptions, type ResolvedSqsOptions, type SqsOptions } from './options.js'

export type { SqsOptions } from './options.js'

interface ProviderOptions {
  sqs?: SqsOptions
  connectTimeoutMs?: number
  concurrency?: number
}

// One client library today; another is one more factory behind the same interface.
const factory: ClientFactory = awsClient

function client(o: ResolvedSqsOptions, pollers: number): ReturnType<ClientFactory> {
  // Every poller holds a socket for its long poll; sends, deletes and visibility changes need their own.
  return factory({ region: o.region, endpoint: o.endpoint, credentials: o.credentials, maxSockets: pollers + 32, connectTimeoutMs: o.connectTimeoutMs })
}

/** The `sqs:` scheme. */
export const provider: TransportProvider<ProviderOptions> = {
  scheme: 'sqs',
  async connect(url, options) {
    const o = readSqsOptions(url, options, 'connect(sqs)')
    return SqsLink.open(await client(o, o.pollers ?? 2), o, { kind: 'connect' })
  },
  async listen(url, options) {
    const o = readSqsOptions(url, options, 'listen(sqs)')
    if (o.queue === undefined) throw new SeamError('ERR_BAD_URL', `${o.where}: listen needs a queue to consume (sqs://host:port/account/queue, or the sqs.queue option)`)
    const concurrency = readConcurrency(options.concurrency, 'listen(sqs)')
    const link = await SqsLink.open(await client(o, o.pollers ?? 10), o, { kind: 'listen', concurrency })
    // The URL as given (an sqs URL carries no secret), so that listen(server.url) consumes the same queue again.
    return singleLinkListener(url.href, link)
  },
}
