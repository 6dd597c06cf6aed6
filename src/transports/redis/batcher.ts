/**
 * Gathers the ids settled in one turn of the event loop into one command
 * (`XACK` of many ids, `XDEL` of many ids): handlers that finish together
 * cost Redis one call, not one each. Every `add` of a turn gets the same
 * promise, that of its call: one promise a batch, not one an id.
 */
export class IdBatcher {
  #ids: string[] = []
  #batch: Promise<void> | undefined
  #start: (() => void) | undefined
  readonly #inFlight = new Set<Promise<void>>()

  constructor(private readonly run: (ids: readonly string[]) => Promise<unknown>) {}

  add(id: string): Promise<void> {
    this.#ids.push(id)
    if (this.#batch === undefined) {
      const started = new Promise<void>((resolve) => (this.#start = resolve))
      const batch = started.then(() => this.#call())
      this.#batch = batch
      this.#inFlight.add(batch)
      const forget = (): void => void this.#inFlight.delete(batch)
      batch.then(forget, forget)
      setImmediate(() => this.#flush())
    }
    return this.#batch
  }

  /** Resolves once every call made so far has returned. */
  async drained(): Promise<void> {
    while (this.#inFlight.size > 0) {
      this.#flush()
      await Promise.allSettled([...this.#inFlight])
    }
  }

  #flush(): void {
    const start = this.#start
    this.#start = undefined
    start?.()
  }

  async #call(): Promise<void> {
    const ids = this.#ids
    this.#ids = []
    this.#batch = undefined
    await this.run(ids)
  }
}
