/**
 * A bound on unconfirmed publishes, shared by both sides of the AMQP bench
 * so that ours and the baseline keep exactly the same number in flight: the
 * broker's confirm latency then weighs on both alike, and the figure compares
 * the clients, not two window sizes.
 */
export class InFlight {
  readonly #limit: number
  #count = 0
  #failed: unknown
  #wake: (() => void) | undefined
  #idle: (() => void) | undefined

  constructor(limit: number) {
    this.#limit = limit
  }

  /**
   * Takes a free slot at once, if there is one and nothing failed: a sender
   * calls this first, so that it awaits only when the window is full, not a
   * microtask per message (which a pipelined baseline does not pay either).
   */
  tryTake(): boolean {
    if (this.#count >= this.#limit || this.#failed !== undefined) return false
    this.#count++
    return true
  }

  /** Resolves once a slot is free and takes it; rejects after a confirm failed. */
  async take(): Promise<void> {
    // One waiter at a time: the sender is a single loop.
    while (this.#count >= this.#limit && this.#failed === undefined) await new Promise<void>((resolve) => (this.#wake = resolve))
    if (this.#failed !== undefined) throw this.#failed
    this.#count++
  }

  /** Gives a slot back; an error fails the waiting `take` or `drained`, so a lost confirm cannot hang the run. */
  release(err?: unknown): void {
    this.#count--
    if (err !== undefined && this.#failed === undefined) this.#failed = err
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
    if (this.#count === 0 || this.#failed !== undefined) {
      const idle = this.#idle
      this.#idle = undefined
      idle?.()
    }
  }

  /** Resolves once every slot is back; rejects with the first failure. */
  async drained(): Promise<void> {
    if (this.#count > 0 && this.#failed === undefined) await new Promise<void>((resolve) => (this.#idle = resolve))
    if (this.#failed !== undefined) throw this.#failed
  }
}

// Far beyond a healthy run (about a second): only a lost message or a broken consumer gets here.
const RUN_LIMIT_MS = 60_000

/** Awaits every promise of a run, rejecting if they take longer than a run ever should, so a lost message fails the bench instead of hanging it. */
export async function finished(what: string, work: Promise<unknown>[]): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not finished after ${RUN_LIMIT_MS / 1000} s`)), RUN_LIMIT_MS)
  })
  try {
    await Promise.race([Promise.all(work), limit])
  } finally {
    clearTimeout(timer)
  }
}
