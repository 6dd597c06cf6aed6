/**
 * The SQS the SQS tests run against: a fauxqs started in-process on a free
 * loopback port for each test file that calls {@link useSqs}, or the endpoint
 * `SQS_ENDPOINT` names (ElasticMQ, LocalStack: `http://127.0.0.1:4566`; AWS:
 * `https://sqs.us-east-1.amazonaws.com` with credentials from the SDK's chain).
 *
 * Every queue a test makes comes from {@link freshQueue}: a random name,
 * deleted after the test.
 */
import { randomBytes } from 'node:crypto'
import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs'
import { startFauxqs } from 'fauxqs'
import { afterAll, afterEach, beforeAll } from 'vitest'

interface Target {
  /** Where the SDK sends requests, e.g. `http://127.0.0.1:41234`. */
  readonly endpoint: string
  readonly region: string
  /** A local endpoint: plain HTTP, dummy credentials. */
  readonly local: boolean
  readonly stop: (() => Promise<void>) | undefined
  readonly client: SQSClient
  /** Queues made by the test running now, deleted after it. */
  readonly made: string[]
}
let target: Target | undefined

/** The credentials a local endpoint gets: it checks no signature. */
const DUMMY = { accessKeyId: 'seam-test', secretAccessKey: 'seam-test' }

/**
 * Gives this test file an SQS endpoint: starts fauxqs before its tests and
 * stops it after, or uses `SQS_ENDPOINT` as it is. Deletes the queues each
 * test made after it.
 */
export function useSqs(): void {
  beforeAll(async () => {
    const external = process.env.SQS_ENDPOINT
    const region = process.env.SQS_REGION ?? 'us-east-1'
    if (external === undefined || external === '') {
      const server = await startFauxqs({ port: 0, logger: false, host: 'localhost' })
      // fauxqs answers on every interface; the tests speak to it on loopback only.
      const endpoint = `http://127.0.0.1:${server.port}`
      target = { endpoint, region, local: true, stop: () => server.stop(), client: client(endpoint, region, true), made: [] }
      return
    }
    const local = !external.startsWith('https:')
    target = { endpoint: external.replace(/\/$/, ''), region, local, stop: undefined, client: client(external, region, local), made: [] }
  }, 20_000)
  afterEach(async () => {
    const t = target
    if (t === undefined) return
    await Promise.all(t.made.splice(0).map((url) => t.client.send(new DeleteQueueCommand({ QueueUrl: url })).catch(() => undefined)))
  })
  afterAll(async () => {
    const t = target
    target = undefined
    t?.client.destroy()
    await t?.stop?.()
  }, 20_000)
}

function client(endpoint: string, region: string, local: boolean): SQSClient {
  return new SQSClient({ endpoint, region, ...(local ? { credentials: DUMMY } : {}) })
}

function current(what: string): Target {
  if (target === undefined) throw new Error(`${what}() needs an SQS endpoint: call useSqs() at the top of the test file, and ${what}() inside a test or hook`)
  return target
}

/** What a test gets of a queue it made. */
export interface TestQueue {
  readonly name: string
  readonly url: string
  readonly arn: string
  /** The channel URL of the queue, with the region and a short long-poll wait. */
  readonly channelUrl: string
}

/** Settings of a {@link freshQueue}. */
export interface QueueSettings {
  readonly fifo?: boolean
  /** Seconds (default 30, SQS's). */
  readonly visibilityTimeout?: number
  /** A dead-letter queue and how often a message may be received before SQS moves it there. */
  readonly redrive?: { readonly deadLetter: TestQueue; readonly maxReceiveCount: number }
  readonly maximumMessageSize?: number
}

/** A queue of a random name, deleted after the test. */
export async function freshQueue(settings: QueueSettings = {}): Promise<TestQueue> {
  const t = current('freshQueue')
  const name = `seam-test-${randomBytes(5).toString('hex')}${settings.fifo === true ? '.fifo' : ''}`
  const Attributes: Record<string, string> = {}
  if (settings.fifo === true) Attributes.FifoQueue = 'true'
  if (settings.visibilityTimeout !== undefined) Attributes.VisibilityTimeout = String(settings.visibilityTimeout)
  if (settings.maximumMessageSize !== undefined) Attributes.MaximumMessageSize = String(settings.maximumMessageSize)
  if (settings.redrive !== undefined) Attributes.RedrivePolicy = JSON.stringify({ deadLetterTargetArn: settings.redrive.deadLetter.arn, maxReceiveCount: settings.redrive.maxReceiveCount })
  const { QueueUrl } = await t.client.send(new CreateQueueCommand({ QueueName: name, Attributes }))
  const url = QueueUrl as string
  t.made.push(url)
  const { Attributes: a } = await t.client.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }))
  return { name, url, arn: a?.QueueArn as string, channelUrl: channelUrl(name) }
}

/** `sqs://…/<name>?region=…&waitTimeSeconds=1`: the channel URL of queue `name` on this file's endpoint. */
export function channelUrl(name: string): string {
  const t = current('channelUrl')
  const host = new URL(t.endpoint).host
  // On a local endpoint the path names fauxqs's (and LocalStack's) account, as a user copies it from a queue URL.
  const path = t.local && process.env.SQS_ENDPOINT === undefined ? `000000000000/${name}` : name
  return `sqs://${host}/${path}?region=${t.region}&waitTimeSeconds=1`
}

/** A plain SDK client for this file's endpoint, for what a test does or checks behind the library's back. Destroyed with the endpoint. */
export function rawSqs(): SQSClient {
  return current('rawSqs').client
}

/** The endpoint this file's tests use. */
export function sqsEndpoint(): string {
  return current('sqsEndpoint').endpoint
}

/** Messages visible and in flight on `q`, as SQS counts them. */
export async function queueCounts(q: TestQueue): Promise<{ visible: number; inFlight: number }> {
  const { Attributes: a } = await rawSqs().send(new GetQueueAttributesCommand({ QueueUrl: q.url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }))
  return { visible: Number(a?.ApproximateNumberOfMessages), inFlight: Number(a?.ApproximateNumberOfMessagesNotVisible) }
}

/** Resolves once `check()` resolves true, asking every 20 ms; fails naming `what` after `ms`. */
export async function eventually(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** Receives from `q` with a plain SDK consumer (every attribute, nothing deleted) until `n` messages came, for at most `timeoutMs`. */
export async function receiveRaw(q: TestQueue, n: number, timeoutMs: number): Promise<Message[]> {
  const got: Message[] = []
  const deadline = Date.now() + timeoutMs
  while (got.length < n && Date.now() < deadline) {
    const out = await rawSqs().send(new ReceiveMessageCommand({ QueueUrl: q.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'] }))
    got.push(...(out.Messages ?? []))
  }
  return got
}
