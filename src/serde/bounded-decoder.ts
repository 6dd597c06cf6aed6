import { Decoder, Encoder } from '@msgpack/msgpack'
import { asciiString } from '../channel/ascii.js'
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
  /** Reads a string of `byteLength` bytes starting `headerOffset` after `pos`, and moves `pos` past it. */
  decodeUtf8String(byteLength: number, headerOffset: number): string
  /** True while the next value is a map key (those go through the decoder's key cache). */
  stateIsMapKey(): boolean
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

// Strings: the decoder builds short ones from an array of char codes (String.fromCharCode.apply), which for the
// ASCII strings most payloads hold costs more than building them directly: ~130 of ~900 ns per decode of the
// benchmark's ~100-byte body. Non-ASCII bytes, map keys (the decoder caches those), long strings and cut-off
// bytes go the decoder's own way, which also raises its errors.
// Node's own (toString('latin1') calls it); a runtime without it takes the decoder's way for longer strings.
const latin1Slice = (Buffer.prototype as { latin1Slice?: (this: Uint8Array, start: number, end: number) => string }).latin1Slice
const decodeString = base.decodeUtf8String
const ASCII_DIRECT_MAX = 200
hooks.decodeUtf8String = function (this: Hooked, byteLength: number, headerOffset: number): string {
  const start = this.pos + headerOffset
  const end = start + byteLength
  if (byteLength <= ASCII_DIRECT_MAX && end <= this.bytes.byteLength && !this.stateIsMapKey()) {
    const s = asciiText(this.bytes, start, end)
    if (s !== undefined) {
      this.pos = end
      return s
    }
  }
  return decodeString.call(this, byteLength, headerOffset)
}

/** `b[start, end)` as a string when every byte is ASCII, else undefined. */
function asciiText(b: Uint8Array, start: number, end: number): string | undefined {
  const short = asciiString(b, start, end)
  if (short !== undefined || end - start <= 24) return short
  if (latin1Slice === undefined) return undefined
  for (let i = start; i < end; i++) if ((b[i] as number) >= 0x80) return undefined
  return latin1Slice.call(b, start, end)
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
    // Strings, short and long, ASCII or not, as keys and as values, decode as the decoder itself decodes them.
    const texts = ['', 'a', 'customer-1-order', 'x'.repeat(24), 'customer-12345-order-lines-awaiting-review', 'é', 'naïve café ✓', 'y'.repeat(201)]
    const strings = new Encoder().encode(Object.fromEntries(texts.map((t, i) => [t === '' ? 'empty' : t, [t, i]])))
    hooked.budget = strings.byteLength
    const stringsHold = JSON.stringify(hooked.decode(strings)) === JSON.stringify(new Decoder().decode(strings))
    hooked.budget = MAX_NESTING + 1
    const deepest = hooked.decode(Uint8Array.from(nested(MAX_NESTING)))
    return (
      value === '{"a":[1,[null]],"b":[{},[]]}' &&
      stringsHold &&
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
