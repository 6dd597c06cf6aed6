import { SeamError } from '../../channel/errors.js'

/** Bytes of the big-endian length before every frame. */
export const LENGTH_BYTES = 4

/** Receives one frame as `buf[start, end)`. Chunks are never reused, so views into `buf` stay valid. */
export type OnFrame = (buf: Buffer, start: number, end: number) => void

/**
 * Splits a byte stream into frames (4-byte big-endian length, then the
 * frame). Frames that fit in one chunk are handed out as a range of that
 * chunk, without a copy or even a view object. A length is checked against `maxFrameBytes` before anything is
 * allocated for it, so a hostile 4 GiB prefix costs nothing.
 */
export class FrameDecoder {
  readonly #maxFrameBytes: number
  #parts: Buffer[] = []
  #size = 0
  #need = 0

  constructor(maxFrameBytes: number) {
    this.#maxFrameBytes = maxFrameBytes
  }

  /** Bytes of an incomplete frame held back, waiting for the rest. */
  get buffered(): number {
    return this.#size
  }

  /** What the incomplete frame still lacks, for error messages. */
  describePartial(): string {
    return this.#need > LENGTH_BYTES
      ? `${this.#size - LENGTH_BYTES} of ${this.#need - LENGTH_BYTES} bytes of a frame`
      : `${this.#size} of the ${LENGTH_BYTES} length bytes`
  }

  /**
   * Feeds a chunk; calls `onFrame` for each complete frame, in order.
   * @throws SeamError `ERR_FRAME_TOO_LARGE` or `ERR_PROTOCOL` (empty frame).
   */
  push(chunk: Buffer, onFrame: OnFrame): void {
    let off = 0
    while (this.#size > 0) {
      // Complete the held frame with just the bytes it lacks: joining the whole chunk would copy
      // every byte once more (a TLS socket hands out 16 KiB records, so nearly every chunk starts
      // inside a frame). Large frames arriving in many chunks are joined once, when complete.
      if (off === chunk.length) return
      const take = Math.min(this.#need - this.#size, chunk.length - off)
      this.#parts.push(chunk.subarray(off, off + take))
      this.#size += take
      off += take
      if (this.#size < this.#need) return
      const joined = Buffer.concat(this.#parts, this.#size)
      if (this.#need === LENGTH_BYTES) {
        // Only the length was held; now that it is known, hold it until the frame is complete.
        this.#keep(joined, LENGTH_BYTES + this.#check(joined.readUInt32BE(0)))
        continue
      }
      this.#parts = []
      this.#size = 0
      onFrame(joined, LENGTH_BYTES, joined.length)
    }
    const end = chunk.length
    while (end - off >= LENGTH_BYTES) {
      const len = this.#check(chunk.readUInt32BE(off))
      if (end - off - LENGTH_BYTES < len) {
        this.#keep(chunk.subarray(off), LENGTH_BYTES + len)
        return
      }
      onFrame(chunk, off + LENGTH_BYTES, off + LENGTH_BYTES + len)
      off += LENGTH_BYTES + len
    }
    if (off < end) this.#keep(chunk.subarray(off), LENGTH_BYTES)
  }

  /** A frame length, checked before anything is allocated for it. */
  #check(len: number): number {
    if (len === 0) throw new SeamError('ERR_PROTOCOL', 'received a frame of 0 bytes; every frame holds an envelope')
    if (len > this.#maxFrameBytes) {
      throw new SeamError('ERR_FRAME_TOO_LARGE', `received a frame of ${len} bytes; the limit is ${this.#maxFrameBytes} (option maxFrameBytes)`)
    }
    return len
  }

  #keep(rest: Buffer, need: number): void {
    this.#parts = [rest]
    this.#size = rest.length
    this.#need = need
  }
}

/**
 * Names what the first bytes from a peer look like when they are not our
 * protocol, so the error says what to fix.
 */
export function sniffForeign(chunk: Buffer): string | undefined {
  if (chunk.length >= 3 && chunk[0] === 0x16 && chunk[1] === 0x03) {
    return 'a TLS handshake: the peer speaks TLS, so use a tls:// URL on both sides'
  }
  const head = chunk.subarray(0, 8).toString('latin1')
  if (/^(GET|POST|PUT|HEAD|DELETE|OPTIONS|PATCH|CONNECT) /.test(head) || head.startsWith('HTTP/')) {
    return 'HTTP: the peer speaks HTTP, not the seam-channel protocol'
  }
  return undefined
}
