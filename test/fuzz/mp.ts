/**
 * A byte-level MessagePack writer for hostile input. A real encoder cannot
 * write what the fuzzer needs: duplicate or `__proto__` keys, non-string
 * keys, a header that declares four billion elements with three bytes
 * behind it, or ten thousand levels of nesting without recursing. Every
 * function returns the encoded bytes; containers take encoded children.
 */

const u8 = (...bytes: number[]): Buffer => Buffer.from(bytes)

function withLength(head8: number | undefined, head16: number, head32: number, n: number): Buffer {
  if (head8 !== undefined && n < 0x100) return u8(head8, n)
  if (n < 0x10000) return u8(head16, n >> 8, n & 0xff)
  const out = Buffer.alloc(5)
  out[0] = head32
  out.writeUInt32BE(n >>> 0, 1)
  return out
}

/** nil. */
export function nil(): Buffer {
  return u8(0xc0)
}

/** true or false. */
export function bool(b: boolean): Buffer {
  return u8(b ? 0xc3 : 0xc2)
}

/** A number in its shortest integer form, or a float64 when it is not a safe integer. */
export function num(n: number): Buffer {
  if (Number.isInteger(n) && n >= 0 && n < 0x80) return u8(n)
  if (Number.isInteger(n) && n < 0 && n >= -32) return u8(n & 0xff)
  if (Number.isInteger(n) && n >= 0 && n <= 0xffffffff) {
    const out = Buffer.alloc(5)
    out[0] = 0xce
    out.writeUInt32BE(n, 1)
    return out
  }
  if (Number.isInteger(n) && n < 0 && n >= -0x80000000) {
    const out = Buffer.alloc(5)
    out[0] = 0xd2
    out.writeInt32BE(n, 1)
    return out
  }
  const out = Buffer.alloc(9)
  out[0] = 0xcb
  out.writeDoubleBE(n, 1)
  return out
}

/** A str of these bytes (a string is UTF-8 encoded; pass bytes to write invalid UTF-8). */
export function str(s: string | Uint8Array): Buffer {
  const bytes = typeof s === 'string' ? Buffer.from(s, 'utf8') : Buffer.from(s)
  const n = bytes.length
  const head = n < 32 ? u8(0xa0 | n) : withLength(0xd9, 0xda, 0xdb, n)
  return Buffer.concat([head, bytes])
}

/** A bin. */
export function bin(bytes: Uint8Array): Buffer {
  return Buffer.concat([withLength(0xc4, 0xc5, 0xc6, bytes.length), bytes])
}

/** An array of encoded items. */
export function arr(items: readonly Buffer[]): Buffer {
  return Buffer.concat([arrayHead(items.length), ...items])
}

/** A map of encoded keys and values, in this order, duplicates and all. */
export function map(entries: readonly (readonly [Buffer, Buffer])[]): Buffer {
  return Buffer.concat([mapHead(entries.length), ...entries.flat()])
}

/** A map with string keys (any string, `__proto__` included). */
export function obj(entries: readonly (readonly [string, Buffer])[]): Buffer {
  return map(entries.map(([k, v]) => [str(k), v] as const))
}

function head32(head: number, n: number): Buffer {
  const out = Buffer.alloc(5)
  out[0] = head
  out.writeUInt32BE(n >>> 0, 1)
  return out
}

/** An array header alone: the count is a promise the following bytes may not keep. `wide`: array32 even for a small count (legal, if unusual). */
export function arrayHead(n: number, wide = false): Buffer {
  if (wide) return head32(0xdd, n)
  return n < 16 ? u8(0x90 | n) : withLength(undefined, 0xdc, 0xdd, n)
}

/** A map header alone; `wide` as for {@link arrayHead}. */
export function mapHead(n: number, wide = false): Buffer {
  if (wide) return head32(0xdf, n)
  return n < 16 ? u8(0x80 | n) : withLength(undefined, 0xde, 0xdf, n)
}

/** A 32-bit header that declares `n` (up to 2^32-1) of something, with nothing behind it: array32, map32, str32, bin32 or ext32. */
export function bombHead(type: 'array' | 'map' | 'str' | 'bin' | 'ext', n: number): Buffer {
  const head = head32({ array: 0xdd, map: 0xdf, str: 0xdb, bin: 0xc6, ext: 0xc9 }[type], n)
  return type === 'ext' ? Buffer.concat([head, u8(0x01)]) : head // ext32 has a type byte after its length
}

/**
 * `depth` nested arrays (or single-entry maps) around `inner`, written
 * iteratively: the point is to find recursion in the reader, not in here.
 */
export function nest(depth: number, container: 'array' | 'map', inner: Buffer = nil()): Buffer {
  const open = container === 'array' ? u8(0x91) : u8(0x81, 0xa1, 0x61) // [x] or {a: x}
  const out = Buffer.allocUnsafe(open.length * depth + inner.length)
  for (let i = 0; i < depth; i++) open.copy(out, i * open.length)
  inner.copy(out, open.length * depth)
  return out
}
