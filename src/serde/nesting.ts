/**
 * How deep a received value may nest, whatever its serde. Decoders here are
 * iterative, but the code that gets the value often is not (recursive
 * codecs, loggers, structured clones), and nothing real nests this deep.
 */
export const MAX_NESTING = 512

/**
 * Where JSON text (as UTF-8 bytes) opens more than {@link MAX_NESTING}
 * arrays or objects at once, or -1 when it does not. Linear, allocates
 * nothing; brackets inside strings do not count. `JSON.parse` builds any
 * depth it is given: a 16 MiB body of `[` blocked a process for 8 s and took
 * 800 MiB before this check.
 */
export function jsonTooDeepAt(bytes: Uint8Array): number {
  let depth = 0
  let inString = false
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number
    if (inString) {
      if (b === 0x5c) i++ // backslash: the next byte is escaped
      else if (b === 0x22) inString = false
    } else if (b === 0x22) inString = true
    else if (b === 0x5b || b === 0x7b) {
      if (++depth > MAX_NESTING) return i
    } else if (b === 0x5d || b === 0x7d) depth--
  }
  return -1
}
