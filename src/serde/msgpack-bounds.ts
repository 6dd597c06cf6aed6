/**
 * A check of MessagePack bytes that allocates nothing. `@msgpack/msgpack`
 * allocates an array of the declared length before it looks for the
 * elements, so ten bytes declaring 2^25 elements cost 256 MiB. Walking the
 * bytes and refusing any declared length larger than the bytes left bounds
 * what decoding a value of N bytes can allocate: every element of a
 * container takes at least one byte, so the containers of a value that
 * passes hold fewer than N elements in all. BoundedDecoder checks the same
 * where the decoder allocates, and uses this walk to describe a failure, or
 * before every decode when its hooks do not hold.
 */

import { MAX_NESTING } from './nesting.js'

/** Bytes that are not one MessagePack value a decoder can afford. */
export class MsgpackBoundsError extends Error {
  override readonly name = 'MsgpackBoundsError'

  /**
   * @param bomb true when a declared length or the nesting exceeds what the
   *   bytes can hold: not a slip of an honest encoder but a peer to stop reading.
   */
  constructor(
    message: string,
    readonly bomb: boolean,
  ) {
    super(message)
  }
}

// Remaining values of each open container; values only, reused by every call (the check never re-enters).
const stack = new Float64Array(MAX_NESTING)

/** The whole size of a value by its head byte, for values whose size the head byte tells; 0 for the others. */
const FIXED_SIZE = (() => {
  const size = new Uint8Array(256)
  for (let h = 0x00; h < 0x80; h++) size[h] = 1 // positive fixint
  for (let h = 0xa0; h < 0xc0; h++) size[h] = 1 + (h & 0x1f) // fixstr
  for (let h = 0xe0; h < 0x100; h++) size[h] = 1 // negative fixint
  const scalars: [number, number][] = [[0xc0, 1], [0xc2, 1], [0xc3, 1], [0xcc, 2], [0xd0, 2], [0xcd, 3], [0xd1, 3], [0xca, 5], [0xce, 5], [0xd2, 5], [0xcb, 9], [0xcf, 9], [0xd3, 9], [0xd4, 3], [0xd5, 4], [0xd6, 6], [0xd7, 10], [0xd8, 18]]
  for (const [h, n] of scalars) size[h] = n
  return size
})()

/** Bytes of the length after the head byte of a str/bin/ext/array/map with one; 0 for every other head byte. */
const LENGTH_WIDTH = (() => {
  const width = new Uint8Array(256)
  for (const h of [0xc4, 0xc7, 0xd9]) width[h] = 1
  for (const h of [0xc5, 0xc8, 0xda, 0xdc, 0xde]) width[h] = 2
  for (const h of [0xc6, 0xc9, 0xdb, 0xdd, 0xdf]) width[h] = 4
  return width
})()

// What walk() found wrong; set only when it returns a position.
const ENDS_EARLY = 1
const CUT_OFF = 2
const DECLARED = 3
const INVALID = 4
const TOO_DEEP = 5
const TRAILING = 6
let fault = 0

/** The length after the head byte at `pos`, `width` bytes wide. */
function lengthAt(bytes: Uint8Array, pos: number, width: number): number {
  if (width === 1) return bytes[pos + 1] as number
  if (width === 2) return ((bytes[pos + 1] as number) << 8) | (bytes[pos + 2] as number)
  return (bytes[pos + 1] as number) * 0x1000000 + (((bytes[pos + 2] as number) << 16) | ((bytes[pos + 3] as number) << 8) | (bytes[pos + 4] as number))
}

/**
 * Walks one value; returns -1 when it is well formed and within bounds, else
 * the position of the problem (its kind in `fault`). Kept small and free of
 * allocation: it runs on every received body.
 */
function walk(bytes: Uint8Array, start: number, end: number): number {
  let pos = start
  let depth = 0
  // Values still to read in the innermost open container (the top level holds one).
  let left = 1
  for (;;) {
    if (pos >= end) return (fault = ENDS_EARLY), pos
    const h = bytes[pos] as number
    const fixed = FIXED_SIZE[h] as number
    let count: number
    if (fixed !== 0) {
      // The common case, one lookup: fixints, fixstrs, nil, booleans, numbers.
      if (fixed > end - pos) return (fault = h >= 0xa0 && h < 0xc0 ? DECLARED : CUT_OFF), pos
      pos += fixed
      count = 0
    } else if (h < 0xa0) {
      count = h < 0x90 ? (h & 0x0f) * 2 : h & 0x0f // fixmap, fixarray
      if (count > end - pos - 1) return (fault = DECLARED), pos
      pos += 1
    } else {
      const width = LENGTH_WIDTH[h] as number
      if (width === 0) return (fault = INVALID), pos // 0xc1
      if (width >= end - pos) return (fault = CUT_OFF), pos
      const n = lengthAt(bytes, pos, width)
      if (h >= 0xdc) {
        // array16/32 (0xdc, 0xdd), map16/32 (0xde, 0xdf); each element takes at least a byte
        count = h >= 0xde ? n * 2 : n
        if (count > end - pos - 1 - width) return (fault = DECLARED), pos
        pos += 1 + width
      } else {
        // str, bin, or ext (a type byte, then the data)
        const size = 1 + width + n + (h >= 0xc7 && h <= 0xc9 ? 1 : 0)
        if (size > end - pos) return (fault = DECLARED), pos
        pos += size
        count = 0
      }
    }
    if (count > 0) {
      if (depth === MAX_NESTING) return (fault = TOO_DEEP), pos
      stack[depth++] = left - 1
      left = count
      continue
    }
    // One value of the innermost container is complete; close every container that is now full.
    left--
    while (left === 0) {
      if (depth === 0) return pos === end ? -1 : ((fault = TRAILING), pos)
      left = stack[--depth] as number
    }
  }
}

/** Says what walk() found at `at`; the cold path, so it may take its time. */
function describe(bytes: Uint8Array, start: number, at: number, end: number): MsgpackBoundsError {
  const where = at - start
  const h = bytes[at] as number
  switch (fault) {
    case ENDS_EARLY:
      return new MsgpackBoundsError(`the value ends early: more was expected at byte ${where}`, false)
    case CUT_OFF:
      return new MsgpackBoundsError(`the value at byte ${where} is cut off by the end of the bytes`, false)
    case INVALID:
      return new MsgpackBoundsError(`byte 0xc1 at ${where} is never valid MessagePack`, false)
    case TOO_DEEP:
      return new MsgpackBoundsError(`containers nest deeper than ${MAX_NESTING} levels at byte ${where}`, true)
    case TRAILING:
      return new MsgpackBoundsError(`${end - at} bytes follow the value`, false)
  }
  // DECLARED: a length larger than the bytes left.
  const width = h < 0xc0 ? 0 : (LENGTH_WIDTH[h] as number)
  const n = width === 0 ? (h < 0x90 ? h & 0x0f : h & 0x1f) : lengthAt(bytes, at, width)
  const left = end - at - 1 - width - (h >= 0xc7 && h <= 0xc9 ? 1 : 0)
  const what =
    h < 0x90 || h === 0xde || h === 0xdf ? `a map declares ${n} entries` : h < 0xa0 || h === 0xdc || h === 0xdd ? `an array declares ${n} elements` : `a ${h < 0xc0 || h >= 0xd9 ? 'str' : h <= 0xc6 ? 'bin' : 'ext'} declares ${n} bytes`
  return new MsgpackBoundsError(`${what} at byte ${where}, but only ${left} bytes are left`, true)
}

/**
 * Why `bytes[start, end)` is not exactly one well-formed MessagePack value
 * within bounds, or undefined when it is. Time is linear in the byte count
 * and nothing is allocated unless there is a problem.
 */
export function msgpackProblem(bytes: Uint8Array, start = 0, end = bytes.length): MsgpackBoundsError | undefined {
  const at = walk(bytes, start, end)
  return at < 0 ? undefined : describe(bytes, start, at, end)
}
