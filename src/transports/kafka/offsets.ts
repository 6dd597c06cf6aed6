/**
 * What may be committed for one partition: the offset below which every
 * fetched record is done. Records of different keys finish out of order, so
 * a record done early waits here until every record before it is done too;
 * a record never done (handed back while closing) holds the partition's
 * commit below it, and is fetched again by whoever owns it next.
 */
export class PartitionOffsets {
  /** Fetched offsets not yet known done, in fetch order, from `#head`. */
  #pending: number[] = []
  #head = 0
  /** Done offsets still behind an earlier one that is not. */
  readonly #doneEarly = new Set<number>()
  /** The offset after the last fetched. */
  #next: number | undefined
  /** The last offset committed (the next to read), if any. */
  committed: number | undefined

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}

  fetched(offset: number): void {
    this.#pending.push(offset)
    this.#next = offset + 1
  }

  /** False once the partition was revoked or assigned anew: nothing of this generation is committed any more. */
  owned = true

  done(offset: number): void {
    // The usual case, records finishing in the order fetched, needs no set.
    if (this.#doneEarly.size === 0 && this.#pending[this.#head] === offset) {
      this.#head++
      this.#compact()
      return
    }
    this.#doneEarly.add(offset)
    while (this.#head < this.#pending.length && this.#doneEarly.delete(this.#pending[this.#head] as number)) this.#head++
    this.#compact()
  }

  #compact(): void {
    if (this.#head > 1024 && this.#head * 2 > this.#pending.length) {
      this.#pending = this.#pending.slice(this.#head)
      this.#head = 0
    }
  }

  /** The offset after the last fetched, or undefined when nothing was. */
  get next(): number | undefined {
    return this.#next
  }

  /** The offset to commit (the first not done, or after the last fetched), or undefined when nothing was fetched. */
  get commitPoint(): number | undefined {
    return this.#head < this.#pending.length ? this.#pending[this.#head] : this.#next
  }

  /** True when the commit point is past what was committed. */
  get advanced(): boolean {
    const point = this.commitPoint
    return point !== undefined && (this.committed === undefined || point > this.committed)
  }
}
