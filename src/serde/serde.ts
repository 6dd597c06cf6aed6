/**
 * Turns a codec's encoded value (`O` of `t.Type<A, O>`) into bytes and back.
 *
 * The content type travels in every envelope (`ct`), so a receiver decodes
 * with the sender's serde whatever its own default is.
 */
export interface Serde {
  /** The MIME type written to `Envelope.ct`, e.g. `application/msgpack`. */
  readonly contentType: string
  /** Serializes a value. Must not keep a reference to the returned bytes. */
  encode(value: unknown): Uint8Array
  /**
   * Optional: serializes a value into bytes that may be a view of a buffer
   * the next call overwrites. A channel uses it only when its transport
   * copies the body before anything else is encoded, which saves one copy
   * per message; without it, `encode` serves.
   */
  encodeShared?(value: unknown): Uint8Array
  /** Deserializes bytes; throws on bytes it cannot read. */
  decode(bytes: Uint8Array): unknown
}
