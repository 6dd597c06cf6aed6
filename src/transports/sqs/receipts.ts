import { SeamError } from '../../channel/errors.js'
import { backoff, sleep } from '../../channel/timers.js'
import type { BatchResult, SqsClient } from './client.js'
import { isTransient, sqsError } from './errors.js'

interface Entry {
  readonly receiptHandle: string
  /** For a visibility change: the new timeout, seconds. */
  readonly seconds: number
  readonly resolve: () => void
  readonly reject: (err: SeamError) => void
}

type Kind = 'delete' | 'visibility'

// SQS's limit on entries per batch call.
const MAX_ENTRIES = 10
// A failed call is tried this often before its entries are given up (a delete given up means the message comes again).
const ATTEMPTS = 4
// Batch calls in flight at once, deletes and visibility changes together.
const MAX_IN_FLIGHT = 8

/**
 * DeleteMessageBatch and ChangeMessageVisibilityBatch without the caller
 * asking: receipts settled in the same turn go in calls of ten, per queue.
 * Each caller's promise settles with its own entry's result, so a failed
 * entry is reported, never ignored.
 */
export class ReceiptCalls {
  readonly #pending = new Map<string, Entry[]>()
  #count = 0
  #inFlight = 0
  #scheduled = false
  readonly #stop = new AbortController()
  #onIdle: (() => void) | undefined

  constructor(
    private readonly client: SqsClient,
    private readonly endpoint: string,
    private readonly reconnect: { readonly initialDelayMs: number; readonly maxDelayMs: number },
  ) {}

  /** Deletes a received message; resolves once SQS confirmed it. */
  delete(queueUrl: string, receiptHandle: string): Promise<void> {
    return this.#add('delete', queueUrl, receiptHandle, 0)
  }

  /** Sets a received message's visibility timeout to `seconds` from now (0: visible again at once). */
  changeVisibility(queueUrl: string, receiptHandle: string, seconds: number): Promise<void> {
    return this.#add('visibility', queueUrl, receiptHandle, seconds)
  }

  /** Waits (at most `timeoutMs`) until every call is done; later calls are not retried. */
  async close(timeoutMs: number): Promise<void> {
    if (this.#count + this.#inFlight > 0 && timeoutMs > 0) {
      const waited = new AbortController()
      await Promise.race([new Promise<void>((resolve) => (this.#onIdle = resolve)), sleep(timeoutMs, waited.signal)])
      waited.abort()
    }
    this.#stop.abort()
  }

  #add(kind: Kind, queueUrl: string, receiptHandle: string, seconds: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const key = `${kind} ${queueUrl}`
      let list = this.#pending.get(key)
      if (list === undefined) this.#pending.set(key, (list = []))
      list.push({ receiptHandle, seconds, resolve, reject })
      this.#count++
      if (!this.#scheduled) {
        this.#scheduled = true
        setImmediate(() => {
          this.#scheduled = false
          this.#pump()
        })
      }
    })
  }

  #pump(): void {
    for (const [key, list] of this.#pending) {
      while (list.length > 0 && this.#inFlight < MAX_IN_FLIGHT) {
        const batch = list.splice(0, MAX_ENTRIES)
        this.#count -= batch.length
        this.#inFlight++
        const space = key.indexOf(' ')
        void this.#call(key.slice(0, space) as Kind, key.slice(space + 1), batch)
      }
      if (list.length === 0) this.#pending.delete(key)
      if (this.#inFlight >= MAX_IN_FLIGHT) return
    }
  }

  async #call(kind: Kind, queueUrl: string, batch: Entry[]): Promise<void> {
    const doing = kind === 'delete' ? 'deleting a handled message' : 'changing the visibility of a message'
    try {
      for (let attempt = 0; ; attempt++) {
        let result: BatchResult
        try {
          result = kind === 'delete' ? await this.client.delete(queueUrl, batch.map((e) => e.receiptHandle)) : await this.client.changeVisibility(queueUrl, batch)
        } catch (err) {
          if (isTransient(err) && attempt + 1 < ATTEMPTS && (await sleep(backoff(attempt, this.reconnect.initialDelayMs, this.reconnect.maxDelayMs), this.#stop.signal))) continue
          const e = sqsError(err, `${doing} failed`, this.endpoint)
          for (const entry of batch) entry.reject(e)
          return
        }
        const failed = new Map(result.failed.map((f) => [f.index, f]))
        batch.forEach((entry, i) => {
          const f = failed.get(i)
          if (f === undefined) entry.resolve()
          else entry.reject(new SeamError('ERR_TRANSPORT', `${doing} failed (${f.code}: ${f.message})${kind === 'delete' ? '; SQS delivers it again' : ''}`, { retriable: !f.senderFault }))
        })
        return
      }
    } finally {
      this.#inFlight--
      if (this.#count > 0) this.#pump()
      else if (this.#inFlight === 0) this.#onIdle?.()
    }
  }
}
