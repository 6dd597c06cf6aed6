import { SeamError } from '../../channel/errors.js'
import type { SqsClient } from './client.js'
import { sqsError } from './errors.js'
import type { QueueRef } from './options.js'

/** SQS's largest message today (1 MiB); a queue may set a lower `MaximumMessageSize`. Also the limit of a whole batch request. */
export const SQS_MAX_MESSAGE_BYTES = 1024 * 1024

/** What this transport needs to know of a queue, read once. */
export interface QueueInfo {
  readonly url: string
  readonly name: string
  readonly fifo: boolean
  /** The queue's `MaximumMessageSize`: a larger message is refused before sending. */
  readonly maxBytes: number
  /** The queue's `VisibilityTimeout`, seconds. */
  readonly visibilitySeconds: number
  /** The queue has a redrive policy: SQS moves a message received too often to its dead-letter queue. */
  readonly redrive: boolean
}

/**
 * Finds queues by name or URL and reads their attributes, once per queue:
 * a channel's own queue when it opens, and each destination (`to`, a reply
 * address, a dead-letter queue) before the first message goes there.
 */
export class Queues {
  readonly #known = new Map<string, Promise<QueueInfo>>()

  constructor(
    private readonly client: SqsClient,
    private readonly endpoint: string,
  ) {}

  /**
   * The queue `ref` names (a URL, a name, or a `to` string that is either).
   * `timeoutMs`: fail with `ERR_TRANSPORT` when SQS does not answer within it.
   * @throws SeamError `ERR_TRANSPORT` naming the queue when it does not exist or SQS cannot be reached.
   */
  get(ref: QueueRef | string, timeoutMs?: number): Promise<QueueInfo> {
    const r: QueueRef = typeof ref !== 'string' ? ref : /^https?:\/\//i.test(ref) ? { url: ref } : { name: ref, account: undefined }
    const key = 'url' in r ? r.url : `${r.account ?? ''}/${r.name}`
    let info = this.#known.get(key)
    if (info === undefined) {
      info = this.#read(r, timeoutMs)
      this.#known.set(key, info)
      // A queue that was missing may be created later: ask again next time.
      info.catch(() => this.#known.delete(key))
    }
    return info
  }

  async #read(r: QueueRef, timeoutMs: number | undefined): Promise<QueueInfo> {
    const shown = 'url' in r ? r.url : r.account === undefined ? `"${r.name}"` : `"${r.name}" of account ${r.account}`
    const signal = timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs)
    try {
      const url = 'url' in r ? r.url : await this.client.queueUrl(r.name, r.account, signal)
      const a = await this.client.attributes(url, ['All'], signal)
      const name = decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '')
      const max = Number(a.MaximumMessageSize)
      const visibility = Number(a.VisibilityTimeout)
      return {
        url,
        name,
        fifo: a.FifoQueue === 'true' || name.endsWith('.fifo'),
        maxBytes: Number.isSafeInteger(max) && max > 0 ? Math.min(max, SQS_MAX_MESSAGE_BYTES) : SQS_MAX_MESSAGE_BYTES,
        visibilitySeconds: Number.isSafeInteger(visibility) ? visibility : 30,
        redrive: typeof a.RedrivePolicy === 'string' && a.RedrivePolicy !== '',
      }
    } catch (err) {
      if (signal?.aborted === true) {
        throw new SeamError('ERR_TRANSPORT', `looking up SQS queue ${shown}: no answer from ${this.endpoint} within connectTimeoutMs (${timeoutMs} ms): is it running, and is the address right?`, { cause: err, retriable: true })
      }
      throw sqsError(err, `looking up SQS queue ${shown}`, this.endpoint)
    }
  }
}
