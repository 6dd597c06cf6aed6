/**
 * A hand-written reader for the envelopes our own writer produces (see
 * `writeEnvelope` in wire.ts). The generic MessagePack decoder spent more
 * time on the envelope than on the payload itself: eight short strings, a
 * fresh DataView and a state machine per frame. This reader walks the map
 * once, compares keys as bytes and reuses the strings that repeat from frame
 * to frame (tag, content type, header names).
 *
 * It only ever says yes to an envelope it fully understands. Anything else
 * (an unknown field, a non-ASCII string, an odd number format, trailing
 * bytes, a duplicate or `__proto__` key) returns undefined, and the caller
 * takes the generic path, which produces exactly the errors it always did.
 */
import { DEFAULT_CONTENT_TYPE, EMPTY_HEADERS, MAX_TAG_BYTES, type Envelope } from '../../channel/envelope.js'
import { asciiString } from '../../channel/ascii.js'

// A field seen twice makes the generic path's "last one wins" observable: leave such frames to it.
const TAG = 1
const ID = 2
const TS = 4
const CT = 8
const CORR = 16
const REPLY_TO = 32
const HEADERS = 64
const BODY = 128
const KEY = 256

// The largest frame buffer the reader keeps a reference to between frames (a socket reads 64 KiB at most).
const RETAIN_MAX = 64 * 1024

/** Node's own Buffer method behind `toString('utf8', start, end)`, without that wrapper's argument handling. */
interface Utf8Slicing {
  utf8Slice(start: number, end: number): string
}
// Every Node version so far has it; checked once, and toString stands in if one ever does not.
const HAS_UTF8_SLICE = typeof (Buffer.prototype as unknown as Partial<Utf8Slicing>).utf8Slice === 'function'

/** `buf.toString('utf8', start, end)`, minus ~25 ns of argument handling per call. */
function utf8(buf: Buffer, start: number, end: number): string {
  return HAS_UTF8_SLICE ? (buf as unknown as Utf8Slicing).utf8Slice(start, end) : buf.toString('utf8', start, end)
}

/** Recent strings by byte length: most envelope strings repeat, and a hit costs a compare, not an allocation. */
class StringCache {
  readonly #strings: (string | undefined)[] = []
  // The bytes of each cached string: comparing bytes to bytes is ~40% cheaper than to charCodeAt().
  readonly #bytes: (Uint8Array | undefined)[] = []

  /** The ASCII string in `buf[start, end)`, or undefined when a byte is not ASCII. */
  read(buf: Buffer, start: number, end: number): string | undefined {
    const n = end - start
    const bytes = n < 64 ? this.#bytes[n] : undefined
    if (bytes !== undefined) {
      let i = 0
      while (i < n && buf[start + i] === bytes[i]) i++
      if (i === n) return this.#strings[n]
    }
    for (let i = start; i < end; i++) if ((buf[i] as number) >= 0x80) return undefined
    const s = buf.toString('latin1', start, end)
    if (n < 64) {
      this.#strings[n] = s
      // A copy: the frame's memory belongs to the socket's chunk, which must be free to go.
      this.#bytes[n] = Uint8Array.prototype.slice.call(buf, start, end)
    }
    return s
  }
}

function sameAscii(buf: Buffer, start: number, s: string): boolean {
  for (let i = 0; i < s.length; i++) if (buf[start + i] !== s.charCodeAt(i)) return false
  return true
}

/** Reads envelopes. Not reentrant: one read at a time (reads are synchronous). */
export class EnvelopeReader {
  readonly #keys = new StringCache()
  readonly #values = new StringCache()
  #pos = 0
  #end = 0
  // The last frame's memory, for body views: Buffer's buffer/byteOffset getters cost ~30 ns a frame.
  #frame: Buffer | undefined
  #memory: ArrayBufferLike = new ArrayBuffer(0)
  #offset = 0

  /** The envelope in `frame[start, end)`, or undefined when it needs the generic decoder. */
  read(frame: Buffer, start: number, end: number): Envelope | undefined {
    this.#end = end
    const head = frame[start] as number
    if ((head & 0xf0) !== 0x80) return undefined
    const fields = head & 0x0f
    this.#pos = start + 1
    let seen = 0
    let tag: string | undefined
    let id: string | undefined
    let ts = 0
    let ct: string | undefined
    let corr: string | undefined
    let replyTo: string | undefined
    let key: string | undefined
    let headers: Record<string, string> | undefined
    let body: Uint8Array | undefined
    for (let f = 0; f < fields; f++) {
      const field = this.#field(frame)
      if (field === 0 || (seen & field) !== 0) return undefined
      seen |= field
      switch (field) {
        case TAG:
          tag = this.#string(frame, this.#values)
          // Length bounds the bytes here, and the bytes are ASCII: byte count = length.
          if (tag === undefined || tag.length === 0 || tag.length > MAX_TAG_BYTES) return undefined
          break
        case ID:
          id = this.#string(frame, undefined)
          if (id === undefined || id.length === 0) return undefined
          break
        case CT:
          ct = this.#string(frame, this.#values)
          if (ct === undefined || ct.length === 0) return undefined
          break
        case TS: {
          const n = this.#number(frame)
          if (n === undefined) return undefined
          ts = n
          break
        }
        case CORR:
          if (frame[this.#pos] === 0xc0) this.#pos++
          else if ((corr = this.#string(frame, undefined)) === undefined) return undefined
          break
        case REPLY_TO:
          if (frame[this.#pos] === 0xc0) this.#pos++
          else if ((replyTo = this.#string(frame, this.#values)) === undefined) return undefined
          break
        case KEY:
          if (frame[this.#pos] === 0xc0) this.#pos++
          else if ((key = this.#string(frame, undefined)) === undefined) return undefined
          break
        case HEADERS:
          if (frame[this.#pos] === 0xc0) this.#pos++
          else if ((headers = this.#headers(frame)) === undefined) return undefined
          break
        case BODY:
          if ((body = this.#binary(frame)) === undefined) return undefined
          break
      }
      if (this.#pos > this.#end) return undefined
    }
    if (this.#pos !== this.#end || tag === undefined || id === undefined || body === undefined) return undefined
    return { tag, id, ts, ct: ct ?? DEFAULT_CONTENT_TYPE, corr, replyTo, key, headers: headers ?? EMPTY_HEADERS, body }
  }

  /** Which field the next key names; 0 for anything else. */
  #field(buf: Buffer): number {
    const head = buf[this.#pos] as number
    if ((head & 0xe0) !== 0xa0) return 0
    const n = head & 0x1f
    const at = this.#pos + 1
    this.#pos = at + n
    if (this.#pos > this.#end) return 0
    const c0 = buf[at]
    const c1 = buf[at + 1]
    switch (n) {
      case 2:
        if (c0 === 0x69 && c1 === 0x64) return ID // id
        if (c0 === 0x74 && c1 === 0x73) return TS // ts
        if (c0 === 0x63 && c1 === 0x74) return CT // ct
        return 0
      case 3:
        if (c0 === 0x74 && c1 === 0x61 && buf[at + 2] === 0x67) return TAG // tag
        return c0 === 0x6b && c1 === 0x65 && buf[at + 2] === 0x79 ? KEY : 0 // key
      case 4:
        if (c0 === 0x62 && c1 === 0x6f && buf[at + 2] === 0x64 && buf[at + 3] === 0x79) return BODY // body
        if (c0 === 0x63 && c1 === 0x6f && buf[at + 2] === 0x72 && buf[at + 3] === 0x72) return CORR // corr
        return 0
      case 7:
        if (sameAscii(buf, at, 'replyTo')) return REPLY_TO
        if (sameAscii(buf, at, 'headers')) return HEADERS
        return 0
      default:
        return 0
    }
  }

  /** A MessagePack str; undefined for any other type, or for a non-ASCII byte in a cached string. */
  #string(buf: Buffer, cache: StringCache | undefined): string | undefined {
    const head = buf[this.#pos] as number
    const at = this.#payload(buf, (head & 0xe0) === 0xa0 ? 0 : head === 0xd9 ? 1 : head === 0xda ? 2 : -1)
    if (at < 0) return undefined
    if (cache !== undefined) return cache.read(buf, at, this.#pos)
    // Ids differ every frame, so no cache; short ASCII ones (ours) are built without a native call.
    return asciiString(buf, at, this.#pos) ?? utf8(buf, at, this.#pos)
  }

  /** A MessagePack bin, as a view of the frame. */
  #binary(buf: Buffer): Uint8Array | undefined {
    const head = buf[this.#pos] as number
    const at = this.#payload(buf, head === 0xc4 ? 1 : head === 0xc5 ? 2 : head === 0xc6 ? 4 : -1)
    if (at < 0) return undefined
    let memory = this.#memory
    let offset = this.#offset
    if (buf !== this.#frame) {
      memory = buf.buffer
      offset = buf.byteOffset
      // Held until the next frame, so only socket-sized chunks: a joined 16 MiB frame must not outlive its envelope.
      if (buf.length <= RETAIN_MAX) {
        this.#frame = buf
        this.#memory = memory
        this.#offset = offset
      }
    }
    // A plain view: a Buffer's subclass constructor costs more, and the body is only read.
    return new Uint8Array(memory, offset + at, this.#pos - at)
  }

  /**
   * Skips a str or bin whose length follows its head byte in `size` bytes (0:
   * in the head's low five bits; -1: not a str or bin). Returns where its
   * bytes start and leaves #pos at their end; -1 when it runs past the frame.
   */
  #payload(buf: Buffer, size: number): number {
    if (size < 0) return -1
    const p = this.#pos
    const at = p + 1 + size
    if (at > this.#end) return -1
    const n =
      size === 0 ? (buf[p] as number) & 0x1f : size === 1 ? (buf[p + 1] as number) : size === 2 ? buf.readUInt16BE(p + 1) : buf.readUInt32BE(p + 1)
    if (at + n > this.#end) return -1
    this.#pos = at + n
    return at
  }

  /** A timestamp as our writer and common encoders write it. */
  #number(buf: Buffer): number | undefined {
    const head = buf[this.#pos] as number
    const at = this.#pos + 1
    if (head < 0x80) {
      this.#pos = at
      return head
    }
    const size = head === 0xcb ? 8 : head === 0xce ? 4 : head === 0xcd ? 2 : head === 0xcc ? 1 : 0
    if (size === 0 || at + size > this.#end) return undefined
    this.#pos = at + size
    return size === 8 ? buf.readDoubleBE(at) : size === 4 ? buf.readUInt32BE(at) : size === 2 ? buf.readUInt16BE(at) : (buf[at] as number)
  }

  #headers(buf: Buffer): Record<string, string> | undefined {
    const head = buf[this.#pos] as number
    if ((head & 0xf0) !== 0x80) return undefined
    const count = head & 0x0f
    this.#pos++
    const headers: Record<string, string> = {}
    for (let i = 0; i < count; i++) {
      const key = this.#string(buf, this.#keys)
      // `__proto__` and repeated names are the generic decoder's to refuse or resolve.
      if (key === undefined || key === '__proto__' || Object.hasOwn(headers, key)) return undefined
      const value = this.#string(buf, undefined)
      if (value === undefined) return undefined
      headers[key] = value
    }
    return headers
  }
}
