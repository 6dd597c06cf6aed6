/**
 * Short ASCII strings from bytes without a native call. `buf.utf8Slice` (or
 * `toString`) crosses into C++ for every string, ~120–150 ns on the CI
 * machine for a 17-byte envelope id; `String.fromCharCode` with one argument
 * per byte builds the same string in JavaScript in ~45–70 ns. Spreading or
 * `apply`-ing an array of bytes is slower than either (~250–350 ns), so each
 * length has its own call below.
 */

// Each call below passes exactly as many bytes as the range holds, all read from within it.
const chars = String.fromCharCode as (...codes: (number | undefined)[]) => string

/** The longest string {@link asciiString} builds itself. */
export const ASCII_MAX = 24

/**
 * The string in `b[a, end)` when every byte is ASCII and there are at most
 * {@link ASCII_MAX} of them; otherwise undefined, and the caller decodes UTF-8.
 */
export function asciiString(b: Uint8Array, a: number, end: number): string | undefined {
  if (end - a > ASCII_MAX) return undefined
  for (let i = a; i < end; i++) if ((b[i] as number) >= 0x80) return undefined
  switch (end - a) {
    case 0:
      return ''
    case 1:
      return chars(b[a])
    case 2:
      return chars(b[a], b[a + 1])
    case 3:
      return chars(b[a], b[a + 1], b[a + 2])
    case 4:
      return chars(b[a], b[a + 1], b[a + 2], b[a + 3])
    case 5:
      return chars(b[a], b[a + 1], b[a + 2], b[a + 3], b[a + 4])
    case 6:
      return chars(b[a], b[a + 1], b[a + 2], b[a + 3], b[a + 4], b[a + 5])
    case 7:
      return chars(b[a], b[a + 1], b[a + 2], b[a + 3], b[a + 4], b[a + 5], b[a + 6])
    case 8:
      return chars(b[a], b[a + 1], b[a + 2], b[a + 3], b[a + 4], b[a + 5], b[a + 6], b[a + 7])
    case 9:
      return chars(b[a], b[a + 1], b[a + 2], b[a + 3], b[a + 4], b[a + 5], b[a + 6], b[a + 7], b[a + 8])
    case 10:
      return chars(b[a], b[a + 1], b[a + 2], b[a + 3], b[a + 4], b[a + 5], b[a + 6], b[a + 7], b[a + 8], b[a + 9])
    case 11:
      return chars(b[a], b[a + 1], b[a + 2], b[a + 3], b[a + 4], b[a + 5], b[a + 6], b[a + 7], b[a + 8], b[a + 9], b[a + 10])
    case 12:
      return chars(b[a], b[a + 1], b[a + 2], b[a + 3], b[a + 4], b[a + 5], b[a + 6], b[a + 7], b[a + 8], b[a + 9], b[a + 10], b[a + 11])
    case 13:
      return chars(b[a], b[a + 1], b[a + 2], b[a + 3], b[a + 4], b[a + 5], b[a + 6], b[a + 7], b[a + 8], b[a + 9], b[a + 10], b[a + 11], b[a + 12])
    case 14:
      return chars(b[a], b[a + 1], b[a + 2], b[a + 3], b[a + 4], b[a + 5], b[a + 6], b[a + 7], b[a + 8], b[a + 9], b[a + 10], b[a + 11], b[a + 12], b[a + 13])
    case 15:
      return chars(b[a], b[a + 1], b[a + 2], b[a + 3], b[a + 4], b[a + 5], b[a + 6], b[a + 7], b[a + 8], b[a + 9], b[a + 10], b[a + 11], b[a + 12], b[a + 13], b[a + 14])
    case 16:
      return chars(b[a], b[a + 1], b[a + 2], b[a + 3], b[a + 4], b[a + 5], b[a + 6], b[a + 7], b[a + 8], b[a + 9], b[a + 10], b[a + 11], b[a + 12], b[a + 13], b[a + 14], b[a + 15])
    case 17:
      return chars(b[a], b[a + 1], b[a + 2], b[a + 3], b[a + 4], b[a + 5], b[a + 6], b[a + 7], b[a + 8], b[a + 9], b[a + 10], b[a + 11], b[a + 12], b[a + 13], b[a + 14], b[a + 15], b[a + 16])
    case 18:
      return chars(b[a], b[a + 1], b[a + 2], b[a + 3], b[a + 4], b[a + 5], b[a + 6], b[a + 7], b[a + 8], b[a + 9], b[a + 10], b[a + 11], b[a + 12], b[a + 13], b[a + 14], b[a + 15], b[a + 16], b[a + 17])
    case 19:
      return chars(b[a], b[a + 1], b[a + 2], b[a + 3], b[a + 4], b[a + 5], b[a + 6], b[a + 7], b[a + 8], b[a + 9], b[a + 10], b[a + 11], b[a + 12], b[a + 13], b[a + 14], b[a + 15], b[a + 16], b[a + 17], b[a + 18])
    case 20:
      return chars(b[a], b[a + 1], b[a + 2], b[a + 3], b[a + 4], b[a + 5], b[a + 6], b[a + 7], b[a + 8], b[a + 9], b[a + 10], b[a + 11], b[a + 12], b[a + 13], b[a + 14], b[a + 15], b[a + 16], b[a + 17], b[a + 18], b[a + 19])
    case 21:
      return chars(b[a], b[a + 1], b[a + 2], b[a + 3], b[a + 4], b[a + 5], b[a + 6], b[a + 7], b[a + 8], b[a + 9], b[a + 10], b[a + 11], b[a + 12], b[a + 13], b[a + 14], b[a + 15], b[a + 16], b[a + 17], b[a + 18], b[a + 19], b[a + 20])
    case 22:
      return chars(b[a], b[a + 1], b[a + 2], b[a + 3], b[a + 4], b[a + 5], b[a + 6], b[a + 7], b[a + 8], b[a + 9], b[a + 10], b[a + 11], b[a + 12], b[a + 13], b[a + 14], b[a + 15], b[a + 16], b[a + 17], b[a + 18], b[a + 19], b[a + 20], b[a + 21])
    case 23:
      return chars(b[a], b[a + 1], b[a + 2], b[a + 3], b[a + 4], b[a + 5], b[a + 6], b[a + 7], b[a + 8], b[a + 9], b[a + 10], b[a + 11], b[a + 12], b[a + 13], b[a + 14], b[a + 15], b[a + 16], b[a + 17], b[a + 18], b[a + 19], b[a + 20], b[a + 21], b[a + 22])
    case 24:
      return chars(b[a], b[a + 1], b[a + 2], b[a + 3], b[a + 4], b[a + 5], b[a + 6], b[a + 7], b[a + 8], b[a + 9], b[a + 10], b[a + 11], b[a + 12], b[a + 13], b[a + 14], b[a + 15], b[a + 16], b[a + 17], b[a + 18], b[a + 19], b[a + 20], b[a + 21], b[a + 22], b[a + 23])
    default:
      return undefined
  }
}
