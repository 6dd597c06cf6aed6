import { SeamError } from '../../channel/errors.js'
import { bad, optionChecks } from '../../channel/option-checks.js'
import { decodeUrlPart, type QueryKind, queryOptions } from '../../channel/url.js'

/**
 * The `sqs` option of `connect('sqs://…')` and `listen('sqs://…')`. Most
 * fields can also be given in the URL's query
 * (`sqs://127.0.0.1:4566/000000000000/orders?region=us-east-1&waitTimeSeconds=5`);
 * a field given here wins.
 */
export interface SqsOptions {
  /** The queue: a name, or a full queue URL (`https://sqs.<region>.amazonaws.com/<account>/<queue>`). Default: the URL's path. */
  queue?: string
  /** The AWS region (URL: `region=`). Default: the one in an amazonaws.com host, else the SDK's (AWS_REGION), else `us-east-1` for a local endpoint. */
  region?: string
  /** The SQS endpoint, e.g. `http://127.0.0.1:4566` (default: the URL's host for `sqs://host:port/…`, AWS's for the region otherwise). */
  endpoint?: string
  /** Static credentials. Default: the SDK's own chain; for a local endpoint (`sqs://host:port/…` over plain HTTP), dummy ones. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }
  /** How long a receive waits for a message, 0–20 s (default 20: long polling). */
  waitTimeSeconds?: number
  /** Seconds a received message stays invisible to others; extended while its handler runs (default: the queue's). */
  visibilityTimeout?: number
  /** Receives in flight at once (default: the channel's `concurrency` / 10, from 1 to 10). */
  pollers?: number
  /** Most messages in one SendMessageBatch, 1–10 (default 10). */
  maxBatch?: number
  /** A queue the replies to this channel's requests come back on (`connect`: needed for `request`). One requester per reply queue. */
  replyQueue?: string
  /** Where a rejected message goes when its queue has no redrive policy (default: none; the message is deleted after the rejection was reported). */
  deadLetterQueue?: string
  /** Most messages waiting to be sent (default 100 000); past it `ERR_OUTBOX_FULL`. */
  maxOutboxMessages?: number
  /** Backoff after a failed receive or send, doubling from `initialDelayMs` to `maxDelayMs`, with jitter. */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number }
}

declare module '../../channel/options.js' {
  interface TransportOptions {
    /** SQS: queue, region, endpoint, credentials, polling and batching settings (see {@link SqsOptions}). */
    sqs?: SqsOptions
  }
}

/** A queue as named by the user: a URL, or a name (of an account). */
export type QueueRef = { readonly url: string } | { readonly name: string; readonly account: string | undefined }

/** SQS options with every default filled in. */
export interface ResolvedSqsOptions {
  readonly queue: QueueRef | undefined
  readonly region: string | undefined
  readonly endpoint: string | undefined
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string | undefined } | undefined
  readonly waitTimeSeconds: number
  readonly visibilityTimeout: number | undefined
  readonly pollers: number | undefined
  readonly maxBatch: number
  readonly replyQueue: QueueRef | undefined
  readonly deadLetterQueue: QueueRef | undefined
  readonly maxOutboxMessages: number
  readonly connectTimeoutMs: number
  readonly reconnect: { readonly initialDelayMs: number; readonly maxDelayMs: number }
  /** The URL as given, for messages and `server.url`. */
  readonly where: string
}

const QUERY: Readonly<Record<string, QueryKind>> = {
  region: 'string',
  waitTimeSeconds: 'number',
  visibilityTimeout: 'number',
  pollers: 'number',
  maxBatch: 'number',
  replyQueue: 'string',
  deadLetterQueue: 'string',
  maxOutboxMessages: 'number',
}

/** Dummy credentials for a local endpoint: emulators check no signature, but the SDK signs every request. */
const LOCAL_CREDENTIALS = Object.freeze({ accessKeyId: 'seam-local', secretAccessKey: 'seam-local' })

// sqs.<region>.amazonaws.com (and .com.cn), with or without a FIPS suffix.
const AWS_HOST = /^sqs(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/i
const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$|^[A-Za-z0-9_-]{1,75}\.fifo$/

const { whole } = optionChecks('sqs')

/** A queue option: a URL stays a URL, anything else must be a valid queue name. */
function queueRef(value: unknown, option: string, where: string): QueueRef | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value === '') throw bad(where, `option "sqs.${option}" must be a queue name or URL (got ${JSON.stringify(value)})`)
  if (/^https?:\/\//i.test(value)) return { url: value }
  if (!QUEUE_NAME.test(value)) throw bad(where, `option "sqs.${option}": "${value}" is not a queue name (1–80 letters, digits, "-" and "_", ending in ".fifo" for a FIFO queue)`)
  return { name: value, account: undefined }
}

/** The region in an AWS queue URL or endpoint host, if it is one. */
export function awsRegion(host: string): string | undefined {
  return AWS_HOST.exec(host)?.[1]
}

/** Endpoint, account and queue of the channel URL: `sqs://host:port/account/queue`, `sqs:///queue`, or an AWS host over https. */
function readUrl(url: URL, where: string): { endpoint: string | undefined; region: string | undefined; local: boolean; queue: QueueRef | undefined } {
  if (url.username !== '' || url.password !== '') throw new SeamError('ERR_BAD_URL', `${where}: an sqs URL takes no user or password; give credentials through options (sqs.credentials) or the SDK's chain`)
  if (url.hash !== '') throw new SeamError('ERR_BAD_URL', `${where}: an sqs URL takes no fragment`)
  let segments = url.pathname
    .split('/')
    .filter((s) => s !== '')
    .map((s) => decodeUrlPart(s, 'the path', where))
  if (segments.length > 2) throw new SeamError('ERR_BAD_URL', `${where}: the path is [account/]queue, at most two segments (got "${url.pathname}")`)
  const name = segments.at(-1)
  const account = segments.length === 2 ? segments[0] : undefined
  if (name !== undefined && !QUEUE_NAME.test(name)) throw new SeamError('ERR_BAD_URL', `${where}: "${name}" is not a queue name (1–80 letters, digits, "-" and "_", ending in ".fifo" for a FIFO queue)`)
  if (account !== undefined && !/^\d{12}$/.test(account)) throw new SeamError('ERR_BAD_URL', `${where}: the account "${account}" is not a 12-digit AWS account id`)
  const queue = name === undefined ? undefined : { name, account }
  if (url.hostname === '') return { endpoint: undefined, region: undefined, local: false, queue }
  if (url.port !== '' && !(Number(url.port) > 0)) throw new SeamError('ERR_BAD_URL', `${where}: the port "${url.port}" is not a valid port`)
  const region = awsRegion(url.hostname)
  // An AWS host is spoken to over TLS; any other host is a local endpoint (an emulator) over plain HTTP.
  if (region !== undefined) return { endpoint: `https://${url.host}`, region, local: false, queue }
  return { endpoint: `http://${url.host}`, region: undefined, local: true, queue }
}

/** Reads the URL and the `sqs` option; throws `ERR_BAD_URL` or `ERR_BAD_ARGUMENT` naming the bad part. */
export function readSqsOptions(url: URL, given: { sqs?: SqsOptions; connectTimeoutMs?: number } | undefined, where: string): ResolvedSqsOptions {
  const shown = `sqs://${url.host}${url.pathname}`
  const fromUrl = readUrl(url, shown)
  const raw = given?.sqs
  if (raw !== undefined && (typeof raw !== 'object' || raw === null)) throw bad(where, 'option "sqs" must be an object')
  const o: SqsOptions = { ...(queryOptions(url, shown, QUERY) as SqsOptions), ...raw }
  const queue = raw?.queue === undefined ? fromUrl.queue : queueRef(raw.queue, 'queue', where)
  const queueHost = queue !== undefined && 'url' in queue ? hostOf(queue.url, where) : undefined
  if (o.endpoint !== undefined && (typeof o.endpoint !== 'string' || !/^https?:\/\/[^/]+\/?$/i.test(o.endpoint))) throw bad(where, `option "sqs.endpoint" must be http(s)://host[:port] (got ${JSON.stringify(o.endpoint)})`)
  if (o.region !== undefined && (typeof o.region !== 'string' || !/^[a-z0-9-]+$/.test(o.region))) throw bad(where, `option "sqs.region" must be a region name such as us-east-1 (got ${JSON.stringify(o.region)})`)
  const c = o.credentials
  if (c !== undefined && (typeof c !== 'object' || c === null || typeof c.accessKeyId !== 'string' || typeof c.secretAccessKey !== 'string')) {
    throw bad(where, 'option "sqs.credentials" must be { accessKeyId, secretAccessKey, sessionToken? }')
  }
  // A queue URL not on AWS names its endpoint too (an emulator's queue URL).
  const endpoint = o.endpoint ?? fromUrl.endpoint ?? (queueHost !== undefined && queueHost.region === undefined ? queueHost.origin : undefined)
  const local = o.endpoint === undefined ? fromUrl.local || (queueHost !== undefined && queueHost.region === undefined) : !/^https:/i.test(o.endpoint)
  const connectTimeoutMs = given?.connectTimeoutMs ?? 10_000
  if (typeof connectTimeoutMs !== 'number' || !(connectTimeoutMs > 0)) throw bad(where, `option "connectTimeoutMs" must be a positive number (got ${JSON.stringify(connectTimeoutMs)})`)
  const r = o.reconnect
  if (r !== undefined && (typeof r !== 'object' || r === null)) throw bad(where, 'option "sqs.reconnect" must be { initialDelayMs, maxDelayMs }')
  return {
    queue,
    region: o.region ?? fromUrl.region ?? queueHost?.region ?? (local ? 'us-east-1' : undefined),
    endpoint,
    credentials: c ?? (local ? LOCAL_CREDENTIALS : undefined),
    waitTimeSeconds: whole(o.waitTimeSeconds, 'waitTimeSeconds', 0, 20, where) ?? 20,
    visibilityTimeout: whole(o.visibilityTimeout, 'visibilityTimeout', 1, 43_200, where),
    pollers: whole(o.pollers, 'pollers', 1, 100, where),
    maxBatch: whole(o.maxBatch, 'maxBatch', 1, 10, where) ?? 10,
    replyQueue: queueRef(o.replyQueue, 'replyQueue', where),
    deadLetterQueue: queueRef(o.deadLetterQueue, 'deadLetterQueue', where),
    maxOutboxMessages: whole(o.maxOutboxMessages, 'maxOutboxMessages', 1, Number.MAX_SAFE_INTEGER, where) ?? 100_000,
    connectTimeoutMs,
    reconnect: {
      initialDelayMs: whole(r?.initialDelayMs, 'reconnect.initialDelayMs', 1, 3_600_000, where) ?? 100,
      maxDelayMs: whole(r?.maxDelayMs, 'reconnect.maxDelayMs', 1, 3_600_000, where) ?? 5000,
    },
    where: shown,
  }
}

function hostOf(queueUrl: string, where: string): { origin: string; region: string | undefined } {
  let u: URL
  try {
    u = new URL(queueUrl)
  } catch (err) {
    throw bad(where, `option "sqs.queue": "${queueUrl}" is not a valid URL`, err)
  }
  return { origin: u.origin, region: awsRegion(u.hostname) }
}
