/**
 * Gathers the ids settled in one turn of the event loop into one command
 * (`XACK` of many ids, `XDEL` of many ids): handlers that finish together
 * cost Redis one call, not one each. Each `add` resolves when its call did.
 */
export class IdBatcher {
  #ids: string[] = []
  #waiters: { resolve(): void; reject(err: unknown): void }[] = []
  #scheduled = false
  readonly #inFlight = new Set<Promise<void>>()

  constructor(private readonly run: (ids: readonly string[]) => Promise<void>) {}

  add(id: string): Promise<void> {
    this.#ids.push(id)
    const p = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }))
    if (!this.#scheduled) {
      this.#scheduled = true
      setImmediate(() => this.#flush())
    }
    return p
  }

  /** Resolves once every call made so far has returned. */
  async drained(): Promise<void> {
    while (this.#scheduled || this.#inFlight.size > 0) {
      if (this.#scheduled) this.#flush()
      await Promise.allSettled([...this.#inFlight])
    }
  }

  #flush(): void {
    if (!this.#scheduled) return
    this.#scheduled = false
    const ids = this.#ids
    const waiters = this.#waiters
    this.#ids = []
    this.#waiters = []
    const call = this.run(ids).then(
      () => {
        for (const w of waiters) w.resolve()
      },
      (err: unknown) => {
        for (const w of waiters) w.reject(err)
      },
    )
    this.#inFlight.add(call)
    void call.finally(() => this.#inFlight.delete(call))
  }
}
