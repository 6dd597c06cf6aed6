import { Decoder, Encoder } from '@msgpack/msgpack'
import type { Serde } from './serde.js'

/** MIME type of {@link msgpack}. */
export const MSGPACK = 'application/msgpack'

/**
 * Creates a MessagePack serde. One Encoder and one Decoder are reused for
 * every call: building them is far costlier than a small message.
 * `__proto__` keys are refused by the decoder, so decoded maps cannot
 * pollute prototypes.
 */
export function createMsgpack(): Serde {
  // ignoreUndefined: io-ts `t.partial` leaves undefined properties, which JSON drops; do the same.
  const encoder = new Encoder({ ignoreUndefined: true })
  const decoder = new Decoder()
  return {
    contentType: MSGPACK,
    encode: (value) => encoder.encode(value),
    decode: (bytes) => decoder.decode(bytes),
  }
}

/** The default serde: MessagePack via @msgpack/msgpack. */
export const msgpack: Serde = createMsgpack()
