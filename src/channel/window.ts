import type { Delivery } from './transport.js'

/**
 * While the channel awaits replies, a full window keeps reading until this
 * many bytes of messages wait behind it: a reply may be queued behind them
 * on the same connection, and must not wait for handlers that wait for it.
 */
export const AWAITING_BACKLOG_BYTES = 16 * 1024 * 1024

// What a waiting delivery is counted as beyond its body: the envelope's strings and objects.
const DELIVERY_OVERHEAD = 256

/** How a window stops and restarts its link's deliveries. */
export interface Flow {
  pause(): void
  resume(): void
  /** True while stopping would hold up a reply this side waits for (it has requests pending). */
  awaitingReplies(): boolean
}

function sizeOf(d: Delivery): number {
  return DELIVERY_OVERHEAD + (d.envelope?.body.length ?? d.broken?.bytes.length ?? 0)
}

/**
 * The in-flight window of a channel: at most `limit` deliveries are handled
 * at once, and deliveries of one ordering key one at a time, in the order
 * they came. What arrives beyond that waits here, in order, and the link is
 * paused while the window is full, so a slow consumer slows its producer
 * (TCP flow control, a broker's prefetch) instead of growing memory. A
 * paused link may still hand over what it had already read (one socket
 * read); that waits too.
 */
export class Window {
  readonly #limit: number
  readonly #flow: Flow
  readonly #run: (d: Delivery) => void
  /** Admitted and not yet finished: running or waiting, whatever the kind of wait. */
  #held = 0
  #running = 0
  // Waiting for a slot, oldest first: #ready[#head…].
  #ready: (Delivery | undefined)[] = []
  #head = 0
  /** Keys with a delivery running, each with the deliveries of that key waiting behind it (null: none, the usual case). */
  readonly #keys = new Map<string, Delivery[] | null>()
  /** Deliveries whose key just came free: older than anything in #ready, so they go first. */
  readonly #next: Delivery[] = []
  /** Deliveries in #ready and #next: waiting for a slot, not for a key. */
  #queued = 0
  /** Bytes of every waiting delivery, whatever it waits for. The ones that run at once are never counted. */
  #waitingBytes = 0
  #paused = false
  #pumping = false
  /** Callers of {@link idle} waiting now; undefined while none does, so `finish` checks one field. */
  #idleWaiters: Set<() => void> | undefined

  constructor(limit: number, flow: Flow, run: (d: Delivery) => void) {
    this.#limit = limit
    this.#flow = flow
    this.#run = run
  }

  /** Deliveries admitted and not finished. */
  get held(): number {
    return this.#held
  }

  /** Takes a delivery: runs it now when there is room, else keeps it until there is. */
  admit(d: Delivery): void {
    this.#held++
    if (this.#running < this.#limit && this.#queued === 0) this.#start(d, false)
    else {
      this.#ready.push(d)
      this.#queued++
      this.#waitingBytes += sizeOf(d)
    }
    if (this.#held >= this.#limit) this.check()
  }

  /** A delivery handed to `run` is settled: its slot (and its key) is free for the next. */
  finish(d: Delivery): void {
    this.#held--
    this.#running--
    const key = d.key
    if (key !== undefined) {
      const behind = this.#keys.get(key)
      if (behind == null || behind.length === 0) this.#keys.delete(key)
      else {
        // The key stays marked busy: the next of it owns it now.
        this.#next.push(behind.shift() as Delivery)
        this.#queued++
      }
    }
    if (this.#queued > 0) this.#pump()
    if (this.#paused) this.check()
    if (this.#held === 0 && this.#idleWaiters !== undefined) {
      const waiters = this.#idleWaiters
      this.#idleWaiters = undefined
      for (const done of waiters) done()
    }
  }

  /**
   * Resolves once nothing is held (at once when nothing is), or at `deadline`
   * (epoch ms; `Infinity`: no bound), whichever comes first; never rejects.
   * Any number of callers may wait at once.
   */
  idle(deadline: number): Promise<void> {
    if (this.#held === 0) return Promise.resolve()
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        this.#idleWaiters?.delete(done)
        resolve()
      }
      // setTimeout would take Infinity for 1 ms.
      const timer = deadline === Infinity ? undefined : setTimeout(done, Math.max(0, deadline - Date.now()))
      this.#idleWaiters ??= new Set()
      this.#idleWaiters.add(done)
    })
  }

  /** Pauses or resumes the link for the window's state now; call it when `awaitingReplies` may have changed. */
  check(): void {
    const full = this.#held >= this.#limit && !(this.#flow.awaitingReplies() && this.#waitingBytes < AWAITING_BACKLOG_BYTES)
    if (full === this.#paused) return
    this.#paused = full
    if (full) this.#flow.pause()
    else this.#flow.resume()
  }

  /** Removes and returns every delivery that has not started, oldest first (a closing channel settles them). */
  takeWaiting(): Delivery[] {
    // Whatever waits for its key came before everything waiting for a slot.
    const out = this.#next.splice(0)
    // Each of those owned its key, and runs no more.
    for (const d of out) this.#keys.delete(d.key as string)
    for (const behind of this.#keys.values()) if (behind !== null) out.push(...behind.splice(0))
    out.push(...(this.#ready.slice(this.#head) as Delivery[]))
    this.#ready = []
    this.#head = 0
    this.#queued = 0
    this.#waitingBytes = 0
    this.#held -= out.length
    return out
  }

  /** Runs `d` unless its key is busy; `waiting`: its bytes are counted as waiting. */
  #start(d: Delivery, waiting: boolean): void {
    const key = d.key
    if (key !== undefined) {
      const behind = this.#keys.get(key)
      if (behind !== undefined) {
        // Its key is busy: it waits for that one, holding no slot.
        if (behind === null) this.#keys.set(key, [d])
        else behind.push(d)
        if (!waiting) this.#waitingBytes += sizeOf(d)
        return
      }
      this.#keys.set(key, null)
    }
    this.#launch(d, waiting)
  }

  /** Runs `d`, whose key (if any) it owns; `waiting`: its bytes were counted as waiting. */
  #launch(d: Delivery, waiting: boolean): void {
    if (waiting) this.#waitingBytes -= sizeOf(d)
    this.#running++
    this.#run(d)
  }

  // A loop rather than recursion: a handler that settles synchronously calls finish() from inside run().
  #pump(): void {
    if (this.#pumping) return
    this.#pumping = true
    try {
      while (this.#running < this.#limit && this.#queued > 0) {
        this.#queued--
        const next = this.#next.shift()
        if (next !== undefined) {
          this.#launch(next, true)
          continue
        }
        const d = this.#ready[this.#head] as Delivery
        // Cleared, so a long backlog lets go of what it handed out.
        this.#ready[this.#head++] = undefined
        this.#start(d, true)
      }
      if (this.#head === this.#ready.length) {
        this.#ready.length = 0
        this.#head = 0
      } else if (this.#head > 1024 && this.#head * 2 > this.#ready.length) {
        this.#ready = this.#ready.slice(this.#head)
        this.#head = 0
      }
    } finally {
      this.#pumping = false
    }
  }
}
