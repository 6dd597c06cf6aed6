/**
 * The {@link SqsClient} on the AWS SDK v3 (`@aws-sdk/client-sqs`). Everything
 * SDK-specific is here: its commands, its request handler (keep-alive
 * sockets, enough for every poller's long poll) and its shapes. The SDK is
 * imported on first use, so a user of another transport never loads it.
 */
import { SeamError } from '../../channel/errors.js'
import type { Attribute, BatchResult, ClientFactory, ClientSettings, EntryFailure, IncomingMessage, OutgoingMessage, ReceiveRequest, SqsClient } from './client.js'

/* The slice of the SDK used here, typed locally: users never see an SDK type. */
type Command = object
type CommandClass = new (input: Record<string, unknown>) => Command
interface SdkClient {
  send(command: Command, options?: { abortSignal?: AbortSignal }): Promise<Record<string, unknown>>
  destroy(): void
}
interface SdkModule {
  SQSClient: new (config: Record<string, unknown>) => SdkClient
  GetQueueUrlCommand: CommandClass
  GetQueueAttributesCommand: CommandClass
  SendMessageBatchCommand: CommandClass
  ReceiveMessageCommand: CommandClass
  DeleteMessageBatchCommand: CommandClass
  ChangeMessageVisibilityBatchCommand: CommandClass
}
interface SdkFailure {
  Id?: string
  Code?: string
  Message?: string
  SenderFault?: boolean
}
interface SdkMessage {
  MessageId?: string
  ReceiptHandle?: string
  Body?: string
  Attributes?: Record<string, string>
  MessageAttributes?: Record<string, Attribute>
}

let loaded: Promise<SdkModule> | undefined

/**
 * Imports the SDK once.
 * @throws SeamError `ERR_TRANSPORT` saying how to install it when it is missing.
 */
export function loadSdk(): Promise<SdkModule> {
  loaded ??= import('@aws-sdk/client-sqs').then(
    (mod: unknown) => mod as SdkModule,
    (err: unknown) => {
      loaded = undefined
      throw new SeamError('ERR_TRANSPORT', 'sqs:// needs the @aws-sdk/client-sqs package, which is not installed: npm install @aws-sdk/client-sqs', { cause: err, retriable: false })
    },
  )
  return loaded
}

// Asked for on every receive: what the envelope falls back on when a plain producer sent the message, and the redelivery count.
const SYSTEM_ATTRIBUTES = ['ApproximateReceiveCount', 'SentTimestamp', 'MessageGroupId', 'MessageDeduplicationId']
const ALL = ['All']
const NONE: Readonly<Record<string, never>> = Object.freeze({})
// A request on a connection that went silent fails after this long (a long poll waits at most 20 s of it).
const REQUEST_TIMEOUT_MS = 30_000

/** Entry ids are the entries' indexes: short, and a failure maps back without a lookup table. */
function failures(list: unknown): EntryFailure[] {
  if (!Array.isArray(list) || list.length === 0) return []
  return (list as SdkFailure[]).map((f) => ({ index: Number(f.Id), code: f.Code ?? 'Unknown', message: f.Message ?? '', senderFault: f.SenderFault === true }))
}

class AwsSqsClient implements SqsClient {
  constructor(
    private readonly sdk: SdkModule,
    private readonly client: SdkClient,
  ) {}

  async queueUrl(name: string, account: string | undefined, signal?: AbortSignal): Promise<string> {
    const input: Record<string, unknown> = { QueueName: name }
    if (account !== undefined) input.QueueOwnerAWSAccountId = account
    const out = await this.client.send(new this.sdk.GetQueueUrlCommand(input), { abortSignal: signal })
    return out.QueueUrl as string
  }

  async attributes(queueUrl: string, names: readonly string[], signal?: AbortSignal): Promise<Record<string, string>> {
    const out = await this.client.send(new this.sdk.GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: names }), { abortSignal: signal })
    return (out.Attributes as Record<string, string> | undefined) ?? {}
  }

  async send(queueUrl: string, entries: readonly OutgoingMessage[]): Promise<BatchResult> {
    const Entries = entries.map((e, i) => {
      const entry: Record<string, unknown> = { Id: String(i), MessageBody: e.body, MessageAttributes: e.attributes }
      if (e.groupId !== undefined) entry.MessageGroupId = e.groupId
      if (e.deduplicationId !== undefined) entry.MessageDeduplicationId = e.deduplicationId
      return entry
    })
    const out = await this.client.send(new this.sdk.SendMessageBatchCommand({ QueueUrl: queueUrl, Entries }))
    return { failed: failures(out.Failed) }
  }

  async receive(queueUrl: string, r: ReceiveRequest, signal: AbortSignal): Promise<IncomingMessage[]> {
    const input: Record<string, unknown> = { QueueUrl: queueUrl, MaxNumberOfMessages: r.max, WaitTimeSeconds: r.waitTimeSeconds, MessageAttributeNames: ALL, MessageSystemAttributeNames: SYSTEM_ATTRIBUTES }
    if (r.visibilityTimeout !== undefined) input.VisibilityTimeout = r.visibilityTimeout
    const out = await this.client.send(new this.sdk.ReceiveMessageCommand(input), { abortSignal: signal })
    const messages = out.Messages as SdkMessage[] | undefined
    if (messages === undefined) return []
    return messages.map((m) => ({
      messageId: m.MessageId ?? '',
      receiptHandle: m.ReceiptHandle ?? '',
      body: m.Body ?? '',
      attributes: m.MessageAttributes ?? NONE,
      system: m.Attributes ?? NONE,
    }))
  }

  async delete(queueUrl: string, receiptHandles: readonly string[]): Promise<BatchResult> {
    const out = await this.client.send(new this.sdk.DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: receiptHandles.map((h, i) => ({ Id: String(i), ReceiptHandle: h })) }))
    return { failed: failures(out.Failed) }
  }

  async changeVisibility(queueUrl: string, entries: readonly { readonly receiptHandle: string; readonly seconds: number }[]): Promise<BatchResult> {
    const Entries = entries.map((e, i) => ({ Id: String(i), ReceiptHandle: e.receiptHandle, VisibilityTimeout: e.seconds }))
    const out = await this.client.send(new this.sdk.ChangeMessageVisibilityBatchCommand({ QueueUrl: queueUrl, Entries }))
    return { failed: failures(out.Failed) }
  }

  close(): void {
    this.client.destroy()
  }
}

/** The AWS SDK behind {@link SqsClient}. */
export const awsClient: ClientFactory = async (s: ClientSettings) => {
  const sdk = await loadSdk()
  const config: Record<string, unknown> = {
    // A connection that cannot be made fails within connectTimeoutMs; a long poll may take its full wait.
    requestHandler: { connectionTimeout: s.connectTimeoutMs, requestTimeout: REQUEST_TIMEOUT_MS, httpAgent: { keepAlive: true, maxSockets: s.maxSockets }, httpsAgent: { keepAlive: true, maxSockets: s.maxSockets } },
  }
  if (s.region !== undefined) config.region = s.region
  if (s.endpoint !== undefined) config.endpoint = s.endpoint
  // A copy: the SDK writes into the object it is given.
  if (s.credentials !== undefined) config.credentials = { ...s.credentials }
  return new AwsSqsClient(sdk, new sdk.SQSClient(config))
}
