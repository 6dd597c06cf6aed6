/**
 * A check of MessagePack bytes that allocates nothing, run before they are
 * decoded. `@msgpack/msgpack` allocates an array of the declared length
 * before it looks for the elements, so ten bytes declaring 2^25 elements
 * cost 256 MiB. Walking the bytes first, and refusing any declared length
 * larger than the bytes left, bounds what decoding a value of N bytes can
 * allocate: every element of a container takes at least one byte, so the
 * containers of a value that passes hold fewer than N elements in all.
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

function declared(what: string, at: number, left: number): MsgpackBoundsError {
  return new MsgpackBoundsError(`${what} at byte ${at}, but only ${left} bytes are left`, true)
}

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

/**
 * Why `bytes[start, end)` is not exactly one well-formed MessagePack value
 * within bounds, or undefined when it is. Time is linear in the byte count
 * and nothing is allocated unless there is a problem.
 */
export function msgpackProblem(bytes: Uint8Array, start = 0, end = bytes.length): MsgpackBoundsError | undefined {
  let pos = start
  let depth = 0
  // Values still to read in the innermost open container (the top level holds one).
  let left = 1
  for (;;) {
    if (pos >= end) return new MsgpackBoundsError(`the value ends early: ${left} more expected at byte ${pos - start}`, false)
    const h = bytes[pos] as number
    const fixed = FIXED_SIZE[h] as number
    // A container's value count, or -1 for a scalar whose size is `size`.
    let count = -1
    let size = fixed
    if (fixed !== 0) {
      // The common case, one lookup: fixints, fixstrs, nil, booleans, numbers.
      if (fixed > end - pos) {
        if (h >= 0xa0 && h < 0xc0) return declared(`a str declares ${h & 0x1f} bytes`, pos - start, end - pos - 1)
        return new MsgpackBoundsError(`the value at byte ${pos - start} is cut off by the end of the bytes`, false)
      }
    } else if (h < 0xa0) {
      count = h < 0x90 ? (h & 0x0f) * 2 : h & 0x0f // fixmap, fixarray
      size = 1
    } else if (h === 0xc1) {
      return new MsgpackBoundsError(`byte 0xc1 at ${pos - start} is never valid MessagePack`, false)
    } else {
      // A length follows the head byte in 1, 2 or 4 bytes: str, bin, ext, array or map.
      const width = h === 0xc4 || h === 0xc7 || h === 0xd9 ? 1 : h === 0xc5 || h === 0xc8 || h === 0xda || h === 0xdc || h === 0xde ? 2 : 4
      if (end - pos < 1 + width) return new MsgpackBoundsError(`a length at byte ${pos - start} is cut off by the end of the value`, false)
      const n = width === 1 ? (bytes[pos + 1] as number) : width === 2 ? ((bytes[pos + 1] as number) << 8) | (bytes[pos + 2] as number) : (bytes[pos + 1] as number) * 0x1000000 + (((bytes[pos + 2] as number) << 16) | ((bytes[pos + 3] as number) << 8) | (bytes[pos + 4] as number))
      const head = 1 + width
      if (h >= 0xdc) {
        // array16/32 (0xdc, 0xdd), map16/32 (0xde, 0xdf): the elements are checked below
        count = h >= 0xde ? n * 2 : n
        size = head
      } else if (h >= 0xc7 && h <= 0xc9) {
        size = head + 1 + n // ext: a type byte, then the data
        if (size > end - pos) return declared(`an ext declares ${n} bytes`, pos - start, end - pos - head - 1)
      } else {
        size = head + n
        if (size > end - pos) return declared(`a ${h >= 0xd9 ? 'str' : 'bin'} declares ${n} bytes`, pos - start, end - pos - head)
      }
    }
    if (count < 0) pos += size
    else {
      // `size` is the header here, and it is known to fit.
      const at = pos - start
      pos += size
      // Each element takes at least one byte.
      if (count > end - pos) {
        const map = h < 0x90 || h >= 0xde
        return declared(map ? `a map declares ${count / 2} entries` : `an array declares ${count} elements`, at, end - pos)
      }
      if (count > 0) {
        if (depth === MAX_NESTING) return new MsgpackBoundsError(`containers nest deeper than ${MAX_NESTING} levels at byte ${at}`, true)
        stack[depth++] = left - 1
        left = count
        continue
      }
    }
    // One value of the innermost container is complete; close every container that is now full.
    left--
    while (left === 0) {
      if (depth === 0) {
        return pos === end ? undefined : new MsgpackBoundsError(`${end - pos} bytes follow the value`, false)
      }
      left = stack[--depth] as number
    }
  }
}
