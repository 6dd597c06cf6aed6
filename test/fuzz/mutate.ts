/**
 * Byte-level mutations of a valid envelope: what a flaky network, a buggy
 * peer or a blind fuzzer produces. Each returns new bytes and leaves its
 * input alone. Lengths may change; the caller decides whether the length
 * prefix follows (a well-framed bad message) or not (a broken stream).
 */
import { bombValue } from './hostile.js'
import type { Rng } from './rng.js'

/** 1 to 8 random bits flipped; a bit flip in a length or a type byte is what reaches the deepest. */
export function flipBits(rng: Rng, input: Buffer): Buffer {
  const out = Buffer.from(input)
  for (let n = rng.range(1, 8); n > 0; n--) {
    const i = rng.int(out.length)
    out[i] = (out[i] as number) ^ (1 << rng.int(8))
  }
  return out
}

/** Bytes that mean something to a MessagePack reader: type heads, lengths, the ends of ranges. */
const INTERESTING = [0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc4, 0xc6, 0xc9, 0xcb, 0xd9, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xff]

/** 1 to 4 bytes inserted, deleted or overwritten (random or interesting values). */
export function editBytes(rng: Rng, input: Buffer): Buffer {
  let out = Buffer.from(input)
  for (let n = rng.range(1, 4); n > 0; n--) {
    const at = rng.int(out.length + 1)
    const byte = rng.chance(0.5) ? rng.pick(INTERESTING) : rng.int(256)
    switch (rng.int(3)) {
      case 0:
        out = Buffer.concat([out.subarray(0, at), Buffer.from([byte]), out.subarray(at)])
        break
      case 1:
        if (out.length > 1) out = Buffer.concat([out.subarray(0, at), out.subarray(at + 1)])
        break
      default:
        if (at < out.length) out[at] = byte
    }
  }
  return out
}

/** The first 1..length-1 bytes: the reader runs out in the middle of something. */
export function truncate(rng: Rng, input: Buffer): Buffer {
  return Buffer.from(input.subarray(0, rng.range(1, Math.max(1, input.length - 1))))
}

/** A declared-length bomb written over the bytes at a random position (with the rest kept or cut). */
export function spliceBomb(rng: Rng, input: Buffer): Buffer {
  const at = rng.int(input.length)
  const bomb = bombValue(rng)
  const rest = rng.chance(0.5) ? input.subarray(Math.min(input.length, at + bomb.length)) : Buffer.alloc(0)
  return Buffer.concat([input.subarray(0, at), bomb, rest])
}
