import { Decoder } from '@msgpack/msgpack'
import { msgpackProblem } from './msgpack-bounds.js'

const NIL = Uint8Array.of(0xc0)
// The largest buffer a decoder may keep referring to after a decode (a socket reads 64 KiB at most).
const RETAIN_MAX = 64 * 1024

/**
 * `@msgpack/msgpack`'s Decoder, made safe for bytes from a peer: the bytes
 * are checked first (see {@link msgpackProblem}), so decoding N bytes
 * allocates O(N); and the decoder lets go of what it held after a failure
 * (its half-built containers) or after a large buffer, where it would
 * otherwise keep them until its next decode.
 */
export class BoundedDecoder {
  readonly #decoder = new Decoder()

  /**
   * Decodes exactly one value.
   * @throws MsgpackBoundsError when a declared length or the nesting is out of
   *   bounds (`bomb`), or the bytes are cut off or run on; the decoder's own
   *   error for anything else it refuses (e.g. a `__proto__` key).
   */
  decode(bytes: Uint8Array): unknown {
    const problem = msgpackProblem(bytes)
    if (problem !== undefined) throw problem
    let value: unknown
    try {
      value = this.#decoder.decode(bytes)
    } catch (err) {
      this.#forget()
      throw err
    }
    if (bytes.byteLength > RETAIN_MAX / 4 && bytes.buffer.byteLength > RETAIN_MAX) this.#forget()
    return value
  }

  // A decode starts by resetting the decoder's state: one of a single nil drops everything it referred to.
  #forget(): void {
    this.#decoder.decode(NIL)
  }
}
