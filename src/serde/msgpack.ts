import { Encoder } from '@msgpack/msgpack'
import { BoundedDecoder } from './bounded-decoder.js'
import type { Serde } from './serde.js'

const SLAB_BYTES = 16 * 1024
const POOLED_MAX = 2 * 1024

/** MIME type of {@link msgpack}. */
export const MSGPACK = 'application/msgpack'

/**
 * Creates a MessagePack serde. One Encoder and one Decoder are reused for
 * every call: building them is far costlier than a small message.
 * `__proto__` keys are refused by the decoder, so decoded maps cannot
 * pollute prototypes, and declared lengths are checked against the bytes
 * before anything is allocated (see {@link BoundedDecoder}).
 */
export function createMsgpack(): Serde {
  // ignoreUndefined: io-ts `t.partial` leaves undefined properties, which JSON drops; do the same.
  const encoder = new Encoder({ ignoreUndefined: true })
  const decoder = new BoundedDecoder()
  // `encoder.encode` copies its result into a fresh ArrayBuffer, which cost as much as the
  // encoding of a 100-byte message. Small results are copied into views of a shared slab
  // instead, as Buffer.allocUnsafe does with its pool; the slab lives while any view does.
  let slab = new ArrayBuffer(SLAB_BYTES)
  let used = 0
  const encode = (value: unknown): Uint8Array => {
    const bytes = encoder.encodeSharedRef(value)
    const n = bytes.length
    if (n > POOLED_MAX) return bytes.slice()
    if (used + n > SLAB_BYTES) {
      slab = new ArrayBuffer(SLAB_BYTES)
      used = 0
    }
    // A Buffer view (a Uint8Array too): a transport that needs a Buffer (ioredis) takes it as it is, without a view of its own.
    const out = Buffer.from(slab, used, n)
    out.set(bytes)
    used = (used + n + 7) & ~7 // keep views 8-byte aligned, like Buffer's pool
    return out
  }
  return {
    contentType: MSGPACK,
    encode,
    encodeShared: (value) => encoder.encodeSharedRef(value),
    decode: (bytes) => decoder.decode(bytes),
  }
}

/** The default serde: MessagePack via @msgpack/msgpack. */
export const msgpack: Serde = createMsgpack()
