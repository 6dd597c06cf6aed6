/**
 * The last `size` ids seen, for dropping duplicates: a set for the lookup and
 * a ring for the order, so the oldest id is forgotten when a new one comes
 * and memory stays bounded however long the stream runs.
 */
export class IdWindow {
  readonly #ids = new Set<string>()
  readonly #ring: (string | undefined)[]
  #next = 0

  constructor(size: number) {
    this.#ring = new Array<string | undefined>(size)
  }

  /** Ids remembered now (at most the window's size). */
  get size(): number {
    return this.#ids.size
  }

  /** Remembers `id`; false when it is already remembered (a duplicate), which changes nothing. */
  add(id: string): boolean {
    const ring = this.#ring
    if (ring.length === 0) return true
    if (this.#ids.has(id)) return false
    const old = ring[this.#next]
    if (old !== undefined) this.#ids.delete(old)
    ring[this.#next] = id
    this.#next = (this.#next + 1) % ring.length
    this.#ids.add(id)
    return true
  }

  /**
   * Forgets `id`: its message was handed back to the source undelivered, so
   * the copy the source delivers again is no duplicate. Its place in the
   * ring is left empty rather than compacted; the ring only ever overwrites.
   */
  delete(id: string): void {
    if (!this.#ids.delete(id)) return
    const i = this.#ring.lastIndexOf(id)
    if (i >= 0) this.#ring[i] = undefined
  }
}
