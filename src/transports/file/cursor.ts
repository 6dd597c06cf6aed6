/**
 * A reader's position in its file, passed as the `file.cursor` option of
 * `listen('file://…')`. `offset` is the byte offset of the first record not
 * yet settled (handled or taken by its policy), counting in file order:
 * every record before it is done, so a reader started again with
 * `from: cursor.offset` (or `?from=<offset>`) loses nothing, and handles
 * again at most the records that were in flight.
 */
export class FileCursor {
  #offset = -1
  // Ends of the records read and not yet counted into #offset, in file order; #done marks the settled ones.
  #ends: number[] = []
  #done: boolean[] = []
  #head = 0
  #dropped = 0

  /** The byte offset to start again from; -1 before the reader opened. */
  get offset(): number {
    return this.#offset
  }

  /** The byte offset just past the last record read (handed to the channel, maybe not yet handled). */
  get read(): number {
    // Entries are only dropped once settled, so with none left the last record read is the one #offset moved past.
    return this.#ends.at(-1) ?? this.#offset
  }

  /** @internal The reader starts at `offset`. */
  begin(offset: number): void {
    this.#offset = offset
    this.#ends = []
    this.#done = []
    this.#head = 0
    this.#dropped = 0
  }

  /** @internal A record ending at `end` was read; settle it with the returned index. */
  add(end: number): number {
    this.#ends.push(end)
    this.#done.push(false)
    return this.#dropped + this.#ends.length - 1
  }

  /** @internal Record `index` is settled; the offset moves past every settled record at the front. */
  settle(index: number): void {
    const i = index - this.#dropped
    if (i < 0 || this.#done[i] !== false) return
    this.#done[i] = true
    while (this.#head < this.#done.length && this.#done[this.#head] === true) this.#offset = this.#ends[this.#head++] as number
    if (this.#head > 4096 && this.#head * 2 > this.#ends.length) {
      // Indexes already handed out stay valid: they count the dropped entries too.
      this.#dropped += this.#head
      this.#ends = this.#ends.slice(this.#head)
      this.#done = this.#done.slice(this.#head)
      this.#head = 0
    }
  }
}
