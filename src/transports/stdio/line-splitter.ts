/** Receives one line as `buf[start, end)`, without its line break. */
export type OnLine = (buf: Buffer, start: number, end: number) => void

/** Receives a line longer than the limit: its first bytes and its full length. */
export type OnTooLong = (head: Buffer, length: number) => void

const NEWLINE = 0x0a
const RETURN = 0x0d
/** Bytes of an over-long line kept for its report. */
const HEAD_BYTES = 256

/**
 * Splits a byte stream into lines (`\n` or `\r\n`). A line is held at most
 * `maxLineBytes`: the rest of a longer one is skipped up to its line break
 * and reported, so one bad line costs neither memory nor the lines after it.
 */
export class LineSplitter {
  readonly #max: number
  #parts: Buffer[] = []
  #size = 0
  /** The line being read is over the limit: bytes are counted, not kept. */
  #skipping = false

  constructor(maxLineBytes: number) {
    this.#max = maxLineBytes
  }

  /** The longest line kept, in bytes. */
  get max(): number {
    return this.#max
  }

  /** Feeds a chunk; calls `onLine` for each complete line, in order. */
  push(chunk: Buffer, onLine: OnLine, onTooLong: OnTooLong): void {
    let off = 0
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, off)
      if (nl < 0) {
        this.#hold(chunk.subarray(off))
        return
      }
      if (this.#size === 0 && !this.#skipping) {
        if (nl - off > this.#max) onTooLong(chunk.subarray(off, off + HEAD_BYTES), nl - off)
        else emit(chunk, off, nl, onLine)
      } else {
        this.#hold(chunk.subarray(off, nl))
        this.#release(onLine, onTooLong)
      }
      off = nl + 1
    }
  }

  /** The input ended: a last line without a line break is still a line. */
  end(onLine: OnLine, onTooLong: OnTooLong): void {
    if (this.#size > 0 || this.#skipping) this.#release(onLine, onTooLong)
  }

  #hold(bytes: Buffer): void {
    if (bytes.length === 0) return
    this.#size += bytes.length
    if (this.#skipping) return
    if (this.#size > this.#max) {
      this.#skipping = true
      // Keep only the head, for the report; the rest is counted and dropped.
      const head = Buffer.concat(this.#parts).subarray(0, HEAD_BYTES)
      this.#parts = head.length < HEAD_BYTES ? [head, bytes.subarray(0, HEAD_BYTES - head.length)] : [head]
      return
    }
    this.#parts.push(bytes)
  }

  #release(onLine: OnLine, onTooLong: OnTooLong): void {
    const joined = Buffer.concat(this.#parts)
    const size = this.#size
    const skipped = this.#skipping
    this.#parts = []
    this.#size = 0
    this.#skipping = false
    if (skipped) onTooLong(joined, size)
    else emit(joined, 0, joined.length, onLine)
  }
}

function emit(buf: Buffer, start: number, end: number, onLine: OnLine): void {
  onLine(buf, start, end > start && buf[end - 1] === RETURN ? end - 1 : end)
}
