import { Decoder } from '@msgpack/msgpack'
import { MsgpackBoundsError, msgpackProblem } from './msgpack-bounds.js'
import { MAX_NESTING } from './nesting.js'

const NIL = Uint8Array.of(0xc0)
// The largest buffer a decoder may keep referring to after a decode (a socket reads 64 KiB at most).
const RETAIN_MAX = 64 * 1024

/**
 * The two places where `@msgpack/msgpack` 3.x turns a declared length into an
 * allocation (`new Array(size)` for an array; a state per map), with what
 * they can see: the bytes, the position after the header (`pos`) and the
 * open containers (`stack.length`). Not public API: see {@link HOOKS_HOLD},
 * which checks at load that they behave as assumed.
 */
interface DecoderInternals {
  pos: number
  bytes: Uint8Array
  stack: { readonly length: number }
  pushArrayState(size: number): void
  pushMapState(size: number): void
}

/** A Decoder that refuses, before allocating, any container larger than the bytes left, beyond a per-decode budget, or nested too deep. */
class HookedDecoder extends Decoder {
  /** Elements every container of this decode may still declare: each takes at least one byte, so the bytes are the budget. */
  budget = 0
}

type Hooked = DecoderInternals & { budget: number }

function check(d: Hooked, elements: number): void {
  // Messages are left to the walk that describes a failure (BoundedDecoder.decode).
  if (elements > d.bytes.byteLength - d.pos || (d.budget -= elements) < 0 || d.stack.length >= MAX_NESTING) {
    throw new MsgpackBoundsError('a container declares more than the bytes can hold, or nests too deep', true)
  }
}

// On the prototype, not per instance: every decoder then shares one function at each call site, which stays fast.
const base = Decoder.prototype as unknown as DecoderInternals
const hooks = HookedDecoder.prototype as unknown as DecoderInternals
const pushArray = base.pushArrayState
const pushMap = base.pushMapState
hooks.pushArrayState = function (this: Hooked, size: number): void {
  check(this, size)
  pushArray.call(this, size)
}
hooks.pushMapState = function (this: Hooked, size: number): void {
  check(this, size * 2)
  pushMap.call(this, size)
}

/** Whether the hooks work on the installed @msgpack/msgpack: every probe must be refused by them, and good values decode. */
function hooksHold(): boolean {
  try {
    const hooked = new HookedDecoder()
    const refuses = (bytes: number[]): boolean => {
      hooked.budget = bytes.length
      try {
        hooked.decode(Uint8Array.from(bytes))
        return false
      } catch (err) {
        return err instanceof MsgpackBoundsError
      }
    }
    const nested = (levels: number): number[] => [...Array<number>(levels).fill(0x91), 0x01]
    const good = [0x82, 0xa1, 0x61, 0x92, 0x01, 0x91, 0xc0, 0xa1, 0x62, 0xdc, 0x00, 0x02, 0x80, 0x90] // { a: [1, [null]], b: [{}, []] }
    hooked.budget = good.length
    const value = JSON.stringify(hooked.decode(Uint8Array.from(good)))
    hooked.budget = MAX_NESTING + 1
    const deepest = hooked.decode(Uint8Array.from(nested(MAX_NESTING)))
    return (
      value === '{"a":[1,[null]],"b":[{},[]]}' &&
      Array.isArray(deepest) &&
      refuses([0xdd, 0x01, 0xff, 0xff, 0xff]) &&
      refuses([0xdf, 0x00, 0x00, 0x10, 0x00, 0x01]) &&
      // Each fits what is left after its header, but not all three together.
      refuses([0x92, 0x92, 0x92, 0x01, 0x01]) &&
      refuses(nested(MAX_NESTING + 1))
    )
  } catch {
    return false
  }
}

/**
 * True when the installed `@msgpack/msgpack` has the internals the hooks rely
 * on (checked once, at load, by decoding probes). When it does not, every
 * decode walks the bytes first instead ({@link msgpackProblem}): as safe,
 * ~100 ns slower per small body. A test asserts it holds for the version in
 * the lockfile, so an upgrade that breaks it is noticed.
 */
export const HOOKS_HOLD = hooksHold()

/**
 * `@msgpack/msgpack`'s Decoder, made safe for bytes from a peer: decoding N
 * bytes allocates O(N). A container that declares more elements than the
 * bytes left, or than the whole value can hold, or that nests deeper than
 * {@link MAX_NESTING}, is refused before it is allocated (strings, binaries
 * and extensions the decoder itself checks against the bytes first). After
 * a failure, or a large buffer, the decoder lets go of what it held, where it
 * would otherwise keep it until its next decode.
 */
export class BoundedDecoder {
  readonly #hooked = new HookedDecoder()
  readonly #walkFirst: boolean

  /** @param walkFirst walk the bytes before every decode, as when the hooks do not hold (for tests of that path). */
  constructor(walkFirst = !HOOKS_HOLD) {
    this.#walkFirst = walkFirst
  }

  /**
   * Decodes exactly one value.
   * @throws MsgpackBoundsError when a declared length or the nesting is out of
   *   bounds (`bomb`), or the bytes are cut off or run on; the decoder's own
   *   error for anything else it refuses (e.g. a `__proto__` key).
   */
  decode(bytes: Uint8Array): unknown {
    if (this.#walkFirst) {
      const problem = msgpackProblem(bytes)
      if (problem !== undefined) throw problem
    }
    this.#hooked.budget = bytes.byteLength
    let value: unknown
    try {
      value = this.#hooked.decode(bytes)
    } catch (err) {
      this.#forget()
      // The walk says where and what better than the hooks or "Insufficient data" can, and tells a bomb from a slip.
      throw msgpackProblem(bytes) ?? err
    }
    if (bytes.byteLength > RETAIN_MAX / 4 && bytes.buffer.byteLength > RETAIN_MAX) this.#forget()
    return value
  }

  // A decode starts by resetting the decoder's state: one of a single nil drops everything it referred to.
  #forget(): void {
    this.#hooked.decode(NIL)
  }
}
