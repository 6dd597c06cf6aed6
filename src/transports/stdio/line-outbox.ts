import type { Writable } from 'node:stream'
import type { Envelope } from '../../channel/envelope.js'
import { SeamError } from '../../channel/errors.js'
import type { OutboxLimits } from '../stream/outbox.js'
import { envelopeLine } from './json-lines.js'

// A batch this large (in UTF-16 units, about bytes for ASCII lines) is written at once rather than at the end of the tick.
const FLUSH_AT = 64 * 1024
const RESOLVED = Promise.resolve()

/**
 * JSON lines waiting for the output: the json format's counterpart of the
 * stream transports' frame `Outbox`, with the same promises. Lines are
 * joined and written once per tick (or per 64 KiB). While the output takes
 * writes, `send` resolves at once; once `write` says the output is full,
 * sends wait until it drained and their batch was written, and past the
 * limits `send` rejects with `ERR_OUTBOX_FULL`.
 */
export class LineOutbox {
  readonly #limits: OutboxLimits
  #lines: string[] = []
  #chars = 0
  #waiting = 0
  #waiter: { promise: Promise<void>; resolve(): void; reject(err: unknown): void } | undefined
  #output: Writable | undefined
  #blocked = true
  #scheduled: NodeJS.Immediate | undefined
  #closed: SeamError | undefined
  #onEmpty: (() => void) | undefined

  constructor(limits: OutboxLimits) {
    this.#limits = limits
  }

  /** Messages not yet handed to the output. */
  get waiting(): number {
    return this.#waiting
  }

  /** Encodes and queues one envelope; see the class comment for when it resolves. */
  send(env: Envelope): Promise<void> {
    if (this.#closed !== undefined) return Promise.reject(this.#closed)
    if (this.#waiting >= this.#limits.maxMessages || this.#chars >= this.#limits.maxBytes) {
      return Promise.reject(
        new SeamError('ERR_OUTBOX_FULL', `cannot send "${env.tag}": ${this.#waiting} messages are waiting because the reader of the output is slower than you send; await send() to follow backpressure, or raise stdio.maxOutboxMessages / stdio.maxOutboxBytes`, { tag: env.tag }),
      )
    }
    const line = envelopeLine(env)
    // A UTF-16 unit is at most 3 UTF-8 bytes: only long lines need a byte count.
    const bytes = line.length * 3 > this.#limits.maxFrameBytes ? Buffer.byteLength(line) : line.length
    if (bytes > this.#limits.maxFrameBytes) {
      return Promise.reject(new SeamError('ERR_FRAME_TOO_LARGE', `"${env.tag}" encodes to a line of ${bytes} bytes; lines are limited to ${this.#limits.maxFrameBytes} bytes (option stdio.maxFrameBytes on both sides)`, { tag: env.tag }))
    }
    this.#lines.push(line)
    this.#chars += line.length
    this.#waiting++
    if (!this.#blocked) {
      // Half full of sends that resolved at once: written now, or an awaiting sender would run into ERR_OUTBOX_FULL (see Outbox).
      if (this.#chars >= FLUSH_AT || this.#waiting * 2 >= this.#limits.maxMessages || this.#chars * 2 >= this.#limits.maxBytes) this.#flush()
      else this.#scheduled ??= setImmediate(this.#flushSoon)
      return RESOLVED
    }
    if (this.#waiter === undefined) {
      let resolve!: () => void
      let reject!: (err: unknown) => void
      const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)))
      // A caller that did not await must not cause an unhandled rejection.
      promise.catch(() => undefined)
      this.#waiter = { promise, resolve, reject }
    }
    return this.#waiter.promise
  }

  /** Starts writing to `output`, beginning with what waited. */
  attach(output: Writable): void {
    this.#output = output
    this.#blocked = false
    this.#flush()
  }

  /** Resolves once everything queued is handed to the output, or after `timeoutMs`; true when it all went out. */
  drain(timeoutMs: number): Promise<boolean> {
    if (!this.#blocked) this.#flush()
    if (this.#waiting === 0) return Promise.resolve(true)
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(false), timeoutMs)
      const finish = (ok: boolean): void => {
        clearTimeout(timer)
        this.#onEmpty = undefined
        resolve(ok)
      }
      this.#onEmpty = () => finish(true)
    })
  }

  /** Fails every waiting send with `error` and refuses new ones; returns how many were dropped. */
  close(error: SeamError): number {
    this.#closed = error
    this.#output = undefined
    this.#blocked = true
    if (this.#scheduled !== undefined) clearImmediate(this.#scheduled)
    this.#scheduled = undefined
    const lost = this.#waiting
    this.#waiter?.reject(error)
    this.#waiter = undefined
    this.#lines = []
    this.#chars = 0
    this.#waiting = 0
    return lost
  }

  readonly #flushSoon = (): void => {
    this.#scheduled = undefined
    this.#flush()
  }

  #flush(): void {
    if (this.#scheduled !== undefined) clearImmediate(this.#scheduled)
    this.#scheduled = undefined
    const output = this.#output
    if (output === undefined || this.#blocked || this.#waiting === 0) return
    const text = this.#lines.length === 1 ? (this.#lines[0] as string) : this.#lines.join('')
    const waiter = this.#waiter
    this.#lines = []
    this.#chars = 0
    this.#waiting = 0
    this.#waiter = undefined
    if (!output.write(text)) {
      this.#blocked = true
      output.once('drain', () => {
        if (this.#output !== output) return
        this.#blocked = false
        this.#flush()
      })
    }
    waiter?.resolve()
    this.#onEmpty?.()
  }
}
