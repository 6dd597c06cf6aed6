/**
 * The SQS client this transport needs, and nothing more: find a queue, read
 * its attributes, send, receive, delete and change visibility in batches.
 * The AWS SDK sits behind it (aws-client.ts); nothing of the SDK reaches a
 * user or the rest of the transport.
 */

/** A message attribute as SQS carries it; this transport writes only strings. */
export interface Attribute {
  readonly DataType: string
  readonly StringValue?: string | undefined
}

/** One entry of a SendMessageBatch. */
export interface OutgoingMessage {
  readonly body: string
  readonly attributes: Readonly<Record<string, Attribute>>
  /** FIFO queues only. */
  readonly groupId?: string | undefined
  readonly deduplicationId?: string | undefined
}

/** A message as received. */
export interface IncomingMessage {
  readonly messageId: string
  readonly receiptHandle: string
  readonly body: string
  readonly attributes: Readonly<Record<string, Attribute>>
  /** System attributes asked for: `ApproximateReceiveCount`, `SentTimestamp`, `MessageGroupId`, `MessageDeduplicationId`. */
  readonly system: Readonly<Record<string, string>>
}

/** What SQS said about one entry of a batch call that failed. */
export interface EntryFailure {
  /** The entry's index in the call. */
  readonly index: number
  /** SQS's error code, e.g. `InvalidParameterValue`, `ReceiptHandleIsInvalid`. */
  readonly code: string
  readonly message: string
  /** True: the request was wrong (retrying the same entry fails again). */
  readonly senderFault: boolean
}

/** How a batch call ended: every entry not in `failed` succeeded. */
export interface BatchResult {
  readonly failed: readonly EntryFailure[]
}

export interface ReceiveRequest {
  readonly max: number
  readonly waitTimeSeconds: number
  /** Seconds; undefined: the queue's own. */
  readonly visibilityTimeout: number | undefined
}

export interface SqsClient {
  /** The URL of the queue `name` (of `account`, when given). Rejects when it does not exist. */
  queueUrl(name: string, account: string | undefined, signal?: AbortSignal): Promise<string>
  attributes(queueUrl: string, names: readonly string[], signal?: AbortSignal): Promise<Record<string, string>>
  send(queueUrl: string, entries: readonly OutgoingMessage[]): Promise<BatchResult>
  receive(queueUrl: string, request: ReceiveRequest, signal: AbortSignal): Promise<IncomingMessage[]>
  delete(queueUrl: string, receiptHandles: readonly string[]): Promise<BatchResult>
  changeVisibility(queueUrl: string, entries: readonly { readonly receiptHandle: string; readonly seconds: number }[]): Promise<BatchResult>
  /** Releases sockets. Idempotent. */
  close(): void
}

/** Settings a client is built with. */
export interface ClientSettings {
  readonly region: string | undefined
  /** Undefined: the SDK's endpoint for the region. */
  readonly endpoint: string | undefined
  /** Undefined: the SDK's own credential chain. */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string | undefined } | undefined
  /** Sockets to keep: pollers hold one each for their long polls. */
  readonly maxSockets: number
  readonly connectTimeoutMs: number
}

/** Builds a client; loads its library on first use. */
export type ClientFactory = (settings: ClientSettings) => Promise<SqsClient>
