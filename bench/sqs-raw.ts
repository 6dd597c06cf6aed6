/**
 * The SQS baselines: what an SDK user writes for the same work as our
 * transport does, on the same endpoint in the same run. Each encodes the same
 * msgpack payload (base64 in the body, the tag in a `seam-tag` attribute,
 * as ours) and decode every message they receive.
 *
 * - loop (naive): a loop awaiting one SendMessage per message, and one
 *   DeleteMessage per message received;
 * - concurrent (naive, less so): one SendMessage per message but as many in
 *   flight as ours keeps sends outstanding, one DeleteMessage per message;
 * - batched: SendMessageBatch of ten, eight calls in flight (as ours), one
 *   DeleteMessageBatch per receive.
 *
 * Every side receives with as many pollers as ours, ten messages a receive.
 *
 * One Encoder and one Decoder serve the whole run.
 */
import { DeleteMessageBatchCommand, DeleteMessageCommand, ReceiveMessageCommand, SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs'
import { Decoder, Encoder } from '@msgpack/msgpack'
import { InFlight, finished } from './amqp-window.js'
import { ItemMsg, item } from './payload.js'
import { timed, type Sample } from './broker-run.js'
import type { Endpoint } from './sqs-endpoint.js'

/** How much work one run does, the same for every side. */
export interface Load {
  n: number
  /** Receives in flight at once. */
  pollers: number
  /** Sends outstanding at once (messages). */
  window: number
}

const TAG = { 'seam-tag': { DataType: 'String', StringValue: ItemMsg.tag } }

/** Receives with `pollers` loops until `n` messages were decoded and deleted. */
async function consume(client: SQSClient, queueUrl: string, n: number, pollers: number, batchedDeletes: boolean): Promise<void> {
  const decoder = new Decoder()
  let count = 0
  const loop = async (): Promise<void> => {
    while (count < n) {
      const out = await client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }))
      const messages = out.Messages ?? []
      for (const m of messages) decoder.decode(Buffer.from(m.Body ?? '', 'base64'))
      if (batchedDeletes) {
        if (messages.length > 0) await client.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle as string })) }))
      } else {
        await Promise.all(messages.map((m) => client.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle as string }))))
      }
      count += messages.length
    }
  }
  await Promise.all(Array.from({ length: pollers }, loop))
}

/** How a baseline sends; see the top of this file. */
export type RawMode = 'loop' | 'concurrent' | 'batched'

/** A run of a baseline on a fresh queue. */
export async function rawOneWay(endpoint: Endpoint, load: Load, mode: RawMode): Promise<Sample> {
  const batched = mode === 'batched'
  const { url } = await endpoint.freshQueue()
  const client = endpoint.client()
  try {
    const encoder = new Encoder()
    const body = (i: number): string => Buffer.from(encoder.encode(item(i))).toString('base64')
    const produce = async (): Promise<void> => {
      const window = new InFlight(load.window)
      if (mode === 'loop') {
        for (let i = 0; i < load.n; i++) await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body(i), MessageAttributes: TAG }))
      } else if (mode === 'concurrent') {
        for (let i = 0; i < load.n; i++) {
          await window.take()
          client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body(i), MessageAttributes: TAG })).then(() => window.release(), (err: unknown) => window.release(err))
        }
      } else {
        for (let i = 0; i < load.n; ) {
          const end = Math.min(load.n, i + 10)
          const Entries = []
          for (let k = 0; i < end; i++, k++) Entries.push({ Id: String(k), MessageBody: body(i), MessageAttributes: TAG })
          // The window counts messages, as ours does: a batch holds as many slots as it has entries.
          for (let k = 0; k < Entries.length; k++) await window.take()
          const size = Entries.length
          client.send(new SendMessageBatchCommand({ QueueUrl: url, Entries })).then(
            () => {
              for (let k = 0; k < size; k++) window.release()
            },
            (err: unknown) => {
              for (let k = 0; k < size; k++) window.release(err)
            },
          )
        }
      }
      await window.drained()
    }
    return await timed(load.n, () => finished(`sqs ${mode} baseline`, [produce(), consume(client, url, load.n, load.pollers, batched)]))
  } finally {
    client.destroy()
    await endpoint.deleteQueue(url)
  }
}
