import { SeamError } from './errors.js'

interface Pending {
  readonly tag: string
  readonly deadline: number
  readonly timeoutMs: number
  resolve(reply: unknown): void
  reject(err: unknown): void
  /** Set once the request is on the wire; a connection loss then fails it. */
  written: boolean
}

/**
 * The requests waiting for a reply, by envelope id. One timer serves them all,
 * set for the earliest deadline: a timer per request costs more than the
 * request itself at high rates. With no request waiting the timer stays armed
 * but unref'd, so one request after another does not set and clear a timer
 * each; `clear()` releases it.
 */
export class PendingRequests<R = unknown> {
  readonly #byId = new Map<string, Pending>()
  #timer: NodeJS.Timeout | undefined
  #timerAt = Infinity

  get size(): number {
    return this.#byId.size
  }

  /** Waits for the reply to `id`; rejects with ERR_TIMEOUT after `timeoutMs`. */
  add(id: string, tag: string, timeoutMs: number): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const deadline = Date.now() + timeoutMs
      this.#byId.set(id, { tag, deadline, timeoutMs, resolve: resolve as (r: unknown) => void, reject, written: false })
      if (deadline < this.#timerAt) this.#schedule(deadline)
      else if (this.#byId.size === 1) this.#timer?.ref()
    })
  }

  /** Marks `id` as written to the wire. */
  written(id: string): void {
    const p = this.#byId.get(id)
    if (p !== undefined) p.written = true
  }

  /** Settles `id` with a value; false when nobody waits for it (late or unknown). */
  resolve(id: string, reply: R): boolean {
    const p = this.#take(id)
    p?.resolve(reply)
    return p !== undefined
  }

  /** Fails `id`; false when nobody waits for it. */
  reject(id: string, err: unknown): boolean {
    const p = this.#take(id)
    p?.reject(err)
    return p !== undefined
  }

  /** Fails every request that `which` selects (all by default). */
  rejectAll(err: (tag: string) => SeamError, which: (written: boolean) => boolean = () => true): void {
    for (const [id, p] of this.#byId) if (which(p.written)) this.reject(id, err(p.tag))
  }

  #take(id: string): Pending | undefined {
    const p = this.#byId.get(id)
    if (p === undefined) return undefined
    this.#byId.delete(id)
    // Nothing waits: the timer may not keep the process alive, but stays set for the next request.
    if (this.#byId.size === 0) this.#timer?.unref()
    return p
  }

  /** Releases the timer; call once nothing will be added any more. */
  clear(): void {
    this.#clearTimer()
  }

  #schedule(at: number): void {
    this.#clearTimer()
    this.#timerAt = at
    this.#timer = setTimeout(() => this.#sweep(), Math.max(0, at - Date.now()))
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
    this.#timerAt = Infinity
  }

  #sweep(): void {
    this.#timer = undefined
    this.#timerAt = Infinity
    const now = Date.now()
    let next = Infinity
    for (const [id, p] of this.#byId) {
      if (p.deadline <= now) {
        this.#byId.delete(id)
        p.reject(new SeamError('ERR_TIMEOUT', `no reply to "${p.tag}" within ${p.timeoutMs} ms; is a handler registered on the other side, and does it reply?`, { tag: p.tag, id }))
      } else if (p.deadline < next) next = p.deadline
    }
    if (next !== Infinity) this.#schedule(next)
    else this.#timerAt = Infinity
  }
}
